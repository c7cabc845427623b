/**
 * rosbridge's `fragment` op both ways. Incoming: pieces of one JSON message, reassembled within
 * bounds (a few messages at once, each at most the message size limit, dropped when not
 * finished in time) so a client cannot park memory. Outgoing: a JSON text longer than a
 * subscription's `fragment_size` leaves in pieces.
 */
import { ProtocolError, type RosbridgeMessage } from "./frames.js";

export interface FragmentLimits {
  /** Largest reassembled message, in characters. */
  maxMessageChars: number;
  /** Messages being reassembled at once per client. */
  maxPending: number;
  /** How long a message may take to arrive whole. */
  timeoutMs: number;
}

interface Pending {
  parts: (string | undefined)[];
  received: number;
  chars: number;
  startedAt: number;
}

export class FragmentAssembler {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly limits: FragmentLimits) {}

  /** The whole message's text when this piece completes it, else undefined. */
  add(msg: RosbridgeMessage, now = Date.now()): string | undefined {
    this.expire(now);
    const { id, data, num, total } = msg as { id?: unknown; data?: unknown; num?: unknown; total?: unknown };
    if (typeof id !== "string" && typeof id !== "number")
      throw new ProtocolError('fragment: "id" is required');
    if (typeof data !== "string") throw new ProtocolError('fragment: "data" must be a string');
    if (!Number.isInteger(total) || (total as number) < 1 || (total as number) > this.limits.maxMessageChars)
      throw new ProtocolError('fragment: "total" must be a positive integer');
    if (!Number.isInteger(num) || (num as number) < 0 || (num as number) >= (total as number))
      throw new ProtocolError('fragment: "num" must be in [0, total)');
    const key = String(id);
    let entry = this.pending.get(key);
    if (!entry) {
      if (this.pending.size >= this.limits.maxPending)
        throw new ProtocolError(`fragment: more than ${this.limits.maxPending} messages in pieces at once`);
      entry = { parts: new Array(total as number), received: 0, chars: 0, startedAt: now };
      this.pending.set(key, entry);
    }
    if (entry.parts.length !== total) {
      this.pending.delete(key);
      throw new ProtocolError(`fragment ${key}: "total" changed`);
    }
    if (entry.parts[num as number] !== undefined) return undefined;
    entry.chars += data.length;
    if (entry.chars > this.limits.maxMessageChars) {
      this.pending.delete(key);
      throw new ProtocolError(`fragment ${key}: message over ${this.limits.maxMessageChars} characters`);
    }
    entry.parts[num as number] = data;
    entry.received++;
    if (entry.received < entry.parts.length) return undefined;
    this.pending.delete(key);
    return entry.parts.join("");
  }

  private expire(now: number): void {
    for (const [key, p] of this.pending)
      if (now - p.startedAt > this.limits.timeoutMs) this.pending.delete(key);
  }
}

let nextFragmentId = 0;

/** `text` in `fragment` messages of at most `size` characters of data each. */
export function splitIntoFragments(text: string, size: number, id?: string): RosbridgeMessage[] {
  const fid = id ?? `fragment-${nextFragmentId++}`;
  const total = Math.ceil(text.length / size);
  const out: RosbridgeMessage[] = [];
  for (let num = 0; num < total; num++)
    out.push({ op: "fragment", id: fid, data: text.slice(num * size, (num + 1) * size), num, total });
  return out;
}
