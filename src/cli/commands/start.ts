/**
 * `qi start`: the embedded default — a standalone Service Directory (tcp://127.0.0.1:9559
 * unless --listen), the simulated robot's services on it, and the gateway (when it exists).
 * Prints where to connect; Ctrl-C / SIGTERM stops everything with exit code 0.
 */
import type { Command } from "commander";
import type { Logger } from "pino";
import { startDemo } from "../../demo/index.js";
import { Session } from "../../session/index.js";
import { isLoopbackUrl } from "../../transport/index.js";
import { sessionOptions, withDispatch } from "../connect.js";
import { onCleanup, waitForShutdown } from "../lifecycle.js";
import { createLogger } from "../logger.js";
import { Output } from "../output.js";
import { action } from "../program.js";

interface Options {
  listen: string;
  demo: boolean;
  json?: boolean;
  dispatch?: string;
}

export interface EmbeddedGatewayOptions {
  /** The session that is the Service Directory (the gateway may share its process). */
  session: Session;
  /** The Service Directory URL the gateway forwards to. */
  sdUrl: string;
  logger: Logger;
}

export interface EmbeddedGateway {
  /** Where external clients connect. */
  readonly endpoints: string[];
  close(): Promise<void>;
}

/**
 * ───── GATEWAY HOOK ─────
 * Starts the gateway of the embedded default. The gateway module (`src/gateway/index.ts`,
 * `startGateway(opts)`) is being written elsewhere; until it is wired in here this only says
 * so. Fill this function in (and only this one): return the running gateway, or undefined.
 */
export async function startEmbeddedGateway(
  options: EmbeddedGatewayOptions,
): Promise<EmbeddedGateway | undefined> {
  options.logger.info("gateway: not yet available");
  return undefined;
}

export function register(program: Command): void {
  program
    .command("start")
    .description("run the embedded default: a Service Directory, a simulated robot and the gateway")
    .option("-l, --listen <url>", "where the Service Directory listens", "tcp://127.0.0.1:9559")
    .option("--no-demo", "without the simulated robot's services")
    .option("--json", "print the endpoints as one JSON line")
    .addOption(withDispatch())
    .action(
      action(async (opts: Options, cmd: Command) => {
        const out = new Output(!!opts.json);
        const logger = createLogger(!!cmd.optsWithGlobals().verbose);
        const session = new Session(sessionOptions({ dispatch: opts.dispatch }));
        onCleanup(() => session.close());
        const endpoints = await session.listenStandalone(opts.listen);
        const url = endpoints.find((e) => isLoopbackUrl(e)) ?? endpoints[0];
        const demo = opts.demo ? await startDemo(session, { logger }) : undefined;
        if (demo) onCleanup(() => demo.stop());
        const gateway = await startEmbeddedGateway({ session, sdUrl: url, logger });
        if (gateway) onCleanup(() => gateway.close());
        const services = demo?.services ?? [];
        if (out.json) {
          out.line(JSON.stringify({ url, endpoints, services, gateway: gateway?.endpoints ?? null }));
        } else {
          out.line(`Service Directory listening on ${out.style("bold", url)}`);
          for (const e of endpoints) if (e !== url) out.line(`  also on ${e}`);
          if (services.length > 0) out.line(`services: ${services.join(", ")}`);
          if (gateway) out.line(`gateway listening on ${gateway.endpoints.join(", ")}`);
          out.line(`try: qi services --url ${url}`);
          out.line(out.style("dim", "Ctrl-C to stop"));
        }
        const sig = await waitForShutdown();
        logger.info({ signal: sig }, "stopping");
        return 0;
      }),
    );
}
