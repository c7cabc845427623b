/**
 * ObjectMap, ReverseCalls and ClientFlow over memory channels: per-client object ids, their
 * release, services calling a client's object, and a paused client resumed by its drain.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Capability, type Connection } from "../../../src/connection/index.js";
import { PeerObjects, QiObject, Reserved } from "../../../src/object/index.js";
import { decode, encode, type ObjectRef, Raw } from "../../../src/wire/index.js";
import { closeWorlds, routerWorld, SERVICE_ID, uid, until } from "./harness.js";

afterEach(closeWorlds);

async function make(remote: Connection, action: number, name: string): Promise<ObjectRef> {
  const reply = await remote.call({ service: SERVICE_ID, object: 1, action }, encode("(s)", [name]));
  return decode("o", reply.payload, {
    objectUid: remote.shared(Capability.ObjectPtrUID),
    importObject: (r) => r,
  }) as ObjectRef;
}

describe("router: objects", () => {
  it("gives each client its own ids for objects from services, and releases them upstream", async () => {
    const w = await routerWorld();
    const meta = w.service.metaObject();
    const a = await w.client();
    const b = await w.client();
    const refA = await make(a.remote, uid(meta, "make"), "a");
    const refB = await make(b.remote, uid(meta, "make"), "b");
    expect(refA.objectId).toBeLessThan(0x80000000);
    expect(w.router.stats().upstreamObjects).toBe(2);
    const nameUid = [...refA.metaObject.methods.values()].find((m) => m.name === "name")!.uid;
    const name = await a.remote.call(
      { service: SERVICE_ID, object: refA.objectId, action: nameUid },
      new Uint8Array(),
    );
    expect(decode("s", name.payload)).toBe("a");
    // B's id is B's: A cannot reach B's object through it (unless the ids happen to match A's own).
    if (refB.objectId !== refA.objectId) {
      await expect(
        a.remote.call({ service: SERVICE_ID, object: refB.objectId, action: nameUid }, new Uint8Array()),
      ).rejects.toThrow(/could not be handled/);
    }
    await a.remote.call(
      { service: SERVICE_ID, object: refA.objectId, action: Reserved.terminate },
      encode("(I)", [0]),
    );
    expect(w.router.stats().upstreamObjects).toBe(1);
    b.remote.close();
    await until(() => w.router.stats().upstreamObjects === 0, "b's object released");
  });

  it("lets a service call an object its client passed (a random gateway id upstream)", async () => {
    const w = await routerWorld();
    const { remote } = await w.client();
    const callback = new QiObject().method("call", "(s)", "s", (m: string) => `${m} back`);
    const reply = await remote.call(
      { service: SERVICE_ID, object: 1, action: uid(w.service.metaObject(), "callBack") },
      encode("(o)", [callback], PeerObjects.of(remote)!.codecContext(SERVICE_ID, "client")),
    );
    expect(decode("s", reply.payload)).toBe("hello back");
    expect(w.router.stats().exports).toBe(1);
    const [gwId] = (w.router as unknown as { objects: { exportIds(): number[] } }).objects.exportIds();
    expect(gwId).toBeGreaterThanOrEqual(0xc0000000);
    w.upstream.close();
    await until(() => w.router.stats().exports === 0, "the export forgotten with its connection");
  });
});

describe("router: flow toward a client", () => {
  it("stops reading a client over maxQueuedBytes and resumes it on its channel's drain", async () => {
    const KiB = 1024;
    const w = await routerWorld({ limits: { maxQueuedBytes: 64 * KiB } });
    const { link, remote } = await w.client({ channel: { highWaterMark: 64 * KiB } });
    const echo = uid(w.service.metaObject(), "echo");
    const big = encode("(r)", [new Raw(new Uint8Array(200 * KiB))]);
    remote.channel.pause(); // the client stops reading: the gateway's queue toward it fills
    const first = remote.call({ service: SERVICE_ID, object: 1, action: echo }, big);
    await until(() => link.stopWaitingForDrain !== undefined, "the client paused");
    // While paused, the gateway does not read what the client sends.
    const second = remote.call({ service: SERVICE_ID, object: 1, action: echo }, big);
    await new Promise((r) => setTimeout(r, 20));
    expect(w.upstream.pendingCalls).toBe(0);
    remote.channel.resume();
    await first;
    await until(() => link.stopWaitingForDrain === undefined, "the client resumed by the drain");
    expect((await second).payload.byteLength).toBe(big.byteLength);
  });
});
