/** Helpers shared by the header/framer tests (not a test file itself). */
import { WireError } from "../../src/wire/errors.js";
import { decodeHeader, encodeMessage } from "../../src/wire/header.js";
import { HEADER_SIZE, type Message } from "../../src/wire/message-types.js";

/** "42 de ad 42 | 01 …" → bytes. Ignores whitespace and `|`; `"text"` segments are ASCII. */
export function hex(s: string): Uint8Array {
  const out: number[] = [];
  const re = /"([^"]*)"|([0-9a-fA-F]{2})|([\s|]+)/gy;
  let m: RegExpExecArray | null = re.exec(s);
  let last = 0;
  while (m !== null) {
    if (m[1] !== undefined) for (const ch of m[1]) out.push(ch.charCodeAt(0));
    else if (m[2] !== undefined) out.push(Number.parseInt(m[2], 16));
    last = re.lastIndex;
    m = re.exec(s);
  }
  if (last !== s.length) throw new Error(`bad hex at ${last}: ${s.slice(last, last + 10)}`);
  return Uint8Array.from(out);
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Plain comparable form of a message (payload as hex). */
export function plain(m: Message): Record<string, unknown> {
  return {
    id: m.id,
    size: m.payload.length,
    type: m.type,
    flags: m.flags,
    service: m.service,
    object: m.object,
    action: m.action,
    payload: toHex(m.payload),
  };
}

export function encodeAll(msgs: readonly Message[]): Uint8Array {
  return concat(msgs.map(encodeMessage));
}

export interface RefResult {
  messages: Record<string, unknown>[];
  error: { code: string; offset: number | undefined } | undefined;
  /** bytes of an incomplete trailing message */
  rest: number;
}

/** Straightforward reference framing of a whole stream (no chunking), used for differential tests. */
export function referenceFrame(stream: Uint8Array, maxPayload: number): RefResult {
  const messages: Record<string, unknown>[] = [];
  let pos = 0;
  while (stream.length - pos >= HEADER_SIZE) {
    let h: ReturnType<typeof decodeHeader>;
    try {
      h = decodeHeader(stream, pos, { maxPayload });
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      return { messages, error: { code: e.code, offset: e.offset }, rest: 0 };
    }
    if (pos + HEADER_SIZE + h.size > stream.length) break;
    messages.push(plain({ ...h, payload: stream.subarray(pos + HEADER_SIZE, pos + HEADER_SIZE + h.size) }));
    pos += HEADER_SIZE + h.size;
  }
  return { messages, error: undefined, rest: stream.length - pos };
}
