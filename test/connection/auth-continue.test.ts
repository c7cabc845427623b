/**
 * Multi-round authentication (spec §5.1, auth state Continue) over real sockets: one provider
 * per connection from an AuthProviderFactory, the HMAC challenge of challenge-auth.ts, the
 * round limits of both sides, and calls that try to slip in before authentication is done.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  type AuthContext,
  type AuthData,
  type AuthProvider,
  AuthState,
  ChallengeAuthenticator,
  ChallengeAuthProvider,
  type ClientAuthenticator,
  Connection,
  type ConnectionOptions,
  challengeResponse,
  DEFAULT_MAX_AUTH_ROUNDS,
  isQiError,
  type QiError,
  UserTokenAuthenticator,
  UserTokenAuthProvider,
} from "../../src/connection/index.js";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { connect as connectChannel, listen } from "../../src/transport/index.js";
import { decode, encode } from "../../src/wire/codec.js";
import { encodeMessage } from "../../src/wire/header.js";
import { MessageType } from "../../src/wire/message-types.js";
import { Dynamic } from "../../src/wire/values.js";
import { client as gatewayClient, runCleanup as runGatewayCleanup, world } from "../gateway/world.js";
import { type Frame, RawPeer } from "./raw-peer.js";

const SECRETS = { nao: "correct horse battery staple" };

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await runGatewayCleanup();
});

/** A Service Directory with one service whose method counts how often it ran. */
async function sdWorld(options: ConstructorParameters<typeof Session>[0]) {
  const sd = new Session(options);
  cleanups.push(() => sd.close());
  const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const counter = { runs: 0 };
  const service = new QiObject().method("touch", "()", "i", () => ++counter.runs);
  const serviceId = await sd.registerService("Touch", service);
  const touch = [...service.metaObject().methods.values()].find((m) => m.name === "touch")?.uid as number;
  return { url, counter, serviceId, touch };
}

/** Bare server Connections (no objects), for what the handshake alone does. */
async function authServer(options: Omit<ConnectionOptions, "role">) {
  const accepted: Connection[] = [];
  const listener = await listen("tcp://127.0.0.1:0", {}, (channel) => {
    accepted.push(new Connection(channel, { role: "server", enforceAuth: true, ...options }));
  });
  cleanups.push(() => listener.close());
  return { url: listener.url, accepted };
}

async function clientConnection(url: string, options: Omit<ConnectionOptions, "role">) {
  const conn = new Connection(await connectChannel(url), { role: "client", ...options });
  cleanups.push(() => conn.close());
  return conn;
}

async function raw(url: string): Promise<RawPeer> {
  const p = await RawPeer.open(url);
  cleanups.push(() => p.destroy());
  return p;
}

/** An authenticate call of a raw client (the capability keys are optional, spec §5.2). */
function authPayload(entries: Array<[string, string]>): Uint8Array {
  return encode("{sm}", new Map(entries.map(([k, v]) => [k, new Dynamic("s", v)])));
}

function answerMap(f: Frame): Map<string, unknown> {
  const map = decode("{sm}", f.msg.payload) as Map<string, Dynamic>;
  return new Map([...map].map(([k, v]) => [k, v.value]));
}

function errorText(f: Frame): string {
  return (decode("m", f.msg.payload) as Dynamic).value as string;
}

/** A provider that never makes up its mind: Continue, forever; counts the rounds it saw. */
function endlessProvider(seen: { rounds: number }): AuthProvider {
  return {
    processAuth: () => {
      seen.rounds++;
      return { state: AuthState.Continue, data: new Map([["round", String(seen.rounds)]]) };
    },
  };
}

/** Keeps what the server sent in each Continue round, then answers like `inner`. */
class RecordingAuthenticator implements ClientAuthenticator {
  readonly serverRounds: AuthData[] = [];
  constructor(private readonly inner: ClientAuthenticator) {}
  initialAuthData(): AuthData {
    return this.inner.initialAuthData();
  }
  processAuth(serverData: AuthData): AuthData {
    this.serverRounds.push(serverData);
    return this.inner.processAuth?.(serverData) ?? new Map();
  }
}

