/**
 * A Channel is a duplex of qi messages over one connection. It knows nothing of what a message
 * means: bytes in go through the Framer, messages out are written as header + payload.
 *
 * SocketChannel is the implementation over a net.Socket or tls.TLSSocket.
 */
import type { Socket } from "node:net";
import type { PeerCertificate } from "node:tls";
import { isWireError } from "../wire/index.js";
import { Framer } from "../wire/index.js";
import { encodeHeader } from "../wire/index.js";
import { DEFAULT_MAX_PAYLOAD, HEADER_SIZE, type Message } from "../wire/index.js";
import { holdPayload, payloadWritten, takePayload } from "../wire/index.js";
import type { AdmissionTicket } from "./admission.js";
import { asError, isTlsErrorCode, nodeErrorCode, TransportError, tlsError } from "./errors.js";
import { NodeChannelBase } from "./node-channel-base.js";
import { type PullReader, pullFrom, resumePulling, sharedRead, stopPulling } from "./socket-pull.js";
import type { QiScheme } from "./url.js";

/** Default outgoing high-water mark: above it send() returns false and sendAsync() waits. */
export const DEFAULT_HIGH_WATER_MARK = 4 * 1024 * 1024;
/** libqi's TCP keepalive idle time (spec §1.8: QI_TCP_PING_TIMEOUT default 30 s). */
export const DEFAULT_KEEPALIVE_MS = 30_000;
/** How long close() waits for pending output to flush before destroying the socket. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

export interface ChannelOptions {
  /** Largest payload accepted from the peer; a bigger header closes the channel. Default 50 000 000. */
  maxPayload?: number;
  /** Outgoing buffer size (bytes) above which send() returns false / sendAsync() waits. Default 4 MiB. */
  highWaterMark?: number;
  /** TCP keepalive (default true, like libqi). */
  keepAlive?: boolean;
  /** Keepalive idle time in ms (default 30 000). Probe interval and count are the OS/libuv ones. */
  keepAliveInitialDelay?: number;
  /** close(): ms to wait for the output to flush before destroying the socket. Default 5 000. */
  closeTimeout?: number;
}

export type MessageHandler = (msg: Message) => void;
export type CloseHandler = (reason: Error | undefined) => void;

export interface Channel {
  /**
   * Queues `msg` (28-byte header + payload, gather write, payload not copied: do not modify it
   * until it is flushed). Returns false when the outgoing buffer is above the high-water mark;
   * the message is queued anyway. Throws TransportError ERR_CLOSED on a closed channel, and a
   * WireError if a header field is out of range (nothing is written then).
   */
  send(msg: Message): boolean;
  /**
   * Queues `msg` at once (so order with send() is call order); resolves when the outgoing buffer
   * is at or below the high-water mark. Rejects with ERR_CLOSED if the channel closes first.
   */
  sendAsync(msg: Message): Promise<void>;
  /** Bytes queued for sending and not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /**
   * Adds a message handler; returns a function that removes it. Messages that arrive before the
   * first handler is added are queued and delivered (in a microtask) when it is. A handler that
   * throws closes the channel with that error as reason.
   */
  onMessage(cb: MessageHandler): () => void;
  /**
   * Adds a close handler, called exactly once with the reason (a handler added after the close is
   * called in a microtask). The reason is always an Error in this implementation: the argument of
   * close(), a TransportError ERR_CLOSED (local close, peer close, reset), ERR_TLS, ERR_SOCKET, or
   * the WireError that made the incoming stream unreadable (ERR_BAD_MAGIC, ERR_PAYLOAD_TOO_LARGE...).
   */
  onClose(cb: CloseHandler): () => void;
  /**
   * Adds a drain handler, called each time the outgoing buffer falls back to or under the
   * high-water mark after a send() returned false. A reader that paused a peer because this
   * channel was full resumes it here instead of polling. Returns the remover.
   */
  onDrain(cb: () => void): () => void;
  /** Closes gracefully: pending output is flushed (up to closeTimeout), then the socket ends. */
  close(reason?: Error): void;
  /** Closes at once, dropping pending output. */
  destroy(reason?: Error): void;
  /** Stops reading from the peer (inbound flow control); messages already framed are still delivered. */
  pause(): void;
  resume(): void;
  readonly closed: boolean;
  /** The close reason once closed. */
  readonly closeReason: Error | undefined;
  /** IP address of the peer (no port; IPv4-mapped IPv6 addresses shown as IPv4). */
  readonly remoteAddress: string;
  /** This side of the connection as a URL, e.g. `tcp://127.0.0.1:41234`. */
  readonly localUrl: string;
  /** The peer's side as a URL, e.g. `tcps://[::1]:9559`. */
  readonly remoteUrl: string;
  readonly isSecure: boolean;
  /** TLS only: the certificate the peer presented, if any. */
  readonly peerCertificate?: PeerCertificate;
  /** Changes the largest payload accepted from now on (e.g. small until authenticated). */
  setMaxPayload(limit: number): void;
  /**
   * Accepted by a listener with connection caps: this connection's place in them (call
   * `authenticate()` on it once the peer authenticated).
   */
  admission?: AdmissionTicket;
}

