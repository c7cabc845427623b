import { afterEach, describe, expect, it } from "vitest";
import { DispatchError, Dispatcher, Strand } from "../../src/dispatch/index.js";
import { sleep } from "./helpers.js";

const open: Dispatcher[] = [];
function dispatcher(opts: ConstructorParameters<typeof Dispatcher>[0] = {}): Dispatcher {
  const d = new Dispatcher({ mode: "async", ...opts });
  open.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

describe("async mode", () => {
  it("a short task finishes before a long one started earlier", async () => {
    const d = dispatcher();
    const done: string[] = [];
    const long = d.run(async () => {
      await sleep(300);
      done.push("long");
    });
    const short = d.run(async () => {
      await sleep(1);
      done.push("short");
    });
    await Promise.all([long, short]);
    expect(done).toEqual(["short", "long"]);
  });

  it("starts a task at once, synchronously inside run", () => {
    const d = dispatcher();
    let started = false;
    void d.run(() => {
      started = true;
    });
    expect(started).toBe(true);
  });

  it("passes results and thrown errors through unchanged", async () => {
    const d = dispatcher();
    expect(await d.run(() => 42)).toBe(42);
    expect(await d.run(async () => "x")).toBe("x");
    const err = new TypeError("mine");
    await expect(
      d.run(() => {
        throw err;
      }),
    ).rejects.toBe(err);
    await expect(d.run(() => Promise.reject(err))).rejects.toBe(err);
    await expect(d.run(() => Promise.reject("a string"))).rejects.toBe("a string");
    expect(d.stats()).toMatchObject({ completed: 2, failed: 3, running: 0, queued: 0 });
  });

  it("cancel: run rejects at once with ERR_CANCELED and the task's signal aborts", async () => {
    const d = dispatcher();
    const ac = new AbortController();
    let taskSaw: unknown;
    const p = d.run(
      async (signal) => {
        try {
          await sleep(5000, signal);
        } catch (e) {
          taskSaw = e;
        }
        return "late";
      },
      { signal: ac.signal, label: "Svc.slow" },
    );
    setTimeout(() => ac.abort(new Error("peer sent Cancel")), 20);
    const t0 = performance.now();
    const err = await p.catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(DispatchError);
    expect((err as DispatchError).code).toBe("QI_ERR_DISPATCH_CANCELED");
    expect((err as DispatchError).label).toBe("Svc.slow");
    expect(((err as DispatchError).cause as Error).message).toBe("peer sent Cancel");
    await sleep(0);
    expect((taskSaw as Error).message).toBe("peer sent Cancel"); // the caller's signal, passed through
    expect(d.stats()).toMatchObject({ running: 0, failed: 1 });
  });

  it("an already-aborted signal rejects without running the task", async () => {
    const d = dispatcher();
    let ran = false;
    const err = await d
      .run(
        () => {
          ran = true;
        },
        { signal: AbortSignal.abort() },
      )
      .catch((e: unknown) => e);
    expect((err as DispatchError).code).toBe("QI_ERR_DISPATCH_CANCELED");
    expect(ran).toBe(false);
  });

  it("timeout: per-call timeoutMs and the dispatcher-wide callTimeoutMs give ERR_TIMEOUT", async () => {
    const d = dispatcher({ callTimeoutMs: 50 });
    let aborted = false;
    const err = await d
      .run(async (signal) => {
        signal.addEventListener("abort", () => {
          aborted = true;
        });
        await sleep(2000);
      })
      .catch((e: unknown) => e);
    expect((err as DispatchError).code).toBe("QI_ERR_DISPATCH_TIMEOUT");
    expect((err as DispatchError).message).toMatch(/timed out after 50 ms/);
    expect(aborted).toBe(true);
    // Per-call override beats the default, both ways.
    await expect(d.run(() => sleep(100), { timeoutMs: 1000 })).resolves.toBeUndefined();
    await expect(d.run(() => sleep(1000), { timeoutMs: 10 })).rejects.toMatchObject({
      code: "QI_ERR_DISPATCH_TIMEOUT",
    });
  });

  it("a strand queued behind a busy task: cancel drops it without running it", async () => {
    const d = dispatcher();
    const s = new Strand("obj");
    const first = d.run(() => sleep(100), { strand: s });
    const ac = new AbortController();
    let ran = false;
    const second = d.run(
      () => {
        ran = true;
      },
      { strand: s, signal: ac.signal },
    );
    expect(d.stats()).toMatchObject({ running: 1, queued: 1 });
    ac.abort();
    await expect(second).rejects.toMatchObject({ code: "QI_ERR_DISPATCH_CANCELED" });
    expect(d.stats().queued).toBe(0);
    await first;
    expect(ran).toBe(false);
  });

  it("a task calling into its own strand runs the call inline instead of deadlocking", async () => {
    const d = dispatcher();
    const s = new Strand();
    const log: string[] = [];
    const r = await d.run(
      async () => {
        log.push("A start");
        const inner = await d.run(
          async () => {
            log.push("B");
            await sleep(5);
            return 2;
          },
          { strand: s, timeoutMs: 1000 },
        );
        log.push("A end");
        return inner * 10;
      },
      { strand: s },
    );
    expect(r).toBe(20);
    expect(log).toEqual(["A start", "B", "A end"]);
  });

  it("deliver runs callbacks and reports their errors to onError", async () => {
    const seen: Array<[unknown, string | undefined]> = [];
    const d = dispatcher({ onError: (e, label) => seen.push([e, label]) });
    const calls: number[] = [];
    d.deliver(() => {
      calls.push(1);
    });
    d.deliver(
      async () => {
        await sleep(1);
        throw new Error("subscriber broke");
      },
      { label: "sig" },
    );
    await sleep(20);
    expect(calls).toEqual([1]);
    expect(seen).toHaveLength(1);
    expect((seen[0][0] as Error).message).toBe("subscriber broke");
    expect(seen[0][1]).toBe("sig");
  });

  it("close: waits for running tasks, rejects queued and later ones with ERR_CLOSED", async () => {
    const d = new Dispatcher({ mode: "async" });
    const s = new Strand();
    let finished = false;
    const running = d.run(
      async () => {
        await sleep(50);
        finished = true;
        return "ok";
      },
      { strand: s },
    );
    const queued = d.run(() => "never", { strand: s });
    const closing = d.close();
    await expect(queued).rejects.toMatchObject({ code: "QI_ERR_DISPATCH_CLOSED" });
    await closing;
    expect(finished).toBe(true);
    await expect(running).resolves.toBe("ok");
    await expect(d.run(() => 1)).rejects.toMatchObject({ code: "QI_ERR_DISPATCH_CLOSED" });
  });

  it("runNow: returns values and promises as they are, counts them, and close waits for its promises", async () => {
    const d = new Dispatcher({ mode: "async" });
    const self = { base: 40 };
    expect(
      d.runNow(
        function (this: typeof self, n: number) {
          return this.base + n;
        },
        self,
        [2],
      ),
    ).toBe(42);
    const err = new TypeError("mine");
    expect(() =>
      d.runNow(
        () => {
          throw err;
        },
        undefined,
        [],
      ),
    ).toThrow(err);
    let finished = false;
    const slow = d.runNow(
      async () => {
        await sleep(50);
        finished = true;
        return "later";
      },
      undefined,
      [],
    );
    expect(d.stats()).toMatchObject({ running: 1, completed: 1, failed: 1 });
    await d.close();
    expect(finished).toBe(true);
    await expect(slow).resolves.toBe("later");
    expect(d.stats()).toMatchObject({ running: 0, completed: 2, failed: 1 });
    expect(() => d.runNow(() => 1, undefined, [])).toThrow(
      expect.objectContaining({ code: "QI_ERR_DISPATCH_CLOSED" }),
    );
    expect(() => new Dispatcher({ mode: "sync" }).runNow(() => 1, undefined, [])).toThrow(/async mode/);
  });
});
