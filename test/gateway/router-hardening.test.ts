/**
 * Regression tests of the router's hardening (issue 10, items 2, 3, 6, 8, 9): object references
 * under every flag, reused message ids, fair upstream shares, one event per subscription,
 * wanted signatures, subscription/registration/name limits, writes to signals and properties,
 * and errors that name no internal address. In-process gateway, real sockets on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from "vitest";
import { UserTokenAuthenticator } from "../../src/connection/index.js";
import { GatewayAuthProvider, hashToken } from "../../src/gateway/index.js";
import { UpstreamShares } from "../../src/gateway/upstream-share.js";
import { QiObject, type RemoteObject } from "../../src/object/index.js";
import { encode } from "../../src/wire/codec.js";
import { MessageFlags, MessageType } from "../../src/wire/message-types.js";
import { Dynamic, ObjectRef } from "../../src/wire/values.js";
import { errorOf, HostileClient } from "../security/fixtures/router-client.js";
import { client, runCleanup, signalUid, sleep, until, world } from "./world.js";

afterEach(runCleanup);

const UID = new Uint8Array(20);

function vault() {
  const kept: RemoteObject[] = [];
  const object = new QiObject()
    .method("keep", "(o)", "v", (o: RemoteObject) => {
      kept.push(o);
    })
    .method("probe", "(o)", "s", async (o: RemoteObject) => String(await o.call("secret")));
  return { object, kept };
}

function secretHolder(secret: string): QiObject {
  return new QiObject().method("secret", "()", "s", () => secret);
}

/** The ids the gateway exported client objects under (test access to the router's state). */
function exportedIds(gw: unknown): number[] {
  const router = (gw as { router: { objects: { exportIds(): number[] } } }).router;
  return router.objects.exportIds();
}

describe("router: object references", () => {
  for (const variant of ["ReturnType", "DynamicPayload", "both"] as const) {
    it(`maps a raw reference sent with ${variant} like any other (no other client's object)`, async () => {
      const w = await world();
      const v = vault();
      const vaultId = await w.host.registerService("Vault", v.object);
      const victim = await client(w.gwUrl);
      await (await victim.service("Vault")).call("keep", secretHolder("victim's secret"));
      await until(() => v.kept.length === 1, "the victim's callback kept");
      const [gwId] = exportedIds(w.gw);
      expect(gwId).toBeGreaterThanOrEqual(0xc0000000);

      const attacker = await HostileClient.connect(w.gwUrl);
      const meta = secretHolder("").metaObject();
      const ref = new ObjectRef(meta, vaultId, gwId, UID);
      const ctx = { objectUid: true };
      const flags =
        variant === "ReturnType"
          ? MessageFlags.ReturnType
          : variant === "DynamicPayload"
            ? MessageFlags.DynamicPayload
            : MessageFlags.ReturnType | MessageFlags.DynamicPayload;
      const args =
        flags & MessageFlags.DynamicPayload
          ? encode("m", new Dynamic("(o)", [ref]), ctx)
          : encode("(o)", [ref], ctx);
      const payload = flags & MessageFlags.ReturnType ? Buffer.concat([args, encode("s", "s")]) : args;
      const probe = (await attacker.metaObject(vaultId)).methods;
      const probeUid = [...probe.values()].find((m) => m.name === "probe")!.uid;
      const answer = await attacker.call(vaultId, 1, probeUid, payload, flags);
      // The reference became one to the attacker's own object (asked, and refused, by the
      // attacker's connection): never the victim's.
      expect(Buffer.from(answer.payload).includes(Buffer.from("victim's secret"))).toBe(false);
      expect(answer.type).toBe(MessageType.Error);
      expect(attacker.requests).toHaveLength(1);
    });
  }

  it("hands out export ids that are not sequential", async () => {
    const w = await world();
    const v = vault();
    await w.host.registerService("Vault", v.object);
    const c = await client(w.gwUrl);
    const remote = await c.service("Vault");
    for (let i = 0; i < 8; i++) await remote.call("keep", secretHolder(String(i)));
    const ids = exportedIds(w.gw).sort((a, b) => a - b);
    expect(ids).toHaveLength(8);
    for (const id of ids) expect(id).toBeGreaterThanOrEqual(0xc0000000);
    const gaps = ids.slice(1).map((id, i) => id - ids[i]);
    expect(gaps.every((g) => g === 1)).toBe(false);
  });
});

