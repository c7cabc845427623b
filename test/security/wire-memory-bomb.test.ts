/**
 * Issue 10 item 1, against real processes: 4-byte values that describe a million JS arrays,
 * sent 1,000 times before authentication (Capability messages, no credentials) and 200 times
 * after it (a dynamic argument of ALMemory.insertData, or any call with the DynamicPayload
 * flag). Once this took a gateway and `qi sd` to "JavaScript heap out of memory"; now each is
 * refused, the process stays up, its RSS grows by less than RSS_BOUND and the canary's calls
 * all succeed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Session } from "../../src/session/index.js";
import { QiObject } from "../../src/object/index.js";
import { decode } from "../../src/wire/codec.js";
import { findMethod } from "../../src/wire/metaobject.js";
import { MessageFlags, MessageType } from "../../src/wire/message-types.js";
import type { Dynamic } from "../../src/wire/values.js";
import type { Frame, RawPeer } from "../connection/raw-peer.js";
import { bombDynamic, capabilityFlood, delay, rawLogin, startQiSd } from "./fixtures/wire-bombs.js";
import { cleanup, login, runCleanup, startCanary, startTarget, USERS } from "./harness.js";

afterEach(runCleanup);

const RSS_BOUND = 30 * 1024 * 1024;
const PRE_AUTH_BOMBS = 1000;
const POST_AUTH_BOMBS = 200;
const MB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

function errorText(f: Frame): string {
  try {
    return String((decode("m", f.msg.payload) as Dynamic).value);
  } catch {
    return "(undecodable)";
  }
}

/** Sends `count` calls at once and resolves with their answers. */
function volley(p: RawPeer, count: number, send: (id: number) => Promise<Frame>): Promise<Frame[]> {
  return Promise.all(Array.from({ length: count }, () => send(p.freshId())));
}

describe("memory bombs against a real gateway (issue 10 item 1)", () => {
  it("1,000 pre-auth Capability bombs and 200 post-auth insertData bombs: refused, RSS bounded, canary fine", async () => {
    const t = await startTarget();
    const canary = await startCanary(t.gateway.tcpUrl);
    while (canary.calls < 3) await delay(50);
    // Log in first: a login runs scrypt, whose 16 MB would otherwise count as growth.
    const alice = await login(t.gateway.tcpUrl, USERS.alice);
    const memory = await alice.service("ALMemory");
    const insertData = findMethod(memory.metaObject, "insertData");
    expect(insertData).toBeDefined();
    const p = await rawLogin(t.gateway.tcpUrl, USERS.alice);
    const gatewayBefore = t.gateway.rss();
    const robotBefore = t.robot.rss();

    const flood = await capabilityFlood(t.gateway.tcpUrl, PRE_AUTH_BOMBS, 100);
    expect(flood.closedByTarget).toBe(flood.connections);
    expect(t.gateway.alive()).toBe(true);
    const gatewayAfterFlood = t.gateway.rss();

    // Logged in: ALMemory.insertData("k", m) with m = [()] × 1,000,000.
    const key = [1, 0, 0, 0, 0x6b];
    const answers = await volley(p, POST_AUTH_BOMBS, (id) =>
      p.call(memory.serviceId, 1, insertData!.uid, Uint8Array.from([...key, ...bombDynamic()]), 0, id),
    );
    expect(answers.every((a) => a.msg.type === MessageType.Error)).toBe(true);
    expect(errorText(answers[0])).toMatch(/allocation budget/);
    // The same bomb as a whole DynamicPayload argument list.
    const calc = await alice.service("Calc");
    const add = findMethod(calc.metaObject, "add")!;
    const dynamicAnswers = await volley(p, POST_AUTH_BOMBS, (id) =>
      p.call(calc.serviceId, 1, add.uid, Uint8Array.from(bombDynamic()), MessageFlags.DynamicPayload, id),
    );
    expect(dynamicAnswers.every((a) => a.msg.type === MessageType.Error)).toBe(true);

    await delay(500);
    const gatewayGrowth = t.gateway.rss() - gatewayBefore;
    const robotGrowth = t.robot.rss() - robotBefore;
    process.stderr.write(
      `wire-memory-bomb gateway: RSS ${MB(gatewayBefore)} → +${MB(gatewayAfterFlood - gatewayBefore)} after the pre-auth flood → +${MB(gatewayGrowth)}; robot: ${MB(robotBefore)} → +${MB(robotGrowth)}\n`,
    );
    expect(gatewayGrowth).toBeLessThan(RSS_BOUND);
    expect(robotGrowth).toBeLessThan(RSS_BOUND);
    // Still serving, the canary never noticed.
    expect(await calc.call("add", 2, 3)).toBe(5);
    expect(t.gateway.alive()).toBe(true);
    expect(t.robot.alive()).toBe(true);
    expect((await canary.stop()).failures).toEqual([]);
  }, 120_000);
});

describe("memory bombs against a real `qi sd` (issue 10 item 1)", () => {
  it("1,000 pre-auth Capability bombs and 200 post-auth dynamic bombs: refused, RSS bounded, canary fine", async () => {
    const sd = await startQiSd();
    // The canary's Calc, hosted here and registered with the qi sd.
    const host = new Session();
    cleanup.push(() => host.close());
    await host.connect(sd.url);
    await host.registerService(
      "Calc",
      new QiObject().method("add", "(ii)", "i", (a: number, b: number) => a + b),
    );
    const canary = await startCanary(sd.url);
    while (canary.calls < 3) await delay(50);
    const p = await rawLogin(sd.url, USERS.alice);
    const client = await login(sd.url, USERS.alice);
    const directory = await client.service("ServiceDirectory");
    const setProperty = findMethod(directory.metaObject, "setProperty")!;
    const service = findMethod(directory.metaObject, "service")!;
    const before = sd.rss();

    const flood = await capabilityFlood(sd.url, PRE_AUTH_BOMBS, 100);
    expect(flood.closedByTarget).toBe(flood.connections);
    expect(sd.alive()).toBe(true);

    // The Service Directory's own members: setProperty(m, m) and service(s) as a DynamicPayload.
    const answers = await volley(p, POST_AUTH_BOMBS, (id) =>
      p.call(1, 1, setProperty.uid, Uint8Array.from([...bombDynamic(), ...bombDynamic()]), 0, id),
    );
    expect(answers.every((a) => a.msg.type === MessageType.Error)).toBe(true);
    expect(errorText(answers[0])).toMatch(/allocation budget/);
    const dynamicAnswers = await volley(p, POST_AUTH_BOMBS, (id) =>
      p.call(1, 1, service.uid, Uint8Array.from(bombDynamic()), MessageFlags.DynamicPayload, id),
    );
    expect(dynamicAnswers.every((a) => a.msg.type === MessageType.Error)).toBe(true);
    expect(errorText(dynamicAnswers[0])).toMatch(/allocation budget/);

    await delay(500);
    const growth = sd.rss() - before;
    process.stderr.write(`wire-memory-bomb qi sd: RSS ${MB(before)} → +${MB(growth)}\n`);
    expect(growth).toBeLessThan(RSS_BOUND);
    expect((await client.services()).map((s) => s.name)).toContain("Calc");
    expect(sd.alive()).toBe(true);
    expect((await canary.stop()).failures).toEqual([]);
  }, 120_000);
});
