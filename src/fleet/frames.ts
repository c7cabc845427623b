/**
 * The frames a fleet channel sends over NATS (one NATS message each, first byte the kind).
 * A qi channel is a byte stream (28-byte headers + payloads) cut into DATA chunks that fit the
 * server's max_payload; the other kinds carry flow control, liveness and the shared-event
 * protocol (shared-events.ts). Everything here is decoded from possibly hostile peers: a frame
 * that does not parse is an error the channel closes on, never a crash.
 */
import { HEADER_SIZE } from "../wire/index.js";

export const FrameKind = {
  /** A slice of the qi byte stream: its offset in the stream (float64), then the bytes. */
  Data: 0,
  /** Stream bytes consumed so far (float64): the sender may have `window` more in flight. */
  Ack: 1,
  /** The sender closes the channel; the rest is the reason in UTF-8. */
  Close: 2,
  /** Nothing to say for a while, still here. */
  Keepalive: 3,
  /** robot → client: an Event whose payload was published once on a shared subject (offset, seq, 28-byte header). */
  EventRef: 4,
  /** robot → client: events of this key can come by reference from that subject (UTF-8 JSON). */
  Offer: 5,
  /** client → robot: subscribed to the subject of this key, send references from now on (UTF-8 key). */
  Join: 6,
  /** client → robot: no longer subscribed to that key's subject (UTF-8 key). */
  Leave: 7,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class FrameError extends Error {}

export function frame(kind: FrameKind, body?: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + (body?.byteLength ?? 0));
  out[0] = kind;
  if (body) out.set(body, 1);
  return out;
}

export function numberFrame(kind: FrameKind, n: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = kind;
  new DataView(out.buffer).setFloat64(1, n);
  return out;
}

export function textFrame(kind: FrameKind, text: string): Uint8Array {
  return frame(kind, utf8.encode(text));
}

/** Stream units an event reference stands for in the offsets and the flow-control window. */
export const EVENT_REF_UNITS = 1 + 8 + 8 + HEADER_SIZE;

export function dataFrame(offset: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + bytes.byteLength);
  out[0] = FrameKind.Data;
  new DataView(out.buffer).setFloat64(1, offset);
  out.set(bytes, 9);
  return out;
}

export function eventRefFrame(offset: number, seq: number, header: Uint8Array): Uint8Array {
  const out = new Uint8Array(EVENT_REF_UNITS);
  out[0] = FrameKind.EventRef;
  const view = new DataView(out.buffer);
  view.setFloat64(1, offset);
  view.setFloat64(9, seq);
  out.set(header.subarray(0, HEADER_SIZE), 17);
  return out;
}

/** The stream offset every Data and EventRef frame starts with (a gap means NATS lost a frame). */
export function readOffset(f: Uint8Array): number {
  if (f.byteLength < 9) throw new FrameError(`stream frame of ${f.byteLength} bytes`);
  const n = new DataView(f.buffer, f.byteOffset, 9).getFloat64(1);
  if (!Number.isSafeInteger(n) || n < 0) throw new FrameError(`bad stream offset ${n}`);
  return n;
}

export function readNumber(f: Uint8Array): number {
  if (f.byteLength !== 9) throw new FrameError(`frame of kind ${f[0]} must be 9 bytes, got ${f.byteLength}`);
  const n = new DataView(f.buffer, f.byteOffset, 9).getFloat64(1);
  if (!Number.isSafeInteger(n) || n < 0) throw new FrameError(`bad counter ${n}`);
  return n;
}

export function readText(f: Uint8Array, maxBytes: number): string {
  if (f.byteLength - 1 > maxBytes) throw new FrameError(`text frame over ${maxBytes} bytes`);
  return fromUtf8.decode(f.subarray(1));
}

export function readEventRef(f: Uint8Array): { seq: number; header: Uint8Array } {
  if (f.byteLength !== EVENT_REF_UNITS) throw new FrameError(`event reference of ${f.byteLength} bytes`);
  const seq = new DataView(f.buffer, f.byteOffset, 17).getFloat64(9);
  if (!Number.isSafeInteger(seq) || seq < 0) throw new FrameError(`bad event sequence ${seq}`);
  return { seq, header: f.subarray(17) };
}

/** A shared event on its subject: seq (float64) then the payload. */
export function sharedEvent(seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.byteLength);
  new DataView(out.buffer).setFloat64(0, seq);
  out.set(payload, 8);
  return out;
}

export function readSharedEvent(data: Uint8Array): { seq: number; payload: Uint8Array } | undefined {
  if (data.byteLength < 8) return undefined;
  const seq = new DataView(data.buffer, data.byteOffset, 8).getFloat64(0);
  if (!Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { seq, payload: data.subarray(8) };
}
