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
import type { AdmissionTicket } from "./admission.js";
import type { Channel, CloseHandler, MessageHandler } from "./channel.js";
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

export class MemoryChannel implements Channel {
  readonly remoteAddress = "memory";
  readonly isSecure = false;
  admission: AdmissionTicket | undefined = undefined;
  /** The other end; set once by memoryChannelPair. */
  peer!: MemoryChannel;

  private readonly framer: Framer;
  /** Encoded messages sent by this end and not yet taken by the peer. */
  private outgoing: Uint8Array[] = [];
  private outgoingBytes = 0;
  private overMark = false;
  private deliveryScheduled = false;
  private paused = false;
  private isClosed = false;
  private reason: Error | undefined = undefined;
  private messageHandlers: MessageHandler[] = [];
  private closeHandlers: CloseHandler[] = [];
  private drainHandlers: Array<() => void> = [];
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  /** Messages framed before the first message handler was added. */
  private early: Message[] | null = [];

  constructor(
    readonly localUrl: string,
    readonly remoteUrl: string,
    private readonly hwm: number,
    maxPayload: number,
  ) {
    this.framer = new Framer((m) => this.receive(m), { maxPayload });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get closeReason(): Error | undefined {
    return this.reason;
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

  sendAsync(msg: Message): Promise<void> {
    let ok: boolean;
    try {
      ok = this.send(msg);
    } catch (e) {
      return Promise.reject(e);
    }
    if (ok) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  onMessage(cb: MessageHandler): () => void {
    this.messageHandlers.push(cb);
    const early = this.early;
    if (early !== null) {
      this.early = null;
      if (early.length > 0) queueMicrotask(() => this.dispatchAll(early));
    }
    return () => {
      this.messageHandlers = this.messageHandlers.filter((h) => h !== cb);
    };
  }

  onClose(cb: CloseHandler): () => void {
    if (this.isClosed) {
      const reason = this.reason;
      queueMicrotask(() => cb(reason));
      return () => {};
    }
    this.closeHandlers.push(cb);
    return () => {
      this.closeHandlers = this.closeHandlers.filter((h) => h !== cb);
    };
  }

  onDrain(cb: () => void): () => void {
    this.drainHandlers.push(cb);
    return () => {
      this.drainHandlers = this.drainHandlers.filter((h) => h !== cb);
    };
  }

  /** Like a socket's end(): what was sent still reaches the peer, then both ends close. */
  close(reason?: Error): void {
    if (this.isClosed) return;
    const why = reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed`);
    if (this.outgoingBytes === 0) {
      this.finish(why);
      this.peer.finish(new TransportError("ERR_CLOSED", `connection ${this.localUrl} closed by peer`));
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

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.scheduleDelivery();
  }

  setMaxPayload(limit: number): void {
    this.framer.setMaxPayload(limit);
  }

  /** Set by close() while output is still queued: the reason to close with once it is taken. */
  private closingWith: Error | undefined = undefined;

  private scheduleDelivery(): void {
    if (this.deliveryScheduled || this.isClosed) return;
    this.deliveryScheduled = true;
    setImmediate(this.deliver);
  }

  /** Takes what the peer queued for this end (unless paused) and frames it. */
  private readonly deliver = (): void => {
    this.deliveryScheduled = false;
    const from = this.peer;
    while (!this.paused && !this.isClosed && from.outgoing.length > 0) {
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
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.resolve();
      for (const h of this.drainHandlers) h();
    }
    if (this.closingWith !== undefined && this.outgoingBytes === 0) {
      const why = this.closingWith;
      this.finish(why);
      this.peer.finish(new TransportError("ERR_CLOSED", `connection ${this.localUrl} closed by peer`));
    }
  }

  private receive(m: Message): void {
    if (this.isClosed) return;
    if (this.early !== null) {
      this.early.push(m);
      return;
    }
    this.dispatchAll([m]);
  }

  private dispatchAll(messages: Message[]): void {
    try {
      for (const m of messages) {
        for (const h of this.messageHandlers) {
          if (this.isClosed) return;
          h(m);
        }
      }
    } catch (e) {
      this.destroy(asError(e));
    }
  }

  private finish(reason: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.reason = reason;
    this.early = null;
    this.messageHandlers = [];
    this.drainHandlers = [];
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      w.reject(
        new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed: ${reason.message}`, {
          cause: reason,
        }),
      );
    }
    const handlers = this.closeHandlers;
    this.closeHandlers = [];
    for (const h of handlers) {
      try {
        h(reason);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
