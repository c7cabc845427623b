/**
 * The simulated robot's long actions and cancel (issue 11), over real TCP: ALMotion.moveTo
 * walks with progress and stops where it is on a cancel (Canceled comes back), wakeUp ignores a
 * cancel (its real result comes back), and ALTextToSpeech.say stops on a cancel.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createMotion, createTextToSpeech } from "../../src/demo/index.js";
import type { RemoteObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { pino } from "pino";
import { until } from "./helpers.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function robot(): Promise<{ motion: RemoteObject; tts: RemoteObject }> {
  const sd = new Session();
  cleanups.push(() => sd.close());
  const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const motion = createMotion();
  const tts = createTextToSpeech({ logger: pino({ level: "silent" }) });
  cleanups.push(() => {
    motion.stop?.();
    tts.stop?.();
  });
  await sd.registerService(motion.name, motion.object);
  await sd.registerService(tts.name, tts.object);
  const client = new Session({ reconnect: false });
  cleanups.push(() => client.close());
  await client.connect(url);
  return { motion: await client.service("ALMotion"), tts: await client.service("ALTextToSpeech") };
}

describe("ALMotion (simulated)", () => {
  it("moveTo walks there, reporting progress from 0 to 1", async () => {
    const { motion } = await robot();
    const progress: number[] = [];
    await motion.signal("progress").connect((name: string, f: number) => {
      if (name === "moveTo") progress.push(f);
    });
    await motion.call("moveTo", 0.3, 0, 0);
    const [x, y] = await motion.call<number[]>("getRobotPosition", true);
    expect(x).toBeCloseTo(0.3, 5);
    expect(y).toBeCloseTo(0, 5);
    await until(() => progress.at(-1) === 1, "the last progress");
    expect(progress[0]).toBe(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it("a canceled moveTo stops where it is and answers Canceled", async () => {
    const { motion } = await robot();
    let started = false;
    await motion.signal("progress").connect((_: string, f: number) => {
      if (f > 0) started = true;
    });
    const abort = new AbortController();
    const real = motion.invoke("moveTo", [5, 0, 0], { signal: abort.signal, outcome: "wait" });
    await until(() => started, "the move under way");
    abort.abort();
    await expect(real).rejects.toMatchObject({ code: "QI_ERR_CANCELED" });
    expect(await motion.call("moveIsActive")).toBe(false);
    const [x] = await motion.call<number[]>("getRobotPosition", true);
    expect(x).toBeGreaterThan(0);
    expect(x).toBeLessThan(5);
  });

  it("wakeUp ignores a cancel: the real result comes back, and it is awake", async () => {
    const { motion } = await robot();
    const abort = new AbortController();
    const real = motion.invoke("wakeUp", [], { signal: abort.signal, outcome: "wait" });
    abort.abort();
    await expect(real).resolves.toBeUndefined();
    expect(await motion.call("robotIsWakeUp")).toBe(true);
  });

  it("refuses a move it cannot make in one go, and numbers that are not finite", async () => {
    const { motion } = await robot();
    await expect(motion.call("moveTo", 100, 0, 0)).rejects.toThrow(/at most/);
    await expect(motion.call("moveTo", Number.NaN, 0, 0)).rejects.toThrow(/finite/);
  });
});

describe("ALTextToSpeech.say (simulated)", () => {
  it("stops on a cancel: Canceled comes back, and done is emitted", async () => {
    const { tts } = await robot();
    let started = false;
    let done = false;
    await tts.signal("started").connect(() => (started = true));
    await tts.signal("done").connect(() => (done = true));
    const abort = new AbortController();
    const real = tts.invoke("say", ["a".repeat(400)], { signal: abort.signal, outcome: "wait" });
    await until(() => started, "started");
    abort.abort();
    await expect(real).rejects.toMatchObject({ code: "QI_ERR_CANCELED" });
    await until(() => done, "done");
  });
});
