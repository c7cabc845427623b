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

/**
 * Whoever waits for the answer of one call of ours: told synchronously, from the connection's
 * intake, with the answer message as received (Reply, Error or Canceled), or with the error
 * that ended the call here (a timeout, cancel(), the connection's end). A forwarder records
 * its forwarded call as one of these, answering it by id with no promise or closure per call.
 */
export interface CallWaiter {
  /** Where the call went: its Cancel goes there too, and errors name it. */
  readonly callee: Address;
  answered(answer: Message): void;
  failed(error: Error): void;
}

/** A call of ours whose caller awaits a promise (call(), startCall()). */
class PromisedCall implements CallWaiter {
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  cleanup: (() => void) | undefined = undefined;

  constructor(
    readonly callee: Address,
    private readonly peer: string,
    private readonly resolve: (m: Message) => void,
    private readonly reject: (e: Error) => void,
  ) {}

  answered(msg: Message): void {
    this.settle();
    if (msg.type === MessageType.Reply) this.resolve(msg);
    else if (msg.type === MessageType.Error) {
      this.reject(
        new QiError("ERR_REMOTE", decodeErrorPayload(msg.payload), {
          ...addressDetails(this.callee),
          remote: true,
          peer: this.peer,
        }),
      );
    } else this.reject(canceledError(this.callee));
  }

  failed(error: Error): void {
    this.settle();
    this.reject(error);
  }

  private settle(): void {
    clearTimeout(this.timer);
    this.cleanup?.();
  }
}

export class OutgoingCalls {
  private readonly pending = new Map<number, CallWaiter>();
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
    if (this.pending.size >= this.maxPendingCalls) return { id: 0, answer: Promise.reject(this.overLimit()) };
    if (options.signal?.aborted) return { id: 0, answer: Promise.reject(canceledError(address)) };
    const id = nextMessageId();
    const answer = new Promise<Message>((resolve, reject) => {
      const entry = new PromisedCall(address, this.conn.peer, resolve, reject);
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
      this.sendCall(id, address, options.flags ?? 0, payload);
    });
    return { id, answer };
  }

  /**
   * A call answered to `waiter` (see CallWaiter): no promise, no timer. Returns its message
   * id, or the error that refused it (over maxPendingCalls), unsent; `waiter` is not called then.
   */
  startFor(waiter: CallWaiter, payload: Payload, flags: number): number | QiError {
    if (this.pending.size >= this.maxPendingCalls) return this.overLimit();
    const id = nextMessageId();
    this.pending.set(id, waiter);
    this.sendCall(id, waiter.callee, flags, payload);
    return id;
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
    if (entry === undefined) {
      // An answer to an abandoned (timed-out or cancelled) call: dropped, unless asked for.
      const late = this.lateAnswers?.get(msg.id);
      if (late) {
        this.lateAnswers?.delete(msg.id);
        late(msg);
      }
      return;
    }
    this.pending.delete(msg.id);
    entry.answered(msg);
  }

  /** The connection closed: every call waiting fails at once with the reason (spec §5.3), nothing hangs. */
  failAll(reason: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.lateAnswers = undefined;
    for (const entry of pending) {
      entry.failed(
        new QiError("ERR_DISCONNECTED", `call failed, ${reason.message}`, {
          ...addressDetails(entry.callee),
          peer: this.conn.peer,
          cause: reason,
        }),
      );
    }
  }

  private overLimit(): QiError {
    const max = this.maxPendingCalls;
    return new QiError("ERR_LIMIT", `too many pending calls on ${this.conn.peer} (limit ${max})`, {
      peer: this.conn.peer,
    });
  }

  private sendCall(id: number, address: Address, flags: number, payload: Payload): void {
    this.conn.send(
      withPayload(
        {
          id,
          type: MessageType.Call,
          flags,
          service: address.service,
          object: address.object,
          action: address.action,
        },
        payload,
      ),
    );
  }

  /** Gives up on a call locally; tells the callee to cancel when it can (spec §5.5). */
  private abandon(id: number, error: Error): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    this.pending.delete(id);
    if (this.conn.shared(Capability.RemoteCancelableCalls)) {
      this.conn.send({
        id: nextMessageId(),
        type: MessageType.Cancel,
        flags: 0,
        service: entry.callee.service,
        object: entry.callee.object,
        action: 0,
        payload: cancelPayload(id),
      });
    }
    entry.failed(error);
  }
}
