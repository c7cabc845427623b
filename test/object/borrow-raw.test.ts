import { afterEach, describe, expect, it } from "vitest";
import { QiObject, type RemoteObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { POOL_MIN, reusedPayloads } from "../../src/wire/payload-pool.js";
import { Raw } from "../../src/wire/values.js";

const sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

const SIZE = 1 << 20;

/** A Raw of SIZE bytes, all `tag` (a different tag per call shows any mix-up). */
function tagged(tag: number): Raw {
  return new Raw(new Uint8Array(SIZE).fill(tag));
}

function allAre(bytes: Uint8Array, tag: number): boolean {
  if (bytes.byteLength !== SIZE) return false;
  for (let i = 0; i < SIZE; i += 4093) if (bytes[i] !== tag) return false;
  return bytes[SIZE - 1] === tag;
}

async function serve(obj: QiObject): Promise<RemoteObject> {
  const host = new Session();
  const client = new Session();
  sessions.push(client, host);
  const [url] = await host.listenStandalone("tcp://127.0.0.1:0");
  await host.registerService("Echo", obj);
  await client.connect(url);
  return client.service("Echo");
}

describe("received Raws: memory is reused only when the application says it is done", () => {
  it("by default every Raw the application keeps stays intact, on both sides, while others are released", async () => {
    const keptByServer: Raw[] = [];
    const obj = new QiObject().method("echoRaw", "(r)", "r", (r: Raw) => {
      keptByServer.push(r);
      return r;
    });
    const remote = await serve(obj);
    const keptByClient: Raw[] = [];
    // More rounds than the pool holds per size class; every other result released, the rest
    // kept: the released memory comes back, and must never land in a kept Raw.
    for (let tag = 1; tag <= 16; tag++) {
      const back = (await remote.call("echoRaw", tagged(tag))) as Raw;
      expect(allAre(back.bytes, tag)).toBe(true);
      if (tag % 2 === 0) back.release();
      else keptByClient.push(back);
    }
    expect(keptByServer.map((r, i) => allAre(r.bytes, i + 1))).toEqual(keptByServer.map(() => true));
    expect(keptByClient.map((r, i) => allAre(r.bytes, 2 * i + 1))).toEqual(keptByClient.map(() => true));
  });

  it("borrowRaw: an echo answers every call with its own bytes while the memory goes round", async () => {
    const obj = new QiObject().method("echoRaw", "(r)", "r", (r: Raw) => r, { borrowRaw: true });
    const remote = await serve(obj);
    const reusedAtStart = reusedPayloads();
    for (let tag = 1; tag <= 24; tag++) {
      const back = (await remote.call("echoRaw", tagged(tag))) as Raw;
      expect(allAre(back.bytes, tag)).toBe(true);
      back.release();
      // Released: empty, so it can never show the next call's bytes.
      expect(back.bytes.byteLength).toBe(0);
    }
    // Both payloads of a round trip (the call's, the answer's) came from the pool after the first.
    expect(reusedPayloads() - reusedAtStart).toBeGreaterThanOrEqual(2 * 24 - 4);
  });

  it("borrowRaw: an argument the method keeps anyway goes empty, it never shows a later call", async () => {
    const kept: Raw[] = [];
    const obj = new QiObject().method(
      "store",
      "(r)",
      "i",
      (r: Raw) => {
        kept.push(r);
        return r.bytes[0];
      },
      { borrowRaw: true },
    );
    const remote = await serve(obj);
    for (let tag = 1; tag <= 8; tag++) expect(await remote.call("store", tagged(tag))).toBe(tag);
    for (const r of kept) expect(r.bytes.byteLength === 0 || allAre(r.bytes, kept.indexOf(r) + 1)).toBe(true);
    expect(kept.some((r) => r.bytes.byteLength === 0)).toBe(true);
  });

  it("borrowRaw: an async method has its argument until its promise settles", async () => {
    const obj = new QiObject().method(
      "later",
      "(r)",
      "r",
      async (r: Raw) => {
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
        return r;
      },
      { borrowRaw: true },
    );
    const remote = await serve(obj);
    const calls = [1, 2, 3, 4].map((tag) => remote.call("later", tagged(tag)) as Promise<Raw>);
    const results = await Promise.all(calls);
    expect(results.map((r, i) => allAre(r.bytes, i + 1))).toEqual([true, true, true, true]);
  });

  it("a small Raw is never pooled: release() leaves it as it is", async () => {
    const obj = new QiObject().method("echoRaw", "(r)", "r", (r: Raw) => r, { borrowRaw: true });
    const remote = await serve(obj);
    const small = new Uint8Array(POOL_MIN / 2).fill(3);
    const back = (await remote.call("echoRaw", new Raw(small))) as Raw;
    back.release();
    expect(back.bytes.byteLength).toBe(POOL_MIN / 2);
    expect(back.bytes[100]).toBe(3);
  });
});
