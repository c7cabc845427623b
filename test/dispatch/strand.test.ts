import { afterEach, describe, expect, it } from "vitest";
import { type DispatchMode, Dispatcher, Strand } from "../../src/dispatch/index.js";
import { rng, sleep } from "./helpers.js";

const open: Dispatcher[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

async function randomLoad(mode: DispatchMode, seed: number) {
  const d = new Dispatcher({ mode });
  open.push(d);
  const strands = [new Strand("a"), new Strand("b"), new Strand("c")];
  const active = new Map<Strand | undefined, number>();
  const maxActive = new Map<Strand | undefined, number>();
  const submitted = new Map<Strand, number[]>();
  const started = new Map<Strand, number[]>();
  let global = 0;
  let maxGlobal = 0;
  const r = rng(seed);
  const work: Promise<unknown>[] = [];
  for (let i = 0; i < 120; i++) {
    const pick = Math.floor(r() * 4);
    const strand = pick < 3 ? strands[pick] : undefined;
    const delay = Math.floor(r() * 6);
    const sync = r() < 0.2; // some tasks return a plain value
    if (strand) submitted.set(strand, [...(submitted.get(strand) ?? []), i]);
    work.push(
      d.run(
        (): Promise<void> | undefined => {
          if (strand) started.set(strand, [...(started.get(strand) ?? []), i]);
          active.set(strand, (active.get(strand) ?? 0) + 1);
          maxActive.set(strand, Math.max(maxActive.get(strand) ?? 0, active.get(strand)!));
          maxGlobal = Math.max(maxGlobal, ++global);
          const end = () => {
            active.set(strand, active.get(strand)! - 1);
            global--;
          };
          if (sync) return void end();
          return sleep(delay).then(end);
        },
        { strand },
      ),
    );
    if (r() < 0.3) await sleep(Math.floor(r() * 2)); // tasks arrive in bursts
  }
  await Promise.all(work);
  return { strands, maxActive, maxGlobal, submitted, started };
}

describe.each(["async", "sync"] as const)("strands (%s mode)", (mode) => {
  it("tasks of one strand never overlap and start in FIFO order", async () => {
    for (const seed of [1, 2, 3]) {
      const { strands, maxActive, maxGlobal, submitted, started } = await randomLoad(mode, seed);
      for (const s of strands) {
        expect(maxActive.get(s)).toBe(1);
        expect(started.get(s)).toEqual(submitted.get(s));
      }
      if (mode === "async") expect(maxGlobal).toBeGreaterThan(1);
      else expect(maxGlobal).toBe(1);
    }
  });
});

describe("strands", () => {
  it("different strands overlap in async mode", async () => {
    const d = new Dispatcher({ mode: "async" });
    open.push(d);
    const a = new Strand("a");
    const b = new Strand("b");
    const done: string[] = [];
    await Promise.all([
      d.run(() => sleep(100).then(() => void done.push("a1")), { strand: a }),
      d.run(() => sleep(1).then(() => void done.push("b1")), { strand: b }),
      d.run(() => sleep(1).then(() => void done.push("a2")), { strand: a }),
    ]);
    expect(done).toEqual(["b1", "a1", "a2"]);
    expect(a.busy).toBe(false);
  });

  it("a strand holds across the task's awaits and is released when it fails", async () => {
    const d = new Dispatcher({ mode: "async" });
    open.push(d);
    const s = new Strand();
    const log: string[] = [];
    const first = d.run(
      async () => {
        log.push("1 start");
        await sleep(20);
        log.push("1 end");
        throw new Error("boom");
      },
      { strand: s },
    );
    const second = d.run(() => void log.push("2"), { strand: s });
    expect(s.busy).toBe(true);
    expect(s.queued).toBe(1);
    await expect(first).rejects.toThrow("boom");
    await second;
    expect(log).toEqual(["1 start", "1 end", "2"]);
  });

  it("deliver in a strand is ordered with the strand's calls", async () => {
    const d = new Dispatcher({ mode: "async" });
    open.push(d);
    const s = new Strand();
    const log: string[] = [];
    const call = d.run(
      async () => {
        d.deliver(() => void log.push("signal"), { strand: s }); // queued behind this call
        await sleep(10);
        log.push("call end");
      },
      { strand: s },
    );
    await call;
    await sleep(0);
    expect(log).toEqual(["call end", "signal"]);
  });
});
