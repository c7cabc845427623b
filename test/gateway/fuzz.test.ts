/**
 * Fuzzing the gateway with well-framed but hostile messages (valid header, hostile content),
 * sent after a proper handshake, so that they reach the router, the per-client Service
 * Directory view, service registration and the upstream services. Real sockets on 127.0.0.1.
 *
 * What must hold, whatever the hostile client sends:
 *  - nothing reaches uncaughtException / unhandledRejection in this process (the gateway's);
 *  - a well-behaved client of the same gateway keeps getting right answers, and its signal;
 *  - every Call of the hostile client is answered (Reply, Error, Canceled) or its connection
 *    is closed: nothing is left hanging;
 *  - once the hostile client is gone, everything it made the gateway hold is released
 *    (fan-outs, object references, exports, registered services, upstream subscriptions).
 *
 * FUZZ_SEED / FUZZ_RUNS explore more locally; FUZZ_SHRINK=1 shrinks a failure.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connection } from "../../src/connection/index.js";
import { type Gateway, type GatewayOptions, startGateway } from "../../src/gateway/index.js";
import { PeerObjects, type QiObject, type RemoteObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { encode } from "../../src/wire/codec.js";
import { encodeMessage } from "../../src/wire/header.js";
import { MessageType } from "../../src/wire/message-types.js";
import {
  assertWithSeed,
  type FuzzTargets,
  fuzzCalc,
  fuzzSettings,
  HostileClient,
  hostileMessage,
  memberUids,
  sendAll,
  UncaughtRecorder,
} from "../helpers/hostile-messages.js";
import { client, cleanup, listenerCount, runCleanup, sleep, until } from "./world.js";

/** Messages per run; runs default to 10 per variant (6,000 messages each, about a second). */
const MESSAGES_PER_RUN = 600;
const settings = fuzzSettings(10);
const LEVEL = 7;

/** Objects the host exports by reference on its incoming connections (the gateway's). */
function hostExported(host: Session): number {
  const conns = (host as unknown as { serverConnections: Set<Connection> }).serverConnections;
  let n = 0;
  for (const c of conns) n += PeerObjects.of(c)?.exportedCount ?? 0;
  return n;
}

/** Calls of the gateway that the host is still serving. */
function hostServing(host: Session): number {
  const conns = (host as unknown as { serverConnections: Set<Connection> }).serverConnections;
  let n = 0;
  for (const c of conns) n += PeerObjects.of(c)?.inflight.size ?? 0;
  return n;
}

interface FuzzWorld {
  gw: Gateway;
  gwUrl: string;
  host: Session;
  calcObject: QiObject;
  targets: FuzzTargets;
  good: RemoteObject;
  ticks: () => number;
  sdNames: () => Promise<string[]>;
}

async function fuzzWorld(gwOptions: Partial<GatewayOptions>): Promise<FuzzWorld> {
  const sd = new Session();
  cleanup.push(() => sd.close());
  const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const host = new Session();
  cleanup.push(() => host.close());
  await host.connect(sdUrl);
  const calcObject = fuzzCalc(LEVEL);
  const serviceId = await host.registerService("Calc", calcObject);
  let tick = 0;
  const ticker = setInterval(() => calcObject.emit("tick", ++tick), 10);
  cleanup.push(async () => clearInterval(ticker));
  const gw = await startGateway({
    attach: sdUrl,
    listen: ["tcp://127.0.0.1:0"],
    allowAnonymous: true,
    ...gwOptions,
  });
  cleanup.push(() => gw.close());
  await gw.waitAttached();
  const [gwUrl] = gw.endpoints();
  const goodSession = await client(gwUrl);
  const good = await goodSession.service("Calc");
  let ticks = 0;
  await good.signal("tick").connect(() => {
    ticks++;
  });
  const targets: FuzzTargets = {
    serviceId,
    ...memberUids(calcObject.metaObject()),
    objectFactory: "makeCounter",
  };
  return {
    gw,
    gwUrl,
    host,
    calcObject,
    targets,
    good,
    ticks: () => ticks,
    sdNames: async () => (await sd.services()).map((s) => s.name).sort(),
  };
}

/** The well-behaved client, working while the hostile one sends: every answer must be right. */
function goodClientLoop(w: FuzzWorld, exactLevel: boolean) {
  let stop = false;
  let calls = 0;
  const done = (async () => {
    while (!stop) {
      const k = calls++;
      expect(await w.good.call("add", k, 1)).toBe(k + 1);
      const level = await w.good.property<number>("level").get();
      if (exactLevel) expect(level).toBe(LEVEL);
      else expect(Number.isInteger(level)).toBe(true);
    }
  })();
  // Observed even when the property fails before stop() (no unhandled rejection at cleanup).
  done.catch(() => {});
  return {
    stop: async () => {
      stop = true;
      await done;
      return calls;
    },
  };
}

const variants: Array<{ name: string; options: Partial<GatewayOptions>; exactLevel: boolean }> = [
  {
    name: "open gateway, service registration on",
    options: { allowServiceRegistration: true },
    // Anyone may write the property: the good client checks its type only.
    exactLevel: false,
  },
  {
    name: "gateway with permissions",
    options: {
      allowServiceRegistration: true,
      permissions: {
        default: {
          services: { allow: ["Calc", "FuzzService*"] },
          call: { allow: ["Calc.*"], deny: ["Calc.concat"] },
          subscribe: { allow: ["Calc.tick", "Calc.level"] },
          // No write rule: nobody may set a property, so the good client reads LEVEL exactly.
          register: { allow: ["FuzzService*"] },
        },
      },
    },
    exactLevel: true,
  },
];

