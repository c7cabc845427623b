/**
 * Calling and posting with JSON arguments: pick the overload the arguments convert to (by
 * count, then by conversion), and when none converts send them as a DynamicPayload (spec
 * §1.4, what qicli does, §8.3) so the service converts them or answers with an error.
 */
import { Capability } from "../connection/index.js";
import type { RemoteObject } from "../object/index.js";
import { decode, Dynamic, encode, MessageFlags, type MetaMethod, parseSignature } from "../wire/index.js";
import { failure } from "./errors.js";
import {
  argsFromJson,
  asTypedWhereStrings,
  type CliArg,
  ConversionError,
  jsonToDynamic,
} from "./json-args.js";
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
  typed: CliArg[] | unknown[],
): PreparedCall {
  const cli = typed.every(isCliArg) ? (typed as CliArg[]) : undefined;
  const json = cli ? cli.map((a) => a.value) : typed;
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
    const attempts = [json];
    if (cli) attempts.push(asTypedWhereStrings(cli, parameterCodes(method.parametersSignature)));
    let problem = "";
    for (const values of attempts) {
      try {
        return { method, args: argsFromJson(values, method.parametersSignature), dynamic };
      } catch (e) {
        if (!(e instanceof ConversionError)) throw e;
        problem ||= e.message;
      }
    }
    problems.push(`${method.parametersSignature}: ${nameParameter(problem, method)}`);
  }
  const only = byCount[0];
  // A dynamic method converts for itself; a typed one would only answer with a vaguer error.
  if (
    byCount.length === 1 &&
    (obj.peer.conn.remoteCapabilities.get(Capability.MessageFlags) !== true || takesDynamic(only))
  )
    return { method: only, args: undefined, dynamic };
  if (byCount.length === 1)
    throw failure(
      `${service}.${name}${only.parametersSignature}: ${problems[0].slice(only.parametersSignature.length + 2)}`,
      `\`qi info ${service}\` for its parameters; strings may be given plain (hello) or as JSON ('"hello"')`,
    );
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

function isCliArg(v: unknown): v is CliArg {
  return typeof v === "object" && v !== null && "text" in v && "value" in v;
}

/** The type code of each parameter when it is a scalar (`s`, `i`…), else undefined. */
function parameterCodes(paramsSig: string): (string | undefined)[] {
  const node = parseSignature(paramsSig);
  const members = node.kind === "tuple" ? node.members : [node];
  return members.map((m) => (m.kind === "scalar" ? m.code : undefined));
}

function takesDynamic(m: MetaMethod): boolean {
  return parameterCodes(m.parametersSignature).some((c) => c === "m");
}

/** "argument 2: expected …" → "argument 2 (b): expected …" with the parameter's documented name. */
function nameParameter(message: string, m: MetaMethod): string {
  return message.replace(/^argument (\d+)/, (whole, n: string) => {
    const param = m.parameters?.[Number(n) - 1]?.name;
    return param ? `${whole} (${param})` : whole;
  });
}
