/**
 * The control part of a connection: the handshake (spec §5.1) — authentication, in as many
 * rounds as the provider asks (Continue), and the capability exchange (spec §5.2) — with the
 * limits that keep an anonymous peer cheap: handshake-sized messages only, a bounded number of
 * Capability messages and auth rounds, bounded bytes held while a provider decides, a timeout.
 *
 * A Handshake exists while the connection is handshaking (and until the messages held during an
 * asynchronous auth decision are delivered); then the connection drops it, so an authenticated
 * connection keeps none of this state.
 */
import type { Channel } from "../transport/index.js";
import { nextMessageId } from "../wire/index.js";
import { HEADER_SIZE, type Message, MessageType } from "../wire/index.js";
import { Dynamic } from "../wire/index.js";
import {
  AUTH_ERROR_REASON_KEY,
  AUTH_STATE_KEY,
  type AuthData,
  type AuthProvider,
  type AuthResult,
  AuthState,
  prefixAuthKeys,
  providerFor,
  unprefixAuthKeys,
} from "./auth.js";
import type { Connection } from "./connection.js";
import { QiError } from "./errors.js";
import {
  type ComplexValuePolicy,
  decodeHandshakeMap,
  MAX_HANDSHAKE_CAPABILITY_MESSAGES,
} from "./handshake-map.js";
import {
  AUTHENTICATE_ACTION,
  decodeErrorPayload,
  encodeCapabilityMap,
  errorText,
  SERVER_SERVICE,
  UNHANDLED_REQUEST,
} from "./messages.js";
import { HANDSHAKE_MAX_PAYLOAD, MAX_HELD_BYTES, type ResolvedConnectionOptions } from "./options.js";

const CAPABILITY_MESSAGE_POLICY: ComplexValuePolicy = "stop";

/** What the handshake tells the connection it belongs to. */
export interface HandshakeHooks {
  /** The handshake is done: the peer is who `identity` says (server side, when the provider said). */
  accepted(identity: string | undefined): void;
  /** A message to handle as an authenticated connection would. */
  route(msg: Message): void;
  /** A message held during an auth decision, delivered again from the start. */
  deliver(msg: Message): void;
  /** Nothing of the handshake is needed any more: the connection may drop it. */
  finished(): void;
}

export class Handshake {
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private done = false;
  /** Authenticate calls received (server) or sent (client) so far. */
  private authRounds = 0;
  /** Server: this connection's provider, made at its first authenticate call. */
  private authProvider: AuthProvider | undefined;
  private capabilitiesSent = false;
  /** Messages that arrived while a server-side auth provider was still deciding. */
  private held: Message[] | undefined;
  private heldBytes = 0;
  /** Capability messages received during the handshake (MAX_HANDSHAKE_CAPABILITY_MESSAGES). */
  private capabilityMessages = 0;

  constructor(
    private readonly conn: Connection,
    private readonly options: ResolvedConnectionOptions,
    private readonly hooks: HandshakeHooks,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
    const channel = conn.channel;
    if (options.role === "server") channel.setMaxPayload(Math.min(HANDSHAKE_MAX_PAYLOAD, options.maxPayload));
    this.timer = setTimeout(() => {
      conn.close(new QiError("ERR_TIMEOUT", `handshake with ${conn.peer} timed out`, { peer: conn.peer }));
    }, options.handshakeTimeoutMs);
    this.timer.unref?.();
  }

  /** Client: the first authenticate call, with our capabilities (libqi sends it at once). */
  start(): void {
    if (this.options.role === "client")
      this.sendAuthenticate(this.options.authenticator?.initialAuthData() ?? new Map());
  }

  onMessage(msg: Message): void {
    if (this.held) this.hold(msg);
    else if (this.done) this.hooks.route(msg);
    else if (msg.type === MessageType.Capability) this.onCapabilityMessage(msg);
    else if (this.options.role === "client") this.onClientMessage(msg);
    else this.onServerMessage(msg);
  }

