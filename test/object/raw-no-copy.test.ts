import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { Raw } from "../../src/wire/values.js";

const sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

describe("a Raw crosses a connection with one copy per hop", () => {
  it("the method gets a view of the received payload, and its result goes back by reference", async () => {
    const host = new Session();
    const client = new Session();
    sessions.push(client, host);
    const seen: Uint8Array[] = [];
    const obj = new QiObject().method("echoRaw", "(r)", "r", (r: Raw) => {
      seen.push(r.bytes);
      return r;
    });
    const [url] = await host.listenStandalone("tcp://127.0.0.1:0");
    await host.registerService("Echo", obj);
    await client.connect(url);
    const remote = await client.service("Echo");
    const n = 1 << 20;
    const sent = new Uint8Array(n);
    for (let i = 0; i < n; i++) sent[i] = i % 251;
    const back = (await remote.call("echoRaw", new Raw(sent))) as Raw;
    // Server side: a view at offset 4 (after the length) of the one buffer the payload was
    // assembled in, not a copy of its own.
    expect(seen[0].byteOffset).toBe(4);
    expect(seen[0].buffer.byteLength).toBe(n + 4);
    // Client side: the same for the result, and the bytes made the round trip intact.
    expect(back.bytes.byteOffset).toBe(4);
    expect(back.bytes.buffer.byteLength).toBe(n + 4);
    expect(Buffer.from(back.bytes).equals(Buffer.from(sent))).toBe(true);
  });
});
