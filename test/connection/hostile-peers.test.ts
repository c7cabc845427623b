/**
 * Peers that attack a Connection before and after authenticating (issue 10, items 1 and 3 at
 * the connection level): Capability floods, unknown keys, big or nested capability values,
 * calls that skip authentication, floods while a provider decides, and duplicate in-flight
 * message ids. Real sockets on 127.0.0.1; the server side is a bare Connection so the test can
 * look at what it stored.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  AuthState,
  Connection,
  type ConnectionOptions,
  UserTokenAuthProvider,
} from "../../src/connection/index.js";
import {
  MAX_CAPABILITY_VALUE_BYTES,
  MAX_HANDSHAKE_CAPABILITY_MESSAGES,
} from "../../src/connection/handshake-map.js";
import { Session } from "../../src/session/index.js";
import { listen } from "../../src/transport/index.js";
import { decode, encode } from "../../src/wire/codec.js";
import { MessageType } from "../../src/wire/message-types.js";
import { Dynamic } from "../../src/wire/values.js";
import { CalcIds, libqiCalc } from "./calc.js";
import { type Frame, RawPeer } from "./raw-peer.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const str = (s: string): number[] => [...u32(Buffer.byteLength(s)), ...Buffer.from(s)];

const CAPS = new Map<string, Dynamic>([
  ["ClientServerSocket", new Dynamic("b", true)],
  ["MessageFlags", new Dynamic("b", true)],
  ["MetaObjectCache", new Dynamic("b", false)],
  ["ObjectPtrUID", new Dynamic("b", true)],
  ["RelativeEndpointURI", new Dynamic("b", true)],
  ["RemoteCancelableCalls", new Dynamic("b", true)],
]);

function authPayload(user: string, token: string): Uint8Array {
  const m = new Map(CAPS);
  m.set("auth_token", new Dynamic("s", token));
  m.set("auth_user", new Dynamic("s", user));
  return encode("{sm}", m);
}

/** A `{sm}` map of one entry whose value is `[()]` × count: 4 bytes that once made `count` arrays. */
function bombMap(key: string, count = 1_000_000): Uint8Array {
  return Uint8Array.from([...u32(1), ...str(key), ...str("[()]"), ...u32(count)]);
}

/** A server Connection per accepted socket (user nao/secret, auth enforced), kept for inspection. */
async function server(options: Partial<ConnectionOptions> = {}) {
  const conns: Connection[] = [];
  const listener = await listen("tcp://127.0.0.1:0", {}, (channel) => {
    conns.push(
      new Connection(channel, {
        role: "server",
        authProvider: UserTokenAuthProvider.fromTable({ nao: "secret" }),
        enforceAuth: true,
        ...options,
      }),
    );
  });
  cleanups.push(() => listener.close());
  return { url: listener.url, conns };
}

async function raw(url: string): Promise<RawPeer> {
  const p = await RawPeer.open(url);
  cleanups.push(() => p.destroy());
  return p;
}

function capability(p: RawPeer, payload: Uint8Array): void {
  p.send({
    id: p.freshId(),
    type: MessageType.Capability,
    flags: 0,
    service: 0,
    object: 0,
    action: 0,
    payload,
  });
}

function errorText(f: Frame): string {
  return (decode("m", f.msg.payload) as Dynamic).value as string;
}

