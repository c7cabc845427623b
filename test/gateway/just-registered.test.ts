/**
 * A service registered on the Service Directory a moment ago is visible through the gateway at
 * once (issue 18 item 3): the gateway learns services from events that may arrive after the
 * host's registerService resolved, so a cache miss asks the directory itself.
 */
import { afterEach, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { cleanup, client, runCleanup, world } from "./world.js";

afterEach(runCleanup);

it("every service() right after registerService finds the service through the gateway", async () => {
  const { sdUrl, gwUrl } = await world();
  const host = new Session();
  cleanup.push(() => host.close());
  await host.connect(sdUrl);
  const viewer = await client(gwUrl);
  for (let i = 0; i < 20; i++) {
    const name = `Fresh${i}`;
    await host.registerService(
      name,
      new QiObject().method("n", "()", "i", () => i),
    );
    const proxy = await viewer.service(name);
    expect(await proxy.call("n")).toBe(i);
  }
}, 60_000);
