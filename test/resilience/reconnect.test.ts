/**
 * Sessions that survive (issue 11): a client holding three signal subscriptions and a property
 * watch rides through a crash and restart of a real `qi start` process (all resume within the
 * backoff, each event delivered once: no duplicate subscription), and through a restart of the
 * Service Directory behind a standalone gateway (the gateway holds one fan-out per signal).
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../../src/gateway/index.js";
import type { RemoteObject } from "../../src/object/index.js";
import { Session, type SessionState } from "../../src/session/index.js";
import { Dynamic } from "../../src/wire/index.js";
import { freePort, type StartedQi, startQi, until } from "./helpers.js";

const TOKEN = "resilience-test-token";
const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

/** Counts of callbacks per subscription, and the session's state changes. */
interface Watcher {
  counts: { dataChanged: number; started: number; done: number; volume: number };
  states: SessionState[];
  memory: RemoteObject;
  tts: RemoteObject;
}

async function watch(session: Session): Promise<Watcher> {
  const counts = { dataChanged: 0, started: 0, done: 0, volume: 0 };
  const states: SessionState[] = [];
  for (const e of ["connected", "disconnected", "reconnected"] as const)
    session.on(e, () => states.push(session.state));
  const memory = await session.service("ALMemory");
  const tts = await session.service("ALTextToSpeech");
  await memory.signal("dataChanged").connect(() => counts.dataChanged++);
  await tts.signal("started").connect(() => counts.started++);
  await tts.signal("done").connect(() => counts.done++);
  await tts.property<number>("volume").connect(() => counts.volume++);
  return { counts, states, memory, tts };
}

async function poke(w: Watcher): Promise<void> {
  await w.memory.call("insertData", "k", new Dynamic("i", 1));
  await w.tts.call("say", "hi");
  await w.tts.property<number>("volume").set(0.5 + Math.random() / 4);
}

/**
 * Pokes until an event of each subscription arrived: right after a proxy is rebound its
 * signals are still being registered again upstream, and an event in that window is not
 * delivered. Then the strict check: one poke, each event exactly once.
 */
async function pokeAllOnceSettled(w: Watcher): Promise<void> {
  const before = { ...w.counts };
  const arrived = () =>
    Object.keys(before).every((k) => w.counts[k as keyof typeof before] > before[k as keyof typeof before]);
  for (let i = 0; i < 5 && !arrived(); i++) {
    await poke(w);
    await until(arrived, "events", 2_000).catch(() => {});
  }
  await pokeAll(w);
}

/** One event on each subscription; resolves once all four arrived, exactly once each. */
async function pokeAll(w: Watcher): Promise<void> {
  const before = { ...w.counts };
  await poke(w);
  await until(
    () =>
      w.counts.dataChanged > before.dataChanged &&
      w.counts.started > before.started &&
      w.counts.done > before.done &&
      w.counts.volume > before.volume,
    `one event of each subscription (have ${JSON.stringify(w.counts)}, before ${JSON.stringify(before)})`,
  );
  // A duplicate subscription would deliver a second copy right behind the first.
  const settled = { ...w.counts };
  await w.memory.call("getDataList", ""); // a round trip: any copy in flight has arrived
  expect(w.counts).toEqual(settled);
  expect(settled).toEqual({
    dataChanged: before.dataChanged + 1,
    started: before.started + 1,
    done: before.done + 1,
    volume: before.volume + 1,
  });
}

const BACKOFF = { initialMs: 100, maxMs: 500 };

describe("a client of `qi start` (a real process) killed and restarted", () => {
  it("resumes 3 signal subscriptions and a property watch, each event once", async () => {
    const [sdPort, gwPort] = [await freePort(), await freePort()];
    let qi: StartedQi = await startQi(sdPort, gwPort, TOKEN);
    cleanup.push(() => qi.kill());
    const client = new Session({ user: "nao", token: TOKEN, reconnect: BACKOFF });
    cleanup.push(() => client.close());
    await client.connect(`tcp://127.0.0.1:${gwPort}`);
    const w = await watch(client);
    await pokeAll(w);

    const down = new Promise<void>((r) => client.once("disconnected", () => r()));
    await qi.kill();
    await down;
    expect(client.state).toBe("reconnecting");
    await expect(w.memory.call("getDataList", "")).rejects.toMatchObject({ code: "QI_ERR_DISCONNECTED" });

    const back = new Promise<void>((r) => client.once("reconnected", () => r()));
    const restarted = performance.now();
    qi = await startQi(sdPort, gwPort, TOKEN);
    await back;
    console.log(
      `resumed ${Math.round(performance.now() - restarted)} ms after \`qi start\` printed its endpoints`,
    );
    expect(client.state).toBe("connected");
    // The same proxies, working again.
    await pokeAll(w);
    // disconnected (state: reconnecting), connected again, then reconnected once all is restored.
    expect(w.states).toEqual(["reconnecting", "connected", "connected"]);
  }, 180_000);
});

describe("a client of a standalone gateway whose Service Directory restarts", () => {
  it("keeps its proxies and subscriptions: one upstream fan-out per signal again", async () => {
    const sdPort = await freePort();
    let sd: StartedQi = await startQi(sdPort, undefined, TOKEN);
    cleanup.push(() => sd.kill());
    const gw: Gateway = await startGateway({
      attach: `tcp://127.0.0.1:${sdPort}`,
      listen: ["tcp://127.0.0.1:0"],
      allowAnonymous: true,
    });
    cleanup.push(() => gw.close());
    await gw.waitAttached();
    const client = new Session({ reconnect: BACKOFF });
    cleanup.push(() => client.close());
    await client.connect(gw.endpoints()[0]);
    const w = await watch(client);
    await pokeAll(w);
    // One per signal (the directory's own signals are the gateway's view, not forwarded).
    expect(gw.stats().fanouts).toBe(4);

    await sd.kill();
    sd = await startQi(sdPort, undefined, TOKEN);
    await until(() => w.memory.isUsable && w.tts.isUsable, "the proxies to be rebound", 30_000);
    await until(() => gw.stats().fanouts === 4, `4 fan-outs (have ${gw.stats().fanouts})`, 30_000);
    await pokeAllOnceSettled(w);
  }, 180_000);
});
