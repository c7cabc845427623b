/**
 * `--fleet URL` and `--robot NAME` on `qi gateway` and `qi start` (NATS credentials and TLS come
 * from the config file's `fleet:` section, never argv). With a robot name the gateway serves
 * that robot to the fleet; `qi gateway --fleet` without one is an edge gateway, serving every
 * robot of the fleet to plain qi clients on its --listen URLs.
 */
import { Option } from "commander";
import type { Logger } from "pino";
import type { ClientAuthenticator } from "../connection/index.js";
import {
  dialNats,
  FleetEdge,
  FleetRobot,
  type FleetSettings,
  fleetSettings,
  fleetTransport,
  natsServers,
} from "../fleet/index.js";
import type { Gateway } from "../gateway/index.js";
import { Session } from "../session/index.js";
import type { ClientTlsOptions, ListenOptions } from "../transport/index.js";
import { usageError } from "./errors.js";
import { onCleanup } from "./lifecycle.js";
import type { Output } from "./output.js";
import { version } from "./program.js";

export interface FleetFlagValues {
  fleet?: string;
  robot?: string;
}

export function fleetFlagOptions(): Option[] {
  return [
    new Option(
      "--fleet <url>",
      "the NATS fleet to join (nats://host:port, comma-separated; see docs/fleet.md)",
    ),
    new Option("--robot <name>", "serve this gateway's robot to the fleet under that name"),
  ];
}

/** The fleet settings of the flags and the config section, or undefined when neither asks for one. */
export function fleetRequest(flags: FleetFlagValues, section: unknown): FleetSettings | undefined {
  if (flags.fleet === undefined && section === undefined) {
    if (flags.robot !== undefined) throw usageError("--robot needs --fleet URL", "--fleet nats://host:4222");
    return undefined;
  }
  let s: FleetSettings;
  try {
    s = fleetSettings(section, flags);
  } catch (e) {
    throw usageError((e as Error).message, "see docs/fleet.md");
  }
  if (!s.url)
    throw usageError("the fleet needs a NATS URL", "--fleet nats://host:4222 or fleet.url in the config");
  return s;
}

/** The names a robot announces: what its Service Directory lists (nothing while it is away). */
function servicesOf(sdUrl: string, authenticator?: ClientAuthenticator, clientTls?: ClientTlsOptions) {
  let session: Session | undefined;
  onCleanup(() => session?.close() ?? Promise.resolve());
  return async (): Promise<string[]> => {
    if (!session) {
      session = new Session({ authenticator, clientTls });
      await session.connect(sdUrl).catch((e: unknown) => {
        session = undefined;
        throw e;
      });
    }
    return (await session.services()).map((s) => s.name);
  };
}

export async function runFleetRobot(
  gateway: Gateway,
  s: FleetSettings,
  sd: { url: string; authenticator?: ClientAuthenticator; tls?: ClientTlsOptions },
  logger: Logger,
  out: Output,
): Promise<FleetRobot> {
  const nc = await dialNats({ ...s, servers: natsServers(s.url as string), name: `qi robot ${s.robot}` });
  onCleanup(() => nc.drain().catch(() => nc.close()));
  const robot = await FleetRobot.start({
    nc,
    robot: s.robot as string,
    accept: (c) => gateway.acceptChannel(c),
    services: servicesOf(sd.url, sd.authenticator, sd.tls),
    version: version(),
    prefix: s.prefix,
    heartbeatMs: s.heartbeatMs,
    maxClients: s.maxClients,
  });
  onCleanup(() => robot.close());
  logger.info({ robot: robot.name, fleet: s.url }, "serving the robot to the fleet");
  if (!out.json) out.line(`robot ${out.style("bold", robot.name)} in the fleet at ${s.url}`);
  return robot;
}

export async function runFleetEdge(
  s: FleetSettings,
  listen: string[],
  listenOptions: ListenOptions,
  logger: Logger,
  out: Output,
): Promise<FleetEdge> {
  if (listen.length === 0)
    throw usageError("an edge gateway needs --listen URL", "e.g. --listen tcp://0.0.0.0:9503");
  const transport = fleetTransport({ ...s, keepConnection: true, name: "qi edge" });
  onCleanup(() => transport.close());
  const edge = await FleetEdge.start({
    url: s.url as string,
    transport,
    listen,
    listenOptions,
    robotOfUser: (user) => (Object.hasOwn(s.users, user) ? s.users[user] : undefined),
    defaultRobot: s.defaultRobot,
    log: (msg, fields) => logger.warn(fields ?? {}, msg),
  });
  onCleanup(() => edge.close());
  if (out.json) out.line(JSON.stringify({ endpoints: edge.endpoints(), fleet: s.url }));
  else {
    for (const e of edge.endpoints()) out.line(`edge gateway listening on ${out.style("bold", e)}`);
    out.line(`serving the robots of the fleet at ${s.url}`);
    out.line(out.style("dim", "Ctrl-C to stop"));
  }
  return edge;
}
