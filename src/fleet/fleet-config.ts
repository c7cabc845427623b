/**
 * The `fleet:` section of a gateway config file (validated here: config/ only passes it on):
 * where NATS is and how to log in to it (credentials and TLS stay out of the command line),
 * the robot this gateway serves, and for an edge the robot of each user.
 *
 *   fleet:
 *     url: nats://hub-1:4222,nats://hub-2:4222
 *     robot: nao-1                    # robot side; absent: an edge gateway
 *     user: robots                    # NATS credentials (or token)
 *     pass: "..."
 *     tls: { caFile: ca.pem }
 *     users: { alice: nao-1, bob: pepper-2 }   # edge: which robot each qi user reaches
 *     defaultRobot: nao-1                       # edge: for users not listed
 */
import { z } from "zod";
import { DEFAULT_HEARTBEAT_MS, DEFAULT_MAX_REMOTE_CLIENTS } from "./robot.js";
import { DEFAULT_SUBJECT_PREFIX } from "./subjects.js";

const robotName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1 to 64 letters, digits, '-' or '_'");

export const fleetSettingsSchema = z.strictObject({
  url: z
    .string()
    .regex(/^(nats|tls):\/\//, "nats://host:port (comma-separated for several)")
    .optional(),
  robot: robotName.optional(),
  user: z.string().optional(),
  pass: z.string().optional(),
  token: z.string().optional(),
  tls: z.strictObject({ caFile: z.string(), certFile: z.string(), keyFile: z.string() }).partial().optional(),
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/)
    .default(DEFAULT_SUBJECT_PREFIX),
  heartbeatMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_HEARTBEAT_MS),
  maxClients: z.number().int().min(1).max(1_000_000).default(DEFAULT_MAX_REMOTE_CLIENTS),
  users: z.record(z.string(), robotName).default({}),
  defaultRobot: robotName.optional(),
});

export type FleetSettings = z.infer<typeof fleetSettingsSchema>;

/** The section (or nothing) checked, with --fleet and --robot laid over it. */
export function fleetSettings(section: unknown, flags: { fleet?: string; robot?: string }): FleetSettings {
  const parsed = fleetSettingsSchema.safeParse(section ?? {});
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`fleet: ${first.path.join(".")}: ${first.message}`);
  }
  const s = parsed.data;
  if (flags.fleet !== undefined) s.url = flags.fleet;
  if (flags.robot !== undefined) s.robot = robotName.parse(flags.robot);
  return s;
}
