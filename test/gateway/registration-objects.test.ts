/**
 * Objects by reference for services registered through the gateway: an object the external
 * service returns is usable inside (calls, signals, terminate reach it), an object an internal
 * caller passes is usable by the external client, and a client that leaves makes the proxies
 * of its objects fail at once. Real sockets on 127.0.0.1, real Sessions.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Connection } from "../../src/connection/index.js";
import { PeerObjects, QiObject, RemoteObject } from "../../src/object/index.js";
import type { Session } from "../../src/session/index.js";
import { client, runCleanup, until, world } from "./world.js";

afterEach(runCleanup);

/** A sub-object the external service hands out: a counter that signals every step. */
function stepper(start: number): QiObject {
  let value = start;
  const object: QiObject = new QiObject({ description: "stepper" })
    .method("next", "()", "i", () => {
      value++;
      object.emit("stepped", value);
      return value;
    })
    // Answers only when given up (so its host can close).
    .method("hang", "()", "i", function () {
      return new Promise<number>((_, reject) => {
        this.signal.addEventListener("abort", () => reject(this.signal.reason));
      });
    })
    .signal("stepped", "(i)");
  return object;
}

/** The external service: hands out steppers, and calls back the objects it is given. */
function panel() {
  let kept: RemoteObject | undefined;
  const object: QiObject = new QiObject({ description: "a control panel outside the robot" })
    .method("stepper", "(i)", "o", (start: number) => stepper(start))
    .method("greet", "(o)", "s", async (cb: RemoteObject) => `panel: ${await cb.call("ping", "hello")}`)
    .method("keep", "(o)", "v", (cb: RemoteObject) => {
      kept = cb;
    })
    .method("offer", "(i)", "v", (start: number) => {
      object.emit("offered", stepper(start));
    })
    .signal("offered", "(o)")
    .method("pingKept", "()", "s", async () => {
      if (!kept) throw new Error("nothing kept");
      return kept.call<string>("ping", "later");
    });
  return { object, kept: () => kept };
}

/** A callback object of an internal caller. */
function callback(name: string): QiObject {
  return new QiObject().method("ping", "(s)", "s", (text: string) => `${name} got ${text}`);
}

/** Objects a session exports by reference on its connection to the directory (the gateway). */
function exportedByOwner(owner: Session): number {
  const conn = (owner as unknown as { sdConnection: Connection }).sdConnection;
  return PeerObjects.of(conn)?.exportedCount ?? 0;
}

async function setUp() {
  const w = await world({ allowServiceRegistration: true });
  const outside = await client(w.gwUrl);
  const service = panel();
  await outside.registerService("Panel", service.object);
  const inside = await client(w.sdUrl);
  const proxy = await inside.service("Panel");
  return { ...w, outside, inside, proxy, service };
}

describe("objects by reference for services registered through the gateway", () => {
  it("an object returned by the external service: calls, signals and terminate reach it", async () => {
    const { outside, proxy } = await setUp();
    const sub = await proxy.call<RemoteObject>("stepper", 10);
    expect(sub).toBeInstanceOf(RemoteObject);
    expect(sub.metaObject.description).toBe("stepper");
    expect(exportedByOwner(outside)).toBe(1);

    const seen: number[] = [];
    await sub.signal("stepped").connect((v: number) => seen.push(v));
    expect(await sub.call("next")).toBe(11);
    expect(await sub.call("next")).toBe(12);
    await until(() => seen.length === 2, "two signals");
    expect(seen).toEqual([11, 12]);

    // Two sub-objects are two objects.
    const other = await proxy.call<RemoteObject>("stepper", 100);
    expect(await other.call("next")).toBe(101);
    expect(await sub.call("next")).toBe(13);
    expect(exportedByOwner(outside)).toBe(2);

    // terminate from the internal caller releases the external client's object.
    sub.release();
    await until(() => exportedByOwner(outside) === 1, "the first stepper released at its host");
    other.release();
    await until(() => exportedByOwner(outside) === 0, "the second stepper released at its host");
  });

  it("an object emitted in a signal of the external service reaches every internal subscriber", async () => {
    const { sdUrl, proxy } = await setUp();
    const other = await (await client(sdUrl)).service("Panel");
    const got: RemoteObject[] = [];
    await proxy.signal("offered").connect((o: RemoteObject) => got.push(o));
    await other.signal("offered").connect((o: RemoteObject) => got.push(o));
    await proxy.call("offer", 20);
    await until(() => got.length === 2, "the object in both subscribers' signal");
    // One object at the external client, reached by both.
    expect(await got[0].call("next")).toBe(21);
    expect(await got[1].call("next")).toBe(22);
  });

  it("an object passed by an internal caller: the external client calls it back, during and after the call", async () => {
    const { proxy, service } = await setUp();
    expect(await proxy.call("greet", callback("inside"))).toBe("panel: inside got hello");
    await proxy.call("keep", callback("kept"));
    expect(service.kept()).toBeInstanceOf(RemoteObject);
    expect(await proxy.call("pingKept")).toBe("kept got later");
    // The external client calls it directly too, outside any call of ours.
    expect(await service.kept()!.call("ping", "directly")).toBe("kept got directly");
  });

  it("a second internal caller gets its own sub-objects, and other clients are unaffected", async () => {
    const { sdUrl, gwUrl, proxy } = await setUp();
    const second = await client(sdUrl);
    const sub2 = await (await second.service("Panel")).call<RemoteObject>("stepper", 0);
    const sub1 = await proxy.call<RemoteObject>("stepper", 50);
    expect(await sub2.call("next")).toBe(1);
    expect(await sub1.call("next")).toBe(51);
    // Another external client uses the service (and its objects) through the gateway too.
    const outsider = await client(gwUrl);
    const sub3 = await (await outsider.service("Panel")).call<RemoteObject>("stepper", 7);
    expect(await sub3.call("next")).toBe(8);
    expect(await (await outsider.service("Calc")).call("add", 1, 2)).toBe(3);
  });

  it("the external client leaving: the proxies of its objects fail at once, nothing hangs", async () => {
    const { outside, inside, proxy, service } = await setUp();
    const sub = await proxy.call<RemoteObject>("stepper", 0);
    await proxy.call("keep", callback("kept"));
    expect(await sub.call("next")).toBe(1);
    const pending = sub.call("hang").then(
      () => "answered",
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await outside.close();
    expect(await pending).not.toBe("answered");
    await expect(sub.call("next")).rejects.toBeInstanceOf(Error);
    expect(Date.now() - t0).toBeLessThan(2_000);
    await expect.poll(async () => (await inside.services()).map((s) => s.name)).not.toContain("Panel");
    // The internal side is fine.
    expect(await (await inside.service("Calc")).call("add", 2, 2)).toBe(4);
    expect(service.kept()?.isReleased).toBe(true);
  });

  it("an internal caller leaving: the external client's proxy of its callback fails cleanly", async () => {
    const { sdUrl, service } = await setUp();
    const caller = await client(sdUrl);
    await (await caller.service("Panel")).call("keep", callback("gone soon"));
    expect(await service.kept()!.call("ping", "x")).toBe("gone soon got x");
    await caller.close();
    const t0 = Date.now();
    await expect(service.kept()!.call("ping", "y")).rejects.toBeInstanceOf(Error);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
