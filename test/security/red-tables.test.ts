/**
 * Red team: per-client tables of the gateway that an ordinary, authenticated user can grow
 * without bound (not covered by issue 10 items 1–9).
 */
import { afterEach, describe, expect } from "vitest";
import { decode, encode } from "../../src/wire/codec.js";
import { MessageType } from "../../src/wire/message-types.js";
import type { MetaObject } from "../../src/wire/metaobject-types.js";
import { ObjectRef } from "../../src/wire/values.js";
import { login, runCleanup, startCanary, startTarget, USERS } from "./harness.js";
import { rawLogin, serviceIds, sleep, statsAs, openHole } from "./red-helpers.js";

afterEach(runCleanup);

describe("red: unbounded per-client tables", () => {
  // Expected: a client may hold a bounded number of objects (a per-client cap, refusing further
  // object-returning calls with an error), as it may have a bounded number of pending calls.
  // Today router.ts importUpstreamObject adds every returned object to link.objects and
  // upstreamRefs with no limit, and the service keeps each one alive for the gateway.
  openHole(
    "caps the objects one client may hold (LogManager.createListener × 12,000, never released)",
    async () => {
      const t = await startTarget();
      const canary = await startCanary(t.gateway.tcpUrl);
      const alice = await login(t.gateway.tcpUrl, USERS.alice);
      const log = await serviceIds(alice, "LogManager");
      const raw = await rawLogin(t.gateway.tcpUrl, USERS.alice);
      const before = t.gateway.rss();
      let refused = 0;
      const N = 12_000;
      for (let i = 0; i < N; i += 500) {
        const answers = await Promise.all(
          Array.from({ length: 500 }, () => raw.call(log.service, 1, log.member("createListener"))),
        );
        refused += answers.filter((m) => m.type !== MessageType.Reply).length;
      }
      const stats = await statsAs(t.gateway.wsUrl, USERS.alice);
      const held = stats.clients.reduce((n, c) => Math.max(n, c.objects), 0);
      console.info(
        `held ${held} objects, upstreamObjects ${stats.upstreamObjects}, refused ${refused}, ` +
          `gateway RSS +${((t.gateway.rss() - before) / 1e6).toFixed(0)} MB`,
      );
      expect((await canary.stop()).failures).toEqual([]);
      expect(refused).toBeGreaterThan(0);
      expect(held).toBeLessThan(N);
    },
    60_000,
  );

  // Expected: when the service releases an object a client passed to it (terminate), the
  // gateway forgets its export (router.ts upstreamExports, exportIds and the event handler set
  // on the client's connection by forwardEventsOf), and a client's live exports are capped.
  // Today onUpstreamRequest/forwardToClient only forward the terminate to the client: every
  // entry, with the client-supplied MetaObject, stays until the client disconnects.
  openHole(
    "forgets a client's exported object once the service released it (LogManager.addProvider + removeProvider)",
    async () => {
      const t = await startTarget();
      const alice = await login(t.gateway.tcpUrl, USERS.alice);
      const log = await serviceIds(alice, "LogManager");
      const raw = await rawLogin(t.gateway.tcpUrl, USERS.alice);
      // A client object with a 20 KB description: what the gateway keeps per export.
      const meta: MetaObject = {
        methods: new Map(),
        signals: new Map(),
        properties: new Map(),
        description: "x".repeat(20_000),
      };
      const before = t.gateway.rss();
      const N = 1_000;
      for (let i = 0; i < N; i += 250) {
        await Promise.all(
          Array.from({ length: 250 }, async (_, j) => {
            const ref = new ObjectRef(meta, 7, 0x80000001 + i + j, new Uint8Array(20));
            const added = await raw.call(
              log.service,
              1,
              log.member("addProvider"),
              encode("(o)", [ref], { objectUid: true }),
            );
            if (added.type !== MessageType.Reply) throw new Error(`addProvider answered ${added.type}`);
            const removed = await raw.call(log.service, 1, log.member("removeProvider"), added.payload);
            if (removed.type !== MessageType.Reply)
              throw new Error(`removeProvider answered ${removed.type}`);
          }),
        );
      }
      await sleep(500);
      const stats = await statsAs(t.gateway.wsUrl, USERS.alice);
      const grown = t.gateway.rss() - before;
      console.info(
        `exports after ${N} added and removed providers: ${stats.exports}, gateway RSS +${(grown / 1e6).toFixed(0)} MB`,
      );
      expect(stats.exports).toBeLessThan(100);
    },
    60_000,
  );

  // Expected: what the gateway learnt about an object (its MetaObject) is forgotten when the
  // last client releases it. Today upstream.ts rememberMetaObject (called by router.ts
  // importUpstreamObject for every object handed out) adds to metaObjects/knownMetaObjects
  // per upstream connection and nothing ever deletes: create-and-release loops grow the
  // gateway forever, even with a per-client object cap, and the memory outlives the client.
  openHole(
    "keeps no memory of released objects (10,000 LogManager.createListener + terminate, then disconnect)",
    async () => {
      const t = await startTarget();
      const alice = await login(t.gateway.tcpUrl, USERS.alice);
      const log = await serviceIds(alice, "LogManager");
      const raw = await rawLogin(t.gateway.tcpUrl, USERS.alice);
      const cycle = async () => {
        const m = await raw.call(log.service, 1, log.member("createListener"));
        const ref = decode("o", m.payload, { objectUid: true, importObject: (r) => r }) as ObjectRef;
        await raw.call(log.service, ref.objectId, 3, encode("(I)", [ref.objectId]));
      };
      const before = t.gateway.rss();
      for (let i = 0; i < 10_000; i += 500) await Promise.all(Array.from({ length: 500 }, cycle));
      await raw.close();
      await sleep(1_000);
      const stats = await statsAs(t.gateway.wsUrl, USERS.alice);
      const grown = t.gateway.rss() - before;
      console.info(
        `after 10,000 created and released objects: upstreamObjects ${stats.upstreamObjects}, gateway RSS +${(grown / 1e6).toFixed(0)} MB`,
      );
      expect(stats.upstreamObjects).toBe(0);
      expect(grown).toBeLessThan(50_000_000);
    },
    60_000,
  );
});
