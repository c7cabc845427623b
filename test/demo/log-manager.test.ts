/** The simulated robot's LogManager, hosted by a Session and used by another over TCP. */
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Connection } from "../../src/connection/index.js";
import { createBattery, createLogManager, LOG_MESSAGE_SIGNATURE, startDemo } from "../../src/demo/index.js";
import { type CallContext, PeerObjects, QiObject, type RemoteObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { machineId } from "../../src/session/machine-id.js";
import { Struct } from "../../src/wire/index.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const until = async (cond: () => boolean, what: string, timeoutMs = 3_000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};
const settle = () => new Promise((r) => setTimeout(r, 50));
const level = (n: number) => new Struct("LogLevel", { level: n });

async function world() {
  const sd = new Session();
  cleanups.push(() => sd.close());
  const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const host = new Session();
  cleanups.push(() => host.close());
  await host.connect(url);
  const logs = createLogManager();
  await host.registerService(logs.name, logs.object);
  const client = new Session();
  cleanups.push(() => client.close());
  await client.connect(url);
  const manager = await client.service("LogManager");
  return { url, logs, client, manager };
}

async function listen(manager: RemoteObject) {
  const listener = await manager.call<RemoteObject>("createListener");
  const got: Struct[] = [];
  await listener.signal("onLogMessage").connect((m: Struct) => got.push(m));
  return { listener, got };
}

describe("LogManager", () => {
  it("has NAOqi's members, ids and signatures", async () => {
    const { manager } = await world();
    const methods = [...manager.metaObject.methods.values()].filter((m) => m.uid >= 100);
    expect(methods.map((m) => [m.uid, m.name, m.parametersSignature, m.returnSignature])).toEqual([
      [100, "log", `([${LOG_MESSAGE_SIGNATURE}])`, "v"],
      [101, "createListener", "()", "o"],
      [102, "getListener", "()", "o"],
      [103, "addProvider", "(o)", "i"],
      [104, "removeProvider", "(i)", "v"],
    ]);
    expect(LOG_MESSAGE_SIGNATURE).toBe(
      "(s(i)<LogLevel,level>sssI(L)<TimePoint,ns>(L)<TimePoint,ns>)<LogMessage,source,level,category,location,message,id,date,systemDate>",
    );
    const listener = await manager.call<RemoteObject>("createListener");
    const meta = listener.metaObject;
    expect(
      [...meta.methods.values()]
        .filter((m) => m.uid >= 100)
        .map((m) => [m.uid, m.name, m.parametersSignature, m.returnSignature]),
    ).toEqual([
      [100, "setLevel", "((i)<LogLevel,level>)", "v"],
      [101, "setCategory", "(s(i)<LogLevel,level>)", "v"],
      [102, "clearFilters", "()", "v"],
    ]);
    expect(meta.signals.get(103)).toMatchObject({
      name: "onLogMessage",
      signature: `(${LOG_MESSAGE_SIGNATURE})`,
    });
    expect(meta.properties.get(104)).toMatchObject({ name: "verbosity", signature: "(i)<LogLevel,level>" });
    expect(meta.properties.get(105)).toMatchObject({ name: "filters", signature: "{s(i)<LogLevel,level>}" });
    expect(await listener.property("verbosity").get()).toEqual(level(4));
    // Each call gives the caller a new listener.
    const other = await manager.call<RemoteObject>("getListener");
    expect(other.objectId).not.toBe(listener.objectId);
  });

  it("a listener gets only new messages that pass its verbosity and category filters", async () => {
    const { logs, manager } = await world();
    logs.log("info", "before", "logged before the listener existed");
    const { listener, got } = await listen(manager);
    await listener.call("setLevel", level(5)); // verbose
    await listener.call("setCategory", "qi.*", level(3)); // warning and worse for qi.*
    await listener.call("setCategory", "qi.messaging", level(6)); // exact beats the pattern…
    const filters = (await listener.property("filters").get()) as Map<string, Struct>;
    expect([...filters]).toEqual([
      ["qi.*", level(3)],
      ["qi.messaging", level(6)],
    ]);

    logs.log("debug", "app", "too verbose"); // 6 > 5
    logs.log("verbose", "app", "app verbose"); // passes
    logs.log("info", "qi.session", "qi info"); // 4 > 3 for qi.*
    logs.log("warning", "qi.session", "qi warning"); // passes
    logs.log("debug", "qi.messaging", "still above the verbosity"); // …but verbosity still applies
    logs.log("verbose", "qi.messaging", "qi.messaging verbose"); // passes
    await until(() => got.length === 3, "three messages");
    await settle();
    expect(got.map((m) => m.fields.message)).toEqual(["app verbose", "qi warning", "qi.messaging verbose"]);

    const m = got[1];
    expect(m).toBeInstanceOf(Struct);
    expect(m.name).toBe("LogMessage");
    expect(Object.keys(m.fields)).toEqual([
      "source",
      "level",
      "category",
      "location",
      "message",
      "id",
      "date",
      "systemDate",
    ]);
    expect(m.fields).toMatchObject({
      source: "qimessaging:demo",
      level: level(3),
      category: "qi.session",
      location: `${machineId()}:${process.pid}`,
      message: "qi warning",
    });
    expect(typeof m.fields.id).toBe("number");
    expect(m.fields.id).toBeGreaterThan(got[0].fields.id as number);
    const sys = m.fields.systemDate as Struct;
    expect(sys.name).toBe("TimePoint");
    expect(typeof sys.fields.ns).toBe("bigint");
    expect(Math.abs(Number((sys.fields.ns as bigint) / 1_000_000n) - Date.now())).toBeLessThan(5_000);
    expect(typeof (m.fields.date as Struct).fields.ns).toBe("bigint");

    // clearFilters: only the verbosity is left.
    await listener.call("clearFilters");
    logs.log("info", "qi.session", "qi info, unfiltered");
    await until(() => got.length === 4, "the unfiltered message");
    expect(got[3].fields.message).toBe("qi info, unfiltered");
    expect(logs.history().map((h) => h.fields.message)[0]).toBe("logged before the listener existed");
  });

  it("log([...]) from a client reaches listeners; two listeners filter independently", async () => {
    const { manager } = await world();
    const a = await listen(manager);
    const b = await listen(manager);
    await b.listener.property("verbosity").set(level(2)); // errors only
    const sent = new Struct("LogMessage", {
      source: "client.ts:main:1",
      level: level(3),
      category: "Client",
      location: "somewhere:42",
      message: "from a client",
      id: 0,
      date: new Struct("TimePoint", { ns: 5n }),
      systemDate: new Struct("TimePoint", { ns: 1_700_000_000_000_000_000n }),
    });
    const error = new Struct("LogMessage", { ...sent.fields, level: level(2), message: "client error" });
    await manager.call("log", [sent, error]);
    await until(() => a.got.length === 2 && b.got.length === 1, "the client's messages");
    await settle();
    expect(a.got[0].fields).toMatchObject({
      source: "client.ts:main:1",
      level: level(3),
      category: "Client",
      location: "somewhere:42",
      message: "from a client",
      date: new Struct("TimePoint", { ns: 5n }),
      systemDate: new Struct("TimePoint", { ns: 1_700_000_000_000_000_000n }),
    });
    expect(a.got[1].fields.message).toBe("client error");
    expect(b.got.map((m) => m.fields.message)).toEqual(["client error"]);
    expect(a.got[0].fields.id).not.toBe(a.got[1].fields.id);
  });

  it("a released listener is forgotten by the host and stops emitting; providers are accepted", async () => {
    const { logs, manager } = await world();
    // Note the connection createListener is called on, to look at the host's exported objects.
    const hostConnections: Connection[] = [];
    const entry = logs.object.methodEntry(101)!;
    const create = entry.impl!;
    entry.impl = function (this: CallContext, ...args: unknown[]) {
      hostConnections.push(this.connection);
      return create.apply(this, args);
    };
    const { listener, got } = await listen(manager);
    const hostPeer = PeerObjects.of(hostConnections[0])!;
    expect(hostPeer.exportedCount).toBe(1);
    logs.log("error", "x", "heard");
    await until(() => got.length === 1, "the first message");
    listener.release();
    await until(() => hostPeer.exportedCount === 0, "the host to forget the listener");
    logs.log("error", "x", "nobody hears this");
    await settle();
    expect(got.map((m) => m.fields.message)).toEqual(["heard"]);

    const provider = new QiObject({ description: "a LogProvider" }).method(
      "setLevel",
      "((i)<LogLevel,level>)",
      "v",
      () => {},
    );
    const id = await manager.call<number>("addProvider", provider);
    expect(Number.isInteger(id)).toBe(true);
    expect(await manager.call("addProvider", provider)).not.toBe(id);
    expect(await manager.call("removeProvider", id)).toBeUndefined();
  });
});

describe("LogManager in the demo", () => {
  it("is registered after the first four; ALTextToSpeech.say logs an info message through it", async () => {
    const sd = new Session();
    cleanups.push(() => sd.close());
    const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
    const demo = await startDemo(sd, { logger: pino({ level: "silent" }) });
    cleanups.push(() => demo.stop());
    expect(demo.services).toEqual([
      "ALMemory",
      "ALTextToSpeech",
      "ALVideoDevice",
      "ALBattery",
      "LogManager",
      "ALMotion",
    ]);
    const client = new Session();
    cleanups.push(() => client.close());
    await client.connect(url);
    const { got, listener } = await listen(await client.service("LogManager"));
    await listener.call("setCategory", "AL*", level(4));
    await (await client.service("ALTextToSpeech")).call("say", "hi");
    await until(() => got.length === 1, "the say message");
    expect(got[0].fields).toMatchObject({ level: level(4), category: "ALTextToSpeech", message: "say: hi" });
  });

  it("the battery warns when it gets low", async () => {
    const logged: unknown[][] = [];
    vi.useFakeTimers();
    try {
      const battery = createBattery(20.02, (...args) => logged.push(args));
      battery.start!();
      cleanups.push(() => battery.stop!());
      vi.advanceTimersByTime(3_000);
    } finally {
      vi.useRealTimers();
    }
    expect(logged).toHaveLength(1);
    expect(logged[0].slice(0, 2)).toEqual(["warning", "ALBattery"]);
    expect(logged[0][2]).toMatch(/battery low/);
  });
});
