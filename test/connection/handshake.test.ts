/**
 * The handshake (spec §5.1, §5.2) and a connection's robustness: what a TS client writes, what
 * it accepts from libqi servers, user/token authentication, clients that skip authentication,
 * silent and garbage-sending peers, pipelining and the pending-call limit.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  Connection,
  isQiError,
  type QiError,
  UserTokenAuthenticator,
  UserTokenAuthProvider,
} from "../../src/connection/index.js";
import { Session } from "../../src/session/index.js";
import { connect as connectChannel } from "../../src/transport/index.js";
import { decode, encode } from "../../src/wire/codec.js";
import { MessageType } from "../../src/wire/message-types.js";
import { Dynamic } from "../../src/wire/values.js";
import { CalcIds, libqiCalc } from "./calc.js";
import { capture } from "./fixtures.js";
import { type Frame, headerHex, hex, RawPeer, unhex } from "./raw-peer.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CAPS_HEX = hex(
  encode(
    "{sm}",
    new Map([
      ["ClientServerSocket", new Dynamic("b", true)],
      ["MessageFlags", new Dynamic("b", true)],
      ["MetaObjectCache", new Dynamic("b", false)],
      ["ObjectPtrUID", new Dynamic("b", true)],
      ["RelativeEndpointURI", new Dynamic("b", true)],
      ["RemoteCancelableCalls", new Dynamic("b", true)],
    ]),
  ),
);

async function sdWorld(options: ConstructorParameters<typeof Session>[0] = {}) {
  const sd = new Session(options);
  cleanups.push(() => sd.close());
  const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const calc = libqiCalc();
  await sd.registerService("Calc", calc);
  return { sd, url, calc };
}

async function raw(url: string): Promise<RawPeer> {
  const p = await RawPeer.open(url);
  cleanups.push(() => p.destroy());
  return p;
}

function errorText(f: Frame): string {
  return (decode("m", f.msg.payload) as Dynamic).value as string;
}

/** A bare TCP server that hands each accepted socket to the test as a RawPeer. */
async function rawServer(): Promise<{ url: string; accepted: Promise<RawPeer>; server: Server }> {
  let resolve!: (p: RawPeer) => void;
  const accepted = new Promise<RawPeer>((r) => {
    resolve = r;
  });
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    resolve(RawPeer.wrap(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  const port = (server.address() as { port: number }).port;
  return { url: `tcp://127.0.0.1:${port}`, accepted, server };
}

describe("what a TS client writes and accepts", () => {
  it("sends the authenticate Call of spec §10 (A) and accepts libqi 4.0.5's captured Reply", async () => {
    const { url, accepted } = await rawServer();
    const channel = await connectChannel(url);
    const conn = new Connection(channel, { role: "client" });
    cleanups.push(() => conn.close());
    const server = await accepted;
    const call = await server.waitFor(() => true, 5_000, true);
    expect(hex(call.bytes)).toBe(
      headerHex({ id: call.msg.id, size: 0xa1, type: 1, flags: 0, service: 0, object: 0, action: 8 }) +
        CAPS_HEX,
    );
    const reply = capture("sd_authenticate_reply_payload").hex;
    server.writeBytes(
      unhex(
        headerHex({
          id: call.msg.id,
          size: reply.length / 2,
          type: 2,
          flags: 0,
          service: 0,
          object: 0,
          action: 8,
        }) + reply,
      ),
    );
    await conn.ready();
    expect(conn.isReady).toBe(true);
    for (const k of [
      "ClientServerSocket",
      "MessageFlags",
      "ObjectPtrUID",
      "RelativeEndpointURI",
      "RemoteCancelableCalls",
    ]) {
      expect(conn.shared(k)).toBe(true);
    }
    expect(conn.shared("MetaObjectCache")).toBe(false);
  });

  it("with credentials adds auth_token and auth_user after the capitalized keys (bytewise order)", async () => {
    const { url, accepted } = await rawServer();
    const channel = await connectChannel(url);
    const conn = new Connection(channel, {
      role: "client",
      authenticator: new UserTokenAuthenticator("nao", "secret"),
    });
    cleanups.push(() => conn.close());
    const server = await accepted;
    const call = await server.waitFor(() => true, 5_000, true);
    const map = decode("{sm}", call.msg.payload) as Map<string, Dynamic>;
    expect([...map.keys()]).toEqual([
      "ClientServerSocket",
      "MessageFlags",
      "MetaObjectCache",
      "ObjectPtrUID",
      "RelativeEndpointURI",
      "RemoteCancelableCalls",
      "auth_token",
      "auth_user",
    ]);
    const tail = `0a000000${Buffer.from("auth_token").toString("hex")}0100000073${hex(encode("s", "secret"))}09000000${Buffer.from("auth_user").toString("hex")}0100000073${hex(encode("s", "nao"))}`;
    expect(hex(call.msg.payload)).toBe(`08${CAPS_HEX.slice(2)}${tail}`);
  });

  it("accepts a libqi 2.5 Reply (4 capabilities, auth state as i) and shares only what both have", async () => {
    const { url, accepted } = await rawServer();
    const conn = new Connection(await connectChannel(url), { role: "client" });
    cleanups.push(() => conn.close());
    const server = await accepted;
    const call = await server.waitFor(() => true, 5_000, true);
    const payload = encode(
      "{sm}",
      new Map([
        ["ClientServerSocket", new Dynamic("b", true)],
        ["MessageFlags", new Dynamic("b", true)],
        ["MetaObjectCache", new Dynamic("b", true)],
        ["RemoteCancelableCalls", new Dynamic("b", true)],
        ["__qi_auth_state", new Dynamic("i", 3)],
      ]),
    );
    server.send({
      id: call.msg.id,
      type: MessageType.Reply,
      flags: 0,
      service: 0,
      object: 0,
      action: 8,
      payload,
    });
    await conn.ready();
    expect(conn.shared("ObjectPtrUID")).toBe(false);
    expect(conn.shared("MetaObjectCache")).toBe(false); // we advertise false
    expect(conn.shared("RemoteCancelableCalls")).toBe(true);
  });

  it("fails with ERR_AUTH on an Error answer or an Error auth state", async () => {
    for (const answer of ["error", "state1"] as const) {
      const { url, accepted } = await rawServer();
      const conn = new Connection(await connectChannel(url), { role: "client" });
      cleanups.push(() => conn.close());
      const server = await accepted;
      const call = await server.waitFor(() => true, 5_000, true);
      if (answer === "error") {
        const payload = encode("m", new Dynamic("s", "Authentication failed: nope [1.0]"));
        server.send({
          id: call.msg.id,
          type: MessageType.Error,
          flags: 0,
          service: 0,
          object: 0,
          action: 8,
          payload,
        });
      } else {
        const payload = encode("{sm}", new Map([["__qi_auth_state", new Dynamic("I", 1)]]));
        server.send({
          id: call.msg.id,
          type: MessageType.Reply,
          flags: 0,
          service: 0,
          object: 0,
          action: 8,
          payload,
        });
      }
      const err = await conn.ready().catch((e: unknown) => e);
      expect(isQiError(err, "QI_ERR_AUTH")).toBe(true);
      if (answer === "error") expect((err as Error).message).toContain("Authentication failed: nope");
      expect(conn.isClosed).toBe(true);
    }
  });
});

describe("user/token authentication on the server (UserTokenAuthProvider, enforceAuth)", () => {
  const provider = () => UserTokenAuthProvider.fromTable({ nao: "secret" });

  it("accepts the right credentials and refuses wrong ones with an Error then a disconnect", async () => {
    const { url } = await sdWorld({
      authProvider: provider(),
      enforceAuth: true,
      authenticator: new UserTokenAuthenticator("nao", "secret"),
    });
    const good = new Session({ authenticator: new UserTokenAuthenticator("nao", "secret") });
    cleanups.push(() => good.close());
    await good.connect(url);
    expect((await good.services()).map((s) => s.name)).toEqual(["ServiceDirectory", "Calc"]);

    const bad = new Session({ authenticator: new UserTokenAuthenticator("nao", "wrong") });
    cleanups.push(() => bad.close());
    const err = await bad.connect(url).catch((e: unknown) => e);
    expect(isQiError(err, "QI_ERR_AUTH")).toBe(true);
    expect((err as QiError).message).toMatch(/Authentication failed: invalid user or token/);

    const anonymous = new Session();
    cleanups.push(() => anonymous.close());
    expect(isQiError(await anonymous.connect(url).catch((e: unknown) => e), "QI_ERR_AUTH")).toBe(true);

    // On the wire: an Error at the authenticate address, then the server closes.
    const p = await raw(url);
    const caps = decode("{sm}", unhex(CAPS_HEX)) as Map<string, Dynamic>;
    caps.set("auth_user", new Dynamic("s", "nao"));
    caps.set("auth_token", new Dynamic("s", "nope"));
    const f = await p.call(0, 0, 8, encode("{sm}", caps), 0, 1);
    expect(f.msg.type).toBe(MessageType.Error);
    expect(hex(f.header)).toBe(
      headerHex({
        id: 1,
        size: f.msg.payload.byteLength,
        type: 3,
        flags: 0,
        service: 0,
        object: 0,
        action: 8,
      }),
    );
    expect(errorText(f)).toMatch(/^Authentication failed/);
    await p.closed;
  });

  it("a raw client that authenticates with the right token is served", async () => {
    const { url } = await sdWorld({
      authProvider: provider(),
      enforceAuth: true,
      authenticator: new UserTokenAuthenticator("nao", "secret"),
    });
    const p = await raw(url);
    const caps = decode("{sm}", unhex(CAPS_HEX)) as Map<string, Dynamic>;
    caps.set("auth_user", new Dynamic("s", "nao"));
    caps.set("auth_token", new Dynamic("s", "secret"));
    const f = await p.call(0, 0, 8, encode("{sm}", caps));
    expect(f.msg.type).toBe(MessageType.Reply);
    expect(hex(f.msg.payload)).toBe(capture("sd_authenticate_reply_payload").hex);
    expect(decode("i", (await p.call(2, 1, CalcIds.add, encode("(ii)", [1, 2]))).msg.payload)).toBe(3);
  });
});

describe("clients that skip authentication", () => {
  it("lenient (default): the server sends its Capability message (§10 N) and serves the call", async () => {
    const { url } = await sdWorld();
    const p = await raw(url);
    const reply = await p.call(2, 1, CalcIds.add, encode("(ii)", [20, 22]));
    const cap = p.frames[0];
    expect(cap.msg.type).toBe(MessageType.Capability);
    expect(hex(cap.bytes)).toBe(
      headerHex({ id: cap.msg.id, size: 0xa1, type: 6, flags: 0, service: 0, object: 0, action: 0 }) +
        CAPS_HEX,
    );
    expect(reply.msg.type).toBe(MessageType.Reply);
    expect(hex(reply.msg.payload)).toBe("2a000000");
    // A late authenticate is still answered Done, without capabilities (spec §4.3).
    const late = await p.call(0, 0, 8, unhex(CAPS_HEX));
    expect((decode("{sm}", late.msg.payload) as Map<string, unknown>).size).toBe(1);
  });

  it("enforceAuth: an Error answer, then the connection is closed", async () => {
    const { url } = await sdWorld({ enforceAuth: true });
    const p = await raw(url);
    const f = await p.call(2, 1, CalcIds.add, encode("(ii)", [20, 22]));
    expect(f.msg.type).toBe(MessageType.Error);
    expect(errorText(f)).toMatch(/Authentication required/);
    await p.closed;
    expect(p.frames.some((x) => x.msg.type === MessageType.Capability)).toBe(false);
  });
});

describe("misbehaving peers", () => {
  it("a peer that never sends anything is closed after handshakeTimeoutMs", async () => {
    const { url } = await sdWorld({ timeoutMs: 300 });
    const p = await raw(url);
    const t0 = performance.now();
    await p.closed;
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThan(250);
    expect(elapsed).toBeLessThan(3_000);
    expect(p.frames).toHaveLength(0);
  });

  it("a malformed authenticate payload gets an Error and the connection is closed at once", async () => {
    const { url } = await sdWorld({ timeoutMs: 10_000 });
    const p = await raw(url);
    const t0 = performance.now();
    // A map count of 5 with nothing after it.
    const f = await p.call(0, 0, 8, unhex("05000000"));
    expect(f.msg.type).toBe(MessageType.Error);
    expect(errorText(f)).toMatch(/Malformed authenticate call/);
    await p.closed;
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it("garbage bytes close that connection only; other clients go on", async () => {
    const { url } = await sdWorld();
    const other = await raw(url);
    await other.authenticate(unhex(CAPS_HEX));
    const client = new Session();
    cleanups.push(() => client.close());
    await client.connect(url);
    const calc = await client.service("Calc");

    const bad = await raw(url);
    await bad.authenticate(unhex(CAPS_HEX));
    bad.writeBytes(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(4)));
    await bad.closed;
    const badBeforeAuth = await raw(url);
    badBeforeAuth.writeBytes(new Uint8Array(64).fill(0xff));
    await badBeforeAuth.closed;

    expect(decode("i", (await other.call(2, 1, CalcIds.add, encode("(ii)", [2, 3]))).msg.payload)).toBe(5);
    expect(await calc.call("add", 4, 5)).toBe(9);
  });

  it("answers 2,000 pipelined calls from one raw client, each at its id", async () => {
    const { url } = await sdWorld();
    const p = await raw(url);
    await p.authenticate(unhex(CAPS_HEX));
    const N = 2_000;
    const answers = new Map<number, number>();
    const all = new Promise<void>((resolve) => {
      const check = () => {
        for (const f of p.frames)
          if (f.msg.type === MessageType.Reply && f.msg.action === CalcIds.add)
            answers.set(f.msg.id, decode("i", f.msg.payload) as number);
        if (answers.size >= N) resolve();
        else setTimeout(check, 10);
      };
      check();
    });
    const chunks: Buffer[] = [];
    const { encodeMessage } = await import("../../src/wire/header.js");
    for (let i = 0; i < N; i++) {
      chunks.push(
        Buffer.from(
          encodeMessage({
            id: 10_000 + i,
            type: MessageType.Call,
            flags: 0,
            service: 2,
            object: 1,
            action: CalcIds.add,
            payload: encode("(ii)", [i, i]),
          }),
        ),
      );
    }
    p.writeBytes(Buffer.concat(chunks)); // one write: 2,000 calls back to back
    await all;
    for (let i = 0; i < N; i++) expect(answers.get(10_000 + i)).toBe(2 * i);
  });

  it("answers 2,000 concurrent calls of a Session client", async () => {
    const { url } = await sdWorld();
    const client = new Session();
    cleanups.push(() => client.close());
    await client.connect(url);
    const calc = await client.service("Calc");
    const results = await Promise.all(
      Array.from({ length: 2_000 }, (_, i) => calc.call<number>("add", i, 1)),
    );
    expect(results).toEqual(Array.from({ length: 2_000 }, (_, i) => i + 1));
  });

  it("maxServedCalls: calls over the limit of calls in progress get an Error; the others finish", async () => {
    const { url } = await sdWorld({ maxServedCalls: 3 });
    const p = await raw(url);
    await p.authenticate(unhex(CAPS_HEX));
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => p.call(2, 1, CalcIds.slow, encode("(i)", [200]))),
    );
    const types = answers.map((a) => a.msg.type);
    expect(types.filter((t) => t === MessageType.Reply)).toHaveLength(3);
    const refused = answers.filter((a) => a.msg.type === MessageType.Error);
    expect(refused).toHaveLength(2);
    expect(errorText(refused[0])).toBe("Too many calls in progress on this connection (limit 3).");
    // Once they finished, calls are served again.
    expect((await p.call(2, 1, CalcIds.add, encode("(ii)", [1, 2]))).msg.type).toBe(MessageType.Reply);
  });

  it("maxQueuedBytes: a peer that pipelines calls and never reads its answers is disconnected", async () => {
    const { url } = await sdWorld({ maxQueuedBytes: 1024 * 1024 });
    const greedy = await raw(url);
    await greedy.authenticate(unhex(CAPS_HEX));
    greedy.socket.pause(); // stops reading: answers pile up on the server's side
    const big = encode("(m)", [new Dynamic("s", "x".repeat(64 * 1024))]);
    for (let i = 0; i < 400; i++)
      greedy.send({
        id: 1000 + i,
        type: MessageType.Call,
        flags: 0,
        service: 2,
        object: 1,
        action: CalcIds.echo,
        payload: big,
      });
    await greedy.closed;
    // Everyone else is served as before.
    const other = await raw(url);
    await other.authenticate(unhex(CAPS_HEX));
    expect(decode("i", (await other.call(2, 1, CalcIds.add, encode("(ii)", [2, 3]))).msg.payload)).toBe(5);
  });

  it("maxPendingCalls: the call over the limit fails at once with ERR_LIMIT", async () => {
    const { url } = await sdWorld();
    const conn = new Connection(await connectChannel(url), { role: "client", maxPendingCalls: 5 });
    cleanups.push(() => conn.close());
    await conn.ready();
    const slow = Array.from({ length: 5 }, () =>
      conn.call({ service: 2, object: 1, action: CalcIds.slow }, encode("(i)", [150])),
    );
    expect(conn.pendingCalls).toBe(5);
    const over = await conn
      .call({ service: 2, object: 1, action: CalcIds.add }, encode("(ii)", [1, 2]))
      .catch((e: unknown) => e);
    expect(isQiError(over, "QI_ERR_LIMIT")).toBe(true);
    await Promise.all(slow);
    const ok = await conn.call({ service: 2, object: 1, action: CalcIds.add }, encode("(ii)", [1, 2]));
    expect(decode("i", ok.payload)).toBe(3);
  });
});
