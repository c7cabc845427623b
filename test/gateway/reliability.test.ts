/**
 * Gateway reliability: slow consumers, garbage, oversized messages, per-client limits, leaks
 * over many connections, and clean-up after a client vanishes. Real sockets on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Connection } from "../../src/connection/index.js";
import { type Gateway, GatewayAuthProvider, hashToken } from "../../src/gateway/index.js";
import { PeerObjects } from "../../src/object/index.js";
import type { Session } from "../../src/session/index.js";
import { encode } from "../../src/wire/codec.js";
import { encodeMessage } from "../../src/wire/header.js";
import { MessageType } from "../../src/wire/message-types.js";
import { Raw } from "../../src/wire/values.js";
import { RawClient } from "./raw-client.js";
import {
  client,
  gc,
  listenerCount,
  type RemoteObject,
  raw,
  runCleanup,
  signalUid,
  sleep,
  until,
  world,
  cleanup,
  capturingLogger,
} from "./world.js";

afterEach(runCleanup);

const KiB = 1024;
const MiB = 1024 * 1024;

async function rawClient(url: string): Promise<RawClient> {
  const c = await RawClient.connect(url);
  cleanup.push(async () => c.destroy());
  return c;
}

/** What the router queues toward one of its clients, by client number order. */
function queuedBytes(gw: Gateway): number[] {
  const router = (
    gw as unknown as { router: { clients: Set<{ conn: { channel: { bufferedBytes: number } } }> } }
  ).router;
  return [...router.clients].map((l) => l.conn.channel.bufferedBytes);
}

/** Objects the host exports by reference on its incoming connections (the gateway's). */
function hostExported(host: Session): number {
  const conns = (host as unknown as { serverConnections: Set<Connection> }).serverConnections;
  let n = 0;
  for (const c of conns) n += PeerObjects.of(c)?.exportedCount ?? 0;
  return n;
}

