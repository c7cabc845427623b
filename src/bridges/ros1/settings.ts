/**
 * The ros1 bridge's settings (config `bridges: { ros1: {...} }` merged with its flags), with
 * their defaults. Every limit is here, documented in docs/ros.md.
 */
import { z } from "zod";
import { type Mapping, parseMapping } from "../mapping/index.js";

export const DEFAULTS = {
  master: "http://127.0.0.1:11311",
  nodeName: "/qi_gateway",
  host: "127.0.0.1",
  /** Messages waiting per ROS subscriber beyond the one being written; older ones are dropped. */
  queueSize: 10,
  /** qi calls in flight per ROS→qi topic; further messages are dropped until one returns. */
  maxCallsInFlight: 8,
  /** How often the master is asked whether it still knows this node. */
  masterCheckMs: 1000,
  /** Largest service request accepted. */
  maxServiceRequestBytes: 1024 * 1024,
  /** Service connections open at once. */
  maxServiceConnections: 64,
  /** Requests waiting for their answer on one service connection. */
  maxPendingRequests: 16,
} as const;

const schema = z
  .object({
    master: z
      .string()
      .regex(/^http:\/\/[^/\s]+(:\d+)?\/?$/, "an http://host:port URL")
      .default(DEFAULTS.master),
    nodeName: z
      .string()
      .regex(/^\/?[A-Za-z][A-Za-z0-9_]*$/, "a node name such as /qi_gateway")
      .default(DEFAULTS.nodeName),
    host: z.string().min(1).default(DEFAULTS.host),
    queueSize: z.coerce.number().int().min(1).max(10_000).default(DEFAULTS.queueSize),
    maxCallsInFlight: z.coerce.number().int().min(1).max(10_000).default(DEFAULTS.maxCallsInFlight),
    masterCheckMs: z.coerce.number().int().min(50).max(600_000).default(DEFAULTS.masterCheckMs),
    maxServiceRequestBytes: z.coerce
      .number()
      .int()
      .min(1)
      .max(1 << 30)
      .default(DEFAULTS.maxServiceRequestBytes),
    maxServiceConnections: z.coerce
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(DEFAULTS.maxServiceConnections),
    maxPendingRequests: z.coerce.number().int().min(1).max(10_000).default(DEFAULTS.maxPendingRequests),
    mapping: z.unknown().optional(),
    /** The user the bridge logs in as (read by the bridge frame). */
    user: z.string().optional(),
  })
  .strict();

export type Ros1Settings = Omit<z.output<typeof schema>, "mapping"> & { mapping: Mapping };

export function parseSettings(input: Readonly<Record<string, unknown>>): Ros1Settings {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`bridges.ros1.${issue.path.join(".")}: ${issue.message}`);
  }
  const s = parsed.data;
  const nodeName = s.nodeName.startsWith("/") ? s.nodeName : `/${s.nodeName}`;
  return {
    ...s,
    nodeName,
    master: s.master.replace(/\/?$/, "/"),
    mapping: parseMapping(s.mapping, "bridges.ros1.mapping"),
  };
}
