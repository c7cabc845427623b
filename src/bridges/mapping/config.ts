/**
 * The mapping a user gives a bridge (`bridges: { ros1: { mapping: {...} } }`): an allow-list.
 * Nothing of the robot is exposed that an entry here does not name.
 *
 * ```yaml
 * mapping:
 *   out:       # qi → topics
 *     - { service: ALBattery, property: charge }            # /qi/ALBattery/charge, std_msgs/Float32, latched
 *     - { service: ALVideoDevice, signal: image }           # sensor_msgs/Image rgb8
 *     - { service: ALMemory, memoryKey: "BatteryChargeChanged" }   # std_msgs/String
 *     - { service: Calc, signal: result, topic: /calc, type: std_msgs/String }   # JSON text
 *   in:        # topics → a qi method
 *     - { topic: /cmd_vel, type: geometry_msgs/Twist, service: ALMotion, method: move,
 *         args: [linear.x, linear.y, angular.z], post: true }
 *   services:  # services → a qi method
 *     - { name: /qi/ALTextToSpeech/say, type: qi_bridge/Say, service: ALTextToSpeech, method: say,
 *         args: [text], request: "string text", response: "bool success\nstring message" }
 * ```
 */
import { z } from "zod";
import { checkGraphName, defaultTopic } from "./names.js";

const name = z.string().min(1).max(256);
const rosType = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*\/[A-Za-z][A-Za-z0-9_]*$/, "a type is package/Name");
const path = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, "a field path is a.b.c");

const outEntry = z
  .object({
    service: name,
    signal: name.optional(),
    property: name.optional(),
    memoryKey: name.optional(),
    topic: z.string().optional(),
    type: rosType.optional(),
  })
  .strict()
  .refine((e) => [e.signal, e.property, e.memoryKey].filter((x) => x !== undefined).length === 1, {
    message: "give exactly one of signal, property, memoryKey",
  });

const inEntry = z
  .object({
    topic: z.string(),
    type: rosType,
    service: name,
    method: name,
    args: z.array(path).max(32).default(["data"]),
    post: z.boolean().default(false),
  })
  .strict();

const serviceEntry = z
  .object({
    name: z.string(),
    type: rosType,
    service: name,
    method: name,
    args: z.array(path).max(32).optional(),
    /** For a type outside the built-in table: its request and response definitions. */
    request: z.string().max(4096).optional(),
    response: z.string().max(4096).optional(),
  })
  .strict();

export const mappingSchema = z
  .object({
    out: z.array(outEntry).max(1024).default([]),
    in: z.array(inEntry).max(1024).default([]),
    services: z.array(serviceEntry).max(1024).default([]),
  })
  .strict();

export type MappingInput = z.input<typeof mappingSchema>;

export interface TopicOut {
  service: string;
  /** What feeds the topic: a signal, a property (latched), or one ALMemory key's changes. */
  source: { kind: "signal" | "property" | "memoryKey"; name: string };
  topic: string;
  /** Chosen by the user, or undefined for the signature's standard type. */
  type?: string;
}

export interface TopicIn {
  topic: string;
  type: string;
  service: string;
  method: string;
  args: string[];
  post: boolean;
}

export interface ServiceMapping {
  name: string;
  type: string;
  service: string;
  method: string;
  args?: string[];
  request?: string;
  response?: string;
}

export interface Mapping {
  out: TopicOut[];
  in: TopicIn[];
  services: ServiceMapping[];
}

export const EMPTY_MAPPING: Mapping = { out: [], in: [], services: [] };

/** Validates a mapping (throws naming the first bad key) and fills in default names. */
export function parseMapping(input: unknown, where = "mapping"): Mapping {
  const parsed = mappingSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}.${issue.path.join(".")}: ${issue.message}`);
  }
  const m = parsed.data;
  const out = m.out.map((e, i): TopicOut => {
    const source = e.signal
      ? { kind: "signal" as const, name: e.signal }
      : e.property
        ? { kind: "property" as const, name: e.property }
        : { kind: "memoryKey" as const, name: e.memoryKey! };
    const topic = checkGraphName(e.topic ?? defaultTopic(e.service, source.name), `${where}.out.${i}.topic`);
    return { service: e.service, source, topic, type: e.type };
  });
  for (const [i, e] of m.in.entries()) checkGraphName(e.topic, `${where}.in.${i}.topic`);
  for (const [i, e] of m.services.entries()) checkGraphName(e.name, `${where}.services.${i}.name`);
  const topics = [...out.map((o) => o.topic), ...m.in.map((e) => e.topic)];
  const dup = topics.find((t, i) => topics.indexOf(t) !== i);
  if (dup) throw new Error(`${where}: topic ${dup} is mapped twice`);
  return { out, in: m.in, services: m.services };
}

/** The demo's mapping with the user's on top: a name the user maps replaces the demo's entry. */
export function mergeMappings(base: Mapping, user: Mapping): Mapping {
  const topics = new Set([...user.out.map((o) => o.topic), ...user.in.map((i) => i.topic)]);
  const services = new Set(user.services.map((s) => s.name));
  return {
    out: [...base.out.filter((o) => !topics.has(o.topic)), ...user.out],
    in: [...base.in.filter((i) => !topics.has(i.topic)), ...user.in],
    services: [...base.services.filter((s) => !services.has(s.name)), ...user.services],
  };
}