describe("Gateway reliability", () => {
  describe("slow consumer", () => {
    const FRAME = 64 * KiB;
    const COUNT = 1_200; // 75 MiB of events
    const limits = { maxQueuedBytes: 1 * MiB, hardQueuedBytes: 4 * MiB };

    async function setUp(hardQueuedBytes = limits.hardQueuedBytes) {
      const w = await world({ limits: { ...limits, hardQueuedBytes } });
      const fast = await client(w.gwUrl);
      const fastCalc = await fast.service("Calc");
      let fastGot = 0;
      let fastBytes = 0;
      await fastCalc.signal("frame").connect((r: Raw) => {
        fastGot++;
        fastBytes += r.bytes.byteLength;
      });
      const slow = await rawClient(w.gwUrl);
      await slow.subscribe(w.calcId, signalUid(w.service.object, "frame"), 42n);
      return { ...w, slow, fast: () => ({ got: fastGot, bytes: fastBytes }) };
    }

    /** Emits `count` frames as fast as the fast client takes them (never more than 32 ahead). */
    async function pump(emit: () => void, delivered: () => number, count: number, onProgress?: () => void) {
      let sent = 0;
      const t0 = performance.now();
      while (sent < count) {
        for (let k = 0; k < 8 && sent < count; k++, sent++) emit();
        const deadline = Date.now() + 5_000;
        while (sent - delivered() > 32) {
          if (Date.now() > deadline) throw new Error(`fast client stuck at ${delivered()}/${sent}`);
          await new Promise((r) => setImmediate(r));
        }
        onProgress?.();
      }
      await until(
        () => delivered() >= count,
        `fast client to get ${count} frames (has ${delivered()})`,
        10_000,
      );
      return (performance.now() - t0) / 1000;
    }

    it("keeps other clients at full rate and counts the events dropped toward a stalled one", async () => {
      // A hard limit out of reach, to watch the dropping alone.
      const { gw, service, slow, fast } = await setUp(1024 * MiB);
      const frame = raw(FRAME, 7);
      // Warm-up: both clients get events while the slow one still reads.
      service.object.emit("frame", frame);
      await until(() => slow.events === 1 && fast().got === 1, "warm-up frame");
      slow.pause();
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      let maxQueued = 0;
      const seconds = await pump(
        () => service.object.emit("frame", frame),
        () => fast().got - 1,
        COUNT,
        () => {
          maxQueued = Math.max(maxQueued, ...queuedBytes(gw));
        },
      );
      expect(fast().got).toBe(COUNT + 1);
      expect(fast().bytes).toBe((COUNT + 1) * FRAME);
      const dropped = gw.stats().droppedEvents;
      expect(dropped).toBeGreaterThan(COUNT / 2);
      // The queue toward the stalled client never grows past the drop threshold + one event.
      expect(maxQueued).toBeLessThanOrEqual(limits.maxQueuedBytes + FRAME + 64);
      gc();
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * MiB);
      const rate = (COUNT * FRAME) / MiB / seconds;
      console.log(
        `slow consumer: fast client ${COUNT} × 64 KiB in ${seconds.toFixed(2)} s (${rate.toFixed(0)} MiB/s, ` +
          `${(COUNT / seconds).toFixed(0)} frames/s), dropped toward the stalled client: ${dropped}, max queued ${(maxQueued / MiB).toFixed(2)} MiB`,
      );
    }, 60_000);

    it("disconnects a client that stays stalled (past the hard limit)", async () => {
      const { gw, service, slow, fast } = await setUp();
      const frame = raw(FRAME, 3);
      slow.pause();
      await pump(
        () => service.object.emit("frame", frame),
        () => fast().got,
        COUNT,
      );
      // 75 MiB were sent toward a client that reads nothing, with a hard limit of 4 MiB: the
      // gateway must have given up on it by now (the client sees the close once it reads again).
      expect(gw.stats().clients).toBe(1);
      slow.resume();
      const closedInTime = await Promise.race([slow.closed.then(() => true), sleep(3_000).then(() => false)]);
      expect({ closedInTime, dropped: gw.stats().droppedEvents, clients: gw.stats().clients }).toMatchObject({
        closedInTime: true,
        clients: 1,
      });
    }, 60_000);
  });

  it("does not queue unbounded replies toward a client that stopped reading", async () => {
    const limits = { maxQueuedBytes: 1 * MiB, hardQueuedBytes: 4 * MiB };
    const { gw, gwUrl, calcId, service } = await world({ limits });
    const echoUid = [...service.object.metaObject().methods.values()].find((m) => m.name === "echo")!.uid;
    const c = await rawClient(gwUrl);
    c.pause();
    const payload = encode("(r)", [new Raw(new Uint8Array(1 * MiB))]);
    // 48 MiB of answers asked for by a client that reads none of them, 8 calls in flight at a
    // time (well under maxPendingCalls).
    let maxQueued = 0;
    for (let i = 0; i < 48 && !c.isClosed; i++) {
      void c.call(calcId, 1, echoUid, payload).catch(() => {});
      await sleep(5);
      maxQueued = Math.max(maxQueued, ...queuedBytes(gw));
    }
    await sleep(300);
    maxQueued = Math.max(maxQueued, ...queuedBytes(gw));
    // Either the gateway stops reading that client or drops it: its queue stays near the limit.
    expect(maxQueued).toBeLessThanOrEqual(limits.hardQueuedBytes + 1 * MiB + 64);
  });

  it("disconnects a client that sends garbage; a concurrent client is unaffected", async () => {
    const { gwUrl } = await world();
    const good = await client(gwUrl);
    const calc = await good.service("Calc");
    let stop = false;
    let ok = 0;
    const loop = (async () => {
      while (!stop) {
        expect(await calc.call("add", ok, 1)).toBe(ok + 1);
        ok++;
      }
    })();
    // Garbage before any handshake.
    const a = await RawClient.open(gwUrl);
    cleanup.push(async () => a.destroy());
    const junk = Buffer.alloc(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + 7) & 0xff;
    a.writeBytes(junk);
    // Garbage after a correct handshake.
    const b = await rawClient(gwUrl);
    expect((await b.services()).type).toBe(MessageType.Reply);
    b.writeBytes(junk);
    // A header with the right magic but a nonsense type, then garbage.
    const c = await rawClient(gwUrl);
    c.writeBytes(Buffer.concat([Buffer.from([0x42, 0xde, 0xad, 0x42]), junk]));
    const closed = await Promise.race([
      Promise.all([a.closed, b.closed, c.closed]).then(() => true),
      sleep(3_000).then(() => false),
    ]);
    expect(closed).toBe(true);
    const before = ok;
    await sleep(100);
    stop = true;
    await loop;
    expect(ok).toBeGreaterThan(before);
    expect(await calc.call("add", 20, 22)).toBe(42);
  });

  it("disconnects a client whose message is over maxPayload, with a clear reason", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const { gwUrl, calcId, service } = await world({ maxPayload: 1 * MiB, logger: capturingLogger(lines) });
    const good = await client(gwUrl);
    const calc = await good.service("Calc");
    const echoUid = [...service.object.metaObject().methods.values()].find((m) => m.name === "echo")!.uid;
    const big = await rawClient(gwUrl);
    const answered = big.call(calcId, 1, echoUid, encode("(r)", [new Raw(new Uint8Array(2 * MiB))]));
    await expect(answered).rejects.toThrow(/closed/);
    await big.closed;
    const gone = lines.find((l) => l.msg === "client disconnected");
    expect(String(gone?.reason)).toMatch(/payload of \d+ bytes exceeds the limit of 1048576/);
    // Others fine, and a payload under the limit goes through.
    const half = (await calc.call<Raw>("echo", raw(512 * KiB, 9))) as Raw;
    expect(half.bytes.byteLength).toBe(512 * KiB);
    expect(await calc.call("add", 1, 2)).toBe(3);
  });

  it("does not let unauthenticated clients make it allocate maxPayload each", async () => {
    const provider = new GatewayAuthProvider({ alice: { token: hashToken("secret") } });
    const { gwUrl } = await world({ allowAnonymous: false, authProvider: provider });
    gc();
    const before = process.memoryUsage().arrayBuffers;
    // 20 connections, 28 bytes each: a Call header announcing a 45 MB payload that never comes.
    const header = encodeMessage({
      id: 1,
      type: MessageType.Call,
      flags: 0,
      service: 0,
      object: 0,
      action: 8,
      payload: new Uint8Array(0),
    });
    new DataView(header.buffer, header.byteOffset).setUint32(8, 45_000_000, true);
    const conns = await Promise.all(Array.from({ length: 20 }, () => RawClient.open(gwUrl)));
    for (const c of conns) {
      cleanup.push(async () => c.destroy());
      c.writeBytes(header);
    }
    await sleep(200);
    const grown = process.memoryUsage().arrayBuffers - before;
    // Before authentication a client has no business sending more than a handshake's worth.
    expect(grown).toBeLessThan(100 * MiB);
  });

  it("refuses calls past the per-client pending-call limit", async () => {
    const { gwUrl } = await world({ limits: { maxPendingCalls: 10 } });
    const c = await client(gwUrl);
    const calc = await c.service("Calc");
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => calc.call<number>("slow", 200)),
    );
    const fulfilled = results.filter((r) => r.status === "fulfilled");
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(fulfilled.length).toBe(10);
    expect(results.slice(0, 10).every((r) => r.status === "fulfilled")).toBe(true);
    expect(rejected.length).toBe(40);
    for (const r of rejected) expect((r.reason as Error).message).toMatch(/^Too many pending calls/);
    // The limit is per client: another one is not affected, and the first recovers.
    const other = await (await client(gwUrl)).service("Calc");
    expect(await other.call("add", 1, 1)).toBe(2);
    expect(await calc.call("add", 2, 2)).toBe(4);
  });

  it("leaks nothing over 10,000 connect/disconnect cycles", async () => {
    const { gw, gwUrl, service, calcId } = await world();
    const cycles = Number(process.env.QI_LEAK_CYCLES ?? 10_000);
    const concurrency = 50;
    const tickUid = signalUid(service.object, "tick");
    // Warm up code paths and pools before measuring.
    // (the subscription opens the gateway's one upstream connection to the Calc host).
    for (let i = 0; i < 100; i++) {
      const c = await RawClient.connect(gwUrl);
      await c.services();
      if (i % 10 === 0) await c.subscribe(calcId, tickUid, BigInt(i + 1));
      await c.close();
    }
    await until(() => gw.stats().clients === 0, "warm-up clients gone");
    await sleep(50);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const rssBefore = process.memoryUsage().rss;
    const resources = () => process.getActiveResourcesInfo().filter((r) => r !== "Timeout");
    const handlesBefore = resources().length;
    const typesBefore = resources().sort().join(",");
    let next = 0;
    let errors = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (next < cycles) {
        const i = next++;
        try {
          const c = await RawClient.connect(gwUrl);
          const m = await c.services();
          if (m.type !== MessageType.Reply) errors++;
          // Every 10th client also subscribes, so fan-outs are made and dropped as well.
          if (i % 10 === 0) await c.subscribe(calcId, tickUid, BigInt(i + 1));
          if (i % 2 === 0) await c.close();
          else c.destroy();
          await c.closed;
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - t0) / 1000;
    await until(() => gw.stats().clients === 0, "all clients gone", 10_000);
    await sleep(200);
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    const handlesAfter = resources().length;
    if (handlesAfter > handlesBefore)
      console.log(`handles before: ${typesBefore}\nhandles after:  ${resources().sort().join(",")}`);
    console.log(
      `leak: ${cycles} cycles (${concurrency} at a time) in ${seconds.toFixed(1)} s (${(cycles / seconds).toFixed(0)}/s); ` +
        `heap ${(heapGrowth / MiB).toFixed(2)} MiB, rss ${(rssGrowth / MiB).toFixed(1)} MiB, handles ${handlesBefore} → ${handlesAfter}`,
    );
    expect(errors).toBe(0);
    expect(handlesAfter).toBeLessThanOrEqual(handlesBefore);
    expect(heapGrowth).toBeLessThan(20 * MiB);
    const s = gw.stats();
    expect({
      clients: s.clients,
      fanouts: s.fanouts,
      upstreamObjects: s.upstreamObjects,
      exports: s.exports,
    }).toEqual({
      clients: 0,
      fanouts: 0,
      upstreamObjects: 0,
      exports: 0,
    });
    expect(listenerCount(service.object, "tick")).toBe(0);
  }, 120_000);

  it("cleans up after a client that vanishes with subscriptions and objects", async () => {
    const { gw, gwUrl, service, host } = await world();
    const c = await client(gwUrl);
    const calc = await c.service("Calc");
    const ticks: number[] = [];
    await calc.signal("tick").connect((n: number) => ticks.push(n));
    await calc.property("level").connect(() => {});
    const ctr = await calc.call<RemoteObject>("makeCounter", 5);
    expect(await ctr.call("next")).toBe(6);
    await ctr.signal("changed").connect(() => {});
    // A callback object passed to the service: exported upstream by the gateway.
    const other = await client(gwUrl);
    const otherTicks: number[] = [];
    await (await other.service("Calc")).signal("tick").connect((n: number) => otherTicks.push(n));
    service.object.emit("tick", 1);
    await until(() => ticks.length === 1 && otherTicks.length === 1, "first tick");
    expect(gw.stats()).toMatchObject({ clients: 2, fanouts: 3, upstreamObjects: 1 });
    expect(listenerCount(service.object, "tick")).toBe(1); // one upstream subscription for both
    expect(listenerCount(service.counters[0], "changed")).toBe(1);
    expect(listenerCount(service.object, "level")).toBe(1);
    expect(hostExported(host)).toBe(1);

    // The first client vanishes: no goodbye, no unregisterEvent, no terminate.
    const conn = (calc as unknown as { peer: { conn: { channel: { destroy(): void } } } }).peer.conn;
    conn.channel.destroy();
    await until(() => gw.stats().clients === 1, "gateway to notice");
    await until(
      () =>
        listenerCount(service.counters[0], "changed") === 0 && listenerCount(service.object, "level") === 0,
      "upstream unregisterEvent",
    );
    expect(gw.stats()).toMatchObject({ clients: 1, fanouts: 1, upstreamObjects: 0, exports: 0 });
    // The shared subscription stays for the client still there.
    expect(listenerCount(service.object, "tick")).toBe(1);
    service.object.emit("tick", 2);
    await until(() => otherTicks.length === 2, "second tick to the remaining client");
    // The counter object was released upstream (terminate): the host no longer serves it.
    await until(() => hostExported(host) === 0, "terminate of the counter upstream");

    // The second one goes too: the last subscription upstream is dropped.
    await other.close();
    await until(() => gw.stats().clients === 0, "second client gone");
    await until(() => listenerCount(service.object, "tick") === 0, "last upstream unregisterEvent");
    expect(gw.stats()).toMatchObject({ clients: 0, fanouts: 0, upstreamObjects: 0, exports: 0 });
    service.object.emit("tick", 3);
    await sleep(50);
    expect(ticks).toEqual([1]);
  });
});
