/**
 * A service *process* killed with SIGKILL while the Service Directory lives on (spec §7: the
 * gateway must survive a service going away). Calls in flight fail at once, proxies of its
 * objects fail, subscriptions are dropped upstream, other services and clients carry on, and a
 * restarted service is reachable through the same gateway without the client reconnecting.
 */
import type { ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { isQiError } from "../../src/connection/index.js";
import type { RemoteObject } from "../../src/object/index.js";
import { spawnFixture } from "./fixtures/spawn-fixture.js";
import { client, runCleanup, world } from "./world.js";

afterEach(runCleanup);

interface Child {
  proc: ChildProcess;
  pid: number;
  exited: Promise<NodeJS.Signals | number | null>;
}

async function spawnService(sdUrl: string, name: string): Promise<Child> {
  const child = await spawnFixture<{ pid: number }>("service-process.ts", [sdUrl, name]);
  return { proc: child.proc, pid: child.ready.pid, exited: child.exited };
}

describe("a service process killed while the Service Directory lives", () => {
  it("fails what was in flight, keeps the rest serving, and finds the restarted service", async () => {
    // The in-process host of world() serves "Calc"; the child process serves "Remote".
    const { sdUrl, gw, gwUrl } = await world();
    const child = await spawnService(sdUrl, "Remote");
    const watcher = await client(gwUrl);
    const bystander = await client(gwUrl);

    const remote = await watcher.service("Remote");
    expect(await remote.call("pid")).toBe(child.pid);
    const counter = (await remote.call("makeCounter", 10)) as RemoteObject;
    expect(await counter.call("next")).toBe(11);
    const ticks: number[] = [];
    await remote.signal("tick").connect((pid: number) => ticks.push(pid));
    await expect.poll(() => ticks.length, { timeout: 5_000 }).toBeGreaterThan(0);
    const before = gw.stats();
    expect(before.fanouts).toBeGreaterThan(0);

    const removed: string[] = [];
    watcher.on("serviceUnregistered", (_id, name) => removed.push(name));
    const inFlight = remote.call("slow", 20_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 100));
    child.proc.kill("SIGKILL");
    expect(await child.exited).toBe("SIGKILL");
    const t0 = Date.now();
    const err = await inFlight;
    expect(isQiError(err)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3_000);
    await expect(counter.call("next")).rejects.toSatisfy((e: unknown) => isQiError(e));
    await expect.poll(() => removed.includes("Remote"), { timeout: 3_000 }).toBe(true);
    expect((await watcher.services()).map((s) => s.name)).toEqual(["ServiceDirectory", "Calc"]);
    // The dead service's signal subscription and object are gone from the gateway's tables.
    await expect.poll(() => gw.stats().fanouts, { timeout: 3_000 }).toBe(before.fanouts - 1);
    // Forgotten when the gateway sees its connection to the service close, which may come
    // after the directory's serviceRemoved.
    await expect
      .poll(() => gw.stats().upstreamObjects, { timeout: 3_000 })
      .toBeLessThan(before.upstreamObjects);

    // Everyone else carries on: the watcher and the bystander still reach the other service.
    const calcOfBystander = await bystander.service("Calc");
    expect(await calcOfBystander.call("add", 2, 3)).toBe(5);
    expect(await (await watcher.service("Calc")).call("add", 1, 1)).toBe(2);
    await expect(watcher.service("Remote")).rejects.toThrow(/Remote/);

    // A restarted service process is reachable through the same gateway, same client.
    const again = await spawnService(sdUrl, "Remote");
    const remote2 = await watcher.service("Remote");
    expect(await remote2.call("pid")).toBe(again.pid);
    expect(gw.stats().clients).toBe(2);
  }, 90_000);
});
