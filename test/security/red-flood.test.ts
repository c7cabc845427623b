/**
 * Red team: floods an ordinary user can send through the gateway's shared upstream
 * connections, which have no byte budget and no backpressure toward the client.
 */
import { afterEach, describe, expect, it } from "vitest";
import { encode } from "../../src/wire/codec.js";
import { MessageType } from "../../src/wire/message-types.js";
import { login, runCleanup, startCanary, startTarget, USERS } from "./harness.js";
import { rawLogin, rawLoginFrom, serviceIds, sleep, openHole } from "./red-helpers.js";

afterEach(runCleanup);

describe("red: floods through the upstream connection", () => {
  // Expected: Posts are limited like Calls (a Post is a call whose answer is dropped: the
  // service still runs it). Today router.ts forward() passes every Post straight on, so a
  // client that may call Calc.slow keeps any number of slow invocations running in the
  // robot's process (each a pending promise and a timer), 32 bytes on the wire each, where
  // Calls stop at maxPendingCalls (1,000).
  openHole(
    "limits Posts of a slow method like Calls (100,000 Posts of Calc.slow)",
    async () => {
      const t = await startTarget();
      const alice = await login(t.gateway.tcpUrl, USERS.alice);
      const calc = await serviceIds(alice, "Calc");
      const raw = await rawLogin(t.gateway.tcpUrl, USERS.alice);
      const payload = encode("(i)", [600_000]);
      const robotBefore = t.robot.rss();
      for (let i = 0; i < 100_000; i++) {
        raw.send({
          id: 6_000_000 + i,
          type: MessageType.Post,
          flags: 0,
          service: calc.service,
          object: 1,
          action: calc.member("slow"),
          payload,
        });
        if (i % 5_000 === 0) await sleep(5);
      }
      // A Call behind the Posts: everything before it was read by the robot.
      const answer = await raw.call(calc.service, 1, calc.member("add"), encode("(ii)", [1, 2]));
      expect(answer.type).toBe(MessageType.Reply);
      await sleep(500);
      const grown = t.robot.rss() - robotBefore;
      console.info(`robot RSS +${(grown / 1e6).toFixed(0)} MB after 100,000 Posts of Calc.slow`);
      expect(grown).toBeLessThan(20_000_000);
    },
    60_000,
  );

  // Expected: limits that protect shared resources hold per user, not only per connection or
  // per address: one user's calls in flight across all their connections stay well below the
  // gateway's upstream limit (10,000 per upstream connection), so other users keep working.
  // Today router.ts counts maxPendingCalls (1,000) per ClientLink only; alice, from 12
  // loopback addresses (per-address caps do not help), holds 12,000 slow calls and the
  // canary's calls to the same service fail with "too many pending calls".
  it.skipIf(process.env.QI_DISPATCH === "sync")(
    "bounds one user's calls in flight across 12 connections from 12 addresses",
    async () => {
      const t = await startTarget();
      const canary = await startCanary(t.gateway.tcpUrl);
      const alice = await login(t.gateway.tcpUrl, USERS.alice);
      const calc = await serviceIds(alice, "Calc");
      const payload = encode("(i)", [15_000]);
      const clients = await Promise.all(
        Array.from({ length: 12 }, (_, i) => rawLoginFrom(t.gateway.tcpUrl, USERS.alice, `127.0.0.${i + 2}`)),
      );
      for (const c of clients)
        for (let i = 0; i < 1_000; i++)
          void c.call(calc.service, 1, calc.member("slow"), payload).catch(() => {});
      await sleep(3_000);
      const report = await canary.stop();
      console.info(`canary: ${report.failures.length} failures, e.g. ${report.failures[0]}`);
      for (const c of clients) c.destroy();
      expect(report.failures).toEqual([]);
    },
    60_000,
  );
});
