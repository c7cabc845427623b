/**
 * `qi gateway`: the gateway as its own process, attached to a Service Directory. Options on
 * the command line, or a config file (JSON/YAML, validated before anything listens).
 * `qi hash-token`: makes the hashed token a credentials file stores.
 */
import type { Command } from "commander";
import { UserTokenAuthenticator } from "../../connection/index.js";
import { ConfigError, gatewayOptionsFromConfig, loadGatewayConfig } from "../../config/index.js";
import { type GatewayOptions, GatewayAuthProvider, hashToken, startGateway } from "../../gateway/index.js";
import { withDispatch } from "../connect.js";
import { type BridgeFlagValues, bridgeFlagOptions, bridgeRequests, runBridges } from "../bridge-flags.js";
import {
  type DiscoveryConfig,
  type DiscoveryFlagValues,
  discoveryFlagOptions,
  startAdvertising,
  startRobotBrowser,
} from "../discovery-flags.js";
import {
  type FleetFlagValues,
  fleetFlagOptions,
  fleetRequest,
  runFleetEdge,
  runFleetRobot,
} from "../fleet-flags.js";
import { clientTlsFromFlags, type TlsFlags, tlsFlagOptions } from "../tls-flags.js";
import { canPrompt, promptHidden, tokenFromFlags, warnOnStderr } from "../token-sources.js";
import { webRoot } from "../embedded-gateway.js";
import { usageError } from "../errors.js";
import { onCleanup, waitForShutdown } from "../lifecycle.js";
import { createLogger } from "../logger.js";
import { Output } from "../output.js";
import { action } from "../program.js";
import { gatewayWebHandler } from "../../web/index.js";
import type { Gateway } from "../../gateway/index.js";

interface Options extends BridgeFlagValues, FleetFlagValues, DiscoveryFlagValues {
  attach: string;
  listen?: string[];
  config?: string;
  user?: string;
  token?: string;
  tokenFile?: string;
  attachUser?: string;
  attachToken?: string;
  attachTokenFile?: string;
  attachCa?: string;
  attachPin?: string[];
  attachCert?: string;
  attachKey?: string;
  attachInsecure?: boolean;
  anonymous?: boolean;
  allowRegistration?: boolean;
  metrics?: string;
  origin?: string[];
  json?: boolean;
  dispatch?: string;
}

