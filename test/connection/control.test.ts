/**
 * The control part (control.ts) over a memory channel pair: the handshake, the payload limit
 * switch at login, the bounds on what an anonymous peer may send, and what is kept afterwards.
 */
import { describe, expect, it } from "vitest";
import {
  AuthState,
  type AuthResult,
  Capability,
  DEFAULT_CAPABILITIES,
  HANDSHAKE_MAX_PAYLOAD,
  isQiError,
  MAX_HELD_BYTES,
  UserTokenAuthenticator,
  UserTokenAuthProvider,
} from "../../src/connection/index.js";
import { encode } from "../../src/wire/codec.js";
import { MessageType } from "../../src/wire/message-types.js";
import { Dynamic } from "../../src/wire/values.js";
import { connectionPair, errorTextOf, readyServer, serverAndRawClient } from "./memory-peer.js";

const users = UserTokenAuthProvider.fromTable({ nao: "secret" });

describe("handshake (control.ts)", () => {
  it("authenticates a client, tells the server who it is, and shares the capabilities", async () => {
    const { client, server } = await connectionPair(
      { authProvider: users, enforceAuth: true },
      { authenticator: new UserTokenAuthenticator("nao", "secret") },
    );
    expect(client.isReady && server.isReady).toBe(true);
    expect(server.identity).toBe("nao");
    expect(client.shared(Capability.RemoteCancelableCalls)).toBe(true);
    expect(server.shared(Capability.MetaObjectCache)).toBe(false);
  });

  it("refuses wrong credentials: both ends fail with ERR_AUTH", async () => {
    const pair = connectionPair(
      { authProvider: users, enforceAuth: true },
      { authenticator: new UserTokenAuthenticator("nao", "wrong") },
    );
    const e = await pair.catch((x: unknown) => x);
    expect(isQiError(e, "ERR_AUTH")).toBe(true);
  });

  it("accepts handshake-sized payloads only until login, then maxPayload", async () => {
    const before = serverAndRawClient();
    before.peer.send({ type: MessageType.Call, payload: new Uint8Array(HANDSHAKE_MAX_PAYLOAD + 1) });
    await before.peer.closed;
    await expect(before.conn.ready()).rejects.toThrow();

    const after = await readyServer();
    const answer = await after.peer.call({ payload: new Uint8Array(HANDSHAKE_MAX_PAYLOAD + 1) });
    expect(answer.type).toBe(MessageType.Error);
    expect(errorTextOf(answer)).toBe("The call request could not be handled.");
    expect(after.peer.isClosed).toBe(false);
  });

  it("closes a handshake not done within handshakeTimeoutMs with ERR_TIMEOUT", async () => {
    const { conn, peer } = serverAndRawClient({ handshakeTimeoutMs: 30 });
    const e = await conn.ready().catch((x: unknown) => x);
    expect(isQiError(e, "ERR_TIMEOUT")).toBe(true);
    await peer.closed;
  });

  it("refuses a peer that keeps sending Capability messages during the handshake", async () => {
    const { conn, peer } = serverAndRawClient();
    const caps = encode("{sm}", new Map([["MessageFlags", new Dynamic("b", true)]]));
    for (let i = 0; i < 17; i++)
      peer.send({ type: MessageType.Capability, service: 0, object: 0, action: 0, payload: caps });
    const e = await conn.ready().catch((x: unknown) => x);
    expect(isQiError(e, "ERR_HANDSHAKE")).toBe(true);
  });

  it("holds messages while an asynchronous provider decides, delivers them in order once Done", async () => {
    let decide!: (r: AuthResult) => void;
    const { conn, peer } = serverAndRawClient({
      authProvider: { processAuth: () => new Promise<AuthResult>((r) => (decide = r)) },
    });
    const seen: number[] = [];
    conn.attachRequests("serve", (msg) => {
      seen.push(msg.action);
      conn.reply(msg, new Uint8Array(0));
      return true;
    });
    const auth = peer.authenticate();
    await new Promise((r) => setTimeout(r, 10));
    const first = peer.call({ action: 101 });
    const second = peer.call({ action: 102 });
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([]);
    decide({ state: AuthState.Done, identity: "late" });
    expect((await auth).type).toBe(MessageType.Reply);
    expect((await first).type).toBe(MessageType.Reply);
    expect((await second).type).toBe(MessageType.Reply);
    expect(seen).toEqual([101, 102]);
    expect(conn.identity).toBe("late");
  });

  it("refuses a peer that sends over MAX_HELD_BYTES while its authentication is checked", async () => {
    const { conn, peer } = serverAndRawClient({
      authProvider: { processAuth: () => new Promise<AuthResult>(() => {}) },
    });
    void peer.authenticate();
    await new Promise((r) => setTimeout(r, 10));
    const chunk = new Uint8Array(HANDSHAKE_MAX_PAYLOAD - 1024);
    for (let sent = 0; sent <= MAX_HELD_BYTES; sent += chunk.byteLength)
      peer.send({ type: MessageType.Post, payload: chunk });
    const e = await conn.ready().catch((x: unknown) => x);
    expect(isQiError(e, "ERR_HANDSHAKE")).toBe(true);
    await peer.closed;
  });

  it("answers a second authenticate call after the handshake Done, without starting over", async () => {
    const { conn, peer } = await readyServer();
    const again = await peer.authenticate();
    expect(again.type).toBe(MessageType.Reply);
    expect(conn.isReady).toBe(true);
  });
});

describe("what a connection keeps once authenticated", () => {
  it("ready() is one shared settled promise: the handshake's state is gone", async () => {
    const a = await connectionPair();
    const b = await connectionPair();
    expect(a.server.ready()).toBe(b.server.ready());
    expect(a.client.ready()).toBe(b.client.ready());
  });

  it("peers that advertise the same capabilities share one map; a later advertisement changes only its own", async () => {
    const a = await readyServer();
    const b = await readyServer();
    expect(a.conn.remoteCapabilities).toBe(b.conn.remoteCapabilities);

    // A peer that advertised less at first, and tells the rest with a Capability message later.
    const partial = new Map(DEFAULT_CAPABILITIES);
    partial.delete(Capability.RemoteCancelableCalls);
    const { conn, peer } = serverAndRawClient();
    await peer.authenticate(new Map(), partial);
    expect(conn.shared(Capability.RemoteCancelableCalls)).toBe(false);
    const shared = a.conn.remoteCapabilities;
    const caps = encode("{sm}", new Map([[Capability.RemoteCancelableCalls, new Dynamic("b", true)]]));
    peer.send({ type: MessageType.Capability, service: 0, object: 0, action: 0, payload: caps });
    await peer.call({ action: 1 }); // one round trip: the Capability message was read
    expect(conn.shared(Capability.RemoteCancelableCalls)).toBe(true);
    expect(a.conn.remoteCapabilities).toBe(shared);
    expect([...shared.keys()].sort()).toEqual([...DEFAULT_CAPABILITIES.keys()].sort());
  });
});
