import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { DispatchError, Dispatcher } from "../../src/dispatch/index.js";
import { busy } from "./fixtures/cpu.js";

const CPU = new URL("./fixtures/cpu.ts", import.meta.url);
const d = new Dispatcher({ mode: "async", poolSize: 1 });
afterAll(() => d.close());

async function p99DelayMs(work: () => Promise<unknown>): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await new Promise((r) => setTimeout(r, 20)); // the first ticks only set the histogram's baseline
  await work();
  await new Promise((r) => setTimeout(r, 30)); // let the delayed timer tick record the stall
  h.disable();
  return h.percentile(99) / 1e6;
}

describe("worker pool", () => {
  it("runs an exported function of a TypeScript module on a worker thread", async () => {
    expect(await d.runOnPool<number>(CPU, "add", [2, 3])).toBe(5);
    expect(await d.runOnPool<number>(CPU, "whoAmI", [])).not.toBe(0); // 0 = main thread
    expect(await d.runOnPool<string>(CPU.href, "later", [5, "async ok"])).toBe("async ok");
    // A plain path works too.
    expect(await d.runOnPool<number>(fileURLToPath(CPU), "add", [1, 1])).toBe(2);
    expect(d.stats().poolThreads).toBe(1);
  });

  it("keeps the event loop responsive while a 200 ms CPU-heavy call runs, unlike inline", async () => {
    await d.runOnPool(CPU, "busy", [1]); // warm: worker started, module loaded
    const inline = await p99DelayMs(() => d.run(() => busy(200)));
    // Best of three: this machine is shared (2 cores, other test files run in parallel), and one
    // unlucky scheduling slice of the main thread is enough to move a p99 over ~50 samples.
    let pooled = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3 && !(pooled < inline / 4); i++) {
      pooled = Math.min(pooled, await p99DelayMs(() => d.runOnPool(CPU, "busy", [200])));
    }
    console.log(`event-loop delay p99: inline ${inline.toFixed(1)} ms, pool ${pooled.toFixed(1)} ms`);
    expect(inline).toBeGreaterThan(150);
    expect(pooled).toBeLessThan(inline / 4);
  });

  it("errors thrown by the function reach the caller with name, message and code", async () => {
    const err = await d.runOnPool(CPU, "throwCoded", []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: "RangeError",
      message: "bad range",
      code: "E_RANGE",
      detail: { n: 7 },
    });
    expect((err as Error).stack).toMatch(/throwCoded/);
  });

  it("a missing export is ERR_NO_EXPORT; a missing module passes its load error on", async () => {
    await expect(d.runOnPool(CPU, "nope", [])).rejects.toMatchObject({ code: "QI_ERR_DISPATCH_NO_EXPORT" });
    await expect(d.runOnPool(CPU, "notAFunction", [])).rejects.toBeInstanceOf(DispatchError);
    await expect(
      d.runOnPool(new URL("./fixtures/missing.js", import.meta.url), "f", []),
    ).rejects.toMatchObject({
      code: "ERR_MODULE_NOT_FOUND",
    });
  });

  it.each([
    ["process.exit in the worker", "exitNow", [3]],
    ["an uncaught exception in the worker", "throwUncaught", []],
  ])("%s fails only that call with ERR_WORKER_CRASHED; the pool replaces the worker", async (_, fn, args) => {
    const before = await d.runOnPool<number>(CPU, "whoAmI", []);
    const neighbour = d.run(async () => "main thread unaffected");
    const err = await d.runOnPool(CPU, fn, args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DispatchError);
    expect((err as DispatchError).code).toBe("QI_ERR_DISPATCH_WORKER_CRASHED");
    await expect(neighbour).resolves.toBe("main thread unaffected");
    const after = await d.runOnPool<number>(CPU, "whoAmI", []);
    expect(after).not.toBe(before); // a fresh thread
    expect(await d.runOnPool<number>(CPU, "add", [20, 22])).toBe(42);
  });

  it("cancel and timeout stop a CPU-bound call at once and terminate its worker", async () => {
    const ac = new AbortController();
    const p = d.runOnPool(CPU, "busy", [10_000], { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const t0 = performance.now();
    await expect(p).rejects.toMatchObject({ code: "QI_ERR_DISPATCH_CANCELED" });
    await expect(d.runOnPool(CPU, "busy", [10_000], { timeoutMs: 50 })).rejects.toMatchObject({
      code: "QI_ERR_DISPATCH_TIMEOUT",
    });
    expect(performance.now() - t0).toBeLessThan(3000);
    // The single worker was busy for 10 s; this answers quickly only because it was replaced.
    await expect(d.runOnPool(CPU, "add", [1, 2], { timeoutMs: 3000 })).resolves.toBe(3);
  });

  it("works from compiled JS (dist layout) with a plain .mjs worker module", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qi-dispatch-"));
    try {
      // dispatch/ and the folders below it (the error base), in the dist layout.
      for (const folder of ["dispatch", "errors"]) {
        const src = fileURLToPath(new URL(`../../src/${folder}/`, import.meta.url));
        await mkdir(join(dir, folder));
        for (const f of await readdir(src)) {
          if (!f.endsWith(".ts")) continue;
          const out = ts.transpileModule(await readFile(join(src, f), "utf8"), {
            compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
            fileName: f,
          });
          await writeFile(join(dir, folder, f.replace(/\.ts$/, ".js")), out.outputText);
        }
      }
      await writeFile(join(dir, "package.json"), '{"type":"module"}');
      await symlink(fileURLToPath(new URL("../../node_modules", import.meta.url)), join(dir, "node_modules"));
      await writeFile(join(dir, "work.mjs"), "export function mul(a, b) { return a * b; }\n");
      await writeFile(
        join(dir, "main.mjs"),
        `import { Dispatcher } from "./dispatch/index.js";
const d = new Dispatcher({ mode: "async", poolSize: 1 });
const out = [await d.runOnPool(new URL("./work.mjs", import.meta.url), "mul", [6, 7])];
out.push(await d.runOnPool(new URL(${JSON.stringify(CPU.href)}), "add", [1, 2]).catch((e) => e.code ?? e.message));
await d.close();
console.log(JSON.stringify(out));
`,
      );
      const { stdout } = await promisify(execFile)(process.execPath, [join(dir, "main.mjs")], {
        timeout: 15_000,
      });
      // .mjs from JS: 42; a .ts module from JS still loads (tsx is installed here).
      expect(JSON.parse(stdout.trim())).toEqual([42, 3]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
