/**
 * Services registered through the gateway outlive a restart of the internal Service Directory:
 * the gateway registers them again once re-attached, keeps translating between the id the
 * external client knows and the new one inside, and drops (with a warning) a service whose
 * name is taken by then. Real sockets on 127.0.0.1, real Sessions; the directory is closed
 * and a new one listens on the same port.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../../src/gateway/index.js";
import { QiObject, type RemoteObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { cleanup, client, runCleanup, until, capturingLogger } from "./world.js";

afterEach(runCleanup);

function tablet(): QiObject {
  return new QiObject({ description: "a tablet outside the robot" })
    .method("show", "(s)", "s", (url: string) => `showing ${url}`)
    .method("wait", "(i)", "i", (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)))
    .method("counter", "(i)", "o", (start: number) => {
      let n = start;
      return new QiObject().method("next", "()", "i", () => ++n);
    })
    .method("callBack", "(o)", "s", (cb: RemoteObject) => cb.call<string>("ping"))
    .signal("touched", "(ii)")
    .property("brightness", "i", 3);
}

async function directory(url: string): Promise<{ sd: Session; url: string }> {
  const sd = new Session();
  cleanup.push(() => sd.close());
  const [listening] = await sd.listenStandalone(url);
  return { sd, url: listening };
}

async function setUp() {
  const first = await directory("tcp://127.0.0.1:0");
  const logs: Array<Record<string, unknown>> = [];
  const gw: Gateway = await startGateway({
    attach: first.url,
    listen: ["tcp://127.0.0.1:0"],
    allowAnonymous: true,
    allowServiceRegistration: true,
    logger: capturingLogger(logs, "info"),
  });
  cleanup.push(() => gw.close());
  await gw.waitAttached();
  const gwUrl = gw.endpoints()[0];
  const outside = await client(gwUrl);
  const object = tablet();
  const id = await outside.registerService("Tablet", object);
  const inside = await client(first.url);
  expect(await (await inside.service("Tablet")).call("show", "a")).toBe("showing a");
  return { first, gw, gwUrl, logs, outside, object, id };
}

/** Closes the directory, waits until the gateway noticed, and starts a new one on the same port. */
async function restart(
  first: { sd: Session; url: string },
  gw: Gateway,
  before?: (sd: Session) => Promise<void>,
) {
  await first.sd.close();
  await until(() => !gw.isAttached, "the gateway to notice the directory left");
  const second = await directory(first.url);
  expect(second.url).toBe(first.url);
  await before?.(second.sd);
  await gw.waitAttached(10_000);
  return second;
}

