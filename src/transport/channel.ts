/**
 * A Channel is a duplex of qi messages over one connection. It knows nothing of what a message
 * means: bytes in go through the Framer, messages out are written as header + payload.
 *
 * SocketChannel is the implementation over a net.Socket or tls.TLSSocket.
 */
import type { Socket } from "node:net";
import type { PeerCertificate } from "node:tls";
import { isWireError } from "../wire/errors.js";
import { Framer } from "../wire/framer.js";
import { headerBytes } from "../wire/header.js";
import { DEFAULT_MAX_PAYLOAD, HEADER_SIZE, type Message } from "../wire/message-types.js";
import { asError, isTlsErrorCode, nodeErrorCode, TransportError, tlsError } from "./errors.js";
import { NodeChannelBase } from "./channel-base.js";
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
}

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

export class SocketChannel extends NodeChannelBase {
  private readonly socket: Socket;
  private readonly framer: Framer;
  private corked = false;

  constructor(socket: Socket, scheme: SocketScheme = "tcp", opts: ChannelOptions = {}) {
    super(socket, scheme, scheme !== "tcp", opts, {
      highWaterMark: DEFAULT_HIGH_WATER_MARK,
      closeTimeout: DEFAULT_CLOSE_TIMEOUT_MS,
      keepAliveMs: DEFAULT_KEEPALIVE_MS,
    });
    this.socket = socket;
    this.framer = new Framer((m) => this.deliver(m), {
      maxPayload: opts.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      // A split payload is delivered only once every byte of it is written, so skipping the
      // zero-fill is safe; allocUnsafeSlow (not allocUnsafe) keeps each payload in its own
      // ArrayBuffer instead of Node's shared pool.
      allocate: (n) => Buffer.allocUnsafeSlow(n),
    });
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () =>
      this.finish(new TransportError("ERR_CLOSED", `connection ${this.remoteUrl} closed by peer`)),
    );
    socket.on("error", (err) => this.finish(socketCloseReason(err, this.remoteUrl)));
    socket.on("close", () =>
      this.finish(new TransportError("ERR_CLOSED", `connection ${this.remoteUrl} closed`)),
    );
    socket.on("drain", this.onFlushed);
    if (socket.destroyed) this.finish(new TransportError("ERR_CLOSED", "socket already destroyed"));
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  send(msg: Message): boolean {
    if (this.isClosed) {
      throw new TransportError("ERR_CLOSED", `send on closed channel ${this.remoteUrl}`, {
        cause: this.reason,
      });
    }
    const payload = msg.payload;
    const header = headerBytes(msg); // validates the header before anything is written
    const s = this.socket;
    // When this message takes the buffer over the mark, its flush callback is what wakes the
    // sendAsync waiters: whenever the buffer is above the mark, the last message that pushed it
    // there still has such a callback pending.
    const over = s.writableLength + HEADER_SIZE + payload.byteLength > this.hwm;
    const cb = over ? this.onFlushed : undefined;
    // Everything sent in one tick leaves in one writev: a syscall per message was the largest
    // cost of pipelined calls and of fanning events out.
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(this.uncork);
    }
    if (payload.byteLength === 0) {
      s.write(header, cb);
    } else {
      s.write(header);
      s.write(payload, cb);
    }
    return s.writableLength <= this.hwm;
  }

  close(reason?: Error): void {
    if (this.isClosed) return;
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} closed locally`));
    const s = this.socket;
    if (s.destroyed) return;
    const timer = setTimeout(() => s.destroy(), this.closeTimeout);
    timer.unref();
    s.once("close", () => clearTimeout(timer));
    s.end();
  }

  destroy(reason?: Error): void {
    this.finish(reason ?? new TransportError("ERR_CLOSED", `channel ${this.remoteUrl} destroyed`));
    this.socket.destroy();
  }

  setMaxPayload(limit: number): void {
    this.framer.setMaxPayload(limit);
  }

  protected pauseSource(): void {
    this.socket.pause();
  }

  protected resumeSource(): void {
    this.socket.resume();
  }

  private onData(chunk: Buffer): void {
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
