/** The simulated robot's services, in process. */
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createBattery, createTextToSpeech, createVideoDevice, FRAME_BYTES } from "../../src/demo/index.js";
import type { Raw } from "../../src/wire/index.js";

const stops: Array<() => void> = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

function uidOf(
  obj: { metaObject(): { signals: Map<number, { name: string; uid: number }> } },
  name: string,
): number {
  return [...obj.metaObject().signals.values()].find((s) => s.name === name)!.uid;
}

describe("ALVideoDevice", () => {
  it("streams frames only while subscribed, at fps, without copying frames", async () => {
    const cam = createVideoDevice();
    cam.start!();
    stops.push(() => cam.stop!());
    const obj = cam.object;
    expect(
      await obj
        .methodEntry([...obj.metaObject().methods.values()].find((m) => m.name === "isStreaming")!.uid)!
        .impl!.call({} as never),
    ).toBe(false);
    obj.setProperty("fps", 30);
    const frames: unknown[][] = [];
    const off = obj.connect(uidOf(obj, "image"), (args) => frames.push(args));
    await new Promise((r) => setTimeout(r, 250));
    off();
    const n = frames.length;
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(9);
    const [w, h, seq, raw] = frames[1] as [number, number, number, Raw];
    expect([w, h]).toEqual([640, 480]);
    expect(seq).toBe((frames[0][2] as number) + 1);
    expect(raw.bytes.byteLength).toBe(FRAME_BYTES);
    // Consecutive frames are views of one buffer, shifted: the picture moves.
    expect((frames[0][3] as Raw).bytes.buffer).toBe(raw.bytes.buffer);
    expect(Buffer.compare((frames[0][3] as Raw).bytes, raw.bytes)).not.toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(frames.length).toBe(n); // unsubscribed: no more frames
  });
});

describe("ALTextToSpeech", () => {
  it("says (logs), emitting started and done with the same id", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => lines.push(l) });
    const tts = createTextToSpeech({ logger });
    stops.push(() => tts.stop!());
    const events: string[] = [];
    tts.object.connect(uidOf(tts.object, "started"), ([id]) => events.push(`started ${id}`));
    tts.object.connect(uidOf(tts.object, "done"), ([id]) => events.push(`done ${id}`));
    const say = [...tts.object.metaObject().methods.values()].find((m) => m.name === "say")!;
    await tts.object.methodEntry(say.uid)!.impl!.call({ identity: undefined } as never, "bonjour");
    expect(events).toEqual(["started 1", "done 1"]);
    expect(lines.join("")).toContain("say: bonjour");
  });
});

describe("ALBattery", () => {
  it("drifts slowly, and charges back below 20 %", () => {
    vi.useFakeTimers();
    try {
      const battery = createBattery(50);
      battery.start!();
      stops.push(() => battery.stop!());
      vi.advanceTimersByTime(2_000);
      expect(battery.object.getProperty("charge")).toBeCloseTo(49.9, 5);
      const low = createBattery(20.02);
      low.start!();
      stops.push(() => low.stop!());
      vi.advanceTimersByTime(3_000);
      expect(low.object.getProperty("charge")).toBeGreaterThan(20.02);
    } finally {
      vi.useRealTimers();
    }
  });
});