describe("one auth provider per connection (AuthProviderFactory)", () => {
  it("two clients authenticating at once get different nonces, and both are served", async () => {
    const made: Array<{ provider: ChallengeAuthProvider; ctx: AuthContext }> = [];
    const { url, serviceId, touch } = await sdWorld({
      enforceAuth: true,
      authProvider: (ctx) => {
        const provider = new ChallengeAuthProvider(SECRETS);
        made.push({ provider, ctx });
        return provider;
      },
    });
    const a = await raw(url);
    const b = await raw(url);
    const hello = authPayload([
      ["auth_method", "hmac-sha256"],
      ["auth_user", "nao"],
    ]);
    // Both are in the middle of their challenge at the same time.
    const [challengeA, challengeB] = await Promise.all([a.call(0, 0, 8, hello), b.call(0, 0, 8, hello)]);
    const nonceA = answerMap(challengeA).get("auth_nonce") as string;
    const nonceB = answerMap(challengeB).get("auth_nonce") as string;
    expect(answerMap(challengeA).get("__qi_auth_state")).toBe(AuthState.Continue);
    expect(nonceA).toMatch(/^[0-9a-f]{64}$/);
    expect(nonceB).toMatch(/^[0-9a-f]{64}$/);
    expect(nonceA).not.toBe(nonceB);
    const nonces = made.map((m) => m.provider.nonce);
    expect(nonces).toContain(nonceA);
    expect(nonces).toContain(nonceB);
    expect(made.every((m) => m.ctx.remoteAddress.includes("127.0.0.1"))).toBe(true);

    // Each answers its own nonce, in the opposite order: both are Done.
    const doneB = await b.call(
      0,
      0,
      8,
      authPayload([["auth_response", challengeResponse(SECRETS.nao, nonceB)]]),
    );
    const doneA = await a.call(
      0,
      0,
      8,
      authPayload([["auth_response", challengeResponse(SECRETS.nao, nonceA)]]),
    );
    expect(answerMap(doneA).get("__qi_auth_state")).toBe(AuthState.Done);
    expect(answerMap(doneB).get("__qi_auth_state")).toBe(AuthState.Done);
    // Capabilities come with the first answer only, as libqi sends them.
    expect(answerMap(challengeA).has("ClientServerSocket")).toBe(true);
    expect(answerMap(doneA).has("ClientServerSocket")).toBe(false);
    for (const p of [a, b]) expect((await p.call(serviceId, 1, touch)).msg.type).toBe(MessageType.Reply);
  });

  it("one ChallengeAuthProvider shared by mistake refuses the second connection instead of reusing its nonce", async () => {
    const { url } = await authServer({ authProvider: new ChallengeAuthProvider(SECRETS) });
    const first = await clientConnection(url, {
      authenticator: new ChallengeAuthenticator("nao", SECRETS.nao),
    });
    await first.ready();
    const second = await clientConnection(url, {
      authenticator: new ChallengeAuthenticator("nao", SECRETS.nao),
    });
    const err = await second.ready().catch((e: unknown) => e);
    expect(isQiError(err, "QI_ERR_AUTH")).toBe(true);
    expect((err as Error).message).toMatch(/this challenge was already used/);
  });

  it("a shared provider (as before) still serves every connection", async () => {
    const shared = UserTokenAuthProvider.fromTable({ nao: "secret" });
    const { url, accepted } = await authServer({ authProvider: shared });
    for (let i = 0; i < 2; i++)
      await (
        await clientConnection(url, { authenticator: new UserTokenAuthenticator("nao", "secret") })
      ).ready();
    expect(accepted.map((c) => c.identity)).toEqual(["nao", "nao"]);
  });
});

