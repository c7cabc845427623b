/**
 * The reserved members every object serves (spec §5): 0–8 (registerEvent, unregisterEvent,
 * metaObject, terminate, property, setProperty, properties, registerEventWithSignature) and
 * the Manageable ones 80–85 (stats and trace switches). Events of a subscription are encoded
 * once per emission and shared by the subscribers that encode alike.
 */
// Not connection/index.js: it also holds challenge-auth (node:crypto), which the browser
// bundle of object/ must not pull in.
import { Capability } from "../connection/capabilities.js";
import { addressKey, errorText } from "../connection/connection.js";
import {
  convertValue,
  decode,
  Dynamic,
  encode,
  encodePayload,
  inferSignature,
  type Message,
  MessageFlags,
  MessageType,
  META_OBJECT_SIGNATURE,
  type Payload,
} from "../wire/index.js";
import { decodeArgs } from "./call-args.js";
import type { PeerObjects } from "./peer.js";
import type { QiObject } from "./qi-object.js";
import { NETWORK_MEMBER_PARAMS, Reserved, STATS_SIGNATURE } from "./reserved.js";

const INVALID_LINK = 0xffffffffffffffffn;
const EMPTY = new Uint8Array(0);
let nextServerLink = 1n;

export function serveNetworkMember(peer: PeerObjects, target: QiObject, msg: Message): void {
  const conn = peer.conn;
  const reply = (sig: string, value: unknown) => {
    if (msg.type === MessageType.Call)
      conn.reply(msg, sig === "v" ? EMPTY : encode(sig, value, peer.codecContext(msg.service, "host")));
  };
  const fail = (text: string) => {
    if (msg.type === MessageType.Call) conn.replyError(msg, text);
  };
  try {
    const { args } = decodeArgs(peer, msg, NETWORK_MEMBER_PARAMS[msg.action]!);
    switch (msg.action) {
      case Reserved.registerEvent:
      case Reserved.registerEventWithSignature: {
        const signalUid = args[1] as number;
        const link = args[2] as bigint;
        const meta = target.signalMeta(signalUid);
        if (!meta) {
          fail(`Cannot find signal #${signalUid} on object {${msg.service}.${msg.object}}`);
          return;
        }
        const wanted = msg.action === Reserved.registerEventWithSignature ? (args[3] as string) : undefined;
        subscribe(peer, target, msg.service, msg.object, signalUid, meta.signature, link, wanted);
        // libqi's server link is (signal id << 32) | subscriber counter (the capture answers
        // 0x6b_00000013 for signal 107); clients ignore it, but keep the same shape.
        reply("L", (BigInt(signalUid) << 32n) | (nextServerLink++ & 0xffffffffn));
        return;
      }
      case Reserved.unregisterEvent: {
        const link = args[2] as bigint;
        if (link === INVALID_LINK) {
          reply("v", undefined);
          return;
        }
        const key = `${addressKey(msg.service, msg.object)}.${link}`;
        const sub = peer.subscriptions.get(key);
        if (!sub) {
          fail(`Unregister request failed for ${msg.service}.${msg.object} link ${link}`);
          return;
        }
        sub.unsubscribe();
        peer.subscriptions.delete(key);
        reply("v", undefined);
        return;
      }
      case Reserved.metaObject:
        reply(META_OBJECT_SIGNATURE, target.metaObject());
        return;
      case Reserved.terminate:
        if (msg.object !== 1) peer.unexport(msg.service, msg.object);
        reply("v", undefined);
        return;
      case Reserved.property: {
        const uid = target.propertyUid(args[0]);
        reply("m", new Dynamic(target.propertyMeta(uid)!.signature, target.propertyValueById(uid)));
        return;
      }
      case Reserved.setProperty: {
        const uid = target.propertyUid(args[0]);
        const sig = target.propertyMeta(uid)!.signature;
        const v = args[1];
        const value = v instanceof Dynamic ? (sig === "m" ? v : convertValue(v.value, v.signature, sig)) : v;
        target.setPropertyById(uid, value);
        reply("v", undefined);
        return;
      }
      case Reserved.properties:
        reply("[s]", target.propertyNames());
        return;
    }
  } catch (e) {
    fail(errorText(e));
  }
}

