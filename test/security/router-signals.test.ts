/**
 * Issue 10 items 6 and 8 against a real gateway process: N registerEventWithSignature
 * subscriptions each get every event exactly once (and other subscribers once), a signature
 * the signal cannot take is refused, and a user without the write right can neither post to a
 * signal or property nor send an Event toward a service: subscribers never see a forgery.
 */
import { afterEach, describe, expect, it } from "vitest";
import { decode, encode } from "../../src/wire/codec.js";
import { type Message, MessageFlags, MessageType } from "../../src/wire/message-types.js";
import { Dynamic } from "../../src/wire/values.js";
import { errorOf, HostileClient } from "./fixtures/router-client.js";
import { login, runCleanup, startCanary, startTarget, USERS } from "./harness.js";

afterEach(runCleanup);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The tick value an event carries, plain `(i)` or a dynamic of any wanted signature. */
function tickValue(m: Message): number {
  if (m.flags & MessageFlags.DynamicPayload) {
    const d = decode("m", m.payload) as Dynamic;
    const first = (d.value as unknown[])[0];
    return Number(first instanceof Dynamic ? first.value : first); // "(m)" wraps it once more
  }
  return (decode("(i)", m.payload) as number[])[0];
}

async function signalOf(c: HostileClient, service: number, name: string): Promise<number> {
  return [...(await c.metaObject(service)).signals.values()].find((s) => s.name === name)!.uid;
}

describe("signal fan-out (real gateway)", () => {
  it("delivers each event once per subscription and refuses signatures the signal cannot take", async () => {
    const t = await startTarget();
    const canary = await startCanary(t.gateway.tcpUrl);
    const alice = await HostileClient.connect(t.gateway.tcpUrl, USERS.alice);
    const bob = await HostileClient.connect(t.gateway.tcpUrl, USERS.bob);
    const calcId = await alice.serviceId("Calc");
    const tick = await signalOf(alice, calcId, "tick");
    expect((await bob.call(calcId, 1, 0, encode("(IIL)", [calcId, tick, 1n]))).type).toBe(MessageType.Reply);
    const wanted = ["(i)", "(l)", "(m)", "(d)", "(i)", "(L)"];
    for (const [i, sig] of wanted.entries()) {
      const m = await alice.call(calcId, 1, 8, encode("(IILs)", [calcId, tick, BigInt(i + 1), sig]));
      expect(m.type).toBe(MessageType.Reply);
    }
    for (const bad of ["(s)", "([s])", "(((", "x".repeat(10_000)]) {
      const m = await alice.call(calcId, 1, 8, encode("(IILs)", [calcId, tick, 99n, bad]));
      expect(m.type).toBe(MessageType.Error);
      expect(errorOf(m)).toMatch(/^Cannot subscribe to Calc\.tick: /);
      expect(errorOf(m).length).toBeLessThan(300);
    }
    const aliceFrom = alice.events.length;
    const bobFrom = bob.events.length;
    await sleep(1_500); // Calc ticks every 200 ms
    const byValue = new Map<number, number>();
    for (const e of alice.events.slice(aliceFrom))
      byValue.set(tickValue(e), (byValue.get(tickValue(e)) ?? 0) + 1);
    const values = [...byValue.keys()];
    expect(values.length).toBeGreaterThanOrEqual(4);
    // Every tick went to each of the 6 subscriptions once (but the first and last, which may
    // have been arriving when we looked).
    for (const v of values.slice(1, -1)) expect(byValue.get(v)).toBe(wanted.length);
    const bobValues = bob.events.slice(bobFrom).map(tickValue);
    expect(new Set(bobValues).size).toBe(bobValues.length);
    expect((await canary.stop()).failures).toEqual([]);
  });
});

describe("forged events (real gateway)", () => {
  it("refuses Post/Call to a signal or property without write; Events toward a service are dropped", async () => {
    const t = await startTarget();
    const canary = await startCanary(t.gateway.tcpUrl);
    const watcher = await login(t.gateway.tcpUrl, USERS.admin);
    const seen: number[] = [];
    await (await watcher.service("Calc")).signal("tick").connect((v) => seen.push(v as number));
    const alice = await HostileClient.connect(t.gateway.tcpUrl, USERS.alice);
    const calcId = await alice.serviceId("Calc");
    const meta = await alice.metaObject(calcId);
    const tick = [...meta.signals.values()].find((s) => s.name === "tick")!.uid;
    const level = [...meta.properties.values()].find((p) => p.name === "level")!.uid;
    const FORGED = 0x7ffffff0;
    for (let i = 0; i < 50; i++) {
      const payload = encode("(i)", [FORGED + (i % 8)]);
      alice.send({ type: MessageType.Post, service: calcId, object: 1, action: tick, payload });
      alice.send({ type: MessageType.Post, service: calcId, object: 1, action: level, payload });
      alice.send({ type: MessageType.Event, service: calcId, object: 1, action: tick, payload });
    }
    const call = await alice.call(calcId, 1, tick, encode("(i)", [FORGED]));
    expect(errorOf(call)).toBe("Permission denied: cannot emit or set Calc.tick.");
    const set = await alice.call(calcId, 1, level, encode("(i)", [FORGED]));
    expect(errorOf(set)).toBe("Permission denied: cannot emit or set Calc.level.");
    await sleep(600);
    expect(seen.length).toBeGreaterThan(0); // the watcher does hear the real ticks
    expect(seen.filter((v) => v >= FORGED)).toEqual([]);
    expect(await (await watcher.service("Calc")).property("level").get()).toBe(7);
    // The admin has the write right: its Post is an emission subscribers see.
    const admin = await HostileClient.connect(t.gateway.tcpUrl, USERS.admin);
    admin.send({
      type: MessageType.Post,
      service: calcId,
      object: 1,
      action: tick,
      payload: encode("(i)", [FORGED]),
    });
    const t0 = Date.now();
    while (!seen.includes(FORGED) && Date.now() - t0 < 5_000) await sleep(20);
    expect(seen).toContain(FORGED);
    expect((await canary.stop()).failures).toEqual([]);
  });
});
