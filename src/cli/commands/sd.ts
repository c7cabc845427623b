/** `qi sd`: a standalone Service Directory (nothing else); Ctrl-C / SIGTERM stops it. */
import type { Command } from "commander";
import { ConfigError, loadSdConfig } from "../../config/index.js";
import { Session } from "../../session/index.js";
import { usageError } from "../errors.js";
import { sessionOptions, withDispatch } from "../connect.js";
import { onCleanup, waitForShutdown } from "../lifecycle.js";
import { createLogger } from "../logger.js";
import { Output } from "../output.js";
import { action } from "../program.js";

interface Options {
  listen: string;
  config?: string;
  json?: boolean;
  dispatch?: string;
}

export function register(program: Command): void {
  program
    .command("sd")
    .description("run a standalone Service Directory")
    .option("-l, --listen <url>", "where to listen", "tcp://127.0.0.1:9559")
    .option("-c, --config <file>", "a JSON or YAML configuration (listen URLs, TLS, credentials)")
    .option("--json", "print the endpoints as JSON")
    .addOption(withDispatch())
    .action(
      action(async (opts: Options, cmd: Command) => {
        const out = new Output(!!opts.json);
        const logger = createLogger(!!cmd.optsWithGlobals().verbose);
        let listen = [opts.listen];
        // No credentials: a directory connects to nobody (QI_TOKEN in the shell is for clients).
        let options = sessionOptions({ dispatch: opts.dispatch }, {});
        if (opts.config) {
          let setup: ReturnType<typeof loadSdConfig>;
          try {
            setup = loadSdConfig(opts.config);
          } catch (e) {
            if (e instanceof ConfigError) throw usageError(e.message, "fix the file (see docs/cli.md)");
            throw e;
          }
          listen = setup.listen;
          options = {
            ...options,
            ...setup.session,
            dispatch: (opts.dispatch as "sync" | "async" | undefined) ?? setup.session.dispatch,
          };
        }
        const session = new Session(options);
        onCleanup(() => session.close());
        await session.listenStandalone(listen[0]);
        for (const url of listen.slice(1)) await session.listen(url);
        const endpoints = session.endpoints();
        session.on("serviceRegistered", (id, name) => logger.info({ id, name }, "service registered"));
        session.on("serviceUnregistered", (id, name) => logger.info({ id, name }, "service unregistered"));
        const shutdown = waitForShutdown(); // armed before a script reading the banner can signal
        if (out.json) out.line(JSON.stringify({ endpoints }));
        else for (const e of endpoints) out.line(`Service Directory listening on ${out.style("bold", e)}`);
        const sig = await shutdown;
        logger.info({ signal: sig }, "stopping");
        return 0;
      }),
    );
}