describe("the HMAC challenge over the Continue path", () => {
  it("the right secret: two rounds, Done, identity set, and calls work", async () => {
    const { url, accepted } = await authServer({ authProvider: ChallengeAuthProvider.factory(SECRETS) });
    const authenticator = new RecordingAuthenticator(new ChallengeAuthenticator("nao", SECRETS.nao));
    const conn = await clientConnection(url, { authenticator });
    await conn.ready();
    expect(authenticator.serverRounds).toHaveLength(1);
    expect(authenticator.serverRounds[0].get("nonce")).toMatch(/^[0-9a-f]{64}$/);
    expect(accepted[0].isReady).toBe(true);
    expect(accepted[0].identity).toBe("nao");
    // Capabilities were exchanged in the first round, and are kept.
    expect(conn.shared("RemoteCancelableCalls")).toBe(true);

    const { serviceId, url: sdUrl } = await sdWorld({
      enforceAuth: true,
      authProvider: ChallengeAuthProvider.factory(SECRETS),
    });
    const session = new Session({ authenticator: new ChallengeAuthenticator("nao", SECRETS.nao) });
    cleanups.push(() => session.close());
    await session.connect(sdUrl);
    expect((await session.services()).map((s) => s.serviceId)).toContain(serviceId);
    const touch = await session.service("Touch");
    expect(await touch.call("touch")).toBe(1);
  });

  it("the wrong secret: refused with a clear error, and the connection is closed", async () => {
    const { url, accepted } = await authServer({ authProvider: ChallengeAuthProvider.factory(SECRETS) });
    const conn = await clientConnection(url, { authenticator: new ChallengeAuthenticator("nao", "guess") });
    const err = await conn.ready().catch((e: unknown) => e);
    expect(isQiError(err, "QI_ERR_AUTH")).toBe(true);
    expect((err as QiError).message).toMatch(/Authentication failed: invalid user or challenge response/);
    expect(conn.isClosed).toBe(true);
    await expect.poll(() => accepted[0]?.isClosed).toBe(true);

    // An unknown user is told the same, after the same two rounds.
    const stranger = await clientConnection(url, { authenticator: new ChallengeAuthenticator("eve", "x") });
    const strangerErr = await stranger.ready().catch((e: unknown) => e);
    expect((strangerErr as Error).message).toMatch(/invalid user or challenge response/);

    // On the wire: an Error at the authenticate address, then the server hangs up.
    const p = await raw(url);
    const challenge = await p.call(
      0,
      0,
      8,
      authPayload([
        ["auth_method", "hmac-sha256"],
        ["auth_user", "nao"],
      ]),
    );
    expect(answerMap(challenge).get("__qi_auth_state")).toBe(AuthState.Continue);
    const refused = await p.call(0, 0, 8, authPayload([["auth_response", "00".repeat(32)]]));
    expect(refused.msg.type).toBe(MessageType.Error);
    expect(refused.msg.action).toBe(8);
    expect(errorText(refused)).toMatch(/^Authentication failed: invalid user or challenge response/);
    await p.closed;
  });

  it("an authenticator without processAuth that receives Continue fails with a clear error", async () => {
    const { url } = await authServer({ authProvider: ChallengeAuthProvider.factory(SECRETS) });
    const oneShot: ClientAuthenticator = {
      initialAuthData: () =>
        new Map([
          ["method", "hmac-sha256"],
          ["user", "nao"],
        ]),
    };
    const conn = await clientConnection(url, { authenticator: oneShot });
    const err = await conn.ready().catch((e: unknown) => e);
    expect(isQiError(err, "QI_ERR_AUTH")).toBe(true);
    expect((err as Error).message).toMatch(/asked for another round .*Continue.* has no processAuth/);
    expect(conn.isClosed).toBe(true);
  });

  it("a client refuses to sign what is not a nonce", async () => {
    const { url } = await authServer({
      authProvider: {
        processAuth: () => ({ state: AuthState.Continue, data: new Map([["nonce", "sign me"]]) }),
      },
    });
    const conn = await clientConnection(url, {
      authenticator: new ChallengeAuthenticator("nao", SECRETS.nao),
    });
    const err = await conn.ready().catch((e: unknown) => e);
    expect(isQiError(err, "QI_ERR_AUTH")).toBe(true);
    expect((err as Error).message).toMatch(/no valid nonce/);
  });
});

describe("round limits", () => {
  it("a server that answers Continue forever: the client gives up after its round limit", async () => {
    const seen = { rounds: 0 };
    // The server would go on much longer: the limit that acts is the client's.
    const { url } = await authServer({ authProvider: endlessProvider(seen), maxAuthRounds: 1_000 });
    const authenticator = new RecordingAuthenticator({
      initialAuthData: () => new Map(),
      processAuth: () => new Map(),
    });
    const conn = await clientConnection(url, { authenticator });
    const err = await conn.ready().catch((e: unknown) => e);
    expect(isQiError(err, "QI_ERR_AUTH")).toBe(true);
    expect((err as Error).message).toMatch(
      new RegExp(`still answered Continue after ${DEFAULT_MAX_AUTH_ROUNDS} rounds`),
    );
    expect(seen.rounds).toBe(DEFAULT_MAX_AUTH_ROUNDS);
    expect(authenticator.serverRounds).toHaveLength(DEFAULT_MAX_AUTH_ROUNDS - 1);
    expect(conn.isClosed).toBe(true);
  });

  it("a client that keeps sending authenticate rounds is cut off by the server's round limit", async () => {
    const seen = { rounds: 0 };
    const { url, accepted } = await authServer({ authProvider: endlessProvider(seen), maxAuthRounds: 4 });
    const p = await raw(url);
    const answers: Frame[] = [];
    for (let i = 0; i < 20 && !p.isClosed; i++) {
      const f = await p.call(0, 0, 8, authPayload([["auth_again", String(i)]]));
      answers.push(f);
      if (f.msg.type === MessageType.Error) break;
    }
    expect(answers.map((f) => f.msg.type)).toEqual([
      MessageType.Reply,
      MessageType.Reply,
      MessageType.Reply,
      MessageType.Error,
    ]);
    expect(errorText(answers[3])).toMatch(/Authentication failed: not done after 4 rounds \(limit 4\)/);
    await p.closed;
    expect(accepted[0].isClosed).toBe(true);
    expect(accepted[0].isReady).toBe(false);
  });

  it("authenticate calls pipelined in one write are cut off at the limit too", async () => {
    const seen = { rounds: 0 };
    const { url } = await authServer({ authProvider: endlessProvider(seen) });
    const p = await raw(url);
    const burst = Array.from({ length: 50 }, (_, i) =>
      Buffer.from(
        encodeMessage({
          id: 500 + i,
          type: MessageType.Call,
          flags: 0,
          service: 0,
          object: 0,
          action: 8,
          payload: authPayload([]),
        }),
      ),
    );
    p.writeBytes(Buffer.concat(burst));
    await p.closed;
    expect(seen.rounds).toBe(DEFAULT_MAX_AUTH_ROUNDS);
    const types = p.frames.map((f) => f.msg.type);
    expect(types.filter((t) => t === MessageType.Reply)).toHaveLength(DEFAULT_MAX_AUTH_ROUNDS - 1);
    expect(types.at(-1)).toBe(MessageType.Error);
  });

  it("the handshake timeout still covers all the rounds", async () => {
    // The provider keeps asking and the client stops answering: the timeout ends the handshake.
    const { url, accepted } = await authServer({
      authProvider: endlessProvider({ rounds: 0 }),
      handshakeTimeoutMs: 300,
    });
    const p = await raw(url);
    const challenge = await p.call(0, 0, 8, authPayload([]));
    expect(answerMap(challenge).get("__qi_auth_state")).toBe(AuthState.Continue);
    const t0 = performance.now();
    await p.closed; // and the client never answers
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(accepted[0].isReady).toBe(false);
  });
});

