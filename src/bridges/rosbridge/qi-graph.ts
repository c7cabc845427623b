/**
 * What the web bridges (rosbridge, Foxglove) see of the robot: every qi member a session may
 * reach, named and typed as ROS names it. Signals and properties are topics, methods are
 * services (and topics one may publish to: publishing posts the method), all under
 * `/qi/<Service>/<member>`.
 *
 * Names and types come from the one qi↔ROS mapping the ROS 1 bridge also uses
 * (src/bridges/mapping/), so a topic has one name and one type everywhere. The mapping is
 * also the allow-list, as for the ROS 1 bridge: what it does not name is neither advertised
 * nor reachable, and within it the gateway's permissions for each web user decide more.
 */
import type { Session } from "../../session/index.js";
import {
  defaultTopic,
  type Mapping,
  MEMORY_KEY_SIGNATURE,
  METHOD_SERVICE_TYPE,
  type ReplyShape,
  replyShape,
  rosTypeOf,
  STRING_TYPE,
} from "../mapping/index.js";

/** A memoryKey topic is one ALMemory key (mapping/memory.ts): subscribe reads it, publish writes it. */
export type TopicKind = "signal" | "property" | "method" | "memoryKey";

export interface QiTopic {
  /** `/qi/<Service>/<member>`. */
  readonly name: string;
  /** ROS message type, e.g. `sensor_msgs/Image`. */
  readonly type: string;
  readonly service: string;
  readonly member: string;
  readonly kind: TopicKind;
  /**
   * The qi signature of one message: a signal's tuple, a property's type, a method's
   * parameters; a memory key's value as text (`(s)`).
   */
  readonly signature: string;
  /** For a method: the message fields that are its arguments, in order (the mapping's `args`). */
  readonly argPaths?: readonly string[];
}

export interface QiRosService {
  readonly name: string;
  /** `qi_srvs/Call`: request fields are the method's parameter names, the response is `{result}`. */
  readonly type: string;
  readonly service: string;
  readonly method: string;
  readonly parametersSignature: string;
  readonly returnSignature: string;
  readonly parameterNames: readonly string[];
  /** How its responses look (by its type). */
  readonly reply: ReplyShape;
}

export interface QiGraph {
  readonly topics: ReadonlyMap<string, QiTopic>;
  readonly services: ReadonlyMap<string, QiRosService>;
}

/** The shared mapping's convention for a method's service type (see METHOD_SERVICE_TYPE). */
export const SERVICE_TYPE = METHOD_SERVICE_TYPE;

/** The camera frame's signature (ALVideoDevice's `image`: width, height, sequence, pixels). */
export const IMAGE_SIGNATURE = "(iiIr)";

/** `/qi/ALTextToSpeech/say` for (ALTextToSpeech, say): the shared mapping's default name. */
export function rosName(service: string, member: string): string {
  return defaultTopic(service, member);
}

/** A name as clients write it (roslib often omits the leading slash). */
export function normalizeName(name: string): string {
  return name.startsWith("/") ? name : `/${name}`;
}

type MetaObject = Awaited<ReturnType<Session["service"]>>["metaObject"];

/**
 * The session's view of what the mapping allows: each entry of the allow-list whose qi
 * member this session can open (the gateway shows it only what its user may see), named as
 * the mapping names it. Entries the user cannot reach, or whose member does not exist, are
 * left out. An ALMemory key entry (`memoryKey`) is a topic when the session can open the
 * service it names and that has ALMemory's `dataChanged`, `getData` and `insertData`.
 */
export async function readQiGraph(session: Session, allow: Mapping): Promise<QiGraph> {
  const topics = new Map<string, QiTopic>();
  const services = new Map<string, QiRosService>();
  const metas = new Map<string, Promise<MetaObject | undefined>>();
  const meta = (service: string) => {
    let m = metas.get(service);
    if (!m) {
      m = session.service(service).then(
        (o) => o.metaObject,
        () => undefined,
      );
      metas.set(service, m);
    }
    return m;
  };
  for (const e of allow.out) {
    const m = await meta(e.service);
    if (e.source.kind === "memoryKey") {
      if (!m || !isMemory(m) || (e.type && e.type !== STRING_TYPE)) continue;
      topics.set(e.topic, {
        name: e.topic,
        type: STRING_TYPE,
        service: e.service,
        member: e.source.name,
        kind: "memoryKey",
        signature: MEMORY_KEY_SIGNATURE,
      });
      continue;
    }
    const member =
      e.source.kind === "property"
        ? [...(m?.properties.values() ?? [])].find((p) => p.name === e.source.name)
        : [...(m?.signals.values() ?? [])].find((s) => s.name === e.source.name);
    if (!member) continue;
    topics.set(e.topic, {
      name: e.topic,
      type: e.type ?? rosTypeOf(member.signature),
      service: e.service,
      member: member.name,
      kind: e.source.kind,
      signature: member.signature,
    });
  }
  for (const e of allow.in) {
    const method = firstMethod(await meta(e.service), e.method);
    if (!method) continue;
    topics.set(e.topic, {
      name: e.topic,
      type: e.type,
      service: e.service,
      member: method.name,
      kind: "method",
      signature: method.parametersSignature,
      argPaths: e.args,
    });
  }
  for (const e of allow.services) {
    const method = firstMethod(await meta(e.service), e.method);
    if (!method) continue;
    services.set(e.name, {
      name: e.name,
      type: e.type,
      service: e.service,
      method: method.name,
      parametersSignature: method.parametersSignature,
      returnSignature: method.returnSignature,
      parameterNames: e.args ?? method.parameters.map((p) => p.name),
      reply: replyShape(e),
    });
  }
  return { topics, services };
}

/** Whether a service has what a memory key topic uses (ALMemory's, or one like it). */
function isMemory(meta: MetaObject): boolean {
  const methods = new Set([...meta.methods.values()].map((m) => m.name));
  return (
    ["getData", "insertData"].every((n) => methods.has(n)) &&
    [...meta.signals.values()].some((s) => s.name === "dataChanged")
  );
}

/** An overloaded name keeps its first overload: one ROS name, one type. */
function firstMethod(meta: MetaObject | undefined, name: string) {
  return [...(meta?.methods.values() ?? [])].find((m) => m.name === name);
}