/**
 * Payloads up to this size are copied into the tick's write batch; larger ones are written by
 * reference (gather write) so a camera frame or a 1 MiB buffer is never copied.
 */
export const COALESCE_MAX_PAYLOAD = 16 * 1024;
/** First batch of a tick; each further one is four times larger, up to BATCH_MAX. */
const BATCH_MIN = 1024;
const BATCH_MAX = 256 * 1024;

export type SocketScheme = Extract<QiScheme, "tcp" | "tcps" | "tcpsm">;

/** Maps an error event of an established socket to a close reason. */
export function socketCloseReason(err: unknown, where: string): Error {
  if (isWireError(err) || err instanceof TransportError) return err;
  const code = nodeErrorCode(err);
  if (isTlsErrorCode(code)) return tlsError(where, err);
  if (code === "ECONNRESET" || code === "EPIPE") {
    return new TransportError("ERR_CLOSED", `connection ${where} reset by peer (${code})`, { cause: err });
  }
  return new TransportError("ERR_SOCKET", `I/O error on ${where}: ${asError(err).message}`, { cause: err });
}

/**
 * Payloads that span chunks get a buffer of their own: every byte is written before the message
 * is delivered, so skipping the zero-fill is safe; allocUnsafeSlow (not allocUnsafe) keeps each
 * payload in its own ArrayBuffer instead of Node's shared pool. One function for all channels.
 */
const allocateUnpooled = (n: number): Uint8Array => Buffer.allocUnsafeSlow(n);
/** Large payloads may get memory a forwarded payload left (wire/payload-pool.ts). */
const asBuffer = (memory: ArrayBuffer, n: number): Uint8Array => Buffer.from(memory, 0, n);
const allocatePayload = (n: number): Uint8Array => takePayload(n, allocateUnpooled, asBuffer);

/** The channel a socket feeds (the socket listeners below are shared, not made per channel). */
const kChannel = Symbol("qi.channel");
type ChanneledSocket = Socket & { [kChannel]: SocketChannel };

function onSocketData(this: ChanneledSocket, chunk: Buffer): void {
  this[kChannel].onData(chunk);
}
function onSocketEnd(this: ChanneledSocket): void {
  const ch = this[kChannel];
  ch.closeWith(new TransportError("ERR_CLOSED", `connection ${ch.remoteUrl} closed by peer`));
}
function onSocketError(this: ChanneledSocket, err: Error): void {
  const ch = this[kChannel];
  ch.closeWith(socketCloseReason(err, ch.remoteUrl));
}
function onSocketClose(this: ChanneledSocket): void {
  const ch = this[kChannel];
  ch.closeWith(new TransportError("ERR_CLOSED", `connection ${ch.remoteUrl} closed`));
}
function flushChannel(ch: SocketChannel): void {
  ch.flushBatch();
}

export class SocketChannel extends NodeChannelBase implements PullReader {
  private readonly socket: Socket;
  private readonly framer: Framer;
  /**
   * Messages sent in one tick are copied back to back into one batch and leave in one write:
   * a syscall (and a Node write request) per message was the largest cost of small calls, and
   * writing a 28-byte header apart from its payload doubled it.
   */
  private batch: Buffer | undefined;
  private batchLength = 0;
  /** A message in the current batch took the buffer over the mark (see send). */
  private batchOverMark = false;
  private flushScheduled = false;
  private corked = false;
  /** Bytes come by pull (read straight into the framer's buffers), not by 'data' events. */
  private readonly pulled: boolean;
  private pullPaused = false;
  /** Closed by close(): what the peer still sends is read and dropped (see close). */
  private discarding = false;

