/**
 * The three ways of running a served method, end to end over real sockets: async (default),
 * a strand object whose calls never overlap, and a CPU-heavy method on the worker pool while
 * the event loop keeps answering.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";

const sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

async function serve(name: string, obj: QiObject) {
  const sd = new Session({ dispatch: "async" });
  sessions.push(sd);
  const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
  await sd.registerService(name, obj);
  const client = new Session();
  sessions.push(client);
  await client.connect(url);
  return client.service(name);
}

describe("served methods", () => {
  it("async: a long call does not delay a short one of another client", async () => {
    const obj = new QiObject()
      .method("long", "()", "s", () => new Promise((r) => setTimeout(() => r("long"), 300)))
      .method("short", "()", "s", () => "short");
    const p = await serve("Mixed", obj);
    const order: string[] = [];
    await Promise.all([
      p.call<string>("long").then((v) => order.push(v)),
      p.call<string>("short").then((v) => order.push(v)),
    ]);
    expect(order).toEqual(["short", "long"]);
  });

  it("strand: calls to a single-threaded object never overlap", async () => {
    let running = 0;
    let most = 0;
    const obj = new QiObject({ strand: true }).method("step", "(i)", "i", async (n: number) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return n;
    });
    const p = await serve("Serial", obj);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => p.call<number>("step", i)));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(most).toBe(1);
  });

  it("pool: a CPU-heavy method runs off the event loop", async () => {
    const cpu = new URL("./fixtures/cpu.ts", import.meta.url).href;
    const obj = new QiObject()
      .method("busy", "(i)", "i", null, { pool: { module: cpu, export: "busy" } })
      .method("ping", "()", "s", () => "pong");
    const p = await serve("Heavy", obj);
    expect(await p.call<number>("busy", 10)).toBeGreaterThan(0); // warm the pool up
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const heavy = p.call<number>("busy", 400);
    const pings: string[] = [];
    while (pings.length < 5) pings.push(await p.call<string>("ping"));
    expect(await heavy).toBeGreaterThan(0);
    delay.disable();
    expect(pings).toEqual(Array(5).fill("pong"));
    // Inline, a 400 ms busy loop would show up as a ~400 ms event-loop delay.
    expect(delay.percentile(99) / 1e6).toBeLessThan(200);
  });
});
