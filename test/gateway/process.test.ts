/**
 * The gateway and the Service Directory in two processes: the directory (hosting the service)
 * is a child process; killing it fails calls in flight and removes the services, restarting it
 * on the same port brings them back through the gateway without the client reconnecting.
 */
import type { ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { isQiError } from "../../src/connection/index.js";
import { startGateway } from "../../src/gateway/index.js";
import { spawnFixture } from "./fixtures/spawn-fixture.js";
import { cleanup, client, runCleanup } from "./world.js";

afterEach(runCleanup);

interface Child {
  proc: ChildProcess;
  url: string;
  pid: number;
  exited: Promise<NodeJS.Signals | number | null>;
}

async function spawnSd(listenUrl: string): Promise<Child> {
  const child = await spawnFixture<{ url: string; pid: number }>("sd-process.ts", [listenUrl], 15_000);
  return { proc: child.proc, ...child.ready, exited: child.exited };
}

describe("Gateway and Service Directory in two processes", () => {
  it("survives the directory being killed and restarted on the same port", async () => {
    const first = await spawnSd("tcp://127.0.0.1:0");
    const gw = await startGateway({ attach: first.url, listen: ["tcp://127.0.0.1:0"], allowAnonymous: true });
    cleanup.push(() => gw.close());
    await gw.waitAttached();
    const c = await client(gw.endpoints()[0]);
    const calc = await c.service("Calc");
    expect(await calc.call("add", 2, 3)).toBe(5);
    expect(await calc.call("pid")).toBe(first.pid);

    const removed: string[] = [];
    const added: string[] = [];
    c.on("serviceUnregistered", (_id, name) => removed.push(name));
    c.on("serviceRegistered", (_id, name) => added.push(name));
    const inFlight = calc.call("slow", 10_000);
    const failed = inFlight.then(
      () => undefined,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 100));
    first.proc.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    const t0 = Date.now();
    const err = await failed;
    expect(err).toBeInstanceOf(Error);
    expect(isQiError(err)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3_000);
    await expect.poll(() => removed.includes("Calc"), { timeout: 3_000 }).toBe(true);
    expect(gw.isAttached).toBe(false);
    // While the directory is away, the client is still connected to the gateway and told so.
    await expect(c.services()).rejects.toThrow(/lost its Service Directory/);
    await expect(calc.call("add", 1, 1)).rejects.toBeInstanceOf(Error);

    const second = await spawnSd(first.url);
    expect(second.url).toBe(first.url);
    await gw.waitAttached(10_000);
    await expect.poll(() => added.includes("Calc"), { timeout: 10_000 }).toBe(true);
    const calc2 = await c.service("Calc");
    expect(await calc2.call("add", 20, 22)).toBe(42);
    expect(await calc2.call("pid")).toBe(second.pid);
    expect(gw.stats()).toMatchObject({ clients: 1, attached: true });
  }, 60_000);
});
