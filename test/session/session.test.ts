import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { isQiError } from "../../src/connection/index.js";

const opened: Session[] = [];
function track(s: Session): Session {
  opened.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function calc(): QiObject {
  return new QiObject({ description: "a calculator" })
    .method("add", "(ii)", "i", (a: number, b: number) => a + b)
    .method("concat", "(ss)", "s", (a: string, b: string) => a + b)
    .method("fail", "(s)", "v", (text: string) => {
      throw new Error(text);
    })
    .method("slow", "(i)", "i", function (ms: number) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve(ms), ms);
        this.signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(this.signal.reason);
        });
      });
    })
    .signal("tick", "(i)")
    .property("level", "i", 7);
}

async function world() {
  const sd = track(new Session());
  const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const host = track(new Session());
  await host.connect(url);
  const obj = calc();
  const id = await host.registerService("Calc", obj);
  const client = track(new Session());
  await client.connect(url);
  return { sd, url, host, obj, id, client };
}

describe("Session against a TS Service Directory", () => {
  it("registers a service and calls it from another session", async () => {
    const { client, id } = await world();
    expect(id).toBe(2);
    const names = (await client.services()).map((s) => s.name);
    expect(names).toEqual(["ServiceDirectory", "Calc"]);
    const c = await client.service("Calc");
    expect(await c.call("add", 40, 2)).toBe(42);
    expect(await c.call("concat", "foo", "bar")).toBe("foobar");
  });

  it("turns a thrown error into an Error reply", async () => {
    const { client } = await world();
    const c = await client.service("Calc");
    await expect(c.call("fail", "boom")).rejects.toMatchObject({ code: "QI_ERR_REMOTE", message: "boom" });
  });

  it("delivers signals and property changes", async () => {
    const { client, obj } = await world();
    const c = await client.service("Calc");
    const ticks: number[] = [];
    await c.signal("tick").connect((n: number) => ticks.push(n));
    const levels: number[] = [];
    await c.property<number>("level").connect((v) => levels.push(v));
    obj.emit("tick", 1);
    obj.emit("tick", 2);
    await c.property<number>("level").set(9);
    expect(await c.property<number>("level").get()).toBe(9);
    await new Promise((r) => setTimeout(r, 50));
    expect(ticks).toEqual([1, 2]);
    expect(levels).toEqual([9]);
  });

  it("cancels a call through an AbortSignal", async () => {
    const { client } = await world();
    const c = await client.service("Calc");
    const ac = new AbortController();
    const p = c.invoke("slow", [5000], { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toSatisfy((e: unknown) => isQiError(e, "QI_ERR_CANCELED"));
    expect(await c.call("add", 1, 1)).toBe(2);
  });

  it("fails pending calls when the host goes away and removes its services", async () => {
    const { client, host } = await world();
    const c = await client.service("Calc");
    const removed = new Promise<string>((r) => client.once("serviceUnregistered", (_id, name) => r(name)));
    const p = c.call("slow", 5000);
    const failed = expect(p).rejects.toSatisfy((e: unknown) => isQiError(e, "QI_ERR_DISCONNECTED"));
    await new Promise((r) => setTimeout(r, 20));
    await host.close();
    await failed;
    await expect(p).rejects.toSatisfy((e: unknown) => isQiError(e, "QI_ERR_DISCONNECTED"));
    expect(await removed).toBe("Calc");
    expect((await client.services()).map((s) => s.name)).toEqual(["ServiceDirectory"]);
  });
});
