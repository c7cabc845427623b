/**
 * Starts the bridges a user named (`--bridge NAME`, or the config's `bridges:` section) beside
 * a running gateway: each gets its own in-process qi session logged in as its own user, its
 * settings, and its metrics; each prints its warning.
 */
import type { Logger } from "pino";
import type { Gateway } from "../gateway/index.js";
import { Session } from "../session/index.js";
import type { TransportFactory } from "../transport/index.js";
import { bridgeMetrics } from "./metrics.js";
import type { RunningBridge } from "./plugin.js";
import { bridgeEntry, bridgeNames } from "./registry.js";

export interface BridgeRequest {
  name: string;
  settings: Record<string, unknown>;
}

export interface StartBridgesOptions {
  logger: Logger;
  demo: boolean;
  /** Where each warning goes besides the log (the CLI: stderr, prefixed `warning:`). */
  warn?: (line: string) => void;
}

export interface StartedBridge {
  name: string;
  warning: string;
  bridge: RunningBridge;
}

/** A Session transport whose every connect() is a new in-process client of `gateway`. */
export function inProcessTransport(gateway: Gateway, identity: string): TransportFactory {
  return {
    connect: async () => gateway.connectInProcess(identity),
    canConnect: (url) => url.startsWith("inproc:"),
    canListen: () => false,
  };
}

/**
 * A Session logged in to `gateway` as `user`, in process. No reconnection: the in-process
 * channel ends only with the gateway, and the bridge with it. `label` names it in the URL.
 */
export async function openInProcessSession(gateway: Gateway, user: string, label: string): Promise<Session> {
  const session = new Session({ transport: inProcessTransport(gateway, user), reconnect: false });
  await session.connect(`inproc://gateway/${label}`);
  return session;
}

/** Throws (naming the known bridges) for a name this build does not have. */
export function checkBridgeNames(names: readonly string[]): void {
  for (const name of names)
    if (!bridgeEntry(name))
      throw new Error(`unknown bridge "${name}" (known: ${bridgeNames().join(", ") || "none"})`);
}

export async function startBridges(
  gateway: Gateway,
  requests: readonly BridgeRequest[],
  options: StartBridgesOptions,
): Promise<StartedBridge[]> {
  checkBridgeNames(requests.map((r) => r.name));
  const started: StartedBridge[] = [];
  try {
    for (const request of requests) {
      const entry = bridgeEntry(request.name)!;
      options.logger.warn({ bridge: entry.name }, entry.warning);
      options.warn?.(entry.warning);
      const user = typeof request.settings.user === "string" ? request.settings.user : `bridge-${entry.name}`;
      const session = await openInProcessSession(gateway, user, entry.name);
      try {
        const plugin = await entry.load();
        const bridge = await plugin.start({
          session,
          user,
          logger: options.logger.child({ bridge: entry.name }),
          settings: request.settings,
          demo: options.demo,
          metrics: bridgeMetrics(gateway.metrics.registry, entry.name),
          gateway,
        });
        const close = bridge.close.bind(bridge);
        started.push({
          name: entry.name,
          warning: entry.warning,
          bridge: { endpoints: bridge.endpoints, close: () => close().finally(() => session.close()) },
        });
      } catch (e) {
        await session.close();
        throw e;
      }
    }
  } catch (e) {
    await stopBridges(started);
    throw e;
  }
  return started;
}

export async function stopBridges(bridges: readonly StartedBridge[]): Promise<void> {
  await Promise.all(bridges.map((b) => b.bridge.close().catch(() => {})));
}
