/**
 * Two channels joined in memory, as a socket pair would be: what one end sends, the other end
 * receives. Tests of the connection and the router use it to exercise their logic without a
 * socket, and an in-process client (a bridge's qi session) talks to the gateway through it.
 *
 * It behaves like the socket channels where the callers can tell: every message's header is
 * encoded on one side and validated on the other (so the payload limit and bad headers are
 * real), delivery is asynchronous (a later macrotask, in order), a paused reader stops delivery
 * and the writer's buffer grows until send() returns false, and drain handlers run once the
 * reader has taken the buffer back under the mark.
 *
 * Payloads: a small one is copied, since a sender may reuse a small buffer once send() returns
 * (a socket channel copies those into its batch). A large one (a camera frame) reaches the
 * receiver by reference, never copied: a socket channel writes those by reference too, so no
 * sender changes them after send(). The receiver must treat them as read-only: the gateway
 * sends one event's payload to every subscriber, in-process sessions and sockets alike. The one
 * exception is pooled memory (wire/payload-pool.ts: a payload the gateway passed on, or one an
 * application may release): it is reused once released and written, which a by-reference
 * receiver could never say, so it is copied once and its write reported done at once.
 */
import {
  DEFAULT_MAX_PAYLOAD,
  encodeHeader,
  HEADER_SIZE,
  holdPayload,
  type Message,
  messageAt,
  payloadWritten,
  validateHeaderAt,
} from "../wire/index.js";
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

/**
 * Payloads at least this large go by reference. Below it a copy costs less than the care; the
 * socket channels write payloads over 16 KiB by reference, so any sender keeps these intact.
 */
export const MEMORY_BY_REFERENCE_MIN = 64 * 1024;

/** One message queued towards the peer: its encoded header and the payload it receives. */
interface Queued {
  header: Uint8Array;
  payload: Uint8Array;
}

/** A connected pair: `[a, b]` where a's sends arrive at b and b's at a. */
export function memoryChannelPair(opts: MemoryChannelOptions = {}): [MemoryChannel, MemoryChannel] {
  const hwm = opts.highWaterMark ?? DEFAULT_MEMORY_HWM;
  if (!(hwm >= 0)) throw new RangeError(`memoryChannelPair: bad highWaterMark ${hwm}`);
  const maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  if (!(maxPayload >= 0)) throw new RangeError(`memoryChannelPair: bad maxPayload ${maxPayload}`);
  const [nameA, nameB] = opts.names ?? ["mem://a", "mem://b"];
  const a = new MemoryChannel(nameA, nameB, hwm, maxPayload);
  const b = new MemoryChannel(nameB, nameA, hwm, maxPayload);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** What the receiver gets for a sent payload: the same bytes, or a copy (see the file's comment). */
function received(payload: Uint8Array): Uint8Array {
  const pooled = holdPayload(payload);
  if (!pooled && payload.byteLength >= MEMORY_BY_REFERENCE_MIN) return payload;
  const copy = payload.slice();
  if (pooled) payloadWritten(payload);
  return copy;
}

export class MemoryChannel extends ChannelBase {
  /** The other end; set once by memoryChannelPair. */
  peer!: MemoryChannel;

  private maxPayload: number;
  /** Messages sent by this end and not yet taken by the peer. */
  private outgoing: Queued[] = [];
  private outgoingBytes = 0;
  private overMark = false;
  private deliveryScheduled = false;
  private sourcePaused = false;
  /** Bytes taken from the peer so far: where a bad header is, as a socket's framer says. */
  private streamPos = 0;
  /** Set by close() while output is still queued: the reason to close with once it is taken. */
  private closingWith: Error | undefined = undefined;

  constructor(localUrl: string, remoteUrl: string, hwm: number, maxPayload: number) {
    super(
      { remoteAddress: "memory", localUrl, remoteUrl, isSecure: false },
      { highWaterMark: hwm, closeTimeout: 0 },
    );
    this.maxPayload = maxPayload;
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
    const payload = msg.payload;
    const header = new Uint8Array(HEADER_SIZE);
    // Validates the header's fields: a bad one throws here and nothing is queued.
    encodeHeader(msg, payload.byteLength, header, 0);
    this.outgoing.push({ header, payload: received(payload) });
    this.outgoingBytes += HEADER_SIZE + payload.byteLength;
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

  /** Applies to messages not yet taken (as a socket's framer: headers not yet read). */
  setMaxPayload(limit: number): void {
    if (!(limit >= 0)) throw new RangeError(`MemoryChannel: bad maxPayload ${limit}`);
    this.maxPayload = limit;
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

  /** Takes what the peer queued for this end (unless paused), checks each header, delivers. */
  private readonly takeFromPeer = (): void => {
    this.deliveryScheduled = false;
    const from = this.peer;
    while (!this.sourcePaused && !this.isClosed && from.outgoing.length > 0) {
      const { header, payload } = from.outgoing.shift() as Queued;
      from.outgoingBytes -= HEADER_SIZE + payload.byteLength;
      try {
        this.take(header, payload);
      } catch (e) {
        this.destroy(asError(e));
        return;
      }
    }
    from.afterTaken();
  };

  /** One message: a bad header or a throwing handler ends the stream (the caller destroys). */
  private take(header: Uint8Array, payload: Uint8Array): void {
    const size = validateHeaderAt(header, 0, this.maxPayload, false, this.streamPos);
    this.streamPos += HEADER_SIZE + size;
    this.deliver(messageAt(header, 0, size, payload));
  }

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
