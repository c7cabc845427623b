/**
 * rosbridge v2 messages on a WebSocket: JSON text frames, or CBOR binary frames (a client that
 * asked for `compression: "cbor"` gets its messages as CBOR, and may send CBOR itself). Every
 * message is an object with a string `op`; anything else is refused with a clear error.
 */
import { decode as decodeCbor } from "cbor2";

export interface RosbridgeMessage {
  op: string;
  id?: string;
  [field: string]: unknown;
}

export class ProtocolError extends Error {
  override name = "RosbridgeProtocolError";
}

/** A frame as `ws` hands it over → one message, or a ProtocolError. */
export function parseFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): RosbridgeMessage {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  let value: unknown;
  try {
    value = isBinary ? decodeCbor(bytes) : JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw new ProtocolError(`cannot parse a ${isBinary ? "CBOR" : "JSON"} message: ${(e as Error).message}`);
  }
  return checkMessage(value);
}

export function checkMessage(value: unknown): RosbridgeMessage {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ProtocolError("a rosbridge message is an object");
  const op = (value as { op?: unknown }).op;
  if (typeof op !== "string") throw new ProtocolError('a rosbridge message needs a string "op"');
  const id = (value as { id?: unknown }).id;
  if (id !== undefined && typeof id !== "string" && typeof id !== "number")
    throw new ProtocolError('"id" must be a string');
  return value as RosbridgeMessage;
}

/** A required string field, or a ProtocolError naming it. */
export function stringField(msg: RosbridgeMessage, field: string): string {
  const v = msg[field];
  if (typeof v !== "string" || v.length === 0)
    throw new ProtocolError(`${msg.op}: "${field}" must be a non-empty string`);
  return v;
}

/** An optional non-negative integer field (0 when absent). */
export function countField(msg: RosbridgeMessage, field: string, max: number): number {
  const v = msg[field];
  if (v === undefined || v === null) return 0;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
    throw new ProtocolError(`${msg.op}: "${field}" must be a number ≥ 0`);
  return Math.min(Math.floor(v), max);
}

export function encodeJson(msg: object): string {
  return JSON.stringify(msg, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
}
