/**
 * The YARP bridge's settings (`bridges: { yarp: {...} }` in the gateway config, and
 * `--yarp-nameserver`), checked once with errors naming the key, and the allow-list mapping:
 * which qi services, and which of their members, YARP sees. Nothing is mapped unless listed;
 * `qi start` maps the simulated robot.
 */
import { type NameServerAddress, parseNameServer } from "./name-client.js";

/** What of one qi service YARP sees. */
export interface ServiceMapping {
  /** Methods callable over `/<prefix>/<Service>/rpc` (a Bottle `method arg…`). */
  rpc: string[];
  /** Methods with an input port `/<prefix>/<Service>/<method>:i` (each Bottle posts one call). */
  inputs: string[];
  /** Signals and properties with an output port `/<prefix>/<Service>/<member>:o`. */
  outputs: string[];
  /** Send camera-like signals (width, height, …, RGB bytes) as YARP images (else as Bottles). */
  images: boolean;
}

export interface YarpSettings {
  nameServer: NameServerAddress;
  /** Address the bridge's ports listen on (loopback unless told otherwise). */
  host: string;
  prefix: string;
  services: Record<string, ServiceMapping>;
  /** Messages waiting per reader before the oldest is dropped. */
  queue: number;
  maxMessageBytes: number;
  maxConnections: number;
  maxReaders: number;
  /** Calls from one input port that may run at once; further Bottles are dropped. */
  maxPendingCalls: number;
  /** How often the name server is checked (and the ports re-registered after its restart). */
  nameServerCheckMs: number;
  openingTimeoutMs: number;
  connectTimeoutMs: number;
}

/** The simulated robot as YARP sees it under `qi start --bridge yarp`. */
export const DEMO_MAPPING: Record<string, ServiceMapping> = {
  ALTextToSpeech: {
    rpc: ["say", "getAvailableLanguages", "setLanguage"],
    inputs: ["say"],
    outputs: ["started", "done"],
    images: true,
  },
  ALBattery: { rpc: ["getBatteryCharge"], inputs: [], outputs: ["charge"], images: true },
  ALVideoDevice: {
    rpc: ["startStreaming", "stopStreaming", "isStreaming"],
    inputs: [],
    outputs: ["image"],
    images: true,
  },
  ALMemory: {
    rpc: ["getData", "insertData", "getDataList", "removeData"],
    inputs: ["insertData"],
    outputs: ["dataChanged"],
    images: true,
  },
};

const bad = (key: string, why: string): never => {
  throw new Error(`bridges.yarp.${key}: ${why}`);
};

function int(
  s: Readonly<Record<string, unknown>>,
  key: string,
  def: number,
  min: number,
  max: number,
): number {
  const v = s[key] ?? def;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    bad(key, `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v as number;
}

function names(v: unknown, key: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(x)))
    bad(key, "expected a list of member names");
  return v as string[];
}

export function parseSettings(s: Readonly<Record<string, unknown>>, demo: boolean): YarpSettings {
  const ns = s.nameserver ?? "127.0.0.1:10000";
  if (typeof ns !== "string") bad("nameserver", "expected host:port");
  const host = s.host ?? "127.0.0.1";
  if (typeof host !== "string") bad("host", "expected an address");
  const prefix = s.prefix ?? "/qi";
  if (typeof prefix !== "string" || !/^\/[A-Za-z0-9_/-]*[A-Za-z0-9_-]$/.test(prefix))
    bad("prefix", `expected a port name prefix like "/qi", got ${JSON.stringify(prefix)}`);
  let services: Record<string, ServiceMapping>;
  if (s.services === undefined) {
    if (!demo) bad("services", "nothing is mapped: list the services and members YARP may see");
    services = DEMO_MAPPING;
  } else {
    if (typeof s.services !== "object" || s.services === null || Array.isArray(s.services))
      bad("services", "expected { <Service>: { rpc, inputs, outputs } }");
    services = {};
    for (const [name, m] of Object.entries(s.services as Record<string, unknown>)) {
      if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) bad(`services.${name}`, "not a service name");
      if (typeof m !== "object" || m === null) bad(`services.${name}`, "expected { rpc, inputs, outputs }");
      const o = m as Record<string, unknown>;
      services[name] = {
        rpc: names(o.rpc, `services.${name}.rpc`),
        inputs: names(o.inputs, `services.${name}.inputs`),
        outputs: names(o.outputs, `services.${name}.outputs`),
        images: o.images === undefined ? true : o.images === true,
      };
    }
  }
  return {
    nameServer: parseNameServer(ns as string),
    host: host as string,
    prefix: prefix as string,
    services,
    queue: int(s, "queue", 4, 1, 1000),
    maxMessageBytes: int(s, "maxMessageBytes", 1 << 20, 1024, 64 << 20),
    maxConnections: int(s, "maxConnections", 32, 1, 10_000),
    maxReaders: int(s, "maxReaders", 16, 1, 1000),
    maxPendingCalls: int(s, "maxPendingCalls", 16, 1, 10_000),
    nameServerCheckMs: int(s, "nameServerCheckMs", 2_000, 50, 600_000),
    openingTimeoutMs: int(s, "openingTimeoutMs", 10_000, 100, 600_000),
    connectTimeoutMs: int(s, "connectTimeoutMs", 5_000, 100, 600_000),
  };
}
