/**
 * A qi channel over NATS: one per remote client, between the client's inbox and the robot's.
 * The qi byte stream (28-byte headers + payloads) is cut into Data frames that fit the server's
 * max_payload, each stamped with its stream offset (a gap — NATS dropped a frame while failing
 * over — closes the channel with a clear error instead of corrupting the stream). At most
 * `window` bytes are in flight: the receiver acknowledges what it consumed, and stops
 * acknowledging while paused, so a slow peer holds the sender's buffer, which ChannelBase's
 * backpressure (send() false, onDrain) and the gateway's per-client limits bound. Keepalives
 * tell a peer that went away (process killed, network cut) within 3 intervals.
 */
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { ChannelBase, TransportError } from "../transport/index.js";
import {
  DEFAULT_MAX_PAYLOAD,
  encodeHeader,
  Framer,
  HEADER_SIZE,
  type Message,
  MessageType,
} from "../wire/index.js";
import {
  dataFrame,
  EVENT_REF_UNITS,
  eventRefFrame,
  FrameError,
  FrameKind,
  numberFrame,
  readEventRef,
  readNumber,
  readOffset,
  readText,
  textFrame,
} from "./frames.js";
import { EventRefReader } from "./event-refs.js";
import type { SharedEventPublisher, SharedEventSubscriber } from "./shared-events.js";
import { eventSubject } from "./subjects.js";

export const DEFAULT_FLEET_WINDOW = 4 * 1024 * 1024;
export const DEFAULT_FLEET_HWM = 8 * 1024 * 1024;
export const DEFAULT_FLEET_KEEPALIVE_MS = 5_000;
const MAX_KEY_BYTES = 64;

export interface NatsChannelOptions {
  nc: NatsConnection;
  /** Where this end receives (subscribed by the channel). */
  inbox: string;
  /** Where the other end receives. */
  peer: string;
  localUrl: string;
  remoteUrl: string;
  /** Who the peer is, for logs and per-address login limits (default "nats"). */
  remoteAddress?: string;
  /** Bytes in flight without acknowledgement (default 4 MiB). */
  window?: number;
  /** Buffered bytes above which send() returns false (default 8 MiB). */
  highWaterMark?: number;
  maxPayload?: number;
  keepaliveMs?: number;
  /** Robot side: publishes events once for all channels (prefix and robot name make the subjects). */
  publisher?: { events: SharedEventPublisher; prefix: string; robot: string };
  /** Client side: the NATS connection's shared subscriptions, and the subject of a key of this robot. */
  subscriber?: { events: SharedEventSubscriber; subjectOf: (key: string) => string };
}

type Outgoing = Uint8Array | { ref: number; header: Uint8Array };

export class NatsChannel extends ChannelBase {
  private readonly nc: NatsConnection;
  private peer: string;
  private readonly sub: Subscription;
  private readonly framer: Framer;
  private readonly window: number;
  private readonly chunk: number;
  private readonly keepaliveMs: number;
  private readonly timer: NodeJS.Timeout;
  private readonly opts: NatsChannelOptions;
  // sending
  private queue: Outgoing[] = [];
  private queued = 0;
  private sent = 0;
  private acked = 0;
  private overMark = false;
  private closing: Error | undefined = undefined;
  private lastSent = Date.now();
  // receiving
  private rx: Uint8Array[] = [];
  private rxBytes = 0;
  private expected = 0;
  /** Stream offset just past the last frame received (queued or consumed). */
  private rxEnd = 0;
  private consumed = 0;
  private lastAck = 0;
  private ackTimer: NodeJS.Timeout | undefined = undefined;
  private paused = false;
  private waiting = false;
  private lastHeard = Date.now();
  // shared events: keys offered / joined (robot side), subjects joined and last used (client side)
  private readonly offered = new Set<string>();
  private readonly joined = new Set<string>();
  private readonly refs: EventRefReader | undefined;

