/**
 * One qi connection over a channel: the handshake (spec §5.1), capabilities (§5.2), message
 * ids and the pending-call table (§1.5, §5.3), Cancel (§5.5), and routing of incoming
 * requests and events to whoever registered for them. Calls flow both ways on every
 * connection (ClientServerSocket), so a client connection also serves requests.
 */
import type { Channel } from "../transport/index.js";
import { decode, encode } from "../wire/index.js";
import type { CodecContext } from "../wire/index.js";
import { nextMessageId } from "../wire/index.js";
import { DEFAULT_MAX_PAYLOAD, HEADER_SIZE, type Message, MessageFlags, MessageType } from "../wire/index.js";
import { Dynamic } from "../wire/index.js";
import {
  AUTH_ERROR_REASON_KEY,
  AUTH_STATE_KEY,
  type AuthData,
  type AuthProvider,
  type AuthProviderOption,
  type AuthResult,
  AuthState,
  type ClientAuthenticator,
  DEFAULT_MAX_AUTH_ROUNDS,
  nullAuthProvider,
  prefixAuthKeys,
  providerFor,
  unprefixAuthKeys,
} from "./auth.js";
import {
  Capability,
  type CapabilityMap,
  defaultCapabilities,
  sharedCapability,
  toWireMap,
} from "./capabilities.js";
import { QiError } from "./errors.js";
import {
  type ComplexValuePolicy,
  decodeHandshakeMap,
  MAX_HANDSHAKE_CAPABILITY_MESSAGES,
  mergeKnownCapabilities,
} from "./handshake-map.js";

export const SERVER_SERVICE = 0;
export const AUTHENTICATE_ACTION = 8;
const EMPTY = new Uint8Array(0);
const CAPABILITY_MAP_SIGNATURE = "{sm}";
const CAPABILITY_MESSAGE_POLICY: ComplexValuePolicy = "stop";
/** Abandoned calls whose late answer is still watched for (cancelCall's onLateAnswer). */
const MAX_LATE_ANSWERS = 4_096;

export interface Address {
  service: number;
  object: number;
  action: number;
}

export interface ConnectionOptions {
  role: "client" | "server";
  capabilities?: CapabilityMap;
  /** Client: credentials for the handshake. */
  authenticator?: ClientAuthenticator;
  /**
   * Server: checks credentials; default accepts everyone. One provider shared by all
   * connections, or a factory (a function) called once for this connection (AuthProviderOption).
   */
  authProvider?: AuthProviderOption;
  /**
   * Both: authenticate calls accepted (server) or sent (client) in one handshake; a peer that
   * still answers Continue after that many is refused. Default 10 (DEFAULT_MAX_AUTH_ROUNDS).
   */
  maxAuthRounds?: number;
  /** Server: a peer that skips authentication is refused instead of accepted (spec §5.1). */
  enforceAuth?: boolean;
  /** Both: how long the handshake may take. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Calls of ours that may wait for an answer at once. Default 10,000. */
  maxPendingCalls?: number;
  /** Largest payload accepted once the handshake is done (default 50 MB, spec §1.7). */
  maxPayload?: number;
  /**
   * Bytes of answers and events queued toward the peer above which it is disconnected: a peer
   * that pipelines calls (or subscribes) and never reads must not grow our memory without
   * bound. Default 128 MiB. Calls of our own are not checked (their caller waits anyway).
   */
  maxQueuedBytes?: number;
  /**
   * Calls received and not yet answered above which new ones are refused with an Error.
   * Default 100,000 (DEFAULT_MAX_INCOMING_CALLS).
   */
  maxIncomingCalls?: number;
}

export const DEFAULT_MAX_QUEUED_BYTES = 128 * 1024 * 1024;

/**
 * Calls of the peer's that may be in progress at once on one connection (not yet answered),
 * whatever layer serves them: a backstop under the object layer's and the gateway's own limits.
 */
