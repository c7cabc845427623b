/**
 * Issue 10 item 9 (router part) against a real gateway process: when the services' process
 * goes away, clients are told the service is unavailable, never an internal endpoint.
 */
import { afterEach, describe, expect, it } from "vitest";
import { login, runCleanup, startTarget, USERS } from "./harness.js";

afterEach(runCleanup);

const INTERNAL = /127\.0\.0\.1|tcp:\/\/|tcps:\/\/|\[::1\]|ECONNREFUSED/;

describe("error texts (real gateway)", () => {
  it("names no internal address when a service's process is gone", async () => {
    const t = await startTarget();
    const bob = await login(t.gateway.tcpUrl, USERS.bob);
    const calc = await bob.service("Calc");
    const inFlight = calc.call("slow", 10_000).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 200));
    await t.robot.kill();
    const e = (await inFlight) as Error;
    expect(e).toBeInstanceOf(Error);
    expect(e.message).not.toMatch(INTERNAL);
    const next = (await calc.call("add", 1, 2).catch((err: Error) => err)) as Error;
    expect(next).toBeInstanceOf(Error);
    expect(next.message).not.toMatch(INTERNAL);
    console.log(`errors seen by the client: "${e.message}" / "${next.message}"`);
    expect(t.gateway.alive()).toBe(true);
  });
});
