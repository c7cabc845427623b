/**
 * Objects passed by reference (spec §2.6, §5.7): objects a service returns (ids from 3, bound to
 * the calling connection, forgotten on terminate), objects a client passes as arguments (ids
 * from 2^31, called back over the same connection), uids, and the null object.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Connection } from "../../src/connection/index.js";
import { isQiError } from "../../src/connection/index.js";
import { PeerObjects, QiObject, RemoteObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { decode, encode } from "../../src/wire/codec.js";
import { encodeMetaObject } from "../../src/wire/metaobject.js";
import { MessageType } from "../../src/wire/message-types.js";
import { Dynamic, ObjectRef } from "../../src/wire/values.js";
import { headerHex, hex, RawPeer } from "../connection/raw-peer.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const until = async (cond: () => boolean, what: string, timeoutMs = 3_000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

function counter(name: string): QiObject {
  let n = 0;
  return new QiObject({ description: `counter ${name}` })
    .method("hello", "()", "s", () => `hello from ${name}`)
    .method("next", "()", "i", () => ++n)
    .signal("ping", "(i)");
}

async function world() {
  const made: QiObject[] = [];
  const hostConnections: Connection[] = [];
  const callbacks: RemoteObject[] = [];
  const singleton = counter("singleton");
  const factory = new QiObject()
    .method("make", "(s)", "o", function (name: string) {
      hostConnections.push(this.connection);
      const o = counter(name);
      made.push(o);
      return o;
    })
    .method("same", "()", "o", function () {
      hostConnections.push(this.connection);
      return singleton;
    })
    .method("none", "()", "o", () => null)
    .method("isNull", "(o)", "b", (o: unknown) => o === null)
    .method("callMeBack", "(oi)", "i", async function (cb: RemoteObject, n: number) {
      hostConnections.push(this.connection);
      callbacks.push(cb);
      return cb.call<number>("twice", n);
    })
    .method("watch", "(o)", "v", async (cb: RemoteObject) => {
      callbacks.push(cb);
      await cb.signal("changed").connect((v: string) => watched.push(v));
    })
    .method("dropCallbacks", "()", "v", () => {
      for (const cb of callbacks.splice(0)) cb.release();
    });
  const watched: string[] = [];
  const sd = new Session();
  cleanups.push(() => sd.close());
  const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const host = new Session();
  cleanups.push(() => host.close());
  await host.connect(url);
  const serviceId = await host.registerService("Factory", factory);
  const client = new Session();
  cleanups.push(() => client.close());
  await client.connect(url);
  const f = await client.service("Factory");
  return {
    url,
    host,
    client,
    f,
    made,
    singleton,
    hostConnections,
    callbacks,
    watched,
    serviceId,
    hostUrl: host.endpoints()[0],
  };
}

describe("objects returned by a service", () => {
  it("gives the client a proxy it can call and subscribe to; release sends terminate and the host forgets it", async () => {
    const w = await world();
    const obj = await w.f.call<RemoteObject>("make", "a");
    expect(obj).toBeInstanceOf(RemoteObject);
    expect(obj.serviceId).toBe(w.serviceId);
    expect(obj.objectId).toBeGreaterThanOrEqual(3);
    expect(obj.objectId).toBeLessThan(0x80000000);
    expect(await obj.call("hello")).toBe("hello from a");
    expect(await obj.call("next")).toBe(1);
    expect(await obj.call("next")).toBe(2);
    expect(obj.metaObject.description).toBe("counter a");

    const pings: number[] = [];
    await obj.signal("ping").connect((n: number) => pings.push(n));
    w.made[0].emit("ping", 5);
    await until(() => pings.length === 1, "the ping event");
    expect(pings).toEqual([5]);

    const hostPeer = PeerObjects.of(w.hostConnections[0])!;
    expect(hostPeer.exportedCount).toBe(1);
    const second = await w.f.call<RemoteObject>("make", "b");
    expect(second.objectId).not.toBe(obj.objectId);
    expect(hostPeer.exportedCount).toBe(2);

    obj.release();
    await until(() => hostPeer.exportedCount === 1, "the host to forget the released object");
    // Its subscriptions went with it: emitting reaches nobody, and the proxy is unusable.
    w.made[0].emit("ping", 6);
    await new Promise((r) => setTimeout(r, 30));
    expect(pings).toEqual([5]);
    await expect(obj.call("hello")).rejects.toMatchObject({ code: "QI_ERR_CLOSED" });
    expect(await second.call("hello")).toBe("hello from b");
    second.release();
    await until(() => hostPeer.exportedCount === 0, "the host to forget the second object");
  });

  it("the same object keeps its uid and its id on one connection", async () => {
    const w = await world();
    const a = await w.f.call<RemoteObject>("same");
    const b = await w.f.call<RemoteObject>("same");
    expect(a.uid).toHaveLength(20);
    expect(hex(a.uid!)).toBe(hex(w.singleton.uid));
    expect(hex(b.uid!)).toBe(hex(w.singleton.uid));
    expect(b.objectId).toBe(a.objectId);
    expect(b).toBe(a); // one proxy per remote object
    expect(PeerObjects.of(w.hostConnections[0])!.exportedCount).toBe(1);
    // A different object has a different uid.
    const c = await w.f.call<RemoteObject>("make", "c");
    expect(hex(c.uid!)).not.toBe(hex(a.uid!));
  });

  it("on the wire: metaObject + serviceId + objectId + 20-byte uid; Post terminate (§10 L) makes the host forget it", async () => {
    const w = await world();
    const p = await RawPeer.open(w.hostUrl);
    cleanups.push(() => p.destroy());
    await p.authenticate(encode("{sm}", new Map([["ObjectPtrUID", new Dynamic("b", true)]])));
    const reply = await p.call(w.serviceId, 1, 101); // same()
    expect(reply.msg.type).toBe(MessageType.Reply);
    const meta = encodeMetaObject(w.singleton.metaObject());
    const sid = hex(encode("I", w.serviceId));
    const ref = decode("o", reply.msg.payload, { objectUid: true }) as ObjectRef;
    expect(ref).toBeInstanceOf(ObjectRef);
    expect(hex(reply.msg.payload)).toBe(
      hex(meta) + sid + hex(encode("I", ref.objectId)) + hex(w.singleton.uid),
    );
    expect(ref.objectId).toBeGreaterThanOrEqual(3);
    const hostPeer = PeerObjects.of(w.hostConnections.at(-1)!)!;
    expect(hostPeer.exportedCount).toBe(1);
    const hello = await p.call(w.serviceId, ref.objectId, 100);
    expect(decode("s", hello.msg.payload)).toBe("hello from singleton");
    // (L): Post terminate(serviceId) to (serviceId, objectId), action 3.
    p.send({
      id: p.freshId(),
      type: MessageType.Post,
      flags: 0,
      service: w.serviceId,
      object: ref.objectId,
      action: 3,
      payload: encode("I", w.serviceId),
    });
    await until(() => hostPeer.exportedCount === 0, "terminate");
    const after = await p.call(w.serviceId, ref.objectId, 100);
    expect(after.msg.type).toBe(MessageType.Error);
  });

  it("the null object: 16 zero bytes of MetaObject, the service id, object 0, a zero uid; decoded as null", async () => {
    const w = await world();
    expect(await w.f.call("none")).toBeNull();
    expect(await w.f.call("isNull", null)).toBe(true);
    const p = await RawPeer.open(w.hostUrl);
    cleanups.push(() => p.destroy());
    await p.authenticate(encode("{sm}", new Map([["ObjectPtrUID", new Dynamic("b", true)]])));
    const reply = await p.call(w.serviceId, 1, 102); // none()
    expect(hex(reply.bytes)).toBe(
      headerHex({
        id: reply.msg.id,
        size: 44,
        type: 2,
        flags: 0,
        service: w.serviceId,
        object: 1,
        action: 102,
      }) +
        "00".repeat(16) +
        hex(encode("I", w.serviceId)) +
        "00000000" +
        "00".repeat(20),
    );
    // Without the shared ObjectPtrUID there is no uid (spec §2.6).
    const q = await RawPeer.open(w.hostUrl);
    cleanups.push(() => q.destroy());
    await q.authenticate(encode("{sm}", new Map()));
    const r2 = await q.call(w.serviceId, 1, 102);
    expect(hex(r2.msg.payload)).toBe("00".repeat(16) + hex(encode("I", w.serviceId)) + "00000000");
  });
});

describe("objects passed by a client (callbacks)", () => {
  it("the service calls the client's object back over the same connection (ids from 2^31)", async () => {
    const w = await world();
    const seen: number[] = [];
    const cb = new QiObject()
      .method("twice", "(i)", "i", (n: number) => {
        seen.push(n);
        return 2 * n;
      })
      .signal("changed", "(s)");
    expect(await w.f.call("callMeBack", cb, 21)).toBe(42);
    expect(seen).toEqual([21]);
    const proxy = w.callbacks[0];
    expect(proxy).toBeInstanceOf(RemoteObject);
    expect(proxy.serviceId).toBe(w.serviceId); // the callee's service id
    expect(proxy.objectId).toBeGreaterThanOrEqual(0x80000000);
    expect(hex(proxy.uid!)).toBe(hex(cb.uid));
    // The host's proxy uses the connection the call came in on.
    expect(proxy.peer.conn).toBe(w.hostConnections[0]);
    // Passing the same object again reuses its id.
    expect(await w.f.call("callMeBack", cb, 1)).toBe(2);
    expect(w.callbacks[1]).toBe(proxy);
    // The service subscribes to the client object's signal.
    await w.f.call("watch", cb);
    cb.emit("changed", "x");
    cb.emit("changed", "y");
    await until(() => w.watched.length === 2, "the watched events");
    expect(w.watched).toEqual(["x", "y"]);
    // The client side exported it once; when the host releases its proxy, the client forgets it.
    const clientPeer = (await w.client.service("Factory")).peer;
    expect(clientPeer.exportedCount).toBe(1);
    await w.f.call("dropCallbacks");
    await until(() => clientPeer.exportedCount === 0, "the client to forget its callback object");
  });

  it("a callback that throws turns into an Error on the service side", async () => {
    const w = await world();
    const cb = new QiObject().method("twice", "(i)", "i", () => {
      throw new Error("no thanks");
    });
    const err = await w.f.call("callMeBack", cb, 1).catch((e: unknown) => e);
    expect(isQiError(err, "QI_ERR_REMOTE")).toBe(true);
    expect((err as Error).message).toBe("no thanks");
  });
});
