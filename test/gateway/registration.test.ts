/**
 * External clients registering services through the gateway (off by default): the service
 * appears in the internal Service Directory, internal clients call it, watch its signals and
 * cancel calls, and it leaves with its client.
 */
import { afterEach, describe, expect, it } from "vitest";
import { UserTokenAuthenticator } from "../../src/connection/index.js";
import { GatewayAuthProvider, hashToken } from "../../src/gateway/index.js";
import { QiObject, RemoteObject } from "../../src/object/index.js";
import type { Session } from "../../src/session/index.js";
import { client, runCleanup, world } from "./world.js";

afterEach(runCleanup);

function session(url: string, auth?: UserTokenAuthenticator): Promise<Session> {
  return client(url, { authenticator: auth });
}

function tablet(): QiObject {
  return new QiObject({ description: "a tablet outside the robot" })
    .method("show", "(s)", "s", (url: string) => `showing ${url}`)
    .method("wait", "(i)", "i", function (ms: number) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve(ms), ms);
        this.signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(this.signal.reason);
        });
      });
    })
    .method("fail", "()", "v", () => {
      throw new Error("touch screen broken");
    })
    .method("give", "()", "o", () => new QiObject())
    .signal("touched", "(ii)");
}

describe("services registered by external clients", () => {
  it("is refused unless enabled", async () => {
    const { gwUrl } = await world();
    const outside = await session(gwUrl);
    await expect(outside.registerService("Tablet", tablet())).rejects.toMatchObject({
      message: "Registering services through this gateway is not enabled.",
    });
  });

  it("appears inside, answers calls, errors and cancels, emits signals, and leaves with its client", async () => {
    const { sdUrl, gwUrl } = await world({ allowServiceRegistration: true });
    const inside = await session(sdUrl);
    const added = new Promise<string>((r) => inside.on("serviceRegistered", (_id, name) => r(name)));
    const outside = await session(gwUrl);
    const object = tablet();
    const id = await outside.registerService("Tablet", object);
    expect(await added).toBe("Tablet");
    expect((await inside.services()).find((s) => s.name === "Tablet")?.serviceId).toBe(id);

    const proxy = await inside.service("Tablet");
    expect(proxy.metaObject.description).toBe("a tablet outside the robot");
    expect(await proxy.call("show", "http://x")).toBe("showing http://x");
    await expect(proxy.call("fail")).rejects.toMatchObject({ message: "touch screen broken" });
    // Objects by reference: see registration-objects.test.ts.
    expect(await proxy.call("give")).toBeInstanceOf(RemoteObject);
    const ac = new AbortController();
    const waiting = proxy.invoke("wait", [10_000], { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(waiting).rejects.toMatchObject({ code: "QI_ERR_CANCELED" });

    // Two internal subscribers share one subscription at the external host.
    const other = await session(sdUrl);
    const got: Array<[string, number, number]> = [];
    const arrived = new Promise<void>((resolve) => {
      const on = (who: string) => (x: number, y: number) => {
        got.push([who, x, y]);
        if (got.length === 2) resolve();
      };
      void proxy.signal("touched").connect(on("a"));
      void other.service("Tablet").then((p) => p.signal("touched").connect(on("b")));
    });
    await new Promise((r) => setTimeout(r, 200));
    object.emit("touched", 3, 4);
    await arrived;
    expect(got.sort()).toEqual([
      ["a", 3, 4],
      ["b", 3, 4],
    ]);

    // Other external clients reach it too, through the gateway.
    const second = await session(gwUrl);
    expect(await (await second.service("Tablet")).call("show", "y")).toBe("showing y");

    const removed = new Promise<string>((r) => inside.on("serviceUnregistered", (_id, name) => r(name)));
    await outside.close();
    expect(await removed).toBe("Tablet");
    expect((await inside.services()).map((s) => s.name)).not.toContain("Tablet");
  });

  it("needs a register permission when permissions are configured, and refuses taken names", async () => {
    const provider = new GatewayAuthProvider({
      alice: { token: hashToken("a") },
      bob: { token: hashToken("b") },
    });
    const { sdUrl, gwUrl } = await world({
      allowAnonymous: false,
      authProvider: provider,
      allowServiceRegistration: true,
      permissions: {
        users: {
          alice: { services: { allow: ["*"] }, register: { allow: ["Tablet*"] } },
          bob: { services: { allow: ["*"] } },
        },
      },
    });
    const bob = await session(gwUrl, new UserTokenAuthenticator("bob", "b"));
    await expect(bob.registerService("Tablet", tablet())).rejects.toMatchObject({
      message: 'Permission denied: cannot register service "Tablet".',
    });
    const alice = await session(gwUrl, new UserTokenAuthenticator("alice", "a"));
    await expect(alice.registerService("Other", tablet())).rejects.toMatchObject({
      message: 'Permission denied: cannot register service "Other".',
    });
    const id = await alice.registerService("Tablet", tablet());
    await expect(alice.registerService("Tablet", tablet())).rejects.toMatchObject({
      message: 'Service "Tablet" is already registered.',
    });
    const inside = await session(sdUrl);
    expect(await (await inside.service("Tablet")).call("show", "z")).toBe("showing z");
    await alice.unregisterService(id);
    await expect.poll(async () => (await inside.services()).map((s) => s.name)).not.toContain("Tablet");
  });
});