  constructor(socket: Socket, scheme: SocketScheme = "tcp", opts: ChannelOptions = {}) {
    super(socket, scheme, scheme !== "tcp", opts, {
      highWaterMark: DEFAULT_HIGH_WATER_MARK,
      closeTimeout: DEFAULT_CLOSE_TIMEOUT_MS,
      keepAliveMs: DEFAULT_KEEPALIVE_MS,
    });
    this.socket = socket;
    this.framer = new Framer((m) => this.deliver(m), {
      maxPayload: opts.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      allocate: allocatePayload,
      sharedReadBuffer: sharedRead(),
    });
    // Shared listener functions find this channel on the socket: four closures less per
    // connection (10,000 idle clients on a gateway).
    (socket as ChanneledSocket)[kChannel] = this;
    // Pull mode: a large payload is read straight into its own buffer (one copy, the
    // kernel's, instead of two; bench/wire.bench.ts); push mode where the socket does not allow it.
    this.pulled = pullFrom(socket, this, (chunk) => this.onData(chunk));
    if (!this.pulled) socket.on("data", onSocketData);
    socket.on("end", onSocketEnd);
    socket.on("error", onSocketError);
    socket.on("close", onSocketClose);
    socket.on("drain", this.onFlushed);
    if (socket.destroyed) this.finish(new TransportError("ERR_CLOSED", "socket already destroyed"));
  }

  /** @internal Reads go straight into the framer's buffers (socket-pull.ts), not 'data' events. */
  get pullMode(): boolean {
    return this.pulled;
  }

  get bufferedBytes(): number {
    return this.socket.writableLength + this.batchLength;
  }

  /**
   * Bytes of buffers this channel keeps for itself: the tick's write batch and what the
   * framer holds of an incomplete message. 0 on an idle connection: nothing is kept per
   * connection between messages (the batch goes to the socket, the framer allocates a
   * payload buffer only for a message that spans reads).
   */
  get heldBytes(): number {
    return (this.batch?.byteLength ?? 0) + this.framer.heldBytes;
  }

  send(msg: Message): boolean {
    if (this.isClosed) {
      throw new TransportError("ERR_CLOSED", `send on closed channel ${this.remoteUrl}`, {
        cause: this.reason,
      });
    }
    const parts = msg.payloadParts;
    if (parts !== undefined) return this.sendParts(msg, parts);
    const payload = msg.payload;
    const size = payload.byteLength;
    const inline = size <= COALESCE_MAX_PAYLOAD;
    const batch = this.roomFor(inline ? HEADER_SIZE + size : HEADER_SIZE);
    // Validates the header before anything is committed: a bad field throws, nothing is sent.
    encodeHeader(msg, size, batch, this.batchLength);
    if (inline) {
      if (size > 0) batch.set(payload, this.batchLength + HEADER_SIZE);
      this.batchLength += HEADER_SIZE + size;
    } else {
      this.batchLength += HEADER_SIZE;
    }
    // When this message takes the buffer over the mark, the write carrying it gets the flush
    // callback that wakes the sendAsync waiters: whenever the buffer is above the mark, the last
    // write that pushed it there still has such a callback pending.
    const over = this.bufferedBytes + (inline ? 0 : size) > this.hwm;
    if (over) this.batchOverMark = true;
    if (!inline) {
      // The batch (ending with this header) leaves first, then the payload by reference; cork so
      // that both, and whatever else this tick sends, still go out in one writev.
      this.cork();
      this.writeBatch();
      this.socket.write(
        payload,
        holdPayload(payload) ? this.recycleAfter(payload, over) : over ? this.onFlushed : undefined,
      );
    }
    this.scheduleFlush();
    return this.bufferedBytes <= this.hwm;
  }

  /** The write callback of pooled memory: released memory goes back to the pool once written. */
  private recycleAfter(payload: Uint8Array, over: boolean): (err?: Error | null) => void {
    return (err) => {
      payloadWritten(payload, !!err);
      if (over) this.onFlushed(err);
    };
  }

