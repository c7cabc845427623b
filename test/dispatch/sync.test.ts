import { AsyncResource } from "node:async_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { DispatchError, Dispatcher, Strand } from "../../src/dispatch/index.js";
import { deferred, rng, sleep } from "./helpers.js";

const open: Dispatcher[] = [];
function dispatcher(opts: ConstructorParameters<typeof Dispatcher>[0] = {}): Dispatcher {
  const d = new Dispatcher({ mode: "sync", ...opts });
  open.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

// Stands for the network: work started from here is outside every task, as a Call arriving on a
// socket is (its async context is the socket's, not the caller's).
const network = new AsyncResource("fake-network");

describe("sync mode", () => {
  it("runs a long task to completion before a short one that arrived later", async () => {
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
    expect(d.stats()).toMatchObject({ running: 1, queued: 1 });
    await Promise.all([long, short]);
    expect(done).toEqual(["long", "short"]);
  });

  it("never runs two tasks at once", async () => {
    const d = dispatcher();
    let active = 0;
    let max = 0;
    const r = rng(7);
    await Promise.all(
      Array.from({ length: 40 }, () =>
        d.run(async () => {
          active++;
          max = Math.max(max, active);
          await sleep(Math.floor(r() * 3));
          active--;
        }),
      ),
    );
    expect(max).toBe(1);
  });

  it("gives identical logs over 50 runs of the same scenario, in arrival order", async () => {
    async function scenario(): Promise<string[]> {
      const d = new Dispatcher({ mode: "sync" });
      const log: string[] = [];
      const r = rng(42); // same delays every run; timing jitter must not matter anyway
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 12; i++) {
        const delay = Math.floor(r() * 3);
        work.push(
          d.run(async () => {
            log.push(`call ${i} start`);
            await sleep(delay);
            if (i % 4 === 0) d.deliver(() => void log.push(`signal from ${i}`));
            if (i % 3 === 0) await d.run(async () => void log.push(`  nested in ${i}`));
            await sleep(delay);
            log.push(`call ${i} end`);
          }),
        );
        if (i % 5 === 0) d.deliver(async () => void log.push(`event ${i}`));
      }
      await Promise.all(work);
      await d.close();
      return log;
    }
    const first = await scenario();
    // One story: each call's lines are contiguous; signals follow the call that emitted them.
    expect(first.slice(0, 6)).toEqual([
      "call 0 start",
      "  nested in 0",
      "call 0 end",
      "event 0",
      "call 1 start",
      "call 1 end",
    ]);
    expect(first.indexOf("signal from 0")).toBeGreaterThan(first.indexOf("call 11 end"));
    for (let run = 1; run < 50; run++) expect(await scenario()).toEqual(first);
  });

  it("deliver callbacks share the queue with calls", async () => {
    const d = dispatcher();
    const log: string[] = [];
    const a = d.run(async () => {
      await sleep(10);
      log.push("a");
    });
    d.deliver(() => void log.push("signal"));
    const b = d.run(() => void log.push("b"));
    await Promise.all([a, b]);
    expect(log).toEqual(["a", "signal", "b"]);
  });

  describe("reentrancy", () => {
    it("a task awaiting run() of another task runs it directly (rule 1)", async () => {
      const d = dispatcher();
      const log: string[] = [];
      const a = d.run(async () => {
        log.push("A start");
        const b = await d.run(async () => {
          log.push("B");
          await sleep(5);
          return 7;
        });
        log.push(`A got ${b}`);
        return b + 1;
      });
      const c = d.run(() => void log.push("C")); // arrived after A: runs after A, not inside it
      expect(await a).toBe(8);
      await c;
      expect(log).toEqual(["A start", "B", "A got 7", "C"]);
    });

    it("a task waiting on a task it enqueued (deliver) uses yieldWhile (rule 2)", async () => {
      const d = dispatcher();
      const log: string[] = [];
      const a = d.run(async () => {
        log.push("A start");
        const signalled = deferred<string>();
        d.deliver(() => {
          log.push("B");
          signalled.resolve("from B");
        });
        const got = await d.yieldWhile(signalled.promise);
        log.push(`A got ${got}`);
      });
      const c = d.run(() => void log.push("C"));
      await Promise.all([a, c]);
      // B ran while A waited; A resumed ahead of C, which was queued all along.
      expect(log).toEqual(["A start", "B", "A got from B", "C"]);
    });

    it("a remote reply that needs the dispatcher: yieldWhile lets the callback run", async () => {
      const d = dispatcher();
      const log: string[] = [];
      // A calls a "remote" service whose implementation calls back into this dispatcher (a Call
      // arriving on a socket) before replying.
      function remoteCall(): Promise<number> {
        const reply = deferred<number>();
        setTimeout(() => {
          network.runInAsyncScope(() => {
            void d
              .run(() => {
                log.push("B (callback from peer)");
                return 5;
              })
              .then(reply.resolve, reply.reject);
          });
        }, 5);
        return reply.promise;
      }
      const a = d.run(async () => {
        log.push("A start");
        const v = await d.yieldWhile(remoteCall());
        log.push(`A got ${v}`);
        return v;
      });
      expect(await a).toBe(5);
      expect(log).toEqual(["A start", "B (callback from peer)", "A got 5"]);
    });

    it("without yieldWhile the same wait holds the gate: only a timeout frees it", async () => {
      const d = dispatcher();
      const log: string[] = [];
      const reply = deferred<void>();
      const a = d.run(
        async () => {
          setTimeout(() => {
            network.runInAsyncScope(() => {
              void d.run(() => {
                log.push("B");
                reply.resolve();
              });
            });
          }, 5);
          await reply.promise;
          log.push("A end");
        },
        { timeoutMs: 150 },
      );
      const err = await a.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DispatchError);
      expect((err as DispatchError).code).toBe("QI_ERR_DISPATCH_TIMEOUT");
      await reply.promise; // the timed-out A lost the gate, so B could run
      await sleep(0);
      expect(log).toEqual(["B", "A end"]);
    });

    it("yieldWhile keeps the task's strand: other tasks of that strand still wait", async () => {
      const d = dispatcher();
      const s = new Strand("obj");
      const log: string[] = [];
      const outside = deferred<void>();
      const a = d.run(
        async () => {
          log.push("A start");
          await d.yieldWhile(outside.promise);
          log.push("A end");
        },
        { strand: s },
      );
      const sameStrand = d.run(() => void log.push("S2"), { strand: s });
      const free = d.run(() => void log.push("free"));
      await free; // ran while A was yielded, skipping S2 which waits for the strand
      expect(log).toEqual(["A start", "free"]);
      outside.resolve();
      await Promise.all([a, sameStrand]);
      expect(log).toEqual(["A start", "free", "A end", "S2"]);
    });

    it("yieldWhile outside a task, or in async mode, is the promise itself", async () => {
      const d = dispatcher();
      await expect(d.yieldWhile(Promise.resolve(3))).resolves.toBe(3);
      const a = new Dispatcher({ mode: "async" });
      open.push(a);
      await expect(a.run(() => a.yieldWhile(Promise.resolve(4)))).resolves.toBe(4);
    });
  });

  it("a queued task can be canceled; a timed-out running task frees the gate", async () => {
    const d = dispatcher();
    const log: string[] = [];
    const stuck = d.run(() => new Promise(() => {}), { timeoutMs: 50, label: "stuck" });
    const ac = new AbortController();
    const canceled = d.run(() => void log.push("canceled ran"), { signal: ac.signal });
    const next = d.run(() => void log.push("next"));
    ac.abort();
    await expect(canceled).rejects.toMatchObject({ code: "QI_ERR_DISPATCH_CANCELED" });
    await expect(stuck).rejects.toMatchObject({ code: "QI_ERR_DISPATCH_TIMEOUT", label: "stuck" });
    await next;
    expect(log).toEqual(["next"]);
  });
});
