/** An emission that does not fit its signal's signature reaches subscribers as a dynamic (spec §1.4). */
import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";

const sessions: Session[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

describe("events that do not fit their signature", () => {
  it("are sent with DynamicPayload, as libqi retries, and decoded by the subscriber", async () => {
    const sd = new Session();
    sessions.push(sd);
    const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
    const sensor = new QiObject().signal("value", "(i)");
    await sd.registerService("Sensor", sensor);
    const client = new Session();
    sessions.push(client);
    await client.connect(url);
    const proxy = await client.service("Sensor");
    const got: unknown[][] = [];
    const two = new Promise<void>((resolve) => {
      void proxy.signal("value").connect((...args: unknown[]) => {
        got.push(args);
        if (got.length === 2) resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 100));
    sensor.emit("value", 7);
    sensor.emit("value", "not an int");
    await two;
    expect(got).toEqual([[7], ["not an int"]]);
  });
});