export const DEFAULT_MAX_INCOMING_CALLS = 100_000;

/**
 * Bytes of messages held while a server-side auth provider decides (e.g. scrypt): a client that
 * keeps sending meanwhile is refused rather than buffered without bound.
 */
export const MAX_HELD_BYTES = 256 * 1024;

/**
 * Server side, before authentication a peer may only send handshake-sized messages, so an
 * anonymous client cannot make us allocate `maxPayload` bytes per connection.
 */
export const HANDSHAKE_MAX_PAYLOAD = 64 * 1024;

export interface CallOptions {
  flags?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Receives Call, Post and Cancel messages addressed to objects served on this connection. */
export type RequestHandler = (msg: Message, conn: Connection) => void;
/** Receives Event messages for one remote object (service, object). */
export type EventHandler = (msg: Message) => void;

interface PendingCall {
  resolve: (m: Message) => void;
  reject: (e: Error) => void;
  address: Address;
  timer: ReturnType<typeof setTimeout> | undefined;
  cleanup: (() => void) | undefined;
}

type State = "handshaking" | "ready" | "closed";

export class Connection {
  readonly channel: Channel;
  readonly role: "client" | "server";
  readonly localCapabilities: CapabilityMap;
  readonly remoteCapabilities: CapabilityMap = new Map();
  /** Who the peer authenticated as (server side), when the provider said so. */
  identity: string | undefined;
  /** Hooks the object layer installs so `o` values are exported and imported per connection. */
  objectHooks: Pick<CodecContext, "exportObject" | "importObject"> = {};
  /** Anything a higher layer wants to hang on this connection (gateway client state, …). */
  readonly attachments = new Map<string, unknown>();

  private state: State = "handshaking";
  private readonly pending = new Map<number, PendingCall>();
  /**
   * Calls given up on whose answer may still come and still matters (cancelCall's
   * `onLateAnswer`): a forwarder must release the objects a late Reply carries, or the callee
   * keeps them exported for the life of the connection. Bounded: a callee that never answers
   * must not grow it.
   */
  private readonly lateAnswers = new Map<number, (answer: Message) => void>();
  private readonly eventHandlers = new Map<string, EventHandler>();
  private requestHandler: RequestHandler | undefined;
  private readonly closeListeners: Array<(reason: Error) => void> = [];
  private closeReason: Error | undefined;
  private readonly options: ConnectionOptions;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private authCallId = 0;
  /** Authenticate calls received (server) or sent (client) so far in the handshake. */
  private authRounds = 0;
  /** Server: this connection's provider, made at its first authenticate call. */
  private authProvider: AuthProvider | undefined;
  private capabilitiesSent = false;
  /** Messages that arrived while a server-side auth provider was still deciding. */
  private held: Message[] | undefined;
  private heldBytes = 0;
  /** Capability messages received during the handshake (MAX_HANDSHAKE_CAPABILITY_MESSAGES). */
  private handshakeCapabilityMessages = 0;
  /**
   * Ids of the peer's calls dispatched and not answered yet: a second call with an id still in
   * progress is refused, so limits keyed by message id (served calls, forwarded calls) cannot
   * be bypassed by reusing one, and answers always reach the right caller.
   */
  private readonly incomingCalls = new Set<number>();

  constructor(channel: Channel, options: ConnectionOptions) {
    this.channel = channel;
    this.role = options.role;
    this.options = options;
    this.localCapabilities = options.capabilities ?? defaultCapabilities();
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => {});
    if (this.role === "server")
      channel.setMaxPayload(Math.min(HANDSHAKE_MAX_PAYLOAD, options.maxPayload ?? DEFAULT_MAX_PAYLOAD));
    channel.onMessage((m) => this.onMessage(m));
    channel.onClose((reason) => this.onChannelClosed(reason));
    this.handshakeTimer = setTimeout(() => {
      this.close(new QiError("ERR_TIMEOUT", `handshake with ${this.peer} timed out`, { peer: this.peer }));
    }, options.handshakeTimeoutMs ?? 10_000);
    this.handshakeTimer.unref?.();
    if (this.role === "client") this.sendAuthenticate(options.authenticator?.initialAuthData() ?? new Map());
  }

