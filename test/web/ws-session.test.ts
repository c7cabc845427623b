/** Node Sessions over ws://: a Service Directory listening on WebSocket, a client connecting with ws. */
import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { Raw } from "../../src/wire/values.js";

const opened: Session[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});
function track(s: Session): Session {
  opened.push(s);
  return s;
}

describe("Session over ws", () => {
  it("listenStandalone on ws, a ws client: services, call, signal, property, raw bytes", async () => {
    const sd = track(new Session());
    const endpoints = await sd.listenStandalone("ws://127.0.0.1:0");
    expect(endpoints[0]).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const obj = new QiObject()
      .method("add", "(ii)", "i", (a: number, b: number) => a + b)
      .method("blob", "(i)", "r", (n: number) => new Raw(new Uint8Array(n).fill(7)))
      .signal("tick", "(i)")
      .property("level", "i", 3);
    await sd.registerService("Calc", obj);

    const client = track(new Session());
    await client.connect(endpoints[0]);
    expect(client.url()).toBe(endpoints[0]);
    expect((await client.services()).map((s) => s.name)).toEqual(["ServiceDirectory", "Calc"]);
    const calc = await client.service("Calc");
    expect(await calc.call("add", 40, 2)).toBe(42);
    const blob = await calc.call<Raw>("blob", 640 * 480 * 3);
    expect(blob).toBeInstanceOf(Raw);
    expect(blob.bytes.length).toBe(640 * 480 * 3);
    expect(blob.bytes[1234]).toBe(7);

    const ticks: number[] = [];
    await calc.signal("tick").connect((n: number) => ticks.push(n));
    obj.emit("tick", 1);
    obj.emit("tick", 2);
    while (ticks.length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(ticks).toEqual([1, 2]);

    const level = calc.property<number>("level");
    expect(await level.get()).toBe(3);
    await level.set(9);
    expect(await level.get()).toBe(9);
  });

  it("a ws path in the URL is accepted (ws://host:port/qi)", async () => {
    const sd = track(new Session());
    const [url] = await sd.listenStandalone("ws://127.0.0.1:0");
    const client = track(new Session());
    await client.connect(`${url}/qi`);
    expect((await client.services()).map((s) => s.name)).toContain("ServiceDirectory");
  });
});
