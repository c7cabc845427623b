/**
 * May this client use this member of this object? Methods need the `call` right; reading a
 * property is observing it (the `subscribe` right); setting a property, or emitting a signal
 * by calling it, is writing (issue 10: a forged battery charge); stats and trace (members
 * 80–86) are for administrators. MetaObject and property lists are free.
 */
import { Reserved } from "../../object/index.js";
import { decode, Dynamic, type Message, MessageFlags, type MetaObject } from "../../wire/index.js";
import type { ClientLink } from "../client-link.js";
import type { Permissions } from "../permissions.js";

/** What a request goes to: a service's object on an upstream connection. */
export interface MemberOwner {
  meta: MetaObject;
  serviceName: string;
}

/** Members 80–86 of every object: stats and trace (spec §3.2). */
export function isManageable(uid: number): boolean {
  return uid >= Reserved.isStatsEnabled && uid <= Reserved.traceObject;
}

/** A client-supplied string as it may appear in an answer: at most `max` characters. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** Permission check for a member; returns the refusal text, or undefined when allowed. */
export function refuseMember(
  permissions: Permissions,
  maxNameLength: number,
  link: ClientLink,
  target: MemberOwner,
  msg: Message,
): string | undefined {
  const action = msg.action;
  if (action === Reserved.metaObject || action === Reserved.properties) return undefined;
  const { meta, serviceName } = target;
  const identity = link.identity;
  // Stats and trace (members 80–86) show every client's calls to the object, arguments and
  // results included: an operator's tool, not something a `call: "*"` rule meant to give.
  if (isManageable(action)) {
    if (permissions.isAdmin(identity)) return undefined;
    return `Permission denied: the stats and trace of ${serviceName} are for administrators.`;
  }
  // Reading a property is observing it: the same right as subscribing to its changes.
  if (action === Reserved.property) {
    const name = propertyNameOf(meta, msg, "(m)");
    if (name !== undefined && permissions.allows(identity, "subscribe", `${serviceName}.${name}`))
      return undefined;
    return `Permission denied: cannot read ${serviceName}.${clip(name ?? "?", maxNameLength)}.`;
  }
  if (action === Reserved.setProperty) {
    const name = propertyNameOf(meta, msg, "(mm)");
    if (name === undefined || !permissions.allows(identity, "write", `${serviceName}.${name}`)) {
      return `Permission denied: cannot set ${serviceName}.${clip(name ?? "?", maxNameLength)}.`;
    }
    return undefined;
  }
  const method = meta.methods.get(action)?.name;
  if (method !== undefined) {
    if (permissions.allows(identity, "call", `${serviceName}.${method}`)) return undefined;
    return `Permission denied: cannot call ${serviceName}.${method}.`;
  }
  // A Call or Post to a signal emits it and one to a property sets it: subscribers would see
  // what this client sent as the service's own. That is writing, and needs the write right.
  const member = meta.signals.get(action)?.name ?? meta.properties.get(action)?.name;
  if (member === undefined) return undefined; // unknown member: the service answers for itself
  if (permissions.allows(identity, "write", `${serviceName}.${member}`)) return undefined;
  return `Permission denied: cannot emit or set ${serviceName}.${member}.`;
}

function decodeReservedArgs(msg: Message, sig: string): unknown[] {
  if (msg.flags & MessageFlags.DynamicPayload) {
    const d = decode("m", msg.payload) as Dynamic;
    return Array.isArray(d.value) ? d.value : [];
  }
  return decode(sig, msg.payload) as unknown[];
}

/** The property a property/setProperty request names (by name or uid), from its arguments `sig`. */
function propertyNameOf(meta: MetaObject, msg: Message, sig: "(m)" | "(mm)"): string | undefined {
  try {
    const args = decodeReservedArgs(msg, sig);
    const key = args[0] instanceof Dynamic ? args[0].value : args[0];
    if (typeof key === "string") return key;
    const uid = Number(key);
    return meta.properties.get(uid)?.name;
  } catch {
    return undefined;
  }
}
