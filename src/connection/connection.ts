/**
 * One qi connection over a channel, composed of its parts along libqi's seams:
 * - control.ts: the handshake — authentication and capabilities (spec §5.1, §5.2);
 * - outgoing.ts: our calls — message ids, the pending table, timeouts, Cancel (§5.3, §5.5);
 * - incoming.ts: the peer's requests — admission, the attached request steps, answers, events;
 * - attach.ts: how higher layers attach (typed slots, ordered request stages);
 * - options.ts: the options, resolved once.
 * Calls flow both ways on every connection (ClientServerSocket), so a client connection also
 * serves requests. An idle authenticated connection holds its channel, its resolved options,
 * the peer's capabilities and what higher layers attached: every other part is made on first
 * use, and the handshake's state is dropped once it is done.
 */
import type { Channel } from "../transport/index.js";
import { type Payload, withPayload } from "../wire/index.js";
import { nextMessageId } from "../wire/index.js";
import { type Message, MessageFlags, MessageType } from "../wire/index.js";
import { attachConflict, type ConnectionSlot, type RequestStage, type RequestStep } from "./attach.js";
import { sharedCapability } from "./capabilities.js";
import {
  answerServerServiceCall,
  Handshake,
  type HandshakeHooks,
  mergeCapabilityMessage,
} from "./control.js";
import { QiError } from "./errors.js";
import { mergedKnownCapabilities, NO_CAPABILITIES } from "./handshake-map.js";
import { type EventHandler, IncomingRequests } from "./incoming.js";
import {
  type Address,
  closedConnectionError,
  encodeErrorPayload,
  errorText,
  SERVER_SERVICE,
} from "./messages.js";
import {
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from "./options.js";
import { type CallOptions, type CallWaiter, OutgoingCalls, type StartedCall } from "./outgoing.js";

export type { EventHandler } from "./incoming.js";
export {
  type Address,
  AUTHENTICATE_ACTION,
  addressKey,
  canceledCallId,
  decodeErrorPayload,
  encodeCapabilityMap,
  encodeErrorPayload,
  errorText,
  SERVER_SERVICE,
} from "./messages.js";
export {
  type ConnectionOptions,
  DEFAULT_MAX_INCOMING_CALLS,
  DEFAULT_MAX_QUEUED_BYTES,
  HANDSHAKE_MAX_PAYLOAD,
  MAX_HELD_BYTES,
} from "./options.js";
export type { CallOptions, CallWaiter, StartedCall } from "./outgoing.js";
export { MessageFlags };

type State = "handshaking" | "ready" | "closed";

/** The answer ready() gives once the handshake is done: one promise for every connection. */
const READY: Promise<void> = Promise.resolve();

export class Connection {
  readonly channel: Channel;
  readonly role: "client" | "server";
  readonly options: ResolvedConnectionOptions;
  /** What the peer advertised (known keys only); shared between peers that advertised the same. */
  private remoteCaps: ReadonlyMap<string, unknown> = NO_CAPABILITIES;
  /** Who the peer authenticated as (server side), when the provider said so. */
  identity: string | undefined = undefined;

  private state: State = "handshaking";
  /** The handshake, while it runs (and, after a failed one, for its rejected ready()). */
  private control: Handshake | undefined;
  private outgoing: OutgoingCalls | undefined = undefined;
  private incoming: IncomingRequests | undefined = undefined;
  /** Attached state: slot, value, slot, value… (a layer or two: smaller than a Map). */
  private slots: unknown[] | undefined = undefined;
  private closeListeners: Array<(reason: Error) => void> | undefined = undefined;
  private closeReason: Error | undefined = undefined;

  constructor(channel: Channel, options: ConnectionOptions) {
    this.channel = channel;
    this.options = resolveConnectionOptions(options);
    this.role = this.options.role;
    const hooks: HandshakeHooks = {
      accepted: (identity) => {
        this.identity = identity;
        this.state = "ready";
      },
      route: (msg) => this.route(msg),
      deliver: (msg) => this.onMessage(msg),
      finished: () => {
        if (this.state === "ready") this.control = undefined;
      },
    };
    this.control = new Handshake(this, this.options, hooks);
    channel.onMessage((m) => this.onMessage(m));
    channel.onClose((reason) => this.onChannelClosed(reason));
    this.control.start();
  }

  get localCapabilities(): ReadonlyMap<string, unknown> {
    return this.options.capabilities;
  }

  get remoteCapabilities(): ReadonlyMap<string, unknown> {
    return this.remoteCaps;
  }

  /** Merges capabilities the peer advertised (the handshake's, and Capability messages). */
  learnCapabilities(advertised: Map<string, unknown>): void {
    this.remoteCaps = mergedKnownCapabilities(this.remoteCaps, advertised);
  }

  /** Resolves once the handshake is done; rejects if it fails. */
  ready(): Promise<void> {
    return this.control?.ready ?? READY;
  }

  get isReady(): boolean {
    return this.state === "ready";
  }

  get isClosed(): boolean {
    return this.state === "closed";
  }

  get peer(): string {
    return this.channel.remoteUrl;
  }

  get pendingCalls(): number {
    return this.outgoing?.size ?? 0;
  }

  shared(capability: string): boolean {
    return sharedCapability(this.options.capabilities, this.remoteCapabilities, capability);
  }

  // --- attaching (attach.ts) --------------------------------------------------------------

  /** Stores a layer's state under its slot; a slot already taken is an ERR_CONFLICT. */
  attach<T>(slot: ConnectionSlot<T>, value: T): T {
    if (this.attached(slot) !== undefined) throw attachConflict(`"${slot.name}"`, this.peer);
    if (value === undefined) throw new TypeError(`attach: no value for slot "${slot.name}"`);
    this.slots ??= [];
    this.slots.push(slot, value);
    return value;
  }

  /** A layer's state stored with attach(), if any. */
  attached<T>(slot: ConnectionSlot<T>): T | undefined {
    const slots = this.slots;
    if (slots === undefined) return undefined;
    for (let i = 0; i < slots.length; i += 2) if (slots[i] === slot) return slots[i + 1] as T;
    return undefined;
  }

  /**
   * Adds the request step of a stage ("route" runs before "serve", whatever the order they are
   * attached in); a stage already taken is an ERR_CONFLICT. Returns the function that detaches it.
   */
  attachRequests(stage: RequestStage, step: RequestStep): () => void {
    return this.requests().attach(stage, step);
  }

  setEventHandler(service: number, object: number, handler: EventHandler | undefined): void {
    if (handler === undefined && this.incoming === undefined) return;
    this.requests().setEventHandler(service, object, handler);
  }

  onClose(listener: (reason: Error) => void): void {
    const reason = this.closeReason;
    if (reason) queueMicrotask(() => listener(reason));
    else if (this.closeListeners) this.closeListeners.push(listener);
    else this.closeListeners = [listener];
  }

  // --- calls of ours (outgoing.ts) --------------------------------------------------------

  /** Sends a Call and resolves with the Reply message; rejects with a QiError otherwise. */
  call(address: Address, payload: Payload, options: CallOptions = {}): Promise<Message> {
    return this.startCall(address, payload, options).answer;
  }

  /**
   * Like call(), and tells the message id of the Call, so that a forwarder can give up on it
   * later with cancelCall() without the cost of an AbortSignal per call.
   */
  startCall(address: Address, payload: Payload, options: CallOptions = {}): StartedCall {
    if (this.state === "closed")
      return { id: 0, answer: Promise.reject(closedConnectionError(this.peer, address, this.closeReason)) };
    this.outgoing ??= new OutgoingCalls(this, this.options.maxPendingCalls);
    return this.outgoing.start(address, payload, options);
  }

  /**
   * Starts a call answered to `waiter` (outgoing.ts CallWaiter) from this connection's intake,
   * with no promise, closure or timer per call: the forwarder's path. Returns the message id,
   * or the error that refused the call (closed, too many pending), unsent; `waiter` is then
   * not called. Give up on it with cancelCall(), which calls `waiter.failed` at once.
   */
  startCallFor(waiter: CallWaiter, payload: Payload, flags: number): number | QiError {
    if (this.state === "closed") return closedConnectionError(this.peer, waiter.callee, this.closeReason);
    this.outgoing ??= new OutgoingCalls(this, this.options.maxPendingCalls);
    return this.outgoing.startFor(waiter, payload, flags);
  }

  /**
   * Gives up on a call of ours: its promise rejects with `error` now, and the callee is sent a
   * Cancel when it understands one (spec §5.5). Unknown or answered ids are ignored.
   */
  cancelCall(id: number, error: Error, onLateAnswer?: (answer: Message) => void): void {
    this.outgoing?.cancel(id, error, onLateAnswer);
  }

  post(address: Address, payload: Payload, flags = 0): void {
    if (this.state === "closed") return;
    this.send(
      withPayload(
        {
          id: nextMessageId(),
          type: MessageType.Post,
          flags,
          service: address.service,
          object: address.object,
          action: address.action,
        },
        payload,
      ),
    );
  }

  sendEvent(address: Address, payload: Payload, flags = 0): boolean {
    if (this.state === "closed") return false;
    return this.sendOwed(
      withPayload(
        {
          id: nextMessageId(),
          type: MessageType.Event,
          flags,
          service: address.service,
          object: address.object,
          action: address.action,
        },
        payload,
      ),
    );
  }

  // --- answers to the peer's calls (incoming.ts) ------------------------------------------

  /** Answers a Call at its full address (spec §1.5: id, service, object and action copied). */
  reply(call: Message, payload: Payload, flags = 0): void {
    this.requests().answer(call, MessageType.Reply, payload, flags);
  }

  replyError(call: Message, text: string): void {
    this.requests().answer(call, MessageType.Error, encodeErrorPayload(text), 0);
  }

  /**
   * Relays an answer (Reply, Error, Canceled) to one of the peer's calls in progress: `answer`'s
   * header already names that call (id, service, object, action: a forwarder rewrote the
   * callee's answer in place), and it is sent as it is. The call is no longer in progress.
   */
  relayAnswer(answer: Message): void {
    this.requests().relay(answer);
  }

  replyCanceled(call: Message): void {
    this.requests().canceled(call);
  }

  // --- sending and closing ----------------------------------------------------------------

  /** Sends a raw message as it is (the gateway forwards with this). */
  send(msg: Message): boolean {
    if (this.state === "closed" || this.channel.closed) return false;
    return this.channel.send(msg);
  }

  /**
   * Sends an answer or an event: what a peer that stopped reading makes pile up, so it is
   * disconnected once over maxQueuedBytes. Calls of our own are not checked (their caller waits).
   */
  sendOwed(msg: Message): boolean {
    const ok = this.send(msg);
    const limit = this.options.maxQueuedBytes;
    if (!ok && this.channel.bufferedBytes > limit) {
      this.destroy(
        new QiError(
          "ERR_LIMIT",
          `${this.peer} does not read: over ${limit} bytes of answers and events queued`,
          {
            peer: this.peer,
          },
        ),
      );
      return false;
    }
    return ok;
  }

  close(reason?: Error): void {
    if (this.state === "closed") return;
    this.finish(
      reason ?? new QiError("ERR_CLOSED", `connection to ${this.peer} closed`, { peer: this.peer }),
    );
    this.channel.close();
  }

  /** Closes at once, dropping what is queued (for a peer that stopped reading). */
  destroy(reason: Error): void {
    if (this.state === "closed") return;
    this.finish(reason);
    this.channel.destroy(reason);
  }

  // --- receiving --------------------------------------------------------------------------

  private requests(): IncomingRequests {
    this.incoming ??= new IncomingRequests(this, this.options.maxIncomingCalls);
    return this.incoming;
  }

  private onMessage(msg: Message): void {
    if (this.state === "closed") return;
    try {
      const control = this.control;
      if (control !== undefined) control.onMessage(msg);
      else this.route(msg);
    } catch (e) {
      // A message we cannot make sense of must not take the process down (it is the peer's
      // fault); answer what can be answered and keep serving.
      if (msg.type === MessageType.Call) this.replyError(msg, errorText(e));
    }
  }

  /** A message on an authenticated connection: to the part it belongs to. */
  private route(msg: Message): void {
    switch (msg.type) {
      case MessageType.Reply:
      case MessageType.Error:
      case MessageType.Canceled:
        this.outgoing?.onAnswer(msg);
        return;
      case MessageType.Call:
        if (msg.service === SERVER_SERVICE) answerServerServiceCall(this, msg);
        else this.requests().onCall(msg);
        return;
      case MessageType.Post:
      case MessageType.Cancel:
        if (msg.service !== SERVER_SERVICE) this.requests().dispatch(msg);
        return;
      case MessageType.Event:
        this.incoming?.onEvent(msg);
        return;
      case MessageType.Capability:
        mergeCapabilityMessage(this, msg.payload);
        return;
      default:
        return;
    }
  }

  // --- closing ----------------------------------------------------------------------------

  private onChannelClosed(reason: Error | undefined): void {
    this.finish(
      new QiError(
        "ERR_DISCONNECTED",
        `connection to ${this.peer} lost${reason ? `: ${reason.message}` : ""}`,
        {
          peer: this.peer,
          cause: reason,
        },
      ),
    );
  }

  private finish(reason: Error): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closeReason = reason;
    this.control?.closed(reason);
    this.outgoing?.failAll(reason);
    this.incoming?.clear();
    const listeners = this.closeListeners;
    this.closeListeners = undefined;
    if (listeners) for (const listener of listeners) listener(reason);
  }
}
