/**
 * Served methods that fail or never finish, end to end over real sockets, in the mode the
 * suite runs in (async, and sync in the second pass): a rejection is an Error reply with its
 * message, a method that never returns is cut off by the per-call timeout, and two clients
 * of another service are served meanwhile.
 */
import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";

const sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

async function world(options: ConstructorParameters<typeof Session>[0] = {}) {
  const sd = new Session(options);
  sessions.push(sd);
  const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
  let aborted = 0;
  const obj = new QiObject()
    .method("reject", "(s)", "v", async (text: string) => {
      await new Promise((r) => setTimeout(r, 10));
      throw new Error(text);
    })
    .method("never", "()", "v", function () {
      this.signal.addEventListener("abort", () => aborted++);
      return new Promise<void>(() => {});
    })
    .method("ping", "()", "s", () => "pong");
  await sd.registerService("Faulty", obj);
  const client = new Session();
  sessions.push(client);
  await client.connect(url);
  return { proxy: await client.service("Faulty"), aborted: () => aborted };
}

describe("failing and endless served methods", () => {
  it("a rejected promise is an Error reply with its message", async () => {
    const { proxy } = await world();
    await expect(proxy.call("reject", "no battery")).rejects.toMatchObject({
      code: "QI_ERR_REMOTE",
      message: "no battery",
    });
    expect(await proxy.call("ping")).toBe("pong");
  });

  it("callTimeoutMs: a method that never returns gets an Error after the timeout and its signal aborts", async () => {
    const { proxy, aborted } = await world({ callTimeoutMs: 200 });
    const t0 = performance.now();
    await expect(proxy.call("never")).rejects.toMatchObject({
      code: "QI_ERR_REMOTE",
      message: expect.stringMatching(/timed out after 200 ms/),
    });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    expect(aborted()).toBe(1);
    // The connection and the object go on.
    expect(await proxy.call("ping")).toBe("pong");
  });
});
