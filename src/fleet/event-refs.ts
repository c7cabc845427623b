/**
 * The client end of shared events (see shared-events.ts): takes the robot's offers (subscribe
 * to the subject once per NATS connection, then tell the robot to send references), turns a
 * reference back into the event's header + payload, and leaves subjects no reference used for a
 * while (the client stopped watching). An offer names only this robot's subject for that key.
 */
import { HEADER_SIZE } from "../wire/index.js";
import { FrameError } from "./frames.js";
import type { SharedEventSubscriber } from "./shared-events.js";

/** A reference whose payload has not come after this long is dropped (the event is lost, the stream goes on). */
export const SHARED_EVENT_WAIT_MS = 2_000;
/** A joined subject with no reference for this long is left (the client no longer watches it). */
export const SHARED_EVENT_IDLE_MS = 10_000;
/** Keys one channel may join (a robot cannot make a client subscribe without bound). */
const MAX_JOINED_KEYS = 256;

export type RefOutcome = { payload: Uint8Array } | "wait" | "drop";

export class EventRefReader {
  private readonly keySubjects = new Map<string, string>();
  private readonly lastUsed = new Map<string, number>();
  private waitStarted = 0;

  constructor(
    private readonly shared: SharedEventSubscriber,
    /** The subject this robot publishes a key's events on. */
    private readonly subjectOf: (key: string) => string,
  ) {}

  /** An offer from the robot: the key to join, now subscribed (undefined: ignored). */
  offer(text: string): string | undefined {
    let offer: { key?: unknown; subject?: unknown };
    try {
      offer = JSON.parse(text) as typeof offer;
    } catch {
      throw new FrameError("bad offer");
    }
    const { key, subject } = offer;
    if (typeof key !== "string" || !/^\d{1,10}\.\d{1,10}\.\d{1,10}$/.test(key)) return undefined;
    if (subject !== this.subjectOf(key) || this.keySubjects.has(key)) return undefined;
    if (this.keySubjects.size >= MAX_JOINED_KEYS) return undefined;
    this.keySubjects.set(key, subject);
    this.lastUsed.set(subject, Date.now());
    this.shared.join(subject);
    return key;
  }

  /** The payload a reference stands for, or "wait" (call `retry` when it may have come), or "drop". */
  resolve(seq: number, header: Uint8Array, retry: () => void): RefOutcome {
    const v = new DataView(header.buffer, header.byteOffset, HEADER_SIZE);
    const subject = this.keySubjects.get(
      `${v.getUint32(16, true)}.${v.getUint32(20, true)}.${v.getUint32(24, true)}`,
    );
    if (!subject) return "drop";
    const payload = this.shared.take(subject, seq);
    if (!payload) {
      const now = Date.now();
      if (this.waitStarted === 0) this.waitStarted = now;
      if (now - this.waitStarted > SHARED_EVENT_WAIT_MS) {
        this.waitStarted = 0;
        return "drop";
      }
      this.shared.whenNext(subject, retry);
      setTimeout(retry, SHARED_EVENT_WAIT_MS + 10).unref();
      return "wait";
    }
    this.waitStarted = 0;
    if (v.getUint32(8, true) !== payload.byteLength)
      throw new FrameError("shared event payload does not match its reference");
    this.lastUsed.set(subject, Date.now());
    return { payload };
  }

  /** Leaves subjects idle for SHARED_EVENT_IDLE_MS; returns their keys (to tell the robot). */
  sweep(now: number): string[] {
    const left: string[] = [];
    for (const [subject, used] of this.lastUsed)
      if (now - used >= SHARED_EVENT_IDLE_MS) left.push(...this.leave(subject));
    return left;
  }

  leaveAll(): void {
    for (const subject of [...this.lastUsed.keys()]) this.leave(subject);
  }

  private leave(subject: string): string[] {
    this.lastUsed.delete(subject);
    this.shared.leave(subject);
    const keys: string[] = [];
    for (const [key, s] of this.keySubjects) {
      if (s !== subject) continue;
      this.keySubjects.delete(key);
      keys.push(key);
    }
    return keys;
  }
}