describe("calls sent before authentication is done", () => {
  for (const enforceAuth of [false, true]) {
    it(`are refused and not executed, and the connection is closed (enforceAuth ${enforceAuth})`, async () => {
      const { url, counter, serviceId, touch } = await sdWorld({
        enforceAuth,
        authProvider: ChallengeAuthProvider.factory(SECRETS),
      });
      const p = await raw(url);
      const challenge = await p.call(
        0,
        0,
        8,
        authPayload([
          ["auth_method", "hmac-sha256"],
          ["auth_user", "nao"],
        ]),
      );
      expect(answerMap(challenge).get("__qi_auth_state")).toBe(AuthState.Continue);
      // Instead of answering the challenge, the client calls the service.
      const f = await p.call(serviceId, 1, touch);
      expect(f.msg.type).toBe(MessageType.Error);
      expect(errorText(f)).toMatch(/Authentication in progress/);
      await p.closed;
      expect(counter.runs).toBe(0);
    });
  }

  it("a call pipelined right behind the first authenticate call is not executed either", async () => {
    const { url, counter, serviceId, touch } = await sdWorld({
      authProvider: ChallengeAuthProvider.factory(SECRETS),
    });
    const p = await raw(url);
    const hello = encodeMessage({
      id: 1,
      type: MessageType.Call,
      flags: 0,
      service: 0,
      object: 0,
      action: 8,
      payload: authPayload([
        ["auth_method", "hmac-sha256"],
        ["auth_user", "nao"],
      ]),
    });
    const sneaky = encodeMessage({
      id: 2,
      type: MessageType.Call,
      flags: 0,
      service: serviceId,
      object: 1,
      action: touch,
      payload: new Uint8Array(0),
    });
    p.writeBytes(Buffer.concat([Buffer.from(hello), Buffer.from(sneaky)]));
    await p.closed;
    expect(p.frames.find((f) => f.msg.id === 2)?.msg.type).toBe(MessageType.Error);
    expect(counter.runs).toBe(0);
  });
});

describe("through the gateway", () => {
  it("a factory-provided challenge provider authenticates gateway clients per connection", async () => {
    const { gw, gwUrl } = await world({
      allowAnonymous: false,
      authProvider: ChallengeAuthProvider.factory({ alice: "wonderland" }),
    });
    const [alice, alsoAlice] = await Promise.all([
      gatewayClient(gwUrl, { authenticator: new ChallengeAuthenticator("alice", "wonderland") }),
      gatewayClient(gwUrl, { authenticator: new ChallengeAuthenticator("alice", "wonderland") }),
    ]);
    const calc = await alice.service("Calc");
    expect(await calc.call("add", 20, 22)).toBe(42);
    expect(await (await alsoAlice.service("Calc")).call("add", 1, 2)).toBe(3);
    expect(gw.clients().map((c) => c.user)).toEqual(["alice", "alice"]);

    const err = await gatewayClient(gwUrl, {
      authenticator: new ChallengeAuthenticator("alice", "looking-glass"),
    }).catch((e: unknown) => e);
    expect(isQiError(err, "QI_ERR_AUTH")).toBe(true);
    expect((err as Error).message).toMatch(/invalid user or challenge response/);
    expect(gw.clients()).toHaveLength(2);
  });
});
