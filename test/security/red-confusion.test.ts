/**
 * Red team: what one user can learn about, or do to, another user's traffic through members
 * every object has (libqi's Manageable members 80–86: stats and trace).
 */
import { afterEach, describe, expect, it } from "vitest";
import { decode, encode } from "../../src/wire/codec.js";
import { MessageType } from "../../src/wire/message-types.js";
import type { ObjectRef } from "../../src/wire/values.js";
import { login, runCleanup, startCanary, startTarget, USERS } from "./harness.js";
import { rawLogin, serviceIds, sleep, statsAs } from "./red-helpers.js";

afterEach(runCleanup);

describe("red: cross-user observation", () => {
  // Expected: a user never sees another user's calls. The gateway should refuse (or serve per
  // client) the Manageable members of internal objects — traceObject (86), enableTrace,
  // stats/enableStats/clearStats (80–85) — unless a rule names them explicitly: a `subscribe`
  // or `call` rule of "*" is meant for a service's own signals and methods. Today router.ts
  // subscribe/checkMember treat "Calc.traceObject" like any signal, so alice, subscribed to
  // the trace, receives every call of every client to Calc with its arguments and results.
  it("does not show alice the canary's calls through Calc.traceObject", async () => {
    const t = await startTarget();
    const canary = await startCanary(t.gateway.tcpUrl);
    const alice = await login(t.gateway.tcpUrl, USERS.alice);
    const calc = await alice.service("Calc");
    const seen: unknown[] = [];
    let subscribed = true;
    try {
      await calc.signal("traceObject").connect((...args: unknown[]) => seen.push(args));
    } catch {
      subscribed = false;
    }
    await sleep(1_000);
    const report = await canary.stop();
    expect(report.failures).toEqual([]);
    console.info(
      `alice subscribed to Calc.traceObject: ${subscribed}; ${seen.length} trace events, e.g. ${JSON.stringify(seen[0], (_k, v) => (typeof v === "bigint" ? String(v) : v))?.slice(0, 300)}`,
    );
    expect(seen).toEqual([]);
  }, 30_000);

  // Expected: reading a property is gated like observing it (a `subscribe` rule for
  // `Service.property`, or a read rule of its own); docs/gateway.md lists no rule that covers
  // it. Today router.ts checkMember returns "allowed" for Reserved.property and
  // Reserved.properties before any rule is looked at, so a user allowed no call and no
  // subscription on ALBattery still reads its charge (and any property of any service it sees).
  it("refuses property reads to a user with no rule for them", async () => {
    const t = await startTarget({
      configure: (config) => {
        const users = (config.permissions as { users: Record<string, unknown> }).users;
        users.bob = { services: { allow: ["ALBattery"] }, call: { deny: ["*"] }, subscribe: { deny: ["*"] } };
      },
    });
    const bob = await login(t.gateway.tcpUrl, USERS.bob);
    const battery = await bob.service("ALBattery");
    await expect(battery.call("getBatteryCharge")).rejects.toThrow(/Permission denied/);
    await expect(battery.signal("charge").connect(() => {})).rejects.toThrow(/Permission denied/);
    await expect(battery.property("charge").get()).rejects.toThrow(/Permission denied/);
  }, 30_000);

  // Expected: a user who is not an admin sees in /stats.json only figures about their own
  // connections (issue 10 item 9 hid other clients' rows). Today web/stats.ts gatewayStats
  // still gives everyone the gateway-wide figures: clientCount (how many others are
  // connected), exports/upstreamObjects/fanouts, and traffic totals including authFailures.
  it("does not tell alice how many other clients are connected or failed to log in (/stats.json)", async () => {
    const t = await startTarget();
    await login(t.gateway.tcpUrl, USERS.bob);
    await login(t.gateway.tcpUrl, USERS.bob);
    await expect(login(t.gateway.tcpUrl, { user: "bob", token: "wrong" })).rejects.toThrow();
    await login(t.gateway.tcpUrl, USERS.alice);
    const stats = await statsAs(t.gateway.wsUrl, USERS.alice);
    expect(stats.clients.map((c) => c.user)).toEqual(["alice"]);
    expect({ clientCount: stats.clientCount, authFailures: stats.traffic.authFailures ?? 0 }).toEqual({
      clientCount: 1,
      authFailures: 0,
    });
  }, 30_000);

  // Held (kept as coverage): message ids, link ids and object ids are per client, so alice
  // cannot cancel bob's calls, end his subscriptions or release his objects by naming his ids.
  it("does not let alice cancel, unsubscribe or release anything of bob's", async () => {
    const t = await startTarget();
    const session = await login(t.gateway.tcpUrl, USERS.alice);
    const calc = await serviceIds(session, "Calc");
    const log = await serviceIds(session, "LogManager");
    const alice = await rawLogin(t.gateway.tcpUrl, USERS.alice);
    const bob = await rawLogin(t.gateway.tcpUrl, USERS.bob);
    const held = await bob.call(log.service, 1, log.member("createListener"));
    const ref = decode("o", held.payload, { objectUid: true, importObject: (r) => r }) as ObjectRef;
    await bob.subscribe(calc.service, calc.member("tick"), 7n);
    const slow = bob.call(calc.service, 1, calc.member("slow"), encode("(i)", [1_500]));
    await sleep(100);
    // Every message id bob could have used, every link id, his object's id: from alice.
    for (let id = 1; id < 5_000; id++)
      alice.send({
        id: 900_000 + id,
        type: MessageType.Cancel,
        flags: 0,
        service: calc.service,
        object: 1,
        action: 0,
        payload: encode("I", id),
      });
    const unsub = await alice.call(
      calc.service,
      1,
      1,
      encode("(IIL)", [calc.service, calc.member("tick"), 7n]),
    );
    expect(unsub.type).toBe(MessageType.Error);
    await alice.call(log.service, ref.objectId, 3, encode("(I)", [ref.objectId]));
    expect((await slow).type).toBe(MessageType.Reply);
    const eventsBefore = bob.events;
    await sleep(500);
    expect(bob.events).toBeGreaterThan(eventsBefore);
    const stillHeld = await bob.call(log.service, ref.objectId, 2, encode("(I)", [0]));
    expect(stillHeld.type).toBe(MessageType.Reply);
    expect(t.gateway.alive()).toBe(true);
  }, 30_000);
});