describe("before authentication", () => {
  it(`a peer may send ${MAX_HANDSHAKE_CAPABILITY_MESSAGES} Capability messages; one more and it is disconnected`, async () => {
    const { url } = await server();
    const ok = await raw(url);
    for (let i = 0; i < MAX_HANDSHAKE_CAPABILITY_MESSAGES; i++) capability(ok, encode("{sm}", CAPS));
    const answer = await ok.call(0, 0, 8, authPayload("nao", "secret"));
    expect(answer.msg.type).toBe(MessageType.Reply);

    const flood = await raw(url);
    for (let i = 0; i < 1000 && !flood.isClosed; i++) capability(flood, bombMap(`Key${i}`));
    await flood.closed;
    expect(flood.frames).toHaveLength(0);
  });

  it("unknown keys are ignored (not stored), and the handshake goes on", async () => {
    const { url, conns } = await server();
    const p = await raw(url);
    const caps = new Map(CAPS);
    caps.set("FutureFeature", new Dynamic("b", true));
    caps.set("ZFutureString", new Dynamic("s", "x"));
    capability(p, encode("{sm}", caps));
    const answer = await p.call(0, 0, 8, authPayload("nao", "secret"));
    expect(answer.msg.type).toBe(MessageType.Reply);
    const stored = conns[0].remoteCapabilities;
    expect([...stored.keys()].sort()).toEqual([...CAPS.keys()].sort());
    expect(conns[0].shared("ObjectPtrUID")).toBe(true);
  });

  it("a big, nested or long capability value is never decoded nor stored", async () => {
    const { url, conns } = await server();
    const p = await raw(url);
    capability(p, bombMap("ObjectPtrUID"));
    capability(p, bombMap("Unknown"));
    const nested = `${"[".repeat(10_000)}i${"]".repeat(10_000)}`;
    capability(p, Uint8Array.from([...u32(1), ...str("MessageFlags"), ...str(nested), ...u32(0)]));
    const long = "y".repeat(MAX_CAPABILITY_VALUE_BYTES + 1);
    capability(p, encode("{sm}", new Map([["RelativeEndpointURI", new Dynamic("s", long)]])));
    // A map announcing a million entries.
    capability(p, Uint8Array.from(u32(1_000_000)));
    const answer = await p.call(0, 0, 8, authPayload("nao", "secret"));
    expect(answer.msg.type).toBe(MessageType.Reply);
    const stored = conns[0].remoteCapabilities;
    // The bomb keys came first (insert-if-absent), yet what is stored is the authenticate call's booleans.
    expect(stored.get("ObjectPtrUID")).toBe(true);
    expect(stored.get("MessageFlags")).toBe(true);
    expect(stored.get("RelativeEndpointURI")).toBe(true);
    expect(stored.has("Unknown")).toBe(false);
  });

  it("an authenticate call carrying a non-scalar value is refused with a clear error", async () => {
    const { url } = await server();
    const p = await raw(url);
    const f = await p.call(0, 0, 8, bombMap("auth_token"));
    expect(f.msg.type).toBe(MessageType.Error);
    expect(errorText(f)).toMatch(/Malformed authenticate call: .*only scalar values are accepted/);
    await p.closed;
  });

  it("any other call is refused without decoding its payload, and the peer disconnected", async () => {
    const { url } = await server();
    const p = await raw(url);
    const f = await p.call(2, 1, 100, Uint8Array.from([...str("[()]"), ...u32(1_000_000)]), 1);
    expect(f.msg.type).toBe(MessageType.Error);
    expect(errorText(f)).toMatch(/Authentication required/);
    await p.closed;
  });

  it("a peer that floods while its authentication is being checked is disconnected", async () => {
    const slowProvider = {
      processAuth: () =>
        new Promise<{ state: 3 }>((r) => setTimeout(() => r({ state: AuthState.Done }), 300)),
    };
    const { url } = await server({ authProvider: slowProvider });
    const p = await raw(url);
    p.send({
      id: p.freshId(),
      type: MessageType.Call,
      flags: 0,
      service: 0,
      object: 0,
      action: 8,
      payload: authPayload("a", "b"),
    });
    const big = new Uint8Array(60_000);
    for (let i = 0; i < 10; i++) {
      p.send({
        id: p.freshId(),
        type: MessageType.Post,
        flags: 0,
        service: 2,
        object: 1,
        action: 100,
        payload: big,
      });
    }
    await p.closed;
    expect(p.frames.filter((f) => f.msg.type === MessageType.Reply)).toHaveLength(0);
  });
});

describe("after authentication", () => {
  async function calcServer(options: ConstructorParameters<typeof Session>[0] = {}) {
    const sd = new Session(options);
    cleanups.push(() => sd.close());
    const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
    await sd.registerService("Calc", libqiCalc());
    const p = await raw(url);
    expect((await p.authenticate(encode("{sm}", CAPS))).msg.type).toBe(MessageType.Reply);
    return p;
  }

  it("a bomb in a dynamic argument gets an Error answer; the connection serves on", async () => {
    const p = await calcServer();
    // Calc.echo takes (m): a dynamic holding [()] × 1,000,000.
    const f = await p.call(2, 1, CalcIds.echo, Uint8Array.from([...str("[()]"), ...u32(1_000_000)]));
    expect(f.msg.type).toBe(MessageType.Error);
    expect(errorText(f)).toMatch(/allocation budget/);
    expect(decode("i", (await p.call(2, 1, CalcIds.add, encode("(ii)", [1, 2]))).msg.payload)).toBe(3);
  });

  it("a call reusing the id of a call in progress is refused; the original is answered", async () => {
    const p = await calcServer();
    const id = p.freshId();
    const original = p.call(2, 1, CalcIds.slow, encode("(i)", [300]), 0, id);
    const duplicate = await p.call(2, 1, CalcIds.add, encode("(ii)", [1, 2]), 0, id);
    expect(duplicate.msg.type).toBe(MessageType.Error);
    expect(errorText(duplicate)).toBe(
      `duplicate message id ${id}: a call with this id is still in progress on this connection`,
    );
    const answer = await p.waitFor((f) => f.msg.id === id && f.msg.type !== MessageType.Error, 5_000, true);
    expect(answer.msg.type).toBe(MessageType.Reply);
    await original.catch(() => {});
    // Once answered, the id may be used again.
    expect(decode("i", (await p.call(2, 1, CalcIds.add, encode("(ii)", [2, 2]), 0, id)).msg.payload)).toBe(4);
  });

  it("maxServedCalls cannot be bypassed by reusing one id", async () => {
    const p = await calcServer({ maxServedCalls: 3 });
    const id = p.freshId();
    const frames: Frame[] = [];
    p.onFrame((f) => {
      if (f.msg.id === id) frames.push(f);
    });
    for (let i = 0; i < 50; i++) {
      p.send({
        id,
        type: MessageType.Call,
        flags: 0,
        service: 2,
        object: 1,
        action: CalcIds.slow,
        payload: encode("(i)", [200]),
      });
    }
    await p.waitFor((f) => f.msg.id === id && f.msg.type === MessageType.Reply, 5_000, true);
    expect(frames.filter((f) => f.msg.type === MessageType.Reply)).toHaveLength(1);
    const errors = frames.filter((f) => f.msg.type === MessageType.Error);
    expect(errors).toHaveLength(49);
    expect(errors.every((f) => /duplicate message id/.test(errorText(f)))).toBe(true);
    // Distinct ids are still held to the limit.
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => p.call(2, 1, CalcIds.slow, encode("(i)", [200]))),
    );
    expect(answers.filter((a) => a.msg.type === MessageType.Reply)).toHaveLength(3);
  });
});