  /** The connection closed: a handshake not done fails with the reason. */
  closed(reason: Error): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held = undefined;
    if (!this.done) this.rejectReady(reason);
  }

  private become(identity: string | undefined): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.options.role === "server") this.conn.channel.setMaxPayload(this.options.maxPayload);
    this.hooks.accepted(identity);
    this.resolveReady();
    if (!this.held) this.hooks.finished();
  }

  private fail(reason: Error): void {
    this.conn.close(reason);
  }

  private onCapabilityMessage(msg: Message): void {
    if (++this.capabilityMessages > MAX_HANDSHAKE_CAPABILITY_MESSAGES) {
      this.fail(
        new QiError(
          "ERR_HANDSHAKE",
          `${this.conn.peer} sent more than ${MAX_HANDSHAKE_CAPABILITY_MESSAGES} Capability messages during the handshake`,
          { peer: this.conn.peer },
        ),
      );
      return;
    }
    mergeCapabilityMessage(this.conn, msg.payload);
  }

  // --- client -----------------------------------------------------------------------------

  private sendAuthenticate(authData: Map<string, unknown>): void {
    const map = new Map<string, unknown>();
    if (!this.capabilitiesSent) for (const [k, v] of this.options.capabilities) map.set(k, v);
    this.capabilitiesSent = true;
    for (const [k, v] of prefixAuthKeys(authData)) map.set(k, v);
    this.authRounds++;
    this.conn.channel.send({
      id: nextMessageId(),
      type: MessageType.Call,
      flags: 0,
      service: SERVER_SERVICE,
      object: 0,
      action: AUTHENTICATE_ACTION,
      payload: encodeCapabilityMap(map),
    });
  }

  private onClientMessage(msg: Message): void {
    const peer = this.conn.peer;
    const isAuthAnswer = msg.service === SERVER_SERVICE && msg.action === AUTHENTICATE_ACTION;
    if (!isAuthAnswer) {
      // A server may call us back before our handshake is over (ClientServerSocket);
      // nothing is bound before authentication on the server side either, so refuse.
      if (msg.type === MessageType.Call) this.conn.replyError(msg, UNHANDLED_REQUEST);
      return;
    }
    if (msg.type === MessageType.Error) {
      this.fail(
        new QiError("ERR_AUTH", `authentication refused by ${peer}: ${decodeErrorPayload(msg.payload)}`, {
          peer,
          remote: true,
        }),
      );
      return;
    }
    if (msg.type !== MessageType.Reply) return;
    let map: Map<string, unknown>;
    try {
      map = decodeHandshakeMap(msg.payload, "refuse");
    } catch (e) {
      this.fail(
        new QiError("ERR_HANDSHAKE", `${peer} answered authenticate with a malformed map: ${errorText(e)}`, {
          peer,
          remote: true,
        }),
      );
      return;
    }
    const state = map.get(AUTH_STATE_KEY);
    map.delete(AUTH_STATE_KEY);
    const serverData = unprefixAuthKeys(map);
    this.conn.learnCapabilities(map);
    if (state === AuthState.Done) {
      this.become(undefined);
    } else if (state === AuthState.Continue) {
      this.answerContinue(serverData);
    } else {
      const reason = serverData.get(AUTH_ERROR_REASON_KEY);
      this.fail(
        new QiError(
          "ERR_AUTH",
          `authentication with ${peer} failed: ${typeof reason === "string" ? reason : "Invalid authentication state token"}`,
          { peer, remote: true },
        ),
      );
    }
  }

  /** Client: the server answered Continue; the authenticator makes the next round (libqi's loop). */
  private answerContinue(serverData: AuthData): void {
    const authenticator = this.options.authenticator;
    const max = this.options.maxAuthRounds;
    const fail = (why: string) =>
      this.fail(
        new QiError("ERR_AUTH", `authentication with ${this.conn.peer} failed: ${why}`, {
          peer: this.conn.peer,
          remote: true,
        }),
      );
    if (!authenticator?.processAuth) {
      fail(
        "the server asked for another round (auth state Continue) and this client's authenticator has no processAuth to answer it",
      );
      return;
    }
    if (this.authRounds >= max) {
      fail(`the server still answered Continue after ${this.authRounds} rounds (limit ${max})`);
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

  // --- server -----------------------------------------------------------------------------

  private onServerMessage(msg: Message): void {
    const isAuthCall =
      msg.type === MessageType.Call && msg.service === SERVER_SERVICE && msg.action === AUTHENTICATE_ACTION;
    if (isAuthCall) {
      this.onAuthenticateCall(msg);
      return;
    }
    const peer = this.conn.peer;
    if (this.authRounds > 0) {
      // The provider answered Continue: a peer that started authenticating must finish first.
      // Being lenient here would let any call slip past a challenge it did not answer.
      this.refuse(
        msg,
        "Authentication in progress: only authenticate calls are accepted until it is done.",
        "ERR_AUTH",
        `${peer} sent a message before finishing its authentication`,
      );
      return;
    }
    if (this.options.enforceAuth) {
      this.refuse(
        msg,
        "Authentication required: send an authenticate call first.",
        "ERR_AUTH",
        `${peer} skipped the required authentication`,
      );
      return;
    }
    // Lenient like libqi 2.5: a peer that skips the handshake is accepted and told our
    // capabilities with a Capability message (spec §5.0, §5.1).
    this.conn.send({
      id: nextMessageId(),
      type: MessageType.Capability,
      flags: 0,
      service: 0,
      object: 0,
      action: 0,
      payload: encodeCapabilityMap(this.options.capabilities),
    });
    this.capabilitiesSent = true;
    this.become(undefined);
    this.hooks.route(msg);
  }

  private onAuthenticateCall(msg: Message): void {
    const conn = this.conn;
    let map: Map<string, unknown>;
    try {
      map = decodeHandshakeMap(msg.payload, "refuse");
    } catch (e) {
      // Not a capability map: nothing sensible can follow on this connection.
      this.refuse(
        msg,
        `Malformed authenticate call: ${errorText(e)}`,
        "ERR_HANDSHAKE",
        `${conn.peer} sent a malformed authenticate call: ${errorText(e)}`,
      );
      return;
    }
    const clientData = unprefixAuthKeys(map);
    conn.learnCapabilities(map);
    this.authRounds++;
    const ctx = {
      remoteAddress: conn.channel.remoteAddress,
      peerCertificateSubject: certificateSubject(conn.channel),
    };
    const finish = (answer: AuthResult) => {
      if (conn.isClosed) return;
      const result = this.boundedAuthResult(answer);
      if (result.state === AuthState.Error) {
        const reason = result.reason ?? "refused";
        this.refuse(
          msg,
          `Authentication failed: ${reason}`,
          "ERR_AUTH",
          `${conn.peer} failed authentication: ${reason}`,
        );
        return;
      }
      const reply = new Map<string, unknown>([[AUTH_STATE_KEY, new Dynamic("I", result.state)]]);
      for (const [k, v] of prefixAuthKeys(result.data ?? new Map())) reply.set(k, v);
      if (!this.capabilitiesSent) for (const [k, v] of this.options.capabilities) reply.set(k, v);
      this.capabilitiesSent = true;
      conn.reply(msg, encodeCapabilityMap(reply));
      if (result.state === AuthState.Done) this.become(result.identity);
    };
    let outcome: ReturnType<AuthProvider["processAuth"]>;
    try {
      this.authProvider ??= providerFor(this.options.authProvider, ctx);
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
        .finally(() => this.deliverHeld());
    } else finish(outcome);
  }

  /** The provider decided: what arrived meanwhile is handled now, in order. */
  private deliverHeld(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const m of held) this.hooks.deliver(m);
    if (this.done && !this.held) this.hooks.finished();
  }

  /** Holds a message until the auth provider has decided; a peer that floods meanwhile is refused. */
  private hold(msg: Message): void {
    this.heldBytes += HEADER_SIZE + msg.payload.byteLength;
    if (this.heldBytes > MAX_HELD_BYTES) {
      this.fail(
        new QiError(
          "ERR_HANDSHAKE",
          `${this.conn.peer} sent over ${MAX_HELD_BYTES} bytes while its authentication was being checked`,
          { peer: this.conn.peer },
        ),
      );
      return;
    }
    this.held?.push(msg);
  }

  /** Server: answers a Call of the handshake with an Error, then ends the connection. */
  private refuse(msg: Message, replyText: string, code: "ERR_AUTH" | "ERR_HANDSHAKE", why: string): void {
    if (msg.type === MessageType.Call) this.conn.replyError(msg, replyText);
    this.fail(new QiError(code, why, { peer: this.conn.peer }));
  }

  /** Server: a provider's answer, made an Error when unknown or when Continue exceeds the round limit. */
  private boundedAuthResult(result: AuthResult): AuthResult {
    const max = this.options.maxAuthRounds;
    if (result.state === AuthState.Continue && this.authRounds >= max)
      return { state: AuthState.Error, reason: `not done after ${this.authRounds} rounds (limit ${max})` };
    if (result.state !== AuthState.Done && result.state !== AuthState.Continue)
      return { state: AuthState.Error, reason: result.reason ?? "refused" };
    return result;
  }
}

/** Calls to service 0 after the handshake: only authenticate exists; it is answered Done. */
export function answerServerServiceCall(conn: Connection, msg: Message): void {
  if (msg.action === AUTHENTICATE_ACTION)
    conn.reply(msg, encodeCapabilityMap(new Map([[AUTH_STATE_KEY, new Dynamic("I", AuthState.Done)]])));
  else conn.replyError(msg, UNHANDLED_REQUEST);
}

/**
 * A Capability message: advisory, so one we cannot read is ignored; values that are not
 * scalars end the reading (CAPABILITY_MESSAGE_POLICY) and are never decoded.
 */
export function mergeCapabilityMessage(conn: Connection, payload: Uint8Array): void {
  let map: Map<string, unknown>;
  try {
    map = decodeHandshakeMap(payload, CAPABILITY_MESSAGE_POLICY);
  } catch {
    return;
  }
  conn.learnCapabilities(map);
}

function certificateSubject(channel: Channel): string | undefined {
  const subject = channel.peerCertificate?.subject as Record<string, unknown> | undefined;
  const cn = subject?.CN;
  return typeof cn === "string" ? cn : undefined;
}
