import { afterEach, describe, expect, it } from "vitest";
import { isQiError, UserTokenAuthenticator } from "../../src/connection/index.js";
import {
  GatewayAuthProvider,
  hashToken,
  startGateway,
  type Gateway,
  type GatewayOptions,
} from "../../src/gateway/index.js";
import { QiObject, RemoteObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

function counter(start: number): QiObject {
  let value = start;
  return new QiObject().method("next", "()", "i", () => ++value).signal("changed", "(i)");
}

function calc(): QiObject {
  const obj: QiObject = new QiObject({ description: "calc" })
    .method("add", "(ii)", "i", (a: number, b: number) => a + b)
    .method("slow", "(i)", "i", function (ms: number) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve(ms), ms);
        this.signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(this.signal.reason);
        });
      });
    })
    .method("makeCounter", "(i)", "o", (start: number) => counter(start))
    .method(
      "callBack",
      "(oi)",
      "i",
      async (cb: RemoteObject, n: number) => (await cb.call<number>("twice", n)) as number,
    )
    .signal("tick", "(i)")
    .property("level", "i", 7);
  return obj;
}

async function world(gwOptions: Partial<GatewayOptions> = {}) {
  const sd = new Session();
  cleanup.push(() => sd.close());
  const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const host = new Session();
  cleanup.push(() => host.close());
  await host.connect(sdUrl);
  const service = calc();
  await host.registerService("Calc", service);
  await host.registerService(
    "_Hidden",
    new QiObject().method("ping", "()", "s", () => "pong"),
  );
  const gw = await startGateway({
    attach: sdUrl,
    listen: ["tcp://127.0.0.1:0"],
    allowAnonymous: true,
    ...gwOptions,
  });
  cleanup.push(() => gw.close());
  await gw.waitAttached();
  const [gwUrl] = gw.endpoints();
  return { sd, sdUrl, host, service, gw, gwUrl };
}

async function client(url: string, auth?: UserTokenAuthenticator): Promise<Session> {
  const s = new Session({ authenticator: auth });
  cleanup.push(() => s.close());
  await s.connect(url);
  return s;
}

