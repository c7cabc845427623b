/**
 * Calls made from inside a served method that come back into the same process (spec §9): in
 * sync dispatch mode (one call at a time) the object layer must let queued calls run while a
 * method waits for a remote answer, or these deadlock.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { DispatchMode } from "../../src/dispatch/index.js";
import { QiObject, type RemoteObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function session(dispatch: DispatchMode): Session {
  const s = new Session({ dispatch });
  cleanups.push(() => s.close());
  return s;
}

describe.each(["sync", "async"] as const)("re-entrant remote calls, %s dispatch", (mode) => {
  it("A (session S) calls B (session T) which calls A back", async () => {
    const s = session(mode);
    const [url] = await s.listenStandalone("tcp://127.0.0.1:0");
    const t = session(mode);
    await t.connect(url);
    let b: RemoteObject | undefined;
    const a = new QiObject()
      .method("viaB", "(i)", "i", async (n: number) => {
        b ??= await s.service("B");
        return b.call<number>("ping", n);
      })
      .method("pong", "(i)", "i", (n: number) => n + 1);
    await s.registerService("A", a);
    const bObj = new QiObject().method("ping", "(i)", "i", async (n: number) =>
      (await t.service("A")).call<number>("pong", n * 10),
    );
    await t.registerService("B", bObj);
    const client = session(mode);
    await client.connect(url);
    const proxy = await client.service("A");
    expect(await proxy.call("viaB", 4)).toBe(41);
  });

  it("a method calls another service of its own session through the network", async () => {
    const sd = session(mode);
    const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
    const host = session(mode);
    await host.connect(url);
    await host.registerService(
      "Inner",
      new QiObject().method("twice", "(i)", "i", (n: number) => 2 * n),
    );
    await host.registerService(
      "Outer",
      new QiObject().method("quad", "(i)", "i", async (n: number) => {
        const inner = await host.service("Inner");
        return inner.call<number>("twice", await inner.call<number>("twice", n));
      }),
    );
    const client = session(mode);
    await client.connect(url);
    expect(await (await client.service("Outer")).call("quad", 3)).toBe(12);
  });
});