/** A peer's registerEvent: every emission goes to it as an Event (spec §5.6). */
function subscribe(
  peer: PeerObjects,
  target: QiObject,
  service: number,
  object: number,
  signalUid: number,
  signature: string,
  link: bigint,
  wanted: string | undefined,
): void {
  const key = `${addressKey(service, object)}.${link}`;
  peer.subscriptions.get(key)?.unsubscribe();
  const address = { service, object, action: signalUid };
  const unsubscribe = target.connect(signalUid, (args) => {
    if (peer.conn.isClosed) return;
    try {
      if (wanted !== undefined) {
        const converted = convertValue(args, signature, wanted);
        peer.conn.sendEvent(
          address,
          encode("m", new Dynamic(wanted, converted), peer.codecContext(service, "host")),
          MessageFlags.DynamicPayload,
        );
      } else {
        peer.conn.sendEvent(address, encodeEvent(peer, service, signature, args));
      }
    } catch {
      // Arguments that do not fit the signature go as a dynamic when the peer takes those
      // (libqi retries that way, spec §1.4); otherwise the emission is dropped for this
      // subscriber only.
      if (!peer.conn.shared(Capability.MessageFlags)) return;
      try {
        peer.conn.sendEvent(
          address,
          encode("m", new Dynamic(inferSignature(args), args), peer.codecContext(service, "host")),
          MessageFlags.DynamicPayload,
        );
      } catch {
        // not even as a dynamic: dropped
      }
    }
  });
  peer.subscriptions.set(key, { unsubscribe });
}

/**
 * Event payloads are encoded once per emission and shared by every subscriber whose
 * connection encodes objects the same way (fan-out to many clients costs one encode).
 */
const eventPayloads = new WeakMap<unknown[], Map<string, Payload>>();

/** A large raw argument (a camera frame) is sent by reference to every subscriber, not copied. */
function encodeEvent(peer: PeerObjects, service: number, signature: string, args: unknown[]): Payload {
  if (signature.includes("o")) return encodePayload(signature, args, peer.codecContext(service, "host"));
  const uidFlag = peer.conn.shared(Capability.ObjectPtrUID) ? "1" : "0";
  const cacheKey = `${signature}|${uidFlag}`;
  let perArgs = eventPayloads.get(args);
  const cached = perArgs?.get(cacheKey);
  if (cached) return cached;
  const payload = encodePayload(signature, args, peer.codecContext(service, "host"));
  if (!perArgs) {
    perArgs = new Map();
    eventPayloads.set(args, perArgs);
  }
  perArgs.set(cacheKey, payload);
  return payload;
}

export function serveManageable(peer: PeerObjects, target: QiObject, msg: Message): void {
  const conn = peer.conn;
  const reply = (sig: string, value: unknown) => {
    if (msg.type === MessageType.Call) conn.reply(msg, sig === "v" ? EMPTY : encode(sig, value));
  };
  try {
    switch (msg.action) {
      case Reserved.isStatsEnabled:
        reply("b", target.isStatsEnabled);
        return;
      case Reserved.enableStats:
        target.enableStats((decode("(b)", msg.payload) as boolean[])[0]);
        reply("v", undefined);
        return;
      case Reserved.stats:
        reply(STATS_SIGNATURE, target.stats());
        return;
      case Reserved.clearStats:
        target.clearStats();
        reply("v", undefined);
        return;
      case Reserved.isTraceEnabled:
        reply("b", target.isTraceEnabled);
        return;
      case Reserved.enableTrace:
        target.enableTrace((decode("(b)", msg.payload) as boolean[])[0]);
        reply("v", undefined);
        return;
    }
  } catch (e) {
    if (msg.type === MessageType.Call) conn.replyError(msg, errorText(e));
  }
}
