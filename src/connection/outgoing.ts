/**
 * Calls we make on a connection (spec §5.3): their message ids, the table of calls waiting for
 * an answer (bounded by maxPendingCalls), timeouts, AbortSignals and Cancel (spec §5.5), and
 * the answers (Reply, Error, Canceled) that settle them.
 *
 * Made on the first call: a connection that never calls holds none of it.
 */
import { type Payload, withPayload } from "../wire/index.js";
import { nextMessageId } from "../wire/index.js";
import { type Message, MessageType } from "../wire/index.js";
import { Capability } from "./capabilities.js";
import type { Connection } from "./connection.js";
import { QiError } from "./errors.js";
import {
  type Address,
  addressDetails,
  canceledError,
  cancelPayload,
  decodeErrorPayload,
} from "./messages.js";

export interface CallOptions {
  flags?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A call started: its message id (for cancel) and its answer. */
export interface StartedCall {
  id: number;
  answer: Promise<Message>;
}

/** Abandoned calls whose late answer is still watched for (cancel's onLateAnswer). */
export const MAX_LATE_ANSWERS = 4_096;

interface PendingCall {
  resolve: (m: Message) => void;
  reject: (e: Error) => void;
  address: Address;
  timer: ReturnType<typeof setTimeout> | undefined;
  cleanup: (() => void) | undefined;
}

export class OutgoingCalls {
  private readonly pending = new Map<number, PendingCall>();
  /**
   * Calls given up on whose answer may still come and still matters (cancel's `onLateAnswer`):
   * a forwarder must release the objects a late Reply carries, or the callee keeps them
   * exported for the life of the connection. Bounded: a callee that never answers must not
   * grow it.
   */
  private lateAnswers: Map<number, (answer: Message) => void> | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly maxPendingCalls: number,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  start(address: Address, payload: Payload, options: CallOptions): StartedCall {
    const max = this.maxPendingCalls;
    if (this.pending.size >= max) {
      const error = new QiError("ERR_LIMIT", `too many pending calls on ${this.conn.peer} (limit ${max})`, {
        peer: this.conn.peer,
      });
      return { id: 0, answer: Promise.reject(error) };
    }
    if (options.signal?.aborted) return { id: 0, answer: Promise.reject(canceledError(address)) };
    const id = nextMessageId();
    const answer = new Promise<Message>((resolve, reject) => {
      const entry: PendingCall = { resolve, reject, address, timer: undefined, cleanup: undefined };
      this.pending.set(id, entry);
      if (options.timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.abandon(
            id,
            new QiError(
              "ERR_TIMEOUT",
              `call timed out after ${options.timeoutMs} ms`,
              addressDetails(address),
            ),
          );
        }, options.timeoutMs);
      }
      const signal = options.signal;
      if (signal) {
        const onAbort = () => this.abandon(id, canceledError(address));
        signal.addEventListener("abort", onAbort, { once: true });
        entry.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.conn.send(
        withPayload(
          {
            id,
            type: MessageType.Call,
            flags: options.flags ?? 0,
            service: address.service,
            object: address.object,
            action: address.action,
          },
          payload,
        ),
      );
    });
    return { id, answer };
  }

  /**
   * Gives up on a call: its promise rejects with `error` now, and the callee is sent a Cancel
   * when it understands one (spec §5.5). Unknown or answered ids are ignored.
   */
  cancel(id: number, error: Error, onLateAnswer?: (answer: Message) => void): void {
    if (onLateAnswer && this.pending.has(id)) {
      this.lateAnswers ??= new Map();
      const late = this.lateAnswers;
      late.set(id, onLateAnswer);
      if (late.size > MAX_LATE_ANSWERS) {
        const oldest = late.keys().next().value as number;
        late.delete(oldest);
      }
    }
    this.abandon(id, error);
  }

  /** A Reply, Error or Canceled: settles the call it answers. */
  onAnswer(msg: Message): void {
    const entry = this.pending.get(msg.id);
    if (!entry) {
      // An answer to an abandoned (timed-out or cancelled) call: dropped, unless asked for.
      const late = this.lateAnswers?.get(msg.id);
      if (late) {
        this.lateAnswers?.delete(msg.id);
        late(msg);
      }
      return;
    }
    this.settle(msg.id, entry);
    if (msg.type === MessageType.Reply) entry.resolve(msg);
    else if (msg.type === MessageType.Error) {
      entry.reject(
        new QiError("ERR_REMOTE", decodeErrorPayload(msg.payload), {
          ...addressDetails(entry.address),
          remote: true,
          peer: this.conn.peer,
        }),
      );
    } else entry.reject(canceledError(entry.address));
  }

  /** The connection closed: every call waiting fails at once with the reason (spec §5.3), nothing hangs. */
  failAll(reason: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.lateAnswers = undefined;
    for (const entry of pending) {
      clearTimeout(entry.timer);
      entry.cleanup?.();
      entry.reject(
        new QiError("ERR_DISCONNECTED", `call failed, ${reason.message}`, {
          ...addressDetails(entry.address),
          peer: this.conn.peer,
          cause: reason,
        }),
      );
    }
  }

  private settle(id: number, entry: PendingCall): void {
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.cleanup?.();
  }

  /** Gives up on a call locally; tells the callee to cancel when it can (spec §5.5). */
  private abandon(id: number, error: Error): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.settle(id, entry);
    if (this.conn.shared(Capability.RemoteCancelableCalls)) {
      this.conn.send({
        id: nextMessageId(),
        type: MessageType.Cancel,
        flags: 0,
        service: entry.address.service,
        object: entry.address.object,
        action: 0,
        payload: cancelPayload(id),
      });
    }
    entry.reject(error);
  }
}