  /**
   * A gathered payload (payload.ts): small parts join the batch like a small payload, large
   * ones (a raw block of the caller's) are written by reference, in order, in the same writev.
   */
  private sendParts(msg: Message, parts: readonly Uint8Array[]): boolean {
    let size = 0;
    for (const p of parts) size += p.byteLength;
    let batch = this.roomFor(HEADER_SIZE);
    encodeHeader(msg, size, batch, this.batchLength);
    this.batchLength += HEADER_SIZE;
    let byReference = 0;
    for (const p of parts) if (p.byteLength > COALESCE_MAX_PAYLOAD) byReference += p.byteLength;
    // As in send(): the write that ends this message carries the flush callback when the
    // message takes the buffer over the mark.
    const over = this.bufferedBytes + byReference > this.hwm;
    const lastIndex = parts.length - 1;
    for (let i = 0; i <= lastIndex; i++) {
      const p = parts[i];
      const n = p.byteLength;
      if (n <= COALESCE_MAX_PAYLOAD) {
        batch = this.roomFor(n);
        batch.set(p, this.batchLength);
        this.batchLength += n;
        if (over && i === lastIndex) this.batchOverMark = true;
        continue;
      }
      this.cork();
      this.writeBatch();
      const flushed = over && i === lastIndex;
      this.socket.write(
        p,
        holdPayload(p) ? this.recycleAfter(p, flushed) : flushed ? this.onFlushed : undefined,
      );
    }
    this.scheduleFlush();
    return this.bufferedBytes <= this.hwm;
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushChannel, this);
    }
  }

  /** @internal A socket event ended the channel (shared socket listeners). */
  closeWith(reason: Error): void {
    this.finish(reason);
  }

  /** The current batch, with room for `n` more bytes (a new, larger one when it is full). */
  private roomFor(n: number): Buffer {
    const batch = this.batch;
    if (batch !== undefined && this.batchLength + n <= batch.length) return batch;
    const previous = batch?.length ?? 0;
    if (this.batchLength > 0) {
      // A busy tick: cork so that its batches still leave in one writev.
      this.cork();
      this.writeBatch();
    }
    // allocUnsafe: every byte is written before it goes out; small batches come from Node's
    // shared pool, so a lone small call costs no allocation of its own.
    const grown = previous === 0 ? BATCH_MIN : Math.min(BATCH_MAX, previous * 4);
    const next = Buffer.allocUnsafe(Math.max(n, grown));
    this.batch = next;
    this.batchLength = 0;
    return next;
  }

  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
  }

  /** Hands what the batch holds to the socket; the batch is not reused (the socket keeps it). */
  private writeBatch(): void {
    const batch = this.batch;
    const length = this.batchLength;
    this.batch = undefined;
    this.batchLength = 0;
    if (batch === undefined || length === 0) return;
    const cb = this.batchOverMark ? this.onFlushed : undefined;
    this.batchOverMark = false;
    this.socket.write(batch.subarray(0, length), cb);
  }

  /** @internal Writes what this tick sent (scheduled once per tick by send). */
  flushBatch(): void {
    this.flushScheduled = false;
    if (this.socket.destroyed) {
      this.batch = undefined;
      this.batchLength = 0;
      return;
    }
    this.writeBatch();
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
  }

  close(reason?: Error): void {
    if (this.isClosed) return;
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed locally`));
    const s = this.socket;
    if (s.destroyed) return;
    const timer = setTimeout(() => s.destroy(), this.closeTimeout);
    timer.unref();
    s.once("close", () => clearTimeout(timer));
    this.flushBatch(); // what this tick sent goes out before the end
    s.end();
    // Reads go on, dropped, until the peer's end: a peer busy writing to us (a camera stream)
    // could otherwise never flush, see our end and close, and both sockets would wait out
    // closeTimeout (a listener's close() with them).
    this.discarding = true;
    if (!this.pulled) s.resume();
    else {
      this.pullPaused = false;
      resumePulling(s);
    }
  }

  destroy(reason?: Error): void {
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} destroyed`));
    this.batch = undefined;
    this.batchLength = 0;
    this.socket.destroy();
  }

  setMaxPayload(limit: number): void {
    this.framer.setMaxPayload(limit);
  }

  protected pauseSource(): void {
    if (!this.pulled) {
      this.socket.pause();
      return;
    }
    this.pullPaused = true;
    stopPulling(this.socket);
  }

  protected resumeSource(): void {
    if (!this.pulled) {
      this.socket.resume();
      return;
    }
    this.pullPaused = false;
    resumePulling(this.socket);
  }

  /** Pull mode: where the socket's next read goes (the framer's choice). Part of PullReader. */
  buffer(): Uint8Array {
    if (this.isClosed || this.framer.isDead) return sharedRead(); // no read follows
    try {
      return this.framer.readBuffer();
    } catch (e) {
      // A payload buffer that cannot be had (allocation failure): this stream cannot go on.
      this.destroy(asError(e));
      return sharedRead();
    }
  }

  /** Pull mode: `n` bytes were read into the last buffer(); false stops reading. */
  commit(n: number): boolean {
    if (this.isClosed) return this.discarding;
    try {
      this.framer.commitRead(n);
    } catch (e) {
      this.destroy(asError(e));
      return false;
    }
    return !this.pullPaused && !this.isClosed;
  }

  /** @internal Incoming bytes (shared socket listener). */
  onData(chunk: Buffer): void {
    if (this.isClosed) return;
    try {
      this.framer.push(chunk);
    } catch (e) {
      // A WireError (bad magic, payload too large, ...) or an exception from a message handler:
      // the stream cannot be resumed either way.
      this.destroy(asError(e));
    }
  }
}
