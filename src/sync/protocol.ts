/**
 * What crosses the thread boundary between a SyncSession (main thread) and its worker. Requests
 * and replies are structured-cloned by synckit; qi values inside them travel as wire bytes (one
 * dynamic, `m`), so Raw, Struct, Dynamic, Optional, ByteString and bigint come back as the same
 * classes the async API gives. Errors travel as {name, code, message, remote} and are rebuilt
 * as their class (QiError, TransportError, WireError) on the main thread.
 */
import { QiError, type QiErrorCode } from "../connection/index.js";
import { TransportError, type TransportErrorCode } from "../transport/index.js";
import { decode, encode } from "../wire/index.js";
import { WireError, type WireErrorCode } from "../wire/index.js";
import { inferSignature } from "../wire/index.js";
import { Dynamic } from "../wire/index.js";

export interface ConnectRequest {
  op: "connect";
  url: string;
  user?: string;
  token?: string;
  timeoutMs: number;
  insecure?: boolean;
}

export type SyncRequest =
  | ConnectRequest
  | { op: "services" }
  | { op: "service"; name: string }
  /** `args`: the argument list as one dynamic whose signature is their tuple. */
  | { op: "call"; handle: number; name: string; args: Uint8Array }
  | { op: "getProperty"; handle: number; name: string }
  /** `value`: one dynamic. */
  | { op: "setProperty"; handle: number; name: string; value: Uint8Array }
  | { op: "release"; handle: number }
  | { op: "close" };

export interface SerializedError {
  name: string;
  code: string | undefined;
  message: string;
  remote: boolean;
}

/** A proxy living in the worker: its handle there, and its MetaObject as wire bytes. */
export interface ObjectHandle {
  handle: number;
  metaObject: Uint8Array;
}

export type SyncReply =
  | { ok: true; value?: Uint8Array; object?: ObjectHandle }
  | { ok: false; error: SerializedError };

/** Codes a QiError may carry; anything else is rethrown as a plain Error with that `code`. */
const QI_CODES: ReadonlySet<string> = new Set<string>(QiError.codes);

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    const code = (e as Error & { code?: unknown }).code;
    return {
      name: e.name,
      code: typeof code === "string" ? code : undefined,
      message: e.message,
      remote: e instanceof QiError ? e.remote : false,
    };
  }
  return { name: "Error", code: undefined, message: String(e), remote: false };
}

/** Back to the class the async API throws: QiError, TransportError, WireError, else an Error. */
export function reviveError(s: SerializedError): Error {
  if (s.name === "QiError" && s.code !== undefined && QI_CODES.has(s.code))
    return new QiError(s.code as QiErrorCode, s.message, { remote: s.remote });
  if (
    s.name === "TransportError" &&
    s.code !== undefined &&
    TransportError.codes.includes(s.code as TransportErrorCode)
  )
    return new TransportError(s.code as TransportErrorCode, s.message);
  if (s.name === "WireError" && s.code !== undefined && WireError.codes.includes(s.code as WireErrorCode))
    return new WireError(s.code as WireErrorCode, s.message);
  const e = new Error(s.message) as Error & { code?: string };
  e.name = s.name;
  if (s.code !== undefined) e.code = s.code;
  return e;
}

/** The arguments as one dynamic of their tuple, like the async API's dynamic-payload calls. */
export function packArgs(args: unknown[]): Uint8Array {
  const sig = `(${args.map((a) => (a instanceof Dynamic ? "m" : inferSignature(a))).join("")})`;
  return encode("m", new Dynamic(sig, args));
}

export function unpackArgs(bytes: Uint8Array): unknown[] {
  const d = decode("m", bytes) as Dynamic;
  return Array.isArray(d.value) ? d.value : [d.value];
}

/**
 * A value as one dynamic. With `signature` (the method's return type, the property's type) the
 * value is written as the async API decoded it and read back identically; otherwise, or if it
 * does not fit, the signature is inferred.
 */
export function packValue(value: unknown, signature?: string): Uint8Array {
  if (signature !== undefined) {
    try {
      return encode("m", new Dynamic(signature, value));
    } catch {
      // fall through to inference
    }
  }
  return encode("m", new Dynamic(value instanceof Dynamic ? "m" : inferSignature(value), value));
}

export function unpackValue(bytes: Uint8Array): unknown {
  return (decode("m", bytes) as Dynamic).value;
}
