/**
 * `qi start`: the embedded default — a standalone Service Directory (tcp://127.0.0.1:9559
 * unless --listen), the simulated robot's services on it, and the gateway for outside clients
 * (tcp://127.0.0.1:9503 and ws://127.0.0.1:8002 with the web console, credentials made for
 * the run).
 * Prints where to connect; Ctrl-C / SIGTERM stops everything with exit code 0.
 */
import type { Command } from "commander";
import { loadXmppEntryConfig } from "../../config/index.js";
import { startDemo } from "../../demo/index.js";
import { Session } from "../../session/index.js";
import { isLoopbackUrl } from "../../transport/index.js";
import { sessionOptions, withDispatch } from "../connect.js";
import { tokenFromFlags } from "../token-sources.js";
import { type BridgeFlagValues, bridgeFlagOptions, bridgeRequests, runBridges } from "../bridge-flags.js";
import {
  type DiscoveryFlagValues,
  discoveryFlagOptions,
  startAdvertising,
  startRobotBrowser,
} from "../discovery-flags.js";
import { runEmbeddedGateway } from "../embedded-gateway.js";
import { type FleetFlagValues, fleetFlagOptions, fleetRequest, runFleetRobot } from "../fleet-flags.js";
import { onCleanup, waitForShutdown } from "../lifecycle.js";
import { createLogger } from "../logger.js";
import { usageError, withListenHint } from "../errors.js";
import { Output } from "../output.js";
import { action } from "../program.js";

interface Options extends BridgeFlagValues, FleetFlagValues, DiscoveryFlagValues {
  listen: string;
  demo: boolean;
  gateway: string[] | false;
  user: string;
  token?: string;
  tokenFile?: string;
  json?: boolean;
  dispatch?: string;
  xmpp?: string;
  allowRegistration?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command("start")
    .description("run the embedded default: a Service Directory, a simulated robot and the gateway")
    .option("-l, --listen <url>", "where the Service Directory listens", "tcp://127.0.0.1:9559")
    .option("--no-demo", "without the simulated robot's services")
    .option(
      "-g, --gateway <url...>",
      "where the gateway listens for outside clients (tcp, tcps, ws for browsers)",
      ["tcp://127.0.0.1:9503", "ws://127.0.0.1:8002"],
    )
    .option("--no-gateway", "without the gateway")
    .option("--user <name>", "the gateway user for this run", "nao")
    .option(
      "--token <token>",
      "the gateway token for this run (generated when omitted; visible in ps: prefer QI_GATEWAY_TOKEN or --token-file)",
    )
    .option("--token-file <file>", "file holding the gateway token for this run (mode 600)")
    .option(
      "--allow-registration",
      "let the gateway's clients register services (a service host, a tablet page)",
    )
    .option("--json", "print the endpoints as one JSON line")
    .option(
      "--xmpp <config>",
      "also serve the gateway through an XMPP account (a file: listen + xmpp; docs/xmpp.md)",
    )
    .addOption(withDispatch());
  for (const option of bridgeFlagOptions()) command.addOption(option);
  for (const option of fleetFlagOptions()) command.addOption(option);
  for (const option of discoveryFlagOptions()) command.addOption(option);
  command.action(
    action(async (opts: Options, cmd: Command) => {
      const out = new Output(!!opts.json);
      const logger = createLogger(!!cmd.optsWithGlobals().verbose);
      const bridges = bridgeRequests(opts);
      if (bridges.length > 0 && !opts.gateway)
        throw usageError("bridges run beside the gateway", "drop --no-gateway to use --bridge");
      const fleet = fleetRequest(opts, undefined);
      if (fleet && (!fleet.robot || !opts.gateway))
        throw usageError("qi start --fleet serves its robot", "--robot NAME, with the gateway");
      if (opts.xmpp && !opts.gateway)
        throw usageError("--xmpp is an entry of the gateway", "drop --no-gateway");
      const xmpp = opts.xmpp ? loadXmppEntryConfig(opts.xmpp) : undefined;
      // No credentials: QI_TOKEN in the shell is for clients, not for the directory itself.
      const session = new Session(sessionOptions({ dispatch: opts.dispatch }, {}));
      onCleanup(() => session.close());
      const endpoints = await withListenHint(
        session.listenStandalone(opts.listen),
        "--listen with another port for the Service Directory, e.g. --listen tcp://127.0.0.1:0",
      );
      const url = endpoints.find((e) => isLoopbackUrl(e)) ?? endpoints[0];
      const demo = opts.demo ? await startDemo(session, { logger }) : undefined;
      if (demo) onCleanup(() => demo.stop());
      const gateway = opts.gateway
        ? await withListenHint(
            runEmbeddedGateway({
              sdUrl: url,
              listen: xmpp ? [...opts.gateway, xmpp.url] : opts.gateway,
              xmpp: xmpp?.options,
              user: opts.user,
              token: tokenFromFlags({
                argvToken: opts.token,
                tokenFile: opts.tokenFile,
                envToken: process.env.QI_GATEWAY_TOKEN,
                envName: "QI_GATEWAY_TOKEN",
              }),
              logger,
              allowRegistration: !!opts.allowRegistration,
              robots: startRobotBrowser(opts),
            }),
            "--gateway with other ports, e.g. --gateway tcp://127.0.0.1:0 ws://127.0.0.1:0",
          )
        : undefined;
      if (gateway) onCleanup(() => gateway.close());
      if (gateway) startAdvertising(gateway.endpoints, opts);
      if (gateway) await runBridges(gateway.gateway, bridges, { logger, demo: !!demo, out });
      if (fleet && gateway) await runFleetRobot(gateway.gateway, fleet, { url }, logger, out);
      const services = demo?.services ?? [];
      const shutdown = waitForShutdown(); // armed before the banner says Ctrl-C
      if (out.json) {
        out.line(
          JSON.stringify({
            url,
            endpoints,
            services,
            gateway: gateway
              ? {
                  endpoints: gateway.endpoints,
                  user: gateway.user,
                  token: gateway.token,
                  console: gateway.consoleUrl ?? null,
                }
              : null,
          }),
        );
      } else {
        out.line(`Service Directory listening on ${out.style("bold", url)}`);
        for (const e of endpoints) if (e !== url) out.line(`  also on ${e}`);
        if (services.length > 0) out.line(`services: ${services.join(", ")}`);
        if (gateway) {
          out.line(`gateway listening on ${gateway.endpoints.map((e) => out.style("bold", e)).join(", ")}`);
          out.line(
            `gateway credentials for this run: user ${out.style("bold", gateway.user)} token ${out.style("bold", gateway.token)}`,
          );
          if (gateway.consoleUrl) out.line(`web console: ${out.style("bold", gateway.consoleUrl)}`);
          const gw = gateway.endpoints.find((e) => e.startsWith("tcp")) ?? gateway.endpoints[0];
          out.line(`try: QI_TOKEN=${gateway.token} npx qi services --url ${gw} --user ${gateway.user}`);
          if (gateway.allowsRegistration)
            out.line("outside clients may register services (--allow-registration)");
        } else out.line(`try: npx qi services --url ${url}`);
        out.line(out.style("dim", "Ctrl-C to stop"));
      }
      const sig = await shutdown;
      logger.info({ signal: sig }, "stopping");
      return 0;
    }),
  );
}
