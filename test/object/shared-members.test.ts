/**
 * QiObject.withMembersOf: objects made per connection share one method table and MetaObject,
 * while each keeps its own subscribers, property values and uid. Served over real sockets.
 */
import { afterEach, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";

const opened: Session[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

describe("QiObject.withMembersOf", () => {
  it("shares methods and the MetaObject, not subscribers, property values or the uid", async () => {
    const template = new QiObject({ description: "per-connection view" })
      .method("whoami", "()", "s", function () {
        return this.peer;
      })
      .signal("ping", "(i)")
      .property("level", "i", 1);
    const a = QiObject.withMembersOf(template);
    const b = QiObject.withMembersOf(template);
    expect(a.metaObject()).toBe(b.metaObject());
    expect(a.metaObject().description).toBe("per-connection view");
    expect(a.uid).not.toEqual(b.uid);
    expect(() => a.method("more", "()", "v", () => {})).toThrow(/shares its members/);

    const sd = new Session();
    opened.push(sd);
    const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
    await sd.registerService("A", a);
    await sd.registerService("B", b);
    const client = new Session();
    opened.push(client);
    await client.connect(url);
    const [pa, pb] = await Promise.all([client.service("A"), client.service("B")]);
    expect(await pa.call("whoami")).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);

    const heardA: number[] = [];
    const heardB: number[] = [];
    await pa.signal("ping").connect((n: number) => heardA.push(n));
    await pb.signal("ping").connect((n: number) => heardB.push(n));
    a.emit("ping", 1);
    b.emit("ping", 2);
    await expect.poll(() => [heardA, heardB]).toEqual([[1], [2]]);

    await pa.property<number>("level").set(5);
    expect(await pa.property<number>("level").get()).toBe(5);
    expect(await pb.property<number>("level").get()).toBe(1);
    expect(template.getProperty("level")).toBe(1);
  });
});