  constructor(o: NatsChannelOptions) {
    super(
      {
        remoteAddress: o.remoteAddress ?? "nats",
        localUrl: o.localUrl,
        remoteUrl: o.remoteUrl,
        isSecure: false,
      },
      { highWaterMark: o.highWaterMark ?? DEFAULT_FLEET_HWM, closeTimeout: 5_000 },
    );
    this.opts = o;
    this.nc = o.nc;
    this.peer = o.peer;
    this.window = o.window ?? DEFAULT_FLEET_WINDOW;
    // Leave room for NATS's own framing of the message under max_payload.
    this.chunk = Math.max(1024, Math.min(this.window, (o.nc.info?.max_payload ?? 1024 * 1024) - 64));
    this.keepaliveMs = o.keepaliveMs ?? DEFAULT_FLEET_KEEPALIVE_MS;
    this.framer = new Framer((m) => this.incoming(m), { maxPayload: o.maxPayload ?? DEFAULT_MAX_PAYLOAD });
    this.sub = this.nc.subscribe(o.inbox, {
      callback: (err, m) => (err ? this.destroy(err) : this.received(m)),
    });
    this.refs = o.subscriber ? new EventRefReader(o.subscriber.events, o.subscriber.subjectOf) : undefined;
    this.timer = setInterval(() => this.tick(), Math.max(50, this.keepaliveMs / 2));
    this.timer.unref();
    this.nc.closed().then(() => this.end(new TransportError("ERR_CLOSED", "the NATS connection closed")));
  }

  /** Client side: where the robot's end receives, once its answer to the open request came. */
  connectTo(peer: string): void {
    this.peer = peer;
  }

  get bufferedBytes(): number {
    return this.queued + (this.sent - this.acked);
  }

  send(msg: Message): boolean {
    if (this.isClosed || this.closing) {
      throw new TransportError("ERR_CLOSED", `send on closed channel ${this.remoteUrl}`, {
        cause: this.reason,
      });
    }
    const payload = msg.payload;
    const header = new Uint8Array(HEADER_SIZE);
    encodeHeader(msg, payload.byteLength, header, 0);
    const pub = this.opts.publisher;
    if (pub && msg.type === MessageType.Event) {
      const key = `${msg.service}.${msg.object}.${msg.action}`;
      const subject = eventSubject(pub.prefix, pub.robot, key);
      if (this.joined.has(key)) {
        this.push({ ref: pub.events.publish(subject, payload), header }, EVENT_REF_UNITS);
        return this.afterSend();
      }
      this.offer(key);
    }
    this.push(header, HEADER_SIZE);
    if (payload.byteLength > 0) this.push(payload, payload.byteLength);
    return this.afterSend();
  }