export function register(program: Command): void {
  const command = program
    .command("gateway")
    .description("run the gateway: outside clients in, the Service Directory's services out")
    .option("-a, --attach <url>", "the Service Directory to attach to", "tcp://127.0.0.1:9559")
    .option("-l, --listen <url...>", "external URLs (tcp, tcps, tcpsm, ws, wss)")
    .option("-c, --config <file>", "a JSON or YAML configuration (see docs/gateway.md)")
    .option("--user <name>", "a user allowed in (token from QI_GATEWAY_TOKEN, --token-file or a prompt)")
    .option("--token <token>", "that user's token (visible in ps: prefer QI_GATEWAY_TOKEN or --token-file)")
    .option("--token-file <file>", "file holding that user's token (mode 600)")
    .option(
      "--attach-user <name>",
      "user for the Service Directory (token from QI_ATTACH_TOKEN or --attach-token-file)",
    )
    .option(
      "--attach-token <token>",
      "its token (visible in ps: prefer QI_ATTACH_TOKEN or --attach-token-file)",
    )
    .option("--attach-token-file <file>", "file holding the Service Directory user's token (mode 600)")
    .option("--attach-insecure", "accept any certificate from the Service Directory (tcps)")
    .option("--anonymous", "let clients in without credentials (not for open networks)")
    .option(
      "--allow-registration",
      "let outside clients register services (config: registration: { enabled: true })",
    )
    .option(
      "--metrics <host:port>",
      "serve Prometheus metrics there (loopback only unless the config gives a token)",
    )
    .option("--origin <url...>", "browser origins allowed on ws/wss listeners (besides their own)")
    .option("--json", "print the endpoints as JSON")
    .addOption(withDispatch());
  for (const option of tlsFlagOptions("attach", "the Service Directory")) command.addOption(option);
  for (const option of bridgeFlagOptions()) command.addOption(option);
  for (const option of fleetFlagOptions()) command.addOption(option);
  for (const option of discoveryFlagOptions()) command.addOption(option);
  command.action(
    action(async (opts: Options, cmd: Command) => {
      const out = new Output(!!opts.json);
      const logger = createLogger(!!cmd.optsWithGlobals().verbose);
      let options: GatewayOptions;
      let configuredBridges: Record<string, Record<string, unknown>> | undefined;
      let configuredFleet: unknown;
      let discovery: DiscoveryConfig = {};
      const edge = opts.fleet !== undefined && opts.robot === undefined; // the robot authenticates
      if (opts.config) {
        try {
          const config = loadGatewayConfig(opts.config);
          options = gatewayOptionsFromConfig(config, opts.config);
          configuredBridges = config.bridges;
          configuredFleet = config.fleet;
          discovery = { advertise: config.advertise, discover: config.discover };
        } catch (e) {
          if (e instanceof ConfigError) throw usageError(e.message, "fix the file, see docs/gateway.md");
          throw e;
        }
        if (opts.listen) options.listen = opts.listen;
        if (opts.metrics) options.metricsAddress = opts.metrics;
        if (opts.allowRegistration) options.allowServiceRegistration = true;
      } else {
        const token = await clientUserToken(opts);
        if (!opts.listen && opts.fleet === undefined)
          throw usageError(
            "the gateway needs --listen URL (or --config FILE)",
            "e.g. --listen tcp://0.0.0.0:9503",
          );
        if (!opts.anonymous && !edge && (opts.user === undefined || token === undefined)) {
          throw usageError(
            "the gateway requires authentication",
            "--user NAME with QI_GATEWAY_TOKEN or --token-file FILE, --config FILE with credentials, or --anonymous",
          );
        }
        options = {
          attach: opts.attach,
          listen: opts.listen ?? [],
          allowAnonymous: !!opts.anonymous,
          authProvider:
            opts.user !== undefined && token !== undefined
              ? new GatewayAuthProvider({ [opts.user]: { token: hashToken(token) } })
              : undefined,
          metricsAddress: opts.metrics,
          allowServiceRegistration: !!opts.allowRegistration,
        };
      }
      applyUpstreamFlags(options, opts);
      const bridges = bridgeRequests(opts, configuredBridges);
      if (opts.origin) {
        options.ws = {
          ...options.ws,
          allowedOrigins: [...(options.ws?.allowedOrigins ?? []), ...opts.origin],
        };
      }
      const fleet = fleetRequest(opts, configuredFleet);
      if (fleet && !fleet.robot) {
        // The console and /qi.js for browsers; the robots' services come through the fleet.
        const ws = {
          ...options.ws,
          httpHandler: options.ws?.httpHandler ?? gatewayWebHandler(webRoot(), () => undefined),
        };
        const shutdown = waitForShutdown(); // armed before the banner says Ctrl-C
        await runFleetEdge(fleet, options.listen, { tls: options.tls, ws }, logger, out);
        logger.info({ signal: await shutdown }, "stopping");
        return 0;
      }
      const root = webRoot();
      let gateway: Gateway | undefined;
      // Without a built console, the ws listeners still serve /stats.json (behind credentials).
      if (!options.ws?.httpHandler) {
        options.ws = {
          ...options.ws,
          httpHandler: gatewayWebHandler(root, () => gateway, startRobotBrowser(opts, discovery)),
        };
      }
      gateway = await startGateway({
        ...options,
        logger,
        dispatch: opts.dispatch as GatewayOptions["dispatch"],
      });
      const gw = gateway;
      onCleanup(() => gw.close());
      await runBridges(gw, bridges, { logger, demo: false, out });
      const sd = {
        url: options.attach ?? opts.attach,
        authenticator: options.upstreamAuthenticator,
        tls: options.upstreamTls,
      };
      if (fleet) await runFleetRobot(gw, fleet, sd, logger, out);
      const endpoints = gw.endpoints();
      startAdvertising(endpoints, opts, discovery);
      const shutdown = waitForShutdown(); // armed before the banner says Ctrl-C
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
      const sig = await shutdown;
      logger.info({ signal: sig }, "stopping");
      return 0;
    }),
  );

  program
    .command("hash-token")
    .description("print the hashed form of a token, for a gateway credentials file")
    .argument("[token]", "the token (visible in ps: better piped on stdin, or typed at the prompt)")
    .action(
      action(async (argvToken: string | undefined) => {
        const token = argvToken ?? (await tokenFromStdin());
        if (argvToken !== undefined) warnOnStderr(argvTokenHashWarning);
        if (token === "") throw usageError("empty token", "`printf %s TOKEN | qi hash-token`");
        process.stdout.write(`${hashToken(token)}\n`);
        return 0;
      }),
    );
}

const argvTokenHashWarning =
  "a token given as an argument is visible to every local user (ps, /proc/PID/cmdline); pipe it on stdin instead";

/** The token typed at a prompt (terminal), or all of stdin without its trailing newline. */
async function tokenFromStdin(): Promise<string> {
  if (process.stdin.isTTY) return promptHidden("token: ");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** The token of --user: --token-file, --token (warned about), QI_GATEWAY_TOKEN or a prompt. */
async function clientUserToken(opts: Options): Promise<string | undefined> {
  const token = tokenFromFlags({
    argvToken: opts.token,
    tokenFile: opts.tokenFile,
    envToken: process.env.QI_GATEWAY_TOKEN,
    envName: "QI_GATEWAY_TOKEN",
  });
  if (token !== undefined || opts.user === undefined || !canPrompt()) return token;
  return promptHidden(`token for ${opts.user}: `);
}

/** --attach-user/--attach-token…/--attach-ca… override the config's upstream credentials and TLS. */
function applyUpstreamFlags(options: GatewayOptions, opts: Options): void {
  const token = tokenFromFlags({
    argvToken: opts.attachToken,
    tokenFile: opts.attachTokenFile,
    envToken: process.env.QI_ATTACH_TOKEN,
    flag: "--attach-token",
    envName: "QI_ATTACH_TOKEN",
  });
  if (opts.attachUser !== undefined) {
    if (token === undefined)
      throw usageError("--attach-user needs a token", "QI_ATTACH_TOKEN or --attach-token-file FILE");
    options.upstreamAuthenticator = new UserTokenAuthenticator(opts.attachUser, token);
  } else if (token !== undefined) {
    throw usageError("an upstream token needs --attach-user", "--attach-user NAME");
  }
  const flags: TlsFlags = {
    ca: opts.attachCa,
    pin: opts.attachPin,
    cert: opts.attachCert,
    key: opts.attachKey,
    insecure: opts.attachInsecure,
  };
  const tls = clientTlsFromFlags(flags, "attach");
  if (tls) options.upstreamTls = tls;
}
