/**
 * What every channel shares, whatever carries the bytes (a TCP/TLS socket, a WebSocket of Node
 * or of a browser): addresses, message handlers with the queue of messages framed before the
 * first handler, close handlers called exactly once, sendAsync waiters and drain handlers woken
 * when the outgoing buffer drains, and pause/resume on top of automatic pausing while early
 * messages pile up. Runtime-neutral: no Socket here (node-channel-base.ts adds that).
 */
import { HEADER_SIZE, type Message } from "../wire/index.js";
import type { AdmissionTicket } from "./admission.js";
import type { Channel, CloseHandler, MessageHandler } from "./channel.js";
import { asError, TransportError } from "./errors.js";

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

/** IPv4-mapped IPv6 addresses shown as IPv4, like the rest of the project prints them. */
export function plainAddress(addr: string | undefined): string {
  if (!addr) return "";
  return addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
}

/** Who the channel talks to, as the Channel contract shows it. */
export interface ChannelIdentity {
  remoteAddress: string;
  remoteUrl: string;
  localUrl: string;
  isSecure: boolean;
}

/** The outgoing high-water mark and the close grace, resolved by the subclass. */
export interface ChannelLimits {
  highWaterMark: number;
  closeTimeout: number;
}

export abstract class ChannelBase implements Channel {
  readonly remoteAddress: string;
  readonly localUrl: string;
  readonly remoteUrl: string;
  readonly isSecure: boolean;
  admission: AdmissionTicket | undefined = undefined;

  protected readonly hwm: number;
  protected readonly closeTimeout: number;
  protected isClosed = false;
  protected reason: Error | undefined = undefined;
  private messageHandlers: MessageHandler[] = [];
  private closeHandlers: CloseHandler[] = [];
  /** Messages framed before the first handler was added (null once delivery started). */
  private early: Message[] | null = [];
  private earlyBytes = 0;
  private waiters: Waiter[] = [];
  private drainHandlers: Array<() => void> = [];
  private userPaused = false;
  private autoPaused = false;

  protected constructor(identity: ChannelIdentity, limits: ChannelLimits) {
    this.hwm = limits.highWaterMark;
    if (!(this.hwm >= 0)) throw new RangeError(`bad highWaterMark ${this.hwm}`);
    this.closeTimeout = limits.closeTimeout;
    this.remoteAddress = identity.remoteAddress;
    this.remoteUrl = identity.remoteUrl;
    this.localUrl = identity.localUrl;
    this.isSecure = identity.isSecure;
  }

  abstract send(msg: Message): boolean;
  abstract get bufferedBytes(): number;
  abstract close(reason?: Error): void;
  abstract destroy(reason?: Error): void;
  abstract setMaxPayload(limit: number): void;
  /** Stops / restarts reading from the underlying transport. */
  protected abstract pauseSource(): void;
  protected abstract resumeSource(): void;

  get closed(): boolean {
    return this.isClosed;
  }

  get closeReason(): Error | undefined {
    return this.reason;
  }

  sendAsync(msg: Message): Promise<void> {
    let ok: boolean;
    try {
      ok = this.send(msg);
    } catch (e) {
      return Promise.reject(e);
    }
    if (ok) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }

  onMessage(cb: MessageHandler): () => void {
    this.messageHandlers.push(cb);
    if (this.early !== null) {
      const early = this.early;
      this.early = null;
      this.earlyBytes = 0;
      if (early.length > 0) {
        queueMicrotask(() => {
          try {
            for (const m of early) this.dispatch(m);
          } catch (e) {
            this.destroy(asError(e));
            return;
          }
          if (this.autoPaused) {
            this.autoPaused = false;
            if (!this.userPaused && !this.isClosed) this.resumeSource();
          }
        });
      }
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

  pause(): void {
    this.userPaused = true;
    this.pauseSource();
  }

  resume(): void {
    this.userPaused = false;
    if (!this.autoPaused && !this.isClosed) this.resumeSource();
  }

  /** A message framed from the transport: to the handlers, or queued until the first one. */
  protected deliver(m: Message): void {
    if (this.isClosed) return;
    if (this.early !== null) {
      this.early.push(m);
      this.earlyBytes += HEADER_SIZE + m.payload.byteLength;
      if (this.earlyBytes > this.hwm && !this.autoPaused) {
        this.autoPaused = true;
        this.pauseSource();
      }
      return;
    }
    this.dispatch(m);
  }

  private dispatch(m: Message): void {
    if (this.isClosed) return;
    const handlers = this.messageHandlers;
    if (handlers.length === 1) {
      handlers[0](m);
      return;
    }
    for (const h of handlers) {
      if (this.isClosed) return;
      h(m);
    }
  }

  /** Flush callback of a send that took the buffer over the mark: wakes sendAsync waiters. */
  protected readonly onFlushed = (err?: Error | null): void => {
    if (err || this.isClosed) return;
    if (this.bufferedBytes > this.hwm) return;
    if (this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.resolve();
    }
    for (const h of this.drainHandlers) h();
  };

  protected finish(reason: Error): void {
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
        // A bug in a close handler must not stop the others; surface it like an EventEmitter would.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
