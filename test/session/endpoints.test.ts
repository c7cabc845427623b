/**
 * libqi's endpoint choice (spec §6.4): a service published on several endpoints is tried on
 * all of them at once; the first that answers is kept and the others are closed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";

const opened: Session[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function serverConnections(s: Session): number {
  return (s as unknown as { serverConnections: Set<unknown> }).serverConnections.size;
}

describe("endpoint choice", () => {
  it("keeps one connection to a service published on two endpoints", async () => {
    const sd = new Session();
    opened.push(sd);
    const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
    const host = new Session();
    opened.push(host);
    await host.listen("tcp://127.0.0.1:0");
    await host.listen("tcp://127.0.0.1:0");
    expect(host.endpoints()).toHaveLength(2);
    await host.connect(url);
    await host.registerService(
      "Twice",
      new QiObject().method("ping", "()", "s", () => "pong"),
    );

    const client = new Session();
    opened.push(client);
    await client.connect(url);
    const proxy = await client.service("Twice");
    expect(await proxy.call("ping")).toBe("pong");
    // Both endpoints were tried; the one that lost is closed.
    await expect.poll(() => serverConnections(host), { timeout: 5_000 }).toBe(1);
    expect(await proxy.call("ping")).toBe("pong");
  });
});
