/**
 * The `/rosapi/*` services tools call first (rosbridge_suite's rosapi node): what topics and
 * services exist, their types, the time, and message layouts. Answered from the client's own
 * view of the robot (its user's permissions), with the names the qi graph gives.
 */
import { type QiGraph, SERVICE_TYPE } from "./qi-graph.js";

export interface TypeDef {
  type: string;
  fieldnames: string[];
  fieldtypes: string[];
  fieldarraylen: number[];
  examples: string[];
  constnames: string[];
  constvalues: string[];
}

function def(type: string, fields: Array<[string, string, number?]>): TypeDef {
  return {
    type,
    fieldnames: fields.map((f) => f[0]),
    fieldtypes: fields.map((f) => f[1]),
    fieldarraylen: fields.map((f) => f[2] ?? -1),
    examples: fields.map(() => "{}"),
    constnames: [],
    constvalues: [],
  };
}

const SCALARS: Record<string, string> = {
  Bool: "bool",
  Int8: "int8",
  UInt8: "uint8",
  Int16: "int16",
  UInt16: "uint16",
  Int32: "int32",
  UInt32: "uint32",
  Int64: "int64",
  UInt64: "uint64",
  Float32: "float32",
  Float64: "float64",
  String: "string",
};

/** The layouts of every type the bridge uses (ROS 1's definitions of the same names). */
const TYPEDEFS = new Map<string, TypeDef[]>();
for (const [name, prim] of Object.entries(SCALARS))
  TYPEDEFS.set(`std_msgs/${name}`, [def(`std_msgs/${name}`, [["data", prim]])]);
TYPEDEFS.set("std_msgs/Empty", [def("std_msgs/Empty", [])]);
TYPEDEFS.set("std_msgs/UInt8MultiArray", [
  def("std_msgs/UInt8MultiArray", [
    ["layout", "std_msgs/MultiArrayLayout"],
    ["data", "uint8", 0],
  ]),
]);
const header = def("std_msgs/Header", [
  ["seq", "uint32"],
  ["stamp", "time"],
  ["frame_id", "string"],
]);
TYPEDEFS.set("sensor_msgs/Image", [
  def("sensor_msgs/Image", [
    ["header", "std_msgs/Header"],
    ["height", "uint32"],
    ["width", "uint32"],
    ["encoding", "string"],
    ["is_bigendian", "uint8"],
    ["step", "uint32"],
    ["data", "uint8", 0],
  ]),
  header,
]);

export type RosapiAnswer = { ok: true; values: Record<string, unknown> } | { ok: false; error: string };

function field(args: unknown, name: string): string {
  const v = typeof args === "object" && args !== null ? (args as Record<string, unknown>)[name] : undefined;
  return typeof v === "string" ? v : "";
}

const slash = (n: string) => (n.startsWith("/") ? n : `/${n}`);

/** Answers `/rosapi/<name>`, or undefined for a rosapi service this bridge does not offer. */
export function rosapi(name: string, args: unknown, graph: QiGraph): RosapiAnswer | undefined {
  const topics = [...graph.topics.values()];
  const services = [...graph.services.values()];
  switch (name) {
    case "/rosapi/topics":
      return { ok: true, values: { topics: topics.map((t) => t.name), types: topics.map((t) => t.type) } };
    case "/rosapi/topics_for_type": {
      const type = field(args, "type");
      return { ok: true, values: { topics: topics.filter((t) => t.type === type).map((t) => t.name) } };
    }
    case "/rosapi/services":
      return { ok: true, values: { services: [...services.map((s) => s.name), ...ROSAPI_SERVICES] } };
    case "/rosapi/services_for_type": {
      const type = field(args, "type");
      return { ok: true, values: { services: services.filter((s) => s.type === type).map((s) => s.name) } };
    }
    case "/rosapi/topic_type":
      return { ok: true, values: { type: graph.topics.get(slash(field(args, "topic")))?.type ?? "" } };
    case "/rosapi/service_type":
      return { ok: true, values: { type: graph.services.get(slash(field(args, "service")))?.type ?? "" } };
    case "/rosapi/nodes":
      return { ok: true, values: { nodes: ["/qi_gateway"] } };
    case "/rosapi/get_time": {
      const now = Date.now();
      return { ok: true, values: { time: { secs: Math.floor(now / 1000), nsecs: (now % 1000) * 1e6 } } };
    }
    case "/rosapi/message_details": {
      const typedefs = TYPEDEFS.get(field(args, "type"));
      return typedefs
        ? { ok: true, values: { typedefs } }
        : { ok: false, error: `unknown message type "${field(args, "type")}"` };
    }
    case "/rosapi/service_request_details":
    case "/rosapi/service_response_details": {
      if (field(args, "type") !== SERVICE_TYPE)
        return { ok: false, error: `unknown service type "${field(args, "type")}"` };
      // qi_srvs/Call: the request's fields are the method's parameter names (free-form here),
      // the response is {result}, the method's return value as JSON.
      const fields: Array<[string, string]> = name.endsWith("response_details") ? [["result", "string"]] : [];
      return { ok: true, values: { typedefs: [def(SERVICE_TYPE, fields)] } };
    }
    default:
      return undefined;
  }
}

export const ROSAPI_SERVICES = [
  "/rosapi/topics",
  "/rosapi/topics_for_type",
  "/rosapi/services",
  "/rosapi/services_for_type",
  "/rosapi/topic_type",
  "/rosapi/service_type",
  "/rosapi/nodes",
  "/rosapi/get_time",
  "/rosapi/message_details",
  "/rosapi/service_request_details",
  "/rosapi/service_response_details",
];