describe("router: limits that cannot be bypassed", () => {
  it("refuses a message id already in flight and keeps the original call", async () => {
    const w = await world({ limits: { maxPendingCalls: 50 } });
    let open: (v: string) => void = () => {};
    const gate = new QiObject().method("wait", "()", "s", () => new Promise<string>((r) => (open = r)));
    const gateId = await w.host.registerService("Gate", gate);
    const c = await HostileClient.connect(w.gwUrl);
    const waitUid = [...(await c.metaObject(gateId)).methods.values()].find((m) => m.name === "wait")!.uid;
    const n = 500;
    const before = c.answers.length;
    for (let i = 0; i < n; i++) c.send({ id: 777, service: gateId, object: 1, action: waitUid });
    await c.waitAnswers(before + n - 1);
    const refused = c.answers.slice(before);
    expect(new Set(refused.map(errorOf))).toEqual(
      new Set(["duplicate message id 777: a call with this id is still in progress on this connection"]),
    );
    expect(w.gw.clients().map((x) => x.pendingCalls)).toEqual([1]);
    open("done");
    await c.waitAnswers(before + n);
    expect(c.answers[before + n - 1].type).toBe(MessageType.Reply);
  });

  it("shares an upstream fairly: per user, with a reserve for users with few calls", () => {
    const shares = new UpstreamShares({ total: 10, perUser: 6, reserve: 4, reservePerUser: 2 });
    const conn = {} as never;
    const taken = [];
    for (let i = 0; i < 10; i++) {
      const l = shares.take(conn, "mallory");
      if (l) taken.push(l);
    }
    expect(taken).toHaveLength(6); // its share, whatever the number of its connections
    expect(shares.take(conn, "alice")).toBeDefined(); // total 7: inside the reserve, alice has 1
    expect(shares.take(conn, "alice")).toBeDefined(); // 2 for alice
    expect(shares.take(conn, "alice")).toBeUndefined(); // reserve: only users under 2
    expect(shares.take(conn, "bob")).toBeDefined(); // 9
    expect(shares.take(conn, "carol")).toBeDefined(); // 10: full
    expect(shares.take(conn, "dave")).toBeUndefined();
    shares.release(taken[0], "mallory");
    expect(shares.take(conn, "mallory")).toBeUndefined(); // inside the reserve with 5
    expect(shares.take(conn, "dave")).toBeDefined();
  });

  it("limits subscriptions per client, and pending ones count", async () => {
    const w = await world({ limits: { maxSubscriptions: 5 } });
    const c = await HostileClient.connect(w.gwUrl);
    const tick = signalUid(w.service.object, "tick");
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        c.call(w.calcId, 1, 0, encode("(IIL)", [w.calcId, tick, BigInt(i + 1)])),
      ),
    );
    expect(answers.filter((m) => m.type === MessageType.Reply)).toHaveLength(5);
    const refused = answers.filter((m) => m.type === MessageType.Error).map(errorOf);
    expect(refused).toHaveLength(7);
    expect(refused[0]).toMatch(/Too many subscriptions through the gateway \(limit 5\)/);
  });

  it("refuses long service names without echoing them, and caps registrations per client", async () => {
    const w = await world({ allowServiceRegistration: true, limits: { maxRegistrations: 2 } });
    const c = await client(w.gwUrl);
    const long = "x".repeat(30_000);
    const e = await c.service(long).catch((err: Error) => err);
    expect((e as Error).message).toMatch(/longer than 256 characters/);
    expect((e as Error).message.length).toBeLessThan(200);
    await c.registerService(
      "Mine1",
      new QiObject().method("a", "()", "i", () => 1),
    );
    await c.registerService(
      "Mine2",
      new QiObject().method("a", "()", "i", () => 1),
    );
    await expect(c.registerService("Mine3", new QiObject())).rejects.toThrow(
      /Too many services registered by this client \(limit 2\)/,
    );
    await expect(c.registerService(long, new QiObject())).rejects.toThrow(/longer than 256/);
  });
});