  /** Resolves once the handshake is done; rejects if it fails. */
  ready(): Promise<void> {
    return this.readyPromise;
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
    return this.pending.size;
  }

  shared(capability: string): boolean {
    return sharedCapability(this.localCapabilities, this.remoteCapabilities, capability);
  }

  /** The codec context for payloads on this connection (object uids, object hooks). */
  codecContext(): CodecContext {
    return { objectUid: this.shared(Capability.ObjectPtrUID), ...this.objectHooks };
  }

  setRequestHandler(handler: RequestHandler | undefined): void {
    this.requestHandler = handler;
  }

  setEventHandler(service: number, object: number, handler: EventHandler | undefined): void {
    const key = addressKey(service, object);
    if (handler) this.eventHandlers.set(key, handler);
    else this.eventHandlers.delete(key);
  }

  onClose(listener: (reason: Error) => void): void {
    if (this.closeReason) queueMicrotask(() => listener(this.closeReason!));
    else this.closeListeners.push(listener);
  }

  /** Sends a Call and resolves with the Reply message; rejects with a QiError otherwise. */
  call(address: Address, payload: Uint8Array, options: CallOptions = {}): Promise<Message> {
    return this.startCall(address, payload, options).answer;
  }

  /**
   * Like call(), and tells the message id of the Call, so that a forwarder can give up on it
   * later with cancelCall() without the cost of an AbortSignal per call.
   */
  startCall(
    address: Address,
    payload: Uint8Array,
    options: CallOptions = {},
  ): { id: number; answer: Promise<Message> } {
    if (this.state === "closed") return { id: 0, answer: Promise.reject(this.closedError(address)) };
    const max = this.options.maxPendingCalls ?? 10_000;
    if (this.pending.size >= max) {
      const error = new QiError("ERR_LIMIT", `too many pending calls on ${this.peer} (limit ${max})`, {
        peer: this.peer,
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
            new QiError("ERR_TIMEOUT", `call timed out after ${options.timeoutMs} ms`, details(address)),
          );
        }, options.timeoutMs);
      }
      const signal = options.signal;
      if (signal) {
        const onAbort = () => this.abandon(id, canceledError(address));
        signal.addEventListener("abort", onAbort, { once: true });
        entry.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.send({
        id,
        type: MessageType.Call,
        flags: options.flags ?? 0,
        service: address.service,
        object: address.object,
        action: address.action,
        payload,
      });
    });
    return { id, answer };
  }

  /**
   * Gives up on a call of ours: its promise rejects with `error` now, and the callee is sent a
   * Cancel when it understands one (spec §5.5). Unknown or answered ids are ignored.
   */
  cancelCall(id: number, error: Error, onLateAnswer?: (answer: Message) => void): void {
    if (onLateAnswer && this.pending.has(id)) {
      this.lateAnswers.set(id, onLateAnswer);
      if (this.lateAnswers.size > MAX_LATE_ANSWERS) {
        const oldest = this.lateAnswers.keys().next().value as number;
        this.lateAnswers.delete(oldest);
      }
    }
    this.abandon(id, error);
  }

  post(address: Address, payload: Uint8Array, flags = 0): void {
    if (this.state === "closed") return;
    this.send({
      id: nextMessageId(),
      type: MessageType.Post,
      flags,
      service: address.service,
      object: address.object,
      action: address.action,
      payload,
    });
  }

  sendEvent(address: Address, payload: Uint8Array, flags = 0): boolean {
    if (this.state === "closed") return false;
    return this.sendOwed({
      id: nextMessageId(),
      type: MessageType.Event,
      flags,
      service: address.service,
      object: address.object,
      action: address.action,
      payload,
    });
  }

  /** Answers a Call at its full address (spec §1.5: id, service, object and action copied). */
  reply(call: Message, payload: Uint8Array, flags = 0): void {
    this.answer(call, MessageType.Reply, payload, flags);
  }

  replyError(call: Message, text: string): void {
    this.answer(call, MessageType.Error, encodeErrorPayload(text), 0);
  }

  replyCanceled(call: Message): void {
    // Without the shared capability the peer does not know Canceled (spec §5.3).
    if (this.shared(Capability.RemoteCancelableCalls)) this.answer(call, MessageType.Canceled, EMPTY, 0);
    else this.replyError(call, "Call has been canceled.");
  }

  /** Sends a raw message as it is (the gateway forwards with this). */
  send(msg: Message): boolean {
    if (this.state === "closed" || this.channel.closed) return false;
    return this.channel.send(msg);
  }

  /** An answer or an event: what a peer that stopped reading makes pile up (maxQueuedBytes). */
  private sendOwed(msg: Message): boolean {
    const ok = this.send(msg);
    const limit = this.options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    if (!ok && this.channel.bufferedBytes > limit) {
      this.destroy(
        new QiError(
          "ERR_LIMIT",
          `${this.peer} does not read: over ${limit} bytes of answers and events queued`,
          { peer: this.peer },
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

  // --- incoming ---------------------------------------------------------------------------

  private onMessage(msg: Message): void {
    if (this.state === "closed") return;
    try {
      if (this.held) {
        this.hold(msg);
        return;
      }
      if (this.state === "handshaking") {
        this.onHandshakeMessage(msg);
        return;
      }
      this.route(msg);
    } catch (e) {
      // A message we cannot make sense of must not take the process down (it is the peer's
      // fault); answer what can be answered and keep serving.
      if (msg.type === MessageType.Call) this.replyError(msg, errorText(e));
    }
  }

  private route(msg: Message): void {
    switch (msg.type) {
      case MessageType.Reply:
      case MessageType.Error:
      case MessageType.Canceled:
        this.onAnswer(msg);
        return;
      case MessageType.Call:
        if (msg.service === SERVER_SERVICE) {
          this.onServerServiceCall(msg);
          return;
        }
        if (this.admitCall(msg)) this.dispatchRequest(msg);
        return;
      case MessageType.Post:
      case MessageType.Cancel:
        if (msg.service !== SERVER_SERVICE) this.dispatchRequest(msg);
        return;
      case MessageType.Event:
        this.eventHandlers.get(addressKey(msg.service, msg.object))?.(msg);
        return;
      case MessageType.Capability:
        this.mergeRemoteCapabilities(msg.payload);
        return;
      default:
        return;
    }
  }

  /**
   * Records an incoming Call as in progress, or refuses it (an Error answer that leaves the
   * original call alone) when its id is already in progress or too many calls are.
   */
  private admitCall(msg: Message): boolean {
    const calls = this.incomingCalls;
    if (calls.has(msg.id)) {
      this.refuseCall(
        msg,
        `duplicate message id ${msg.id}: a call with this id is still in progress on this connection`,
      );
      return false;
    }
    const max = this.options.maxIncomingCalls ?? DEFAULT_MAX_INCOMING_CALLS;
    if (calls.size >= max) {
      this.refuseCall(msg, `Too many calls in progress on this connection (limit ${max}).`);
      return false;
    }
    calls.add(msg.id);
    return true;
  }

  /** An Error answer that does not count as the answer of a call in progress with the same id. */
  private refuseCall(msg: Message, text: string): void {
    this.sendOwed({
      id: msg.id,
      type: MessageType.Error,
      flags: 0,
      service: msg.service,
      object: msg.object,
      action: msg.action,
      payload: encodeErrorPayload(text),
    });
  }

  /** Holds a message until the auth provider has decided; a peer that floods meanwhile is refused. */
  private hold(msg: Message): void {
    this.heldBytes += HEADER_SIZE + msg.payload.byteLength;
    if (this.heldBytes > MAX_HELD_BYTES) {
      this.fail(
        new QiError(
          "ERR_HANDSHAKE",
          `${this.peer} sent over ${MAX_HELD_BYTES} bytes while its authentication was being checked`,
          { peer: this.peer },
        ),
      );
      return;
    }
    this.held?.push(msg);
  }

  private dispatchRequest(msg: Message): void {
    if (this.requestHandler) this.requestHandler(msg, this);
    else if (msg.type === MessageType.Call) this.replyError(msg, "The call request could not be handled.");
  }

  private onAnswer(msg: Message): void {
    const entry = this.pending.get(msg.id);
    if (!entry) {
      // An answer to an abandoned (timed-out or cancelled) call: dropped, unless asked for.
      const late = this.lateAnswers.get(msg.id);
      if (late) {
        this.lateAnswers.delete(msg.id);
        late(msg);
      }
      return;
    }
    this.settle(msg.id, entry);
    if (msg.type === MessageType.Reply) entry.resolve(msg);
    else if (msg.type === MessageType.Error) {
      entry.reject(
        new QiError("ERR_REMOTE", decodeErrorPayload(msg.payload), {
          ...details(entry.address),
          remote: true,
          peer: this.peer,
        }),
      );
    } else entry.reject(canceledError(entry.address));
  }

  /** Calls to service 0 after the handshake: only authenticate exists; answer it Done. */
  private onServerServiceCall(msg: Message): void {
    if (msg.action === AUTHENTICATE_ACTION) {
      this.reply(msg, encodeCapabilityMap(new Map([[AUTH_STATE_KEY, new Dynamic("I", AuthState.Done)]])));
    } else {
      this.replyError(msg, "The call request could not be handled.");
    }
  }

  // --- handshake --------------------------------------------------------------------------

  private sendAuthenticate(authData: Map<string, unknown>): void {
    const map = new Map<string, unknown>();
    if (!this.capabilitiesSent) for (const [k, v] of this.localCapabilities) map.set(k, v);
    this.capabilitiesSent = true;
    for (const [k, v] of prefixAuthKeys(authData)) map.set(k, v);
    this.authRounds++;
    this.authCallId = nextMessageId();
    this.channel.send({
      id: this.authCallId,
      type: MessageType.Call,
      flags: 0,
      service: SERVER_SERVICE,
      object: 0,
      action: AUTHENTICATE_ACTION,
      payload: encodeCapabilityMap(map),
    });
  }

  private onHandshakeMessage(msg: Message): void {
    if (msg.type === MessageType.Capability) {
      if (++this.handshakeCapabilityMessages > MAX_HANDSHAKE_CAPABILITY_MESSAGES) {
        this.fail(
          new QiError(
            "ERR_HANDSHAKE",
            `${this.peer} sent more than ${MAX_HANDSHAKE_CAPABILITY_MESSAGES} Capability messages during the handshake`,
            { peer: this.peer },
          ),
        );
        return;
      }
      this.mergeRemoteCapabilities(msg.payload);
      return;
    }
    if (this.role === "client") this.onClientHandshakeMessage(msg);
    else this.onServerHandshakeMessage(msg);
  }

  private onClientHandshakeMessage(msg: Message): void {
    const isAuthAnswer = msg.service === SERVER_SERVICE && msg.action === AUTHENTICATE_ACTION;
    if (!isAuthAnswer) {
      // A server may call us back before our handshake is over (ClientServerSocket);
      // nothing is bound before authentication on the server side either, so refuse.
      if (msg.type === MessageType.Call) this.replyError(msg, "The call request could not be handled.");
      return;
    }
    if (msg.type === MessageType.Error) {
      this.fail(
        new QiError(
          "ERR_AUTH",
          `authentication refused by ${this.peer}: ${decodeErrorPayload(msg.payload)}`,
          { peer: this.peer, remote: true },
        ),
      );
      return;
    }
    if (msg.type !== MessageType.Reply) return;
    let map: Map<string, unknown>;
    try {
      map = decodeHandshakeMap(msg.payload, "refuse");
    } catch (e) {
      this.fail(
        new QiError(
          "ERR_HANDSHAKE",
          `${this.peer} answered authenticate with a malformed map: ${errorText(e)}`,
          {
            peer: this.peer,
            remote: true,
          },
        ),
      );
      return;
    }
    const state = map.get(AUTH_STATE_KEY);
    map.delete(AUTH_STATE_KEY);
    const serverData = unprefixAuthKeys(map);
    mergeKnownCapabilities(this.remoteCapabilities, map);
    if (state === AuthState.Done) {
      this.becomeReady();
    } else if (state === AuthState.Continue) {
      this.answerContinue(serverData);
    } else {
      const reason = serverData.get(AUTH_ERROR_REASON_KEY);
      this.fail(
        new QiError(
          "ERR_AUTH",
          `authentication with ${this.peer} failed: ${typeof reason === "string" ? reason : "Invalid authentication state token"}`,
          { peer: this.peer, remote: true },
        ),
      );
    }
  }

  /** Client: the server answered Continue; the authenticator makes the next round (libqi's loop). */
  private answerContinue(serverData: AuthData): void {
    const authenticator = this.options.authenticator;
    const fail = (why: string) =>
      this.fail(
        new QiError("ERR_AUTH", `authentication with ${this.peer} failed: ${why}`, {
          peer: this.peer,
          remote: true,
        }),
      );
    if (!authenticator?.processAuth) {
      fail(
        "the server asked for another round (auth state Continue) and this client's authenticator has no processAuth to answer it",
      );
      return;
    }
    if (this.authRounds >= this.maxAuthRounds) {
      fail(
        `the server still answered Continue after ${this.authRounds} rounds (limit ${this.maxAuthRounds})`,
      );
      return;
    }
    let next: AuthData;
    try {
      next = authenticator.processAuth(serverData);
    } catch (e) {
      fail(`the authenticator could not answer the server's challenge: ${errorText(e)}`);
      return;
    }
    // Later rounds carry the auth data only: capabilities went with the first (as libqi does).
    this.sendAuthenticate(next);
  }

  private get maxAuthRounds(): number {
    return this.options.maxAuthRounds ?? DEFAULT_MAX_AUTH_ROUNDS;
  }

  private onServerHandshakeMessage(msg: Message): void {
    const isAuthCall =
      msg.type === MessageType.Call && msg.service === SERVER_SERVICE && msg.action === AUTHENTICATE_ACTION;
    if (isAuthCall) {
      this.onAuthenticateCall(msg);
      return;
    }
    if (this.authRounds > 0) {
      // The provider answered Continue: a peer that started authenticating must finish first.
      // Being lenient here would let any call slip past a challenge it did not answer.
      this.refuseHandshake(
        msg,
        "Authentication in progress: only authenticate calls are accepted until it is done.",
        "ERR_AUTH",
        `${this.peer} sent a message before finishing its authentication`,
      );
      return;
    }
    if (this.options.enforceAuth) {
      this.refuseHandshake(
        msg,
        "Authentication required: send an authenticate call first.",
        "ERR_AUTH",
        `${this.peer} skipped the required authentication`,
      );
      return;
    }
    // Lenient like libqi 2.5: a peer that skips the handshake is accepted and told our
    // capabilities with a Capability message (spec §5.0, §5.1).
    this.send({
      id: nextMessageId(),
      type: MessageType.Capability,
      flags: 0,
      service: 0,
      object: 0,
      action: 0,
      payload: encodeCapabilityMap(this.localCapabilities),
    });
    this.capabilitiesSent = true;
    this.becomeReady();
    this.route(msg);
  }

  private onAuthenticateCall(msg: Message): void {
    let map: Map<string, unknown>;
    try {
      map = decodeHandshakeMap(msg.payload, "refuse");
    } catch (e) {
      // Not a capability map: nothing sensible can follow on this connection.
      this.refuseHandshake(
        msg,
        `Malformed authenticate call: ${errorText(e)}`,
        "ERR_HANDSHAKE",
        `${this.peer} sent a malformed authenticate call: ${errorText(e)}`,
      );
      return;
    }
    const clientData = unprefixAuthKeys(map);
    mergeKnownCapabilities(this.remoteCapabilities, map);
    this.authRounds++;
    const ctx = {
      remoteAddress: this.channel.remoteAddress,
      peerCertificateSubject: certificateSubject(this.channel),
    };
    const finish = (answer: AuthResult) => {
      if (this.state === "closed") return;
      const result = this.boundedAuthResult(answer);
      if (result.state === AuthState.Error) {
        const reason = result.reason ?? "refused";
        this.refuseHandshake(
          msg,
          `Authentication failed: ${reason}`,
          "ERR_AUTH",
          `${this.peer} failed authentication: ${reason}`,
        );
        return;
      }
      const reply = new Map<string, unknown>([[AUTH_STATE_KEY, new Dynamic("I", result.state)]]);
      for (const [k, v] of prefixAuthKeys(result.data ?? new Map())) reply.set(k, v);
      if (!this.capabilitiesSent) for (const [k, v] of this.localCapabilities) reply.set(k, v);
      this.capabilitiesSent = true;
      this.reply(msg, encodeCapabilityMap(reply));
      if (result.state === AuthState.Done) {
        this.identity = result.identity;
        this.becomeReady();
      }
    };
    let outcome: ReturnType<AuthProvider["processAuth"]>;
    try {
      this.authProvider ??= providerFor(this.options.authProvider ?? nullAuthProvider, ctx);
      outcome = this.authProvider.processAuth(clientData, ctx);
    } catch (e) {
      finish({ state: AuthState.Error, reason: errorText(e) });
      return;
    }
    if (outcome instanceof Promise) {
      // Hold whatever arrives meanwhile so nothing is dispatched before authentication.
      this.held = [];
      this.heldBytes = 0;
      outcome
        .then(finish, (e) => finish({ state: AuthState.Error, reason: errorText(e) }))
        .finally(() => {
          const held = this.held ?? [];
          this.held = undefined;
          for (const m of held) this.onMessage(m);
        });
    } else finish(outcome);
  }

  /** Server: answers a Call of the handshake with an Error, then ends the connection. */
  private refuseHandshake(
    msg: Message,
    replyText: string,
    code: "ERR_AUTH" | "ERR_HANDSHAKE",
    why: string,
  ): void {
    if (msg.type === MessageType.Call) this.replyError(msg, replyText);
    this.fail(new QiError(code, why, { peer: this.peer }));
  }

  /** Server: a provider's answer, made an Error when unknown or when Continue exceeds the round limit. */
  private boundedAuthResult(result: AuthResult): AuthResult {
    if (result.state === AuthState.Continue && this.authRounds >= this.maxAuthRounds)
      return {
        state: AuthState.Error,
        reason: `not done after ${this.authRounds} rounds (limit ${this.maxAuthRounds})`,
      };
    if (result.state !== AuthState.Done && result.state !== AuthState.Continue)
      return { state: AuthState.Error, reason: result.reason ?? "refused" };
    return result;
  }

  /**
   * A Capability message: advisory, so one we cannot read is ignored; values that are not
   * scalars end the reading (CAPABILITY_MESSAGE_POLICY) and are never decoded.
   */
  private mergeRemoteCapabilities(payload: Uint8Array): void {
    let map: Map<string, unknown>;
    try {
      map = decodeHandshakeMap(payload, CAPABILITY_MESSAGE_POLICY);
    } catch {
      return;
    }
    mergeKnownCapabilities(this.remoteCapabilities, map);
  }

  private becomeReady(): void {
    if (this.state !== "handshaking") return;
    this.state = "ready";
    clearTimeout(this.handshakeTimer);
    if (this.role === "server") this.channel.setMaxPayload(this.options.maxPayload ?? DEFAULT_MAX_PAYLOAD);
    this.resolveReady();
  }

  private fail(reason: Error): void {
    this.close(reason);
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
    const wasHandshaking = this.state === "handshaking";
    this.state = "closed";
    this.closeReason = reason;
    clearTimeout(this.handshakeTimer);
    if (wasHandshaking) this.rejectReady(reason);
    // Every pending call fails at once with the reason (spec §5.3): nothing hangs.
    const pending = [...this.pending.entries()];
    this.pending.clear();
    this.lateAnswers.clear();
    this.incomingCalls.clear();
    for (const [, entry] of pending) {
      clearTimeout(entry.timer);
      entry.cleanup?.();
      entry.reject(
        new QiError("ERR_DISCONNECTED", `call failed, ${reason.message}`, {
          ...details(entry.address),
          peer: this.peer,
          cause: reason,
        }),
      );
    }
    this.eventHandlers.clear();
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }

  private closedError(address: Address): QiError {
    return new QiError("ERR_DISCONNECTED", `connection to ${this.peer} is closed`, {
      ...details(address),
      peer: this.peer,
      cause: this.closeReason,
    });
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
    if (this.shared(Capability.RemoteCancelableCalls)) {
      const payload = new Uint8Array(4);
      new DataView(payload.buffer).setUint32(0, id, true);
      this.send({
        id: nextMessageId(),
        type: MessageType.Cancel,
        flags: 0,
        service: entry.address.service,
        object: entry.address.object,
        action: 0,
        payload,
      });
    }
    entry.reject(error);
  }

  private answer(call: Message, type: MessageType, payload: Uint8Array, flags: number): void {
    this.incomingCalls.delete(call.id);
    this.sendOwed({
      id: call.id,
      type,
      flags,
      service: call.service,
      object: call.object,
      action: call.action,
      payload,
    });
  }
}

export function addressKey(service: number, object: number): string {
  return `${service}.${object}`;
}

function details(a: Address) {
  return { service: a.service, object: a.object, action: a.action };
}

function canceledError(a: Address): QiError {
  return new QiError("ERR_CANCELED", "call canceled", details(a));
}

/** The id of the Call a Cancel message asks to cancel (its u32 payload, spec §1.3), if it has one. */
export function canceledCallId(msg: Message): number | undefined {
  if (msg.payload.byteLength < 4) return undefined;
  return new DataView(msg.payload.buffer, msg.payload.byteOffset, 4).getUint32(0, true);
}

export function encodeErrorPayload(text: string): Uint8Array {
  return encode("m", new Dynamic("s", text));
}

/** Error payloads are a dynamic holding a string (spec §1.3); be lenient with anything else. */
export function decodeErrorPayload(payload: Uint8Array): string {
  try {
    const d = decode("m", payload);
    const v = d instanceof Dynamic ? d.value : d;
    return typeof v === "string" ? v : String(v);
  } catch {
    return "(undecodable error payload)";
  }
}

export function encodeCapabilityMap(map: Map<string, unknown>): Uint8Array {
  return encode(CAPABILITY_MAP_SIGNATURE, toWireMap(map));
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export { MessageFlags };

function certificateSubject(channel: Channel): string | undefined {
  const subject = channel.peerCertificate?.subject as Record<string, unknown> | undefined;
  const cn = subject?.CN;
  return typeof cn === "string" ? cn : undefined;
}