  close(reason?: Error): void {
    if (this.isClosed || this.closing) return;
    this.closing = reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed`);
    this.pump();
    if (!this.isClosed) setTimeout(() => this.destroy(this.closing), this.closeTimeout).unref();
  }

  destroy(reason?: Error): void {
    if (this.isClosed) return;
    const why = reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} destroyed`);
    this.control(textFrame(FrameKind.Close, why.message.slice(0, 200)));
    this.end(why);
  }

  setMaxPayload(limit: number): void {
    this.framer.setMaxPayload(limit);
  }

  protected pauseSource(): void {
    this.paused = true;
  }

  protected resumeSource(): void {
    this.paused = false;
    this.safely(() => this.drainRx());
  }

  private push(item: Outgoing, units: number): void {
    this.queue.push(item);
    this.queued += units;
    this.pump();
  }

  private afterSend(): boolean {
    if (this.bufferedBytes <= this.hwm) return true;
    this.overMark = true;
    return false;
  }

  /** Publishes what the window allows, small items merged into one frame. */
  private pump(): void {
    while (this.queue.length > 0 && !this.isClosed) {
      const room = this.window - (this.sent - this.acked);
      if (room <= 0) break;
      const head = this.queue[0];
      if (!(head instanceof Uint8Array)) {
        if (room < EVENT_REF_UNITS) break;
        this.queue.shift();
        this.publish(eventRefFrame(this.sent, head.ref, head.header), EVENT_REF_UNITS);
        continue;
      }
      const limit = Math.min(room, this.chunk);
      const parts: Uint8Array[] = [];
      let n = 0;
      while (n < limit && this.queue.length > 0 && this.queue[0] instanceof Uint8Array) {
        const b = this.queue[0] as Uint8Array;
        const take = Math.min(b.byteLength, limit - n);
        parts.push(take === b.byteLength ? b : b.subarray(0, take));
        if (take === b.byteLength) this.queue.shift();
        else this.queue[0] = b.subarray(take);
        n += take;
      }
      const body = parts.length === 1 ? parts[0] : concat(parts, n);
      this.publish(dataFrame(this.sent, body), n);
    }
    if (this.overMark && this.bufferedBytes <= this.hwm) {
      this.overMark = false;
      this.onFlushed();
    }
    if (this.closing && this.queue.length === 0 && !this.isClosed) {
      this.control(textFrame(FrameKind.Close, this.closing.message.slice(0, 200)));
      this.end(this.closing);
    }
  }

  private publish(f: Uint8Array, units: number): void {
    this.queued -= units;
    this.sent += units;
    this.control(f);
  }

  private control(f: Uint8Array): void {
    try {
      this.nc.publish(this.peer, f);
      this.lastSent = Date.now();
    } catch (e) {
      // The NATS connection is closed for good (reconnecting buffers instead of throwing).
      if (!this.isClosed) queueMicrotask(() => this.end(asErr(e)));
    }
  }

  private received(m: Msg): void {
    if (this.isClosed) return;
    this.lastHeard = Date.now();
    const f = m.data;
    try {
      switch (f[0]) {
        case FrameKind.Data:
        case FrameKind.EventRef:
          this.rxEnd = readOffset(f) + (f[0] === FrameKind.Data ? f.byteLength - 9 : EVENT_REF_UNITS);
          this.rx.push(f);
          this.rxBytes += f.byteLength;
          // A peer that ignores the window is sending more than it may: refuse, do not buffer.
          if (this.rxBytes > this.window + 2 * this.chunk + 1024)
            throw new FrameError(`peer exceeded the flow-control window (${this.window} bytes)`);
          this.drainRx();
          return;
        case FrameKind.Ack: {
          const n = readNumber(f);
          if (n < this.acked || n > this.sent)
            throw new FrameError(`acknowledgement ${n} outside 0..${this.sent}`);
          this.acked = n;
          this.pump();
          return;
        }
        case FrameKind.Close:
          this.end(
            new TransportError("ERR_CLOSED", `channel closed by ${this.remoteUrl}: ${readText(f, 256)}`),
          );
          return;
        case FrameKind.Keepalive:
          // NATS keeps one publisher's order: the peer's stream end, told after its last frame,
          // beyond what came means frames were lost (a server failed over) and a reply may be.
          if (readNumber(f) > Math.max(this.expected, this.rxEnd))
            throw new FrameError(
              `lost ${readNumber(f) - Math.max(this.expected, this.rxEnd)} bytes of the stream (a NATS server failed over?)`,
            );
          return;
        case FrameKind.Offer:
          this.offerReceived(readText(f, 512));
          return;
        case FrameKind.Join:
        case FrameKind.Leave: {
          const key = readText(f, MAX_KEY_BYTES);
          if (!this.offered.has(key)) return;
          if (f[0] === FrameKind.Join) this.joined.add(key);
          else {
            this.joined.delete(key);
            this.offered.delete(key);
          }
          return;
        }
        default:
          throw new FrameError(`unknown frame kind ${f[0]}`);
      }
    } catch (e) {
      this.destroy(asErr(e));
    }
  }

  /** Consumes received stream frames in order, unless paused or waiting for a shared payload. */
  private drainRx(): void {
    while (this.rx.length > 0 && !this.paused && !this.waiting && !this.isClosed) {
      const f = this.rx[0];
      const offset = readOffset(f);
      if (offset !== this.expected)
        throw new FrameError(
          `lost ${offset - this.expected} bytes of the stream (a NATS server failed over?)`,
        );
      if (f[0] === FrameKind.EventRef && !this.eventRef(f)) return;
      this.rx.shift();
      this.rxBytes -= f.byteLength;
      const units = f[0] === FrameKind.Data ? f.byteLength - 9 : EVENT_REF_UNITS;
      this.expected += units;
      if (f[0] === FrameKind.Data) this.framer.push(f.subarray(9));
      this.consumed += units;
    }
    this.maybeAck();
  }

  /**
   * Robot side: a client subscribing to a signal (registerEvent, member 0, `(IIL)` = object,
   * signal, link) is offered the signal's subject at once, so it has joined by the first event
   * instead of receiving the first ones inline.
   */
  private incoming(m: Message): void {
    if (this.opts.publisher && m.type === MessageType.Call && m.action === 0 && m.payload.byteLength >= 8) {
      const signal = new DataView(m.payload.buffer, m.payload.byteOffset, 8).getUint32(4, true);
      this.offer(`${m.service}.${m.object}.${signal}`);
    }
    this.deliver(m);
  }

  private offer(key: string): void {
    const pub = this.opts.publisher;
    if (!pub || this.offered.has(key) || this.offered.size >= 256) return;
    this.offered.add(key);
    const subject = eventSubject(pub.prefix, pub.robot, key);
    this.control(textFrame(FrameKind.Offer, JSON.stringify({ key, subject })));
  }

  /** Delivers a referenced event; false while its payload is still on its way. */
  private eventRef(f: Uint8Array): boolean {
    const { seq, header } = readEventRef(f);
    const outcome = this.refs ? this.refs.resolve(seq, header, this.retryRefs) : "drop";
    if (outcome === "wait") {
      this.waiting = true;
      return false;
    }
    if (outcome === "drop") return true; // lost (not kept any more, or never came): the stream goes on
    this.framer.push(header);
    if (outcome.payload.byteLength > 0) this.framer.push(outcome.payload);
    return true;
  }

  private readonly retryRefs = (): void => {
    if (!this.waiting) return;
    this.waiting = false;
    this.safely(() => this.drainRx());
  };

  private offerReceived(text: string): void {
    const key = this.refs?.offer(text);
    if (key !== undefined) this.control(textFrame(FrameKind.Join, key));
  }

  private maybeAck(): void {
    const pending = this.consumed - this.lastAck;
    if (pending <= 0 || this.paused) return;
    if (pending >= this.window / 4) {
      this.sendAck();
      return;
    }
    // Small traffic: one acknowledgement a little later covers it (not one per message).
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined;
      if (!this.isClosed && !this.paused) this.sendAck();
    }, 10);
  }

  private sendAck(): void {
    this.lastAck = this.consumed;
    this.control(numberFrame(FrameKind.Ack, this.consumed));
  }

  private tick(): void {
    const now = Date.now();
    if (now - this.lastHeard > 3 * this.keepaliveMs) {
      this.end(
        new TransportError(
          "ERR_CLOSED",
          `${this.remoteUrl} went silent (no keepalive for ${now - this.lastHeard} ms)`,
        ),
      );
      return;
    }
    if (now - this.lastSent >= this.keepaliveMs / 2)
      this.control(numberFrame(FrameKind.Keepalive, this.sent));
    for (const key of this.refs?.sweep(now) ?? []) this.control(textFrame(FrameKind.Leave, key));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.destroy(asErr(e));
    }
  }

  private end(reason: Error): void {
    if (this.isClosed) return;
    clearInterval(this.timer);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.waiting = false;
    try {
      this.sub.unsubscribe();
    } catch {
      // the connection is already closed: nothing to unsubscribe from
    }
    this.refs?.leaveAll();
    this.queue = [];
    this.rx = [];
    this.finish(reason);
  }
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function asErr(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
