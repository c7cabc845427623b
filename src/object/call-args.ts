/**
 * A request's arguments, decoded for the implementation: by the method's signature, or from
 * one dynamic with DynamicPayload, followed by an optional ReturnType string (spec §1.4).
 */
// Not connection/index.js: it also holds challenge-auth (node:crypto), which the browser
// bundle of object/ must not pull in.
import { QiError } from "../connection/errors.js";
import {
  convertValue,
  decodeFrom,
  type Dynamic,
  type Message,
  MessageFlags,
  parseSignature,
  Reader,
} from "../wire/index.js";
import type { PeerObjects } from "./peer.js";

export interface DecodedArgs {
  args: unknown[];
  /** Signature the caller wants the result in (ReturnType flag). */
  wantedReturn: string | undefined;
}

/** Decodes a request's arguments into a JS array for the implementation. */
export function decodeArgs(peer: PeerObjects, msg: Message, paramsSig: string): DecodedArgs {
  const ctx = peer.codecContext(msg.service, "host");
  const dynamic = (msg.flags & MessageFlags.DynamicPayload) !== 0;
  const reader = new Reader(msg.payload);
  // With DynamicPayload the whole argument tuple travels inside one dynamic (spec §1.4); a
  // ReturnType string may follow either form.
  const value = decodeFrom(reader, parseSignature(dynamic ? "m" : paramsSig), ctx);
  let wantedReturn: string | undefined;
  if (msg.flags & MessageFlags.ReturnType)
    wantedReturn = decodeFrom(reader, parseSignature("s"), ctx) as string;
  if (reader.remaining !== 0)
    throw new QiError("ERR_BAD_ARGUMENTS", `${reader.remaining} unexpected bytes after the arguments`);
  if (dynamic) return { args: tupleToArgs(value as Dynamic, paramsSig), wantedReturn };
  if (paramsSig === "m") return { args: tupleToArgs(value as Dynamic, undefined), wantedReturn };
  return { args: asArray(value), wantedReturn };
}

function tupleToArgs(d: Dynamic, paramsSig: string | undefined): unknown[] {
  if (paramsSig === undefined || paramsSig === "m") return asArray(d.value);
  return asArray(convertValue(d.value, d.signature, paramsSig));
}

function asArray(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v && typeof v === "object" && "fields" in v)
    return Object.values((v as { fields: Record<string, unknown> }).fields);
  return v === undefined ? [] : [v];
}
