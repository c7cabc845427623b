/**
 * Calling and posting with JSON arguments: pick the overload the arguments convert to (by
 * count, then by conversion), and when none converts send them as a DynamicPayload (spec
 * §1.4, what qicli does, §8.3) so the service converts them or answers with an error.
 */
import { Capability } from "../connection/index.js";
import type { RemoteObject } from "../object/index.js";
import { decode, Dynamic, encode, MessageFlags, type MetaMethod, parseSignature } from "../wire/index.js";
import { failure } from "./errors.js";
import { argsFromJson, ConversionError, jsonToDynamic } from "./json-args.js";
import { methodsNamed, noSuchMember } from "./target.js";

export interface PreparedCall {
  method: MetaMethod;
  /** Converted arguments, or undefined when they go as one dynamic tuple. */
  args: unknown[] | undefined;
  /** The arguments as a tuple of dynamics (the fallback). */
  dynamic: Dynamic;
}

/** Chooses the method (`name` or `name::(sig)`) and converts the JSON arguments for it. */
export function prepareCall(
  obj: RemoteObject,
  service: string,
  member: string,
  json: unknown[],
): PreparedCall {
  const sep = member.indexOf("::");
  const name = sep >= 0 ? member.slice(0, sep) : member;
  let methods = methodsNamed(obj, name);
  if (methods.length === 0) throw noSuchMember(service, "method", name, obj);
  if (sep >= 0) {
    const sig = member.slice(sep + 2);
    methods = methods.filter((m) => m.parametersSignature === sig);
    if (methods.length === 0)
      throw failure(`${service} has no overload ${member}`, `\`qi info ${service}\` for its overloads`);
  }
  const byCount = methods.filter(
    (m) => arity(m.parametersSignature) === undefined || arity(m.parametersSignature) === json.length,
  );
  if (byCount.length === 0) {
    throw failure(
      `${service}.${name} takes ${methods.map((m) => `${arity(m.parametersSignature)} argument(s) ${m.parametersSignature}`).join(" or ")}, got ${json.length}`,
      `\`qi info ${service}\``,
    );
  }
  const dynamic = new Dynamic(`(${"m".repeat(json.length)})`, json.map(jsonToDynamic));
  const problems: string[] = [];
  for (const method of byCount) {
    try {
      return { method, args: argsFromJson(json, method.parametersSignature), dynamic };
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      problems.push(`${method.parametersSignature}: ${e.message}`);
    }
  }
  if (byCount.length === 1) return { method: byCount[0], args: undefined, dynamic };
  throw failure(
    `the arguments fit no overload of ${service}.${name} (${problems.join("; ")})`,
    `\`qi info ${service}\``,
  );
}

/** Calls and returns the decoded result. */
export async function invokePrepared(
  obj: RemoteObject,
  p: PreparedCall,
  timeoutMs?: number,
): Promise<unknown> {
  const exact = `${p.method.name}::${p.method.parametersSignature}`;
  if (p.args) return obj.invoke(exact, p.args, { timeoutMs });
  // Our own DynamicPayload: the whole argument tuple as one dynamic `(m…)`.
  const ctx = obj.peer.codecContext(obj.serviceId, "client");
  checkDynamicPayload(obj, p);
  const reply = await obj.peer.conn.call(
    { service: obj.serviceId, object: obj.objectId, action: p.method.uid },
    encode("m", p.dynamic, ctx),
    { flags: MessageFlags.DynamicPayload, timeoutMs },
  );
  if (reply.flags & MessageFlags.DynamicPayload) return (decode("m", reply.payload, ctx) as Dynamic).value;
  if (p.method.returnSignature === "v" && reply.payload.byteLength === 0) return undefined;
  return decode(p.method.returnSignature, reply.payload, ctx);
}

/** Posts (fire and forget). */
export function postPrepared(obj: RemoteObject, p: PreparedCall): void {
  if (p.args) {
    obj.post(`${p.method.name}::${p.method.parametersSignature}`, ...p.args);
    return;
  }
  checkDynamicPayload(obj, p);
  obj.peer.conn.post(
    { service: obj.serviceId, object: obj.objectId, action: p.method.uid },
    encode("m", p.dynamic, obj.peer.codecContext(obj.serviceId, "client")),
    MessageFlags.DynamicPayload,
  );
}

function checkDynamicPayload(obj: RemoteObject, p: PreparedCall): void {
  if (obj.peer.conn.remoteCapabilities.get(Capability.MessageFlags) !== true) {
    throw failure(
      `the arguments do not convert to ${p.method.name}${p.method.parametersSignature} and the peer does not accept dynamic arguments`,
      "arguments of the types the signature asks for",
    );
  }
}

/** Number of parameters of a tuple signature; undefined for `m` (takes anything). */
export function arity(paramsSig: string): number | undefined {
  const node = parseSignature(paramsSig);
  if (node.kind === "tuple") return node.members.length;
  return node.kind === "scalar" && node.code === "m" ? undefined : 1;
}
