/**
 * The gateway on a ws:// listener: the same features as over tcp for a Node client that speaks
 * qi over WebSocket (what a browser does), with colliding ids, cancel, signals, objects both
 * ways, permissions and refused credentials.
 */
import { afterEach, describe, expect, it } from "vitest";
import { isQiError, UserTokenAuthenticator } from "../../src/connection/index.js";
import { GatewayAuthProvider, hashToken } from "../../src/gateway/index.js";
import { QiObject, type RemoteObject } from "../../src/object/index.js";
import { client, runCleanup, world } from "./world.js";

afterEach(runCleanup);

async function wsWorld() {
  const w = await world({
    listen: ["ws://127.0.0.1:0"],
    allowAnonymous: false,
    authProvider: new GatewayAuthProvider({
      alice: { token: hashToken("a") },
      bob: { token: hashToken("b") },
    }),
    permissions: {
      users: {
        alice: { services: { allow: ["*"] }, call: { allow: ["*"] }, subscribe: { allow: ["*"] } },
        bob: { services: { allow: ["Calc"] }, call: { allow: ["Calc.add"] } },
      },
    },
  });
  const wsUrl = w.gw.endpoints().find((e) => e.startsWith("ws://"))!;
  return { ...w, wsUrl };
}

const as = (user: string, token: string) => ({ authenticator: new UserTokenAuthenticator(user, token) });

describe("gateway over ws://", () => {
  it("forwards calls from many ws clients at once, signals, cancel and objects both ways", async () => {
    const { wsUrl, service } = await wsWorld();
    const clients = await Promise.all([1, 2, 3].map(() => client(wsUrl, as("alice", "a"))));
    const proxies = await Promise.all(clients.map((c) => c.service("Calc")));
    // Every client's ids start alike: the gateway keeps them apart.
    const sums = await Promise.all(
      proxies.flatMap((p, k) => Array.from({ length: 50 }, (_, i) => p.call<number>("add", i, k * 1000))),
    );
    expect(sums).toEqual(proxies.flatMap((_, k) => Array.from({ length: 50 }, (_, i) => i + k * 1000)));

    const got: number[] = [];
    const both = new Promise<void>((resolve) => {
      for (const p of proxies.slice(0, 2))
        void p.signal("tick").connect((n: number) => {
          got.push(n);
          if (got.length === 2) resolve();
        });
    });
    await new Promise((r) => setTimeout(r, 200));
    service.object.emit("tick", 7);
    await both;
    expect(got).toEqual([7, 7]);

    const ac = new AbortController();
    const slow = proxies[0].invoke("slow", [10_000], { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(slow).rejects.toMatchObject({ code: "QI_ERR_CANCELED" });

    const counter = await proxies[1].call<RemoteObject>("makeCounter", 41);
    expect(await counter.call("next")).toBe(42);
  });

  it("refuses wrong credentials and enforces permissions for ws clients", async () => {
    const { wsUrl } = await wsWorld();
    await expect(client(wsUrl, as("alice", "wrong"))).rejects.toSatisfy((e: unknown) =>
      isQiError(e, "QI_ERR_AUTH"),
    );
    const bob = await client(wsUrl, as("bob", "b"));
    expect((await bob.services()).map((s) => s.name)).toEqual(["Calc"]);
    const calc = await bob.service("Calc");
    expect(await calc.call("add", 2, 2)).toBe(4);
    await expect(calc.call("makeCounter", 1)).rejects.toMatchObject({
      message: "Permission denied: cannot call Calc.makeCounter.",
    });
  });

  it("calls back an object a ws client passed as an argument", async () => {
    const { wsUrl, host } = await wsWorld();
    await host.registerService(
      "Caller",
      new QiObject().method("callBack", "(oi)", "i", (cb: RemoteObject, n: number) =>
        cb.call<number>("twice", n),
      ),
    );
    const alice = await client(wsUrl, as("alice", "a"));
    const caller = await alice.service("Caller");
    const mine = new QiObject().method("twice", "(i)", "i", (n: number) => n * 2);
    expect(await caller.call("callBack", mine, 21)).toBe(42);
  });
});