describe("services registered through the gateway across a Service Directory restart", () => {
  it("is registered again under a new id; calls, signals, properties and the old id keep working", async () => {
    const { first, gw, gwUrl, logs, outside, object, id } = await setUp();
    // The new directory hands out ids from the start again: an earlier service takes Tablet's.
    const second = await restart(first, gw, (sd) =>
      sd.registerService("Spacer", new QiObject()).then(() => undefined),
    );
    const inside = await client(second.url);
    await inside.waitForService("Tablet", 5_000);
    const info = (await inside.services()).find((s) => s.name === "Tablet")!;
    expect(info.serviceId).not.toBe(id);

    const t0 = performance.now();
    const proxy = await inside.service("Tablet");
    expect(proxy.serviceId).toBe(info.serviceId);
    expect(proxy.metaObject.description).toBe("a tablet outside the robot");
    expect(await proxy.call("show", "b")).toBe("showing b");
    expect(await proxy.call("wait", 5)).toBe(5);
    expect(await proxy.property<number>("brightness").get()).toBe(3);
    const firstCallMs = performance.now() - t0;
    // Objects both ways, under the new id inside and the old one at the external client.
    const counter = await proxy.call<RemoteObject>("counter", 41);
    expect(counter.serviceId).toBe(info.serviceId);
    expect(await counter.call("next")).toBe(42);
    const cb = new QiObject().method("ping", "()", "s", () => "pong");
    expect(await proxy.call("callBack", cb)).toBe("pong");

    const touched: Array<[number, number]> = [];
    await proxy.signal("touched").connect((x: number, y: number) => touched.push([x, y]));
    object.emit("touched", 1, 2);
    await until(() => touched.length === 1, "the signal inside");
    expect(touched).toEqual([[1, 2]]);
    // The external client's object still serves under the id it was given first.
    expect(
      logs.find((l) => l.msg === "external service registered again in the new service directory"),
    ).toMatchObject({ service: "Tablet", id, internalId: info.serviceId });

    // Other external clients see the directory's id, and reach the service with it.
    const outsider = await client(gwUrl);
    const seen = (await outsider.services()).find((s) => s.name === "Tablet");
    expect(seen?.serviceId).toBe(info.serviceId);
    expect(await (await outsider.service("Tablet")).call("show", "c")).toBe("showing c");

    // The external client unregisters with the id it knows: the new registration goes.
    await outside.unregisterService(id);
    await expect.poll(async () => (await inside.services()).map((s) => s.name)).not.toContain("Tablet");
    expect(firstCallMs).toBeLessThan(2_000);
  });

  it("survives two restarts in a row, and the external client leaving unregisters the latest id", async () => {
    const { first, gw, outside, id } = await setUp();
    const second = await restart(first, gw, (sd) =>
      sd.registerService("Spacer", new QiObject()).then(() => undefined),
    );
    const watcher = await client(second.url);
    await watcher.waitForService("Tablet", 5_000);
    const third = await restart(second, gw, async (sd) => {
      await sd.registerService("Spacer", new QiObject());
      await sd.registerService("Spacer2", new QiObject());
    });
    const inside = await client(third.url);
    await inside.waitForService("Tablet", 5_000);
    const proxy: RemoteObject = await inside.service("Tablet");
    expect(proxy.serviceId).not.toBe(id);
    expect(await proxy.call("show", "d")).toBe("showing d");
    await outside.close();
    await expect.poll(async () => (await inside.services()).map((s) => s.name)).not.toContain("Tablet");
    expect(gw.stats()).toMatchObject({ attached: true });
  });

  it("a name taken in the new directory: the registration is dropped with a warning, nothing else breaks", async () => {
    const { first, gw, gwUrl, logs, outside, id } = await setUp();
    const usurper = new QiObject().method("show", "(s)", "s", (url: string) => `usurper shows ${url}`);
    const second = await restart(first, gw, (sd) =>
      sd.registerService("Tablet", usurper).then(() => undefined),
    );
    await until(
      () => logs.some((l) => l.level === 40 && String(l.msg).startsWith("external service dropped")),
      "the warning",
    );
    expect(logs.find((l) => String(l.msg).startsWith("external service dropped"))).toMatchObject({
      service: "Tablet",
      id,
      reason: "the name is taken in the new service directory",
    });

    // Inside, the name is the new directory's service.
    const inside = await client(second.url);
    expect(await (await inside.service("Tablet")).call("show", "e")).toBe("usurper shows e");
    // What the external client observes: its service is not listed any more (the Tablet
    // listed is the other one), and its registration is gone.
    const listed = (await outside.services()).filter((s) => s.name === "Tablet");
    expect(listed).toHaveLength(1);
    expect(listed[0].sessionId).toBe(second.sd.sessionId);
    expect(await (await outside.service("Tablet")).call("show", "f")).toBe("usurper shows f");
    await expect(outside.unregisterService(id)).rejects.toMatchObject({
      message: `Service #${id} was not registered by this client.`,
    });
    // The client, the gateway and other clients go on: it can register under another name.
    const again = await outside.registerService("Tablet2", tablet());
    expect(await (await inside.service("Tablet2")).call("show", "g")).toBe("showing g");
    const outsider = await client(gwUrl);
    expect(await (await outsider.service("Tablet2")).call("show", "h")).toBe("showing h");
    await outside.unregisterService(again);
    expect(gw.stats()).toMatchObject({ attached: true, clients: 2 });
  });
});
