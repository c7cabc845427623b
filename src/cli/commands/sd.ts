/** `qi sd`: a standalone Service Directory (nothing else); Ctrl-C / SIGTERM stops it. */
import type { Command } from "commander";
import { Session } from "../../session/index.js";
import { sessionOptions, withDispatch } from "../connect.js";
import { onCleanup, waitForShutdown } from "../lifecycle.js";
import { createLogger } from "../logger.js";
import { Output } from "../output.js";
import { action } from "../program.js";

interface Options {
  listen: string;
  json?: boolean;
  dispatch?: string;
}

export function register(program: Command): void {
  program
    .command("sd")
    .description("run a standalone Service Directory")
    .option("-l, --listen <url>", "where to listen", "tcp://127.0.0.1:9559")
    .option("--json", "print the endpoints as JSON")
    .addOption(withDispatch())
    .action(
      action(async (opts: Options, cmd: Command) => {
        const out = new Output(!!opts.json);
        const logger = createLogger(!!cmd.optsWithGlobals().verbose);
        const session = new Session(sessionOptions({ dispatch: opts.dispatch }));
        onCleanup(() => session.close());
        const endpoints = await session.listenStandalone(opts.listen);
        session.on("serviceRegistered", (id, name) => logger.info({ id, name }, "service registered"));
        session.on("serviceUnregistered", (id, name) => logger.info({ id, name }, "service unregistered"));
        if (out.json) out.line(JSON.stringify({ endpoints }));
        else for (const e of endpoints) out.line(`Service Directory listening on ${out.style("bold", e)}`);
        const sig = await waitForShutdown();
        logger.info({ signal: sig }, "stopping");
        return 0;
      }),
    );
}
