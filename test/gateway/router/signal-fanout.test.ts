/** SignalFanout over memory channels: one upstream subscription per signal, shared and ended. */
import { afterEach, describe, expect, it } from "vitest";
import type { Connection } from "../../../src/connection/index.js";
import { Reserved } from "../../../src/object/index.js";
import { decode, encode } from "../../../src/wire/index.js";
import { closeWorlds, routerWorld, SERVICE_ID, uid, until } from "./harness.js";

afterEach(closeWorlds);

const address = (action: number) => ({ service: SERVICE_ID, object: 1, action });

function subscribe(remote: Connection, signal: number, link: bigint) {
  return remote.call(address(Reserved.registerEvent), encode("(IIL)", [SERVICE_ID, signal, link]));
}

function unsubscribe(remote: Connection, signal: number, link: bigint) {
  return remote.call(address(Reserved.unregisterEvent), encode("(IIL)", [SERVICE_ID, signal, link]));
}

function collect(remote: Connection): number[] {
  const got: number[] = [];
  remote.setEventHandler(SERVICE_ID, 1, (m) => got.push((decode("(i)", m.payload) as number[])[0]));
  return got;
}

describe("router: signal fan-out", () => {
  it("shares one upstream subscription between clients and ends it with the last one", async () => {
    const w = await routerWorld();
    const tick = uid(w.service.metaObject(), "tick");
    const a = await w.client();
    const b = await w.client();
    const gotA = collect(a.remote);
    const gotB = collect(b.remote);
    await subscribe(a.remote, tick, 1n);
    await subscribe(b.remote, tick, 1n);
    expect(w.router.stats().fanouts).toBe(1);
    w.service.emit("tick", 5);
    await until(() => gotA.length === 1 && gotB.length === 1, "the event at both clients");
    expect([gotA, gotB]).toEqual([[5], [5]]);
    await unsubscribe(a.remote, tick, 1n);
    w.service.emit("tick", 6);
    await until(() => gotB.length === 2, "the second event");
    expect(gotA).toEqual([5]);
    expect(w.router.stats().fanouts).toBe(1);
    await unsubscribe(b.remote, tick, 1n);
    expect(w.router.stats().fanouts).toBe(0);
    await expect(unsubscribe(b.remote, tick, 1n)).rejects.toThrow(/Unregister request failed/);
  });

  it("refuses a link id reused for another signal, and subscriptions over maxSubscriptions", async () => {
    const w = await routerWorld({ limits: { maxSubscriptions: 1 } });
    const meta = w.service.metaObject();
    const { link, remote } = await w.client();
    await subscribe(remote, uid(meta, "tick"), 1n);
    await expect(subscribe(remote, uid(meta, "other"), 1n)).rejects.toThrow(/already in use/);
    await expect(subscribe(remote, uid(meta, "other"), 2n)).rejects.toThrow(/Too many subscriptions/);
    expect(link.subscriptions.size).toBe(1);
  });

  it("forgets a departing client's subscriptions and closes the fan-outs only it used", async () => {
    const w = await routerWorld();
    const meta = w.service.metaObject();
    const a = await w.client();
    const b = await w.client();
    await subscribe(a.remote, uid(meta, "tick"), 1n);
    await subscribe(a.remote, uid(meta, "other"), 2n);
    await subscribe(b.remote, uid(meta, "tick"), 1n);
    expect(w.router.stats().fanouts).toBe(2);
    a.remote.close();
    await until(() => !w.router.clients.has(a.link), "the client gone");
    expect(w.router.stats().fanouts).toBe(1);
    w.router.onServiceRemoved(SERVICE_ID, "Calc");
    expect(w.router.stats().fanouts).toBe(0);
    expect(b.link.subscriptions.size).toBe(0);
  });
});
