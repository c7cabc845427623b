/**
 * A proxy passed on to another peer (spec §5.7): a client gets an object from service A and
 * hands it to service B, which calls it, watches its signal and hands it back; everything is
 * forwarded through the client. An object handed back to its owner is the owner's own object.
 */
import { afterEach, describe, expect, it } from "vitest";
import { QiObject, type RemoteObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";

const sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

async function session(): Promise<Session> {
  const s = new Session();
  sessions.push(s);
  return s;
}

describe("proxies passed on to another peer", () => {
  it("B calls, watches and returns an object of A that a client handed it", async () => {
    const sd = await session();
    const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
    // Service A, in its own session: makes counters.
    const a = await session();
    await a.connect(url);
    const counters: QiObject[] = [];
    await a.registerService(
      "Maker",
      new QiObject().method("make", "(i)", "o", (start: number) => {
        let n = start;
        const c: QiObject = new QiObject()
          .method("next", "()", "i", () => {
            n++;
            c.emit("changed", n);
            return n;
          })
          .signal("changed", "(i)");
        counters.push(c);
        return c;
      }),
    );
    // Service B, in another: uses whatever object it is given.
    const b = await session();
    await b.connect(url);
    const seen: number[] = [];
    await b.registerService(
      "User",
      new QiObject()
        .method("bump", "(oi)", "i", async (obj: RemoteObject, times: number) => {
          let last = 0;
          for (let i = 0; i < times; i++) last = await obj.call<number>("next");
          return last;
        })
        .method("watch", "(o)", "v", async (obj: RemoteObject) => {
          await obj.signal("changed").connect((v: number) => seen.push(v));
        })
        .method("identity", "(o)", "o", (obj: RemoteObject) => obj),
    );

    const client = await session();
    await client.connect(url);
    const maker = await client.service("Maker");
    const user = await client.service("User");
    const counter = await maker.call<RemoteObject>("make", 10);

    // B's calls reach A's object through the client.
    expect(await user.call("bump", counter, 3)).toBe(13);
    // B subscribes to its signal; A's emissions reach B.
    await user.call("watch", counter);
    expect(await counter.call("next")).toBe(14);
    await expect.poll(() => seen).toEqual([14]);
    // Handed back, it is the client's own proxy again, not a proxy of a proxy.
    const back = await user.call<RemoteObject>("identity", counter);
    expect(back).toBe(counter);
    expect(await back.call("next")).toBe(15);
  });

  it("an object handed back to the peer that exported it is that peer's own object", async () => {
    const sd = await session();
    const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
    await sd.registerService(
      "Echo",
      new QiObject().method("same", "(o)", "o", (obj: RemoteObject) => obj),
    );
    const client = await session();
    await client.connect(url);
    const mine = new QiObject().method("hello", "()", "s", () => "hi");
    const echo = await client.service("Echo");
    expect(await echo.call("same", mine)).toBe(mine);
  });
});
