/**
 * The rosbridge bridge's settings (`bridges: { rosbridge: {...} }` in the gateway config, or
 * its flags), checked once with their defaults. Every limit is per web client unless it says
 * otherwise.
 */
import { demoMapping, type Mapping, mergeMappings, parseMapping } from "../mapping/index.js";

export interface RosbridgeSettings {
  /**
   * The allow-list (the ROS 1 bridge's mapping format): what it does not name is neither
   * advertised nor reachable. Under `qi start` the demo mapping is merged in by the bridge.
   */
  mapping: Mapping;
  /** ws://host:port[/path] or wss:// (then tlsCert and tlsKey, PEM files). */
  listen: string;
  /** Instead of a listener of its own: this path on the gateway's ws/wss listener (`/rosbridge`). */
  path: string | undefined;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** No `auth` op needed: every client acts as the bridge's own user. Off by default. */
  open: boolean;
  /** Web clients at once (whole bridge). */
  maxClients: number;
  /** Largest message (a WebSocket frame, or a message reassembled from fragments). */
  maxMessageBytes: number;
  /** Messages read but not yet handled before the client is disconnected. */
  maxQueuedMessages: number;
  maxCallsInFlight: number;
  maxSubscriptions: number;
  defaultQueueLength: number;
  maxQueueLength: number;
  /** Bytes handed to the socket and not yet written, beyond which subscriptions wait (and drop). */
  maxInFlightBytes: number;
  maxPendingFragments: number;
  fragmentTimeoutMs: number;
  /** How long a client has to send `auth`. */
  authTimeoutMs: number;
  /** Services a client may advertise, and how long a web-provided service may take to answer. */
  maxAdvertisedServices: number;
  serviceCallTimeoutMs: number;
}

export const DEFAULT_ROSBRIDGE_LISTEN = "ws://127.0.0.1:9090";

const DEFAULTS: Omit<RosbridgeSettings, "listen" | "path" | "tlsCert" | "tlsKey" | "open" | "mapping"> = {
  maxClients: 64,
  maxMessageBytes: 16 * 1024 * 1024,
  maxQueuedMessages: 1_000,
  maxCallsInFlight: 64,
  maxSubscriptions: 256,
  defaultQueueLength: 10,
  maxQueueLength: 1_000,
  maxInFlightBytes: 4 * 1024 * 1024,
  maxPendingFragments: 16,
  fragmentTimeoutMs: 30_000,
  authTimeoutMs: 10_000,
  maxAdvertisedServices: 16,
  serviceCallTimeoutMs: 30_000,
};

function fail(section: string, key: string, what: string): never {
  throw new Error(`bridges.${section}.${key}: ${what}`);
}

function positive(section: string, raw: Record<string, unknown>, key: keyof typeof DEFAULTS): number {
  const v = raw[key];
  if (v === undefined) return DEFAULTS[key];
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n <= 0)
    fail(section, key, "must be a positive integer");
  return n;
}

function optionalString(section: string, raw: Record<string, unknown>, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") fail(section, key, "must be a string");
  return v;
}

export function rosbridgeSettings(
  raw: Readonly<Record<string, unknown>>,
  defaultListen = DEFAULT_ROSBRIDGE_LISTEN,
  /** The config section errors name (the Foxglove bridge reads the same settings). */
  name = "rosbridge",
): RosbridgeSettings {
  const listen = optionalString(name, raw, "listen") ?? defaultListen;
  if (!/^wss?:\/\//.test(listen)) fail(name, "listen", `must be a ws:// or wss:// URL, got "${listen}"`);
  const tlsCert = optionalString(name, raw, "tlsCert");
  const tlsKey = optionalString(name, raw, "tlsKey");
  if (listen.startsWith("wss:") && (!tlsCert || !tlsKey))
    fail(name, "listen", "wss:// needs tlsCert and tlsKey");
  const open = raw.open === true || raw.open === "true";
  const mapping = parseMapping(raw.mapping, `bridges.${name}.mapping`);
  const path = optionalString(name, raw, "path");
  if (path !== undefined && !/^(\/[A-Za-z0-9_.-]+)+$/.test(path))
    fail(name, "path", `must be an absolute URL path like /${name}, got "${path}"`);
  const out = { listen, path, tlsCert, tlsKey, open, mapping } as RosbridgeSettings;
  for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>)
    out[key] = positive(name, raw, key);
  return out;
}

/** Under `qi start`, the simulated robot's mapping with the user's on top (as the ROS 1 bridge). */
export function withDemoMapping(settings: RosbridgeSettings, demo: boolean): RosbridgeSettings {
  return demo ? { ...settings, mapping: mergeMappings(demoMapping(), settings.mapping) } : settings;
}
