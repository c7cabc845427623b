/**
 * A service registered a moment ago is found through the gateway at once: the gateway's view
 * asks the Service Directory when the serviceRegistered event has not reached it yet.
 */
import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { client, runCleanup, world } from "./world.js";

afterEach(runCleanup);

describe("a service registered just now", () => {
  it("is found by a client of the gateway right after registerService returns, and announced once", async () => {
    const w = await world();
    const c = await client(w.gwUrl);
    const added: string[] = [];
    c.on("serviceRegistered", (_id, name) => added.push(name));
    for (let i = 0; i < 20; i++) {
      const name = `Fresh${i}`;
      await w.host.registerService(
        name,
        new QiObject().method("n", "()", "i", () => i),
      );
      const proxy = await c.service(name);
      expect(await proxy.call("n")).toBe(i);
    }
    await expect.poll(() => added.length).toBe(20);
    expect(new Set(added).size).toBe(20);
  });
});
