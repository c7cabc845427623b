/**
 * `qi demo --attach URL`: hosts the simulated robot's services on any Service Directory. When
 * the directory goes away, the services stay up on their listener and are registered again
 * once it is back (the session's reconnection, with backoff).
 */
import type { Command } from "commander";
import { startDemo } from "../../demo/index.js";
import { isLoopbackUrl } from "../../transport/index.js";
import { type ConnectionOptions, connectSession, withConnectionOptions } from "../connect.js";
import { onCleanup, waitForShutdown } from "../lifecycle.js";
import { createLogger } from "../logger.js";
import { Output } from "../output.js";
import { action } from "../program.js";

interface Options extends ConnectionOptions {
  attach?: string;
  listen?: string;
  json?: boolean;
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command("demo")
      .description(
        "host the simulated robot's services (ALMemory, ALTextToSpeech, ALVideoDevice, ALBattery) on a Service Directory",
      )
      .option("-a, --attach <url>", "Service Directory to register with (same as --url)")
      .option(
        "-l, --listen <url>",
        "where the services listen (default: loopback for a local SD, all interfaces otherwise)",
      )
      .option("--json", "print what was registered as JSON"),
  ).action(
    action(async (opts: Options, cmd: Command) => {
      const out = new Output(!!opts.json);
      const logger = createLogger(!!cmd.optsWithGlobals().verbose);
      const url = opts.attach ?? opts.url;
      const session = await connectSession({ ...opts, url }, { reconnect: true });
      await session.listen(opts.listen ?? (isLoopbackUrl(url) ? "tcp://127.0.0.1:0" : "tcp://0.0.0.0:0"));
      const demo = await startDemo(session, { logger });
      onCleanup(() => demo.stop());
      const shutdown = waitForShutdown(); // armed before a script reading the banner can signal
      if (out.json)
        out.line(JSON.stringify({ url, services: demo.services, endpoints: session.endpoints() }));
      else out.line(`demo services ${demo.services.join(", ")} registered with ${out.style("bold", url)}`);
      session.on("disconnected", (reason) =>
        logger.warn({ url, reason }, "Service Directory lost, retrying…"),
      );
      session.on("reconnecting", (attempt, delayMs, lastError) =>
        logger.debug({ attempt, delayMs, lastError }, "reconnecting to the Service Directory"),
      );
      session.on("servicesRegisteredAgain", (again) =>
        logger.info(
          { url, services: again.map((s) => ({ name: s.name, id: s.id })) },
          "services registered again",
        ),
      );
      const sig = await shutdown;
      logger.info({ signal: sig }, "stopping");
      return 0;
    }),
  );
}
