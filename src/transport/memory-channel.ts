/**
 * Two channels joined in memory, as a socket pair would be: what one end sends, the other end
 * receives. Tests of the connection and the router use it to exercise their logic without a
 * socket, and an in-process client can talk to an in-process server through it.
 *
 * It behaves like the socket channels where the callers can tell: every message is written as
 * header + payload bytes and framed again on the other side (so the payload limit, bad headers
 * and copies of the sender's buffer are real), delivery is asynchronous (a later macrotask, in
 * order), a paused reader stops delivery and the writer's buffer grows until send() returns
 * false, and drain handlers run once the reader has taken the buffer back under the mark.
 */
import { Framer } from "../wire/index.js";
import { encodeHeader } from "../wire/index.js";
import { DEFAULT_MAX_PAYLOAD, HEADER_SIZE, type Message } from "../wire/index.js";
import { ChannelBase } from "./channel-base.js";
import { asError, TransportError } from "./errors.js";

export interface MemoryChannelOptions {
  /** Bytes queued towards the peer above which send() returns false (default 4 MiB). */
  highWaterMark?: number;
  /** Largest payload each end accepts (default 50 MB, as the socket channels). */
  maxPayload?: number;
  /** The URLs the two ends report (default mem://a and mem://b). */
  names?: [string, string];
}

const DEFAULT_MEMORY_HWM = 4 * 1024 * 1024;

/** A connected pair: `[a, b]` where a's sends arrive at b and b's at a. */
export function memoryChannelPair(opts: MemoryChannelOptions = {}): [MemoryChannel, MemoryChannel] {
  const hwm = opts.highWaterMark ?? DEFAULT_MEMORY_HWM;
  if (!(hwm >= 0)) throw new RangeError(`memoryChannelPair: bad highWaterMark ${hwm}`);
  const maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  const [nameA, nameB] = opts.names ?? ["mem://a", "mem://b"];
  const a = new MemoryChannel(nameA, nameB, hwm, maxPayload);
  const b = new MemoryChannel(nameB, nameA, hwm, maxPayload);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export class MemoryChannel extends ChannelBase {
  /** The other end; set once by memoryChannelPair. */
  peer!: MemoryChannel;

  private readonly framer: Framer;
  /** Encoded messages sent by this end and not yet taken by the peer. */
  private outgoing: Uint8Array[] = [];
  private outgoingBytes = 0;
  private overMark = false;
  private deliveryScheduled = false;
  private sourcePaused = false;
  /** Set by close() while output is still queued: the reason to close with once it is taken. */
  private closingWith: Error | undefined = undefined;

  constructor(localUrl: string, remoteUrl: string, hwm: number, maxPayload: number) {
    super(
      { remoteAddress: "memory", localUrl, remoteUrl, isSecure: false },
      { highWaterMark: hwm, closeTimeout: 0 },
    );
    this.framer = new Framer((m) => this.deliver(m), { maxPayload });
  }

  get bufferedBytes(): number {
    return this.outgoingBytes;
  }

  send(msg: Message): boolean {
    if (this.isClosed) {
      throw new TransportError("ERR_CLOSED", `send on closed channel ${this.remoteUrl}`, {
        cause: this.reason,
      });
    }
    const size = msg.payload.byteLength;
    const bytes = new Uint8Array(HEADER_SIZE + size);
    encodeHeader(msg, size, bytes, 0);
    bytes.set(msg.payload, HEADER_SIZE);
    this.outgoing.push(bytes);
    this.outgoingBytes += bytes.byteLength;
    this.peer.scheduleDelivery();
    if (this.outgoingBytes <= this.hwm) return true;
    this.overMark = true;
    return false;
  }

  /** Like a socket's end(): what was sent still reaches the peer, then both ends close. */
  close(reason?: Error): void {
    if (this.isClosed) return;
    const why = reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed`);
    if (this.outgoingBytes === 0) {
      this.closeBoth(why);
      return;
    }
    this.closingWith = why;
    this.peer.scheduleDelivery();
  }

  /** Like a socket's destroy(): unsent bytes are dropped and both ends close now. */
  destroy(reason?: Error): void {
    if (this.isClosed) return;
    this.outgoing = [];
    this.outgoingBytes = 0;
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} destroyed`));
    this.peer.finish(new TransportError("ERR_CLOSED", `connection ${this.localUrl} reset by peer`));
  }

  setMaxPayload(limit: number): void {
    this.framer.setMaxPayload(limit);
  }

  protected pauseSource(): void {
    this.sourcePaused = true;
  }

  protected resumeSource(): void {
    this.sourcePaused = false;
    this.scheduleDelivery();
  }

  private closeBoth(why: Error): void {
    this.finish(why);
    this.peer.finish(new TransportError("ERR_CLOSED", `connection ${this.localUrl} closed by peer`));
  }

  private scheduleDelivery(): void {
    if (this.deliveryScheduled || this.isClosed) return;
    this.deliveryScheduled = true;
    setImmediate(this.takeFromPeer);
  }

  /** Takes what the peer queued for this end (unless paused) and frames it. */
  private readonly takeFromPeer = (): void => {
    this.deliveryScheduled = false;
    const from = this.peer;
    while (!this.sourcePaused && !this.isClosed && from.outgoing.length > 0) {
      const bytes = from.outgoing.shift() as Uint8Array;
      from.outgoingBytes -= bytes.byteLength;
      try {
        this.framer.push(bytes);
      } catch (e) {
        this.destroy(asError(e));
        return;
      }
    }
    from.afterTaken();
  };

  /** The peer took some of this end's output: wake writers, finish a pending close. */
  private afterTaken(): void {
    if (this.isClosed) return;
    if (this.overMark && this.outgoingBytes <= this.hwm) {
      this.overMark = false;
      this.onFlushed();
    }
    if (this.closingWith !== undefined && this.outgoingBytes === 0) this.closeBoth(this.closingWith);
  }
}