describe("Gateway", () => {
  it("shows the directory with its own endpoints and forwards calls", async () => {
    const { gwUrl } = await world();
    const c = await client(gwUrl);
    const services = await c.services();
    expect(services.map((s) => s.name)).toEqual(["ServiceDirectory", "Calc", "_Hidden"]);
    for (const s of services) expect(s.endpoints).toContain(gwUrl);
    const calcProxy = await c.service("Calc");
    expect(await calcProxy.call("add", 2, 3)).toBe(5);
  });

  it("keeps many clients with colliding message ids apart", async () => {
    const { gwUrl } = await world();
    const clients = await Promise.all(Array.from({ length: 5 }, () => client(gwUrl)));
    const results = await Promise.all(
      clients.map(async (c, i) => {
        const p = await c.service("Calc");
        return Promise.all(Array.from({ length: 50 }, (_, k) => p.call<number>("add", i * 1000, k)));
      }),
    );
    for (const [i, r] of results.entries())
      expect(r).toEqual(Array.from({ length: 50 }, (_, k) => i * 1000 + k));
  });

  it("fans one upstream subscription out to every client", async () => {
    const { gwUrl, service } = await world();
    const a = await (await client(gwUrl)).service("Calc");
    const b = await (await client(gwUrl)).service("Calc");
    const got: string[] = [];
    await a.signal("tick").connect((n: number) => got.push(`a${n}`));
    await b.signal("tick").connect((n: number) => got.push(`b${n}`));
    service.emit("tick", 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(got.sort()).toEqual(["a1", "b1"]);
  });

  it("forwards objects returned by services and objects passed by clients", async () => {
    const { gwUrl } = await world();
    const c = await client(gwUrl);
    const p = await c.service("Calc");
    const ctr = await p.call<RemoteObject>("makeCounter", 10);
    expect(ctr).toBeInstanceOf(RemoteObject);
    expect(await ctr.call("next")).toBe(11);
    expect(await ctr.call("next")).toBe(12);
    const cb = new QiObject().method("twice", "(i)", "i", (n: number) => n * 2);
    expect(await p.call("callBack", cb, 21)).toBe(42);
  });

  it("forwards the signals of a client's object to every service it was passed to", async () => {
    const { sdUrl, gwUrl } = await world();
    // Two services in two host processes' stead (two sessions, two upstream connections).
    const heard: Record<string, number[]> = { A: [], B: [] };
    for (const name of ["A", "B"]) {
      const host = new Session();
      cleanup.push(() => host.close());
      await host.connect(sdUrl);
      await host.registerService(
        name,
        new QiObject().method("watch", "(o)", "v", async (o: RemoteObject) => {
          await o.signal("ping").connect((n: number) => heard[name].push(n));
        }),
      );
    }
    const c = await client(gwUrl);
    const source = new QiObject().signal("ping", "(i)");
    await (await c.service("A")).call("watch", source);
    await (await c.service("B")).call("watch", source);
    source.emit("ping", 1);
    source.emit("ping", 2);
    await expect
      .poll(() => [heard.A, heard.B], { timeout: 3_000 })
      .toEqual([
        [1, 2],
        [1, 2],
      ]);
  });

  it("does not let a client reach another client's objects", async () => {
    const { gwUrl } = await world();
    const a = await client(gwUrl);
    const ctr = await (await a.service("Calc")).call<RemoteObject>("makeCounter", 0);
    const b = await client(gwUrl);
    const bCalc = await b.service("Calc");
    // b forges a call at a's object address.
    const conn = (bCalc as unknown as { peer: { conn: import("../../src/connection/index.js").Connection } })
      .peer.conn;
    await expect(
      conn.call({ service: ctr.serviceId, object: ctr.objectId, action: 100 }, new Uint8Array(0)),
    ).rejects.toMatchObject({
      code: "QI_ERR_REMOTE",
      message: "The call request could not be handled.",
    });
  });

  it("cancels through the gateway", async () => {
    const { gwUrl } = await world();
    const p = await (await client(gwUrl)).service("Calc");
    const ac = new AbortController();
    const call = p.invoke("slow", [5000], { signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    await expect(call).rejects.toSatisfy((e: unknown) => isQiError(e, "QI_ERR_CANCELED"));
  });

  it("answers calls in flight with an error when the service vanishes", async () => {
    const { gwUrl, host } = await world();
    const c = await client(gwUrl);
    const p = await c.service("Calc");
    const removed = new Promise<string>((r) => c.once("serviceUnregistered", (_id, name) => r(name)));
    const call = p.call("slow", 5000);
    const failed = expect(call).rejects.toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 30));
    await host.close();
    await failed;
    expect(await removed).toBe("Calc");
  });

  it("requires authentication and enforces permissions", async () => {
    const provider = new GatewayAuthProvider({
      alice: { token: hashToken("secret") },
      bob: { token: hashToken("hunter2") },
    });
    const { gwUrl } = await world({
      allowAnonymous: false,
      authProvider: provider,
      permissions: {
        users: {
          alice: { services: { allow: ["Calc"] }, call: { allow: ["Calc.add"] } },
          bob: { services: { allow: ["*"] } },
        },
      },
    });
    await expect(client(gwUrl)).rejects.toSatisfy((e: unknown) => isQiError(e, "QI_ERR_AUTH"));
    await expect(client(gwUrl, new UserTokenAuthenticator("alice", "wrong"))).rejects.toSatisfy(
      (e: unknown) => isQiError(e, "QI_ERR_AUTH"),
    );
    const alice = await client(gwUrl, new UserTokenAuthenticator("alice", "secret"));
    expect((await alice.services()).map((s) => s.name)).toEqual(["Calc"]);
    await expect(alice.service("_Hidden")).rejects.toMatchObject({
      message: "Cannot find service '_Hidden' in index",
    });
    const p = await alice.service("Calc");
    expect(await p.call("add", 1, 2)).toBe(3);
    await expect(p.call("makeCounter", 1)).rejects.toMatchObject({
      message: "Permission denied: cannot call Calc.makeCounter.",
    });
    await expect(p.property("level").set(3)).rejects.toMatchObject({
      message: "Permission denied: cannot set Calc.level.",
    });
    const bob = await client(gwUrl, new UserTokenAuthenticator("bob", "hunter2"));
    expect((await bob.services()).length).toBe(3);
  });

  it("re-attaches after the Service Directory restarts", async () => {
    const sd = new Session();
    const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
    const gw: Gateway = await startGateway({
      attach: sdUrl,
      listen: ["tcp://127.0.0.1:0"],
      allowAnonymous: true,
    });
    cleanup.push(() => gw.close());
    await gw.waitAttached();
    const c = await client(gw.endpoints()[0]);
    const removed = new Promise<string>((r) => c.once("serviceUnregistered", (_id, name) => r(name)));
    await sd.close();
    expect(await removed).toBe("ServiceDirectory");
    const sd2 = new Session();
    cleanup.push(() => sd2.close());
    await sd2.listenStandalone(sdUrl);
    const added = new Promise<string>((r) =>
      c.on("serviceRegistered", (_id, name) => name === "ServiceDirectory" && r(name)),
    );
    expect(await added).toBe("ServiceDirectory");
    expect((await c.services()).map((s) => s.name)).toEqual(["ServiceDirectory"]);
  });

  it("serves Prometheus metrics", async () => {
    const { gwUrl, gw } = await world({ metricsAddress: "127.0.0.1:0" });
    const p = await (await client(gwUrl)).service("Calc");
    await p.call("add", 1, 2);
    // Arguments that do not convert: sent as a dynamic, refused by the service with an Error.
    await expect(p.call("add", "one", "two")).rejects.toMatchObject({ code: "QI_ERR_REMOTE" });
    const text = await (await fetch(gw.metricsUrl()!)).text();
    expect(text).toMatch(/qi_gateway_errors_total 1\n/);
    expect(text).toMatch(/qi_gateway_calls_total\{service="Calc"\} [1-9]/);
    expect(text).toMatch(/qi_gateway_clients 1/);
    expect(text).toContain("qi_gateway_call_seconds_bucket");
  });
});
