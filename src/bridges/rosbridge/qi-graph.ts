/**
 * What the web bridges (rosbridge, Foxglove) see of the robot: every qi member a session may
 * reach, named and typed as ROS names it. Signals and properties are topics, methods are
 * services (and topics one may publish to: publishing posts the method), all under
 * `/qi/<Service>/<member>`.
 *
 * Names and types come from the one qi↔ROS mapping the ROS 1 bridge also uses
 * (src/bridges/mapping/), so a topic has one name and one type everywhere. Unlike the ROS 1
 * bridge, no allow-list is needed: every web client is a logged-in gateway user, and the
 * gateway's permissions for that user decide what it sees.
 */
import type { Session } from "../../session/index.js";
import { defaultTopic } from "../mapping/index.js";
import { toRosType } from "./ros-types.js";

export type TopicKind = "signal" | "property" | "method";

export interface QiTopic {
  /** `/qi/<Service>/<member>`. */
  readonly name: string;
  /** ROS message type, e.g. `sensor_msgs/Image`. */
  readonly type: string;
  readonly service: string;
  readonly member: string;
  readonly kind: TopicKind;
  /** The qi signature of one message: a signal's tuple, a property's type, a method's parameters. */
  readonly signature: string;
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
}

export interface QiGraph {
  readonly topics: ReadonlyMap<string, QiTopic>;
  readonly services: ReadonlyMap<string, QiRosService>;
}

export const SERVICE_TYPE = "qi_srvs/Call";

/** `/qi/ALTextToSpeech/say` for (ALTextToSpeech, say): the shared mapping's default name. */
export function rosName(service: string, member: string): string {
  return defaultTopic(service, member);
}

/** A name as clients write it (roslib often omits the leading slash). */
export function normalizeName(name: string): string {
  return name.startsWith("/") ? name : `/${name}`;
}

/** Members qi puts on every object (reserved ids below 100): not the robot's API. */
const FIRST_USER_UID = 100;

/**
 * Reads the session's visible services and their MetaObjects (each service once; the gateway
 * shows this session only what its user may see). Services that fail to open are left out.
 */
export async function readQiGraph(session: Session): Promise<QiGraph> {
  const topics = new Map<string, QiTopic>();
  const services = new Map<string, QiRosService>();
  const infos = await session.services();
  for (const info of infos) {
    if (info.name === "ServiceDirectory") continue;
    let meta: Awaited<ReturnType<Session["service"]>>["metaObject"];
    try {
      meta = (await session.service(info.name)).metaObject;
    } catch {
      continue;
    }
    for (const s of meta.signals.values()) {
      if (s.uid < FIRST_USER_UID) continue;
      const isProperty = [...meta.properties.values()].some((p) => p.uid === s.uid);
      if (isProperty) continue;
      const name = rosName(info.name, s.name);
      topics.set(name, {
        name,
        type: toRosType(s.signature),
        service: info.name,
        member: s.name,
        kind: "signal",
        signature: s.signature,
      });
    }
    for (const p of meta.properties.values()) {
      if (p.uid < FIRST_USER_UID) continue;
      const name = rosName(info.name, p.name);
      topics.set(name, {
        name,
        type: toRosType(p.signature),
        service: info.name,
        member: p.name,
        kind: "property",
        signature: p.signature,
      });
    }
    for (const m of meta.methods.values()) {
      if (m.uid < FIRST_USER_UID) continue;
      const name = rosName(info.name, m.name);
      // An overloaded name keeps its first overload: one ROS name, one type.
      if (services.has(name)) continue;
      services.set(name, {
        name,
        type: SERVICE_TYPE,
        service: info.name,
        method: m.name,
        parametersSignature: m.parametersSignature,
        returnSignature: m.returnSignature,
        parameterNames: m.parameters.map((p) => p.name),
      });
      if (!topics.has(name))
        topics.set(name, {
          name,
          type: toRosType(m.parametersSignature),
          service: info.name,
          member: m.name,
          kind: "method",
          signature: m.parametersSignature,
        });
    }
  }
  return { topics, services };
}
