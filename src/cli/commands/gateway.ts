/**
 * `qi gateway`: the gateway as its own process, attached to a Service Directory. Options on
 * the command line, or a config file (JSON/YAML, validated before anything listens).
 * `qi hash-token`: makes the hashed token a credentials file stores.
 */
import type { Command } from "commander";
import {
  ConfigError,
  type GatewayOptions,
  GatewayAuthProvider,
  gatewayOptionsFromConfig,
  hashToken,
  loadGatewayConfig,
  startGateway,
} from "../../gateway/index.js";
import { withDispatch } from "../connect.js";
import { webRoot } from "../embedded-gateway.js";
import { usageError } from "../errors.js";
import { onCleanup, waitForShutdown } from "../lifecycle.js";
import { createLogger } from "../logger.js";
import { Output } from "../output.js";
import { action } from "../program.js";
import { gatewayWebHandler } from "../../web/console-handler.js";
import type { Gateway } from "../../gateway/index.js";

interface Options {
  attach: string;
  listen?: string[];
  config?: string;
  user?: string;
  token?: string;
  anonymous?: boolean;
  metrics?: string;
  origin?: string[];
  json?: boolean;
  dispatch?: string;
}

export function register(program: Command): void {
  program
    .command("gateway")
    .description("run the gateway: outside clients in, the Service Directory's services out")
    .option("-a, --attach <url>", "the Service Directory to attach to", "tcp://127.0.0.1:9559")
    .option("-l, --listen <url...>", "external URLs (tcp, tcps, tcpsm, ws, wss)")
    .option("-c, --config <file>", "a JSON or YAML configuration (see docs/gateway.md)")
    .option("--user <name>", "a user allowed in (with --token)")
    .option("--token <token>", "that user's token")
    .option("--anonymous", "let clients in without credentials (not for open networks)")
    .option(
      "--metrics <host:port>",
      "serve Prometheus metrics there (loopback only unless the config gives a token)",
    )
    .option("--origin <url...>", "browser origins allowed on ws/wss listeners (besides their own)")
    .option("--json", "print the endpoints as JSON")
    .addOption(withDispatch())
    .action(
      action(async (opts: Options, cmd: Command) => {
        const out = new Output(!!opts.json);
        const logger = createLogger(!!cmd.optsWithGlobals().verbose);
        let options: GatewayOptions;
        if (opts.config) {
          try {
            options = gatewayOptionsFromConfig(loadGatewayConfig(opts.config), opts.config);
          } catch (e) {
            if (e instanceof ConfigError) throw usageError(e.message, "fix the file, see docs/gateway.md");
            throw e;
          }
          if (opts.listen) options.listen = opts.listen;
          if (opts.metrics) options.metricsAddress = opts.metrics;
        } else {
          if (!opts.listen)
            throw usageError(
              "the gateway needs --listen URL (or --config FILE)",
              "e.g. --listen tcp://0.0.0.0:9503",
            );
          if (!opts.anonymous && (opts.user === undefined || opts.token === undefined)) {
            throw usageError(
              "the gateway requires authentication",
              "give --user and --token, a --config with credentials, or --anonymous",
            );
          }
          options = {
            attach: opts.attach,
            listen: opts.listen,
            allowAnonymous: !!opts.anonymous,
            authProvider:
              opts.user !== undefined && opts.token !== undefined
                ? new GatewayAuthProvider({ [opts.user]: { token: hashToken(opts.token) } })
                : undefined,
            metricsAddress: opts.metrics,
          };
        }
        if (opts.origin) {
          options.ws = {
            ...options.ws,
            allowedOrigins: [...(options.ws?.allowedOrigins ?? []), ...opts.origin],
          };
        }
        const root = webRoot();
        let gateway: Gateway | undefined;
        // Without a built console, the ws listeners still serve /stats.json (behind credentials).
        if (!options.ws?.httpHandler) {
          options.ws = {
            ...options.ws,
            httpHandler: gatewayWebHandler(root, () => gateway),
          };
        }
        gateway = await startGateway({
          ...options,
          logger,
          dispatch: opts.dispatch as GatewayOptions["dispatch"],
        });
        const gw = gateway;
        onCleanup(() => gw.close());
        const endpoints = gw.endpoints();
        if (out.json)
          out.line(JSON.stringify({ endpoints, metrics: gw.metricsUrl() ?? null, attached: gw.isAttached }));
        else {
          for (const e of endpoints) out.line(`gateway listening on ${out.style("bold", e)}`);
          if (gw.metricsUrl()) out.line(`metrics on ${gw.metricsUrl()}`);
          out.line(
            gw.isAttached
              ? `attached to ${options.attach ?? opts.attach}`
              : `waiting for the Service Directory at ${options.attach ?? opts.attach}`,
          );
          out.line(out.style("dim", "Ctrl-C to stop"));
        }
        const sig = await waitForShutdown();
        logger.info({ signal: sig }, "stopping");
        return 0;
      }),
    );

  program
    .command("hash-token")
    .description("print the hashed form of a token, for a gateway credentials file")
    .argument("<token>", "the token")
    .action(
      action(async (token: string) => {
        process.stdout.write(`${hashToken(token)}\n`);
        return 0;
      }),
    );
}