describe("router: signals", () => {
  it("delivers each event once per subscription, converted for registerEventWithSignature", async () => {
    const w = await world();
    const c = await HostileClient.connect(w.gwUrl);
    const tick = signalUid(w.service.object, "tick");
    const wanted = ["(l)", "(m)", "(d)", "(l)"];
    for (const [i, sig] of wanted.entries()) {
      const m = await c.call(w.calcId, 1, 8, encode("(IILs)", [w.calcId, tick, BigInt(i + 1), sig]));
      expect(m.type).toBe(MessageType.Reply);
    }
    expect((await c.call(w.calcId, 1, 0, encode("(IIL)", [w.calcId, tick, 99n]))).type).toBe(
      MessageType.Reply,
    );
    w.service.object.emit("tick", 5);
    await until(() => c.events.length >= 5, "five events");
    await sleep(100);
    expect(c.events).toHaveLength(5);
    expect(c.events.filter((e) => e.flags & MessageFlags.DynamicPayload)).toHaveLength(4);
  });

  it("refuses a wanted signature the signal cannot take, or too long", async () => {
    const w = await world();
    const c = await HostileClient.connect(w.gwUrl);
    const tick = signalUid(w.service.object, "tick");
    for (const sig of ["(s)", "([i]{si})", "(((", "(i)".padEnd(300, "i")]) {
      const m = await c.call(w.calcId, 1, 8, encode("(IILs)", [w.calcId, tick, 1n, sig]));
      expect(m.type).toBe(MessageType.Error);
      expect(errorOf(m)).toMatch(/Cannot subscribe to Calc.tick/);
    }
  });

  it("needs the write right to Post or Call a signal or property; Events toward a service are dropped", async () => {
    const provider = new GatewayAuthProvider({
      alice: { token: hashToken("a") },
      bob: { token: hashToken("b") },
    });
    const reader = { services: { allow: ["Calc"] }, call: { allow: ["*"] }, subscribe: { allow: ["*"] } };
    const w = await world({
      allowAnonymous: false,
      authProvider: provider,
      permissions: { users: { alice: reader, bob: { ...reader, write: { allow: ["Calc.tick"] } } } },
    });
    const watcher = await client(w.gwUrl, { authenticator: new UserTokenAuthenticator("bob", "b") });
    const seen: number[] = [];
    await (await watcher.service("Calc")).signal("tick").connect((v) => seen.push(v as number));
    const alice = await HostileClient.connect(w.gwUrl, { user: "alice", token: "a" });
    const meta = await alice.metaObject(w.calcId);
    const tick = [...meta.signals.values()].find((s) => s.name === "tick")!.uid;
    const level = [...meta.properties.values()].find((p) => p.name === "level")!.uid;
    alice.send({
      type: MessageType.Post,
      service: w.calcId,
      object: 1,
      action: tick,
      payload: encode("(i)", [42]),
    });
    alice.send({
      type: MessageType.Event,
      service: w.calcId,
      object: 1,
      action: tick,
      payload: encode("(i)", [43]),
    });
    const call = await alice.call(w.calcId, 1, tick, encode("(i)", [44]));
    expect(errorOf(call)).toMatch(/Permission denied: cannot emit or set Calc.tick/);
    const prop = await alice.call(w.calcId, 1, level, encode("(i)", [45]));
    expect(errorOf(prop)).toMatch(/Permission denied: cannot emit or set Calc.level/);
    // Bob may write the signal: his Post reaches the subscribers (so the watcher does listen).
    const bob = await HostileClient.connect(w.gwUrl, { user: "bob", token: "b" });
    bob.send({
      type: MessageType.Post,
      service: w.calcId,
      object: 1,
      action: tick,
      payload: encode("(i)", [46]),
    });
    await until(() => seen.length > 0, "bob's emission");
    expect(seen).toEqual([46]);
  });
});

describe("router: errors", () => {
  it("tells a client a service is unavailable, not where it was", async () => {
    const w = await world();
    const c = await client(w.gwUrl);
    const calc = await c.service("Calc");
    const pending = calc.call("slow", 5_000).catch((e: Error) => e);
    await sleep(100);
    await w.host.close();
    const e = (await pending) as Error;
    expect(e.message).not.toMatch(/127\.0\.0\.1|tcp:\/\//);
  });
});