describe.each(variants)("gateway fuzz: $name", ({ options, exactLevel }) => {
  let w: FuzzWorld;
  const uncaught = new UncaughtRecorder();
  let baseline: { stats: ReturnType<Gateway["stats"]>; exported: number; names: string[] };

  beforeAll(async () => {
    uncaught.install();
    w = await fuzzWorld(options);
    baseline = { stats: w.gw.stats(), exported: hostExported(w.host), names: await w.sdNames() };
  });

  afterAll(async () => {
    uncaught.uninstall();
    await runCleanup();
  });

  it("survives hostile messages after the handshake; the good client is unaffected; all is released", async () => {
    const t0 = performance.now();
    let total = 0;
    const property = fc.asyncProperty(
      fc.array(hostileMessage(w.targets), { minLength: MESSAGES_PER_RUN, maxLength: MESSAGES_PER_RUN }),
      async (plans) => {
        const hostile = await HostileClient.connect(w.gwUrl);
        try {
          const ticksBefore = w.ticks();
          const loop = goodClientLoop(w, exactLevel);
          await sendAll(hostile, plans);
          total += plans.length;
          const answered = await hostile.allAnswered(5_000);
          if (!answered && !hostile.isClosed)
            throw new Error(
              `calls of the hostile client left unanswered:\n${hostile.unansweredCalls().slice(0, 10).join("\n")}`,
            );
          expect(await loop.stop()).toBeGreaterThan(0);
          await until(
            () => w.ticks() > ticksBefore + 3,
            "the good client's tick signal to keep coming",
            3_000,
          );
          expect(uncaught.errors).toEqual([]);
        } finally {
          hostile.destroy();
        }
        // Gone: what it subscribed, got, exported or registered is released, here and upstream.
        await until(
          () => {
            const s = w.gw.stats();
            return (
              s.clients === baseline.stats.clients &&
              s.fanouts === baseline.stats.fanouts &&
              s.upstreamObjects === baseline.stats.upstreamObjects &&
              s.exports === baseline.stats.exports
            );
          },
          `gateway stats back to ${JSON.stringify(baseline.stats)} (now ${JSON.stringify(w.gw.stats())})`,
        );
        await until(
          () => hostExported(w.host) === baseline.exported && hostServing(w.host) === 0,
          `the host to release the objects made for the hostile client (${hostExported(w.host)} exported, baseline ${baseline.exported})`,
        );
        // One upstream subscription for the good client's tick, whatever the hostile one did.
        expect(listenerCount(w.calcObject, "tick")).toBe(1);
        // Services it registered leave the internal directory with it (after an SD round trip).
        const deadline = Date.now() + 3_000;
        let names = await w.sdNames();
        while (names.join() !== baseline.names.join() && Date.now() < deadline) {
          await sleep(20);
          names = await w.sdNames();
        }
        expect(names).toEqual(baseline.names);
        expect(await w.good.call("add", 20, 22)).toBe(42);
        expect(uncaught.errors).toEqual([]);
      },
    );
    await assertWithSeed(property, settings, "gateway fuzz");
    console.log(
      `gateway fuzz: ${total} hostile messages in ${((performance.now() - t0) / 1000).toFixed(1)} s (seed ${settings.seed})`,
    );
  }, 120_000);
});

describe("gateway fuzz regressions", () => {
  afterAll(runCleanup);

  it("releases the object of a Reply that crossed the client's Cancel (found by the fuzz)", async () => {
    const w = await fuzzWorld({});
    const hostile = await HostileClient.connect(w.gwUrl);
    cleanup.push(async () => hostile.destroy());
    const makeCounter = w.targets.methods.makeCounter;
    // Warm up: the gateway knows Calc's connection and MetaObject, so the next call is forwarded
    // in the tick it arrives, and the Cancel behind it finds it in flight.
    await hostile.peer.call(w.targets.serviceId, 1, makeCounter, encode("(i)", [1]));
    const id = hostile.peer.freshId();
    const call = { id, type: MessageType.Call, flags: 0, service: w.targets.serviceId, object: 1 };
    hostile.peer.writeBytes(
      Buffer.concat([
        encodeMessage({ ...call, action: makeCounter, payload: encode("(i)", [2]) }),
        encodeMessage({
          ...call,
          id: hostile.peer.freshId(),
          type: MessageType.Cancel,
          action: 0,
          payload: encode("I", id),
        }),
      ]),
    );
    // A Cancel is a request (issue 11): the service's real answer, the Reply that crossed the
    // Cancel, is relayed, so the client holds both counters, and leaving releases both.
    const answer = await hostile.peer.waitFor((f) => f.msg.id === id);
    expect(answer.msg.type).toBe(MessageType.Reply);
    await until(
      () => hostExported(w.host) === 2,
      `the host to export 2 objects (has ${hostExported(w.host)})`,
    );
    hostile.destroy();
    await until(() => hostExported(w.host) === 0, "the host to release the client's counter");
  });
});

describe("gateway fuzz regressions: unregisterEvent", () => {
  afterAll(runCleanup);

  it("answers an unregisterEvent call with malformed arguments with an Error (found by the fuzz)", async () => {
    const w = await fuzzWorld({});
    const hostile = await HostileClient.connect(w.gwUrl);
    cleanup.push(async () => hostile.destroy());
    for (const payload of [new Uint8Array(0), Uint8Array.of(1, 2, 3), encode("(s)", ["x"])]) {
      const answer = await hostile.peer.call(w.targets.serviceId, 1, 1, payload);
      expect(answer.msg.type).toBe(MessageType.Error);
    }
  });
});
