/**
 * ALMemory keys through the web bridges, with the real clients: the mapping's
 * `{service: ALMemory, memoryKey: "Web/Greeting"}` is `/qi/ALMemory/Web/Greeting`
 * (std_msgs/String, the ROS 1 bridge's name and type): roslibjs and FoxgloveClient read it
 * (current value first, then its changes, and no other key's) and write it (insertData). The
 * ways around: other keys by name, the name bent, a user the gateway does not let see ALMemory.
 */
import foxglove from "@foxglove/ws-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { UserTokenAuthenticator } from "../../../src/index.js";
import type { RemoteObject } from "../../../src/object/index.js";
import { Session } from "../../../src/session/index.js";
import { Dynamic } from "../../../src/wire/index.js";
import { Ros, Topic } from "./roslib-api.js";
import { ALICE, BOB, startWebBridgeWorld, until, type WebBridgeWorld } from "./world.js";

const TOPIC = "/qi/ALMemory/Web/Greeting";
const KEY = "Web/Greeting";

let world: WebBridgeWorld;
let qi: Session;
let memory: RemoteObject;
const closers: Array<() => void> = [];

beforeAll(async () => {
  world = await startWebBridgeWorld({ rosbridge: {}, foxglove: {} });
  qi = new Session({ authenticator: new UserTokenAuthenticator(ALICE.user, ALICE.token) });
  await qi.connect(world.qiUrl);
  memory = await qi.service("ALMemory");
  await memory.call("insertData", KEY, "hello");
  await memory.call("insertData", "Secret/Key", "do not tell");
});

afterAll(async () => {
  for (const close of closers) close();
  await qi?.close();
  await world?.close();
});

const valueOfKey = async (key: string) => {
  const v = await memory.call("getData", key);
  return v instanceof Dynamic ? v.value : v;
};

async function roslib(credentials = ALICE) {
  const ros = new Ros({});
  closers.push(() => ros.close());
  await new Promise<void>((resolve) => {
    ros.on("connection", () => resolve());
    ros.connect(world.urls.rosbridge!);
  });
  ros.authenticate(credentials.token, credentials.user, "", "", 0, "", 0);
  return ros;
}

type Message = Record<string, unknown>;

/** A raw rosbridge client (JSON), for the requests roslibjs would not make. */
async function raw(credentials = ALICE) {
  const ws = new WebSocket(world.urls.rosbridge!);
  closers.push(() => ws.terminate());
  const messages: Message[] = [];
  ws.on("message", (data) => messages.push(JSON.parse(String(data)) as Message));
  await new Promise((r) => ws.once("open", r));
  const send = (m: Message) => ws.send(JSON.stringify(m));
  send({ op: "auth", client: credentials.user, mac: credentials.token });
  const reply = async (id: string) => {
    await until(() => messages.some((m) => m.id === id), `the answer to ${id}`);
    return messages.find((m) => m.id === id)!;
  };
  return { messages, send, reply };
}

describe("ALMemory keys on the web bridges", () => {
  it("roslibjs: the key's value first, then its changes and only its own, and publish inserts", async () => {
    const ros = await roslib();
    const topic = new Topic({ ros, name: TOPIC, messageType: "std_msgs/String" });
    const got: string[] = [];
    topic.subscribe((m) => got.push((m as { data: string }).data));
    await until(() => got.length >= 1, "the current value");
    expect(got[0]).toBe("hello");
    await memory.call("insertData", "Secret/Key", "still secret");
    await memory.call("insertData", KEY, new Dynamic("[i]", [1, 2, 3]));
    await until(() => got.length >= 2, "the change");
    expect(JSON.parse(got[1]!)).toEqual([1, 2, 3]);
    expect(got.join()).not.toContain("secret");

    topic.publish({ data: "from the web" });
    await until(() => got.includes("from the web"), "the published value, back as a change");
    expect(await valueOfKey(KEY)).toBe("from the web");
    topic.unsubscribe();
  });

  it("rosapi lists the mapped key as std_msgs/String, and no other key", async () => {
    const c = await raw();
    c.send({ op: "call_service", id: "t", service: "/rosapi/topics" });
    const { topics, types } = (await c.reply("t")).values as { topics: string[]; types: string[] };
    expect(types[topics.indexOf(TOPIC)]).toBe("std_msgs/String");
    expect(topics.filter((t) => t.startsWith("/qi/ALMemory/"))).toEqual([TOPIC]);
  });

  it("refuses other keys by name and bent names, both ways, and leaves them untouched", async () => {
    const c = await raw();
    const names = [
      "/qi/ALMemory/Secret/Key",
      "/qi/ALMemory/Web/Greeting/",
      "/qi/ALMemory/Web",
      "/qi/ALMemory/dataChanged",
      "/qi/ALMemory/insertData",
    ];
    for (const [i, topic] of names.entries()) {
      c.send({ op: "subscribe", id: `s${i}`, topic });
      c.send({ op: "publish", id: `p${i}`, topic, msg: { data: "overwritten" } });
    }
    c.send({
      op: "call_service",
      id: "call",
      service: "/qi/ALMemory/insertData",
      args: { key: "Secret/Key", value: "x" },
    });
    for (const i of names.keys()) {
      expect(await c.reply(`s${i}`)).toMatchObject({ op: "status", level: "error" });
      expect(await c.reply(`p${i}`)).toMatchObject({ op: "status", level: "error" });
    }
    expect(await c.reply("call")).toMatchObject({ result: false });
    expect(await valueOfKey("Secret/Key")).toBe("still secret");
    // A publish that is not {data: "<text>"} is refused too, and changes nothing.
    c.send({ op: "publish", id: "bad", topic: TOPIC, msg: { data: 42 } });
    expect(await c.reply("bad")).toMatchObject({ op: "status", level: "error" });
    expect(await valueOfKey(KEY)).toBe("from the web");
  });

  it("a user the gateway does not let see ALMemory gets no key topic", async () => {
    const c = await raw(BOB);
    c.send({ op: "call_service", id: "t", service: "/rosapi/topics" });
    expect(((await c.reply("t")).values as { topics: string[] }).topics).not.toContain(TOPIC);
    c.send({ op: "subscribe", id: "s", topic: TOPIC });
    c.send({ op: "publish", id: "p", topic: TOPIC, msg: { data: "from bob" } });
    expect(await c.reply("s")).toMatchObject({ op: "status", level: "error" });
    expect(await c.reply("p")).toMatchObject({ op: "status", level: "error" });
    expect(await valueOfKey(KEY)).toBe("from the web");
  });

  it("Foxglove: a JSON channel with the key's value first, then changes; clientPublish inserts", async () => {
    const ws = new WebSocket(
      `${world.urls.foxglove}/?user=${ALICE.user}&token=${encodeURIComponent(ALICE.token)}`,
      [foxglove.FoxgloveClient.SUPPORTED_SUBPROTOCOL],
    );
    const client = new foxglove.FoxgloveClient({ ws: ws as never });
    closers.push(() => client.close());
    const channels: Array<{ id: number; topic: string; encoding: string; schemaName: string }> = [];
    client.on("advertise", (cs) => channels.push(...cs));
    await until(() => channels.length > 0, "the channels");
    const channel = channels.find((c) => c.topic === TOPIC)!;
    expect(channel).toMatchObject({ encoding: "json", schemaName: "std_msgs/String" });
    expect(channels.filter((c) => c.topic.startsWith("/qi/ALMemory/"))).toHaveLength(1);
    const got: string[] = [];
    client.on("message", ({ data }) =>
      got.push((JSON.parse(new TextDecoder().decode(data)) as { data: string }).data),
    );
    client.subscribe(channel.id);
    await until(() => got.length >= 1, "the current value");
    expect(got[0]).toBe("from the web");
    const pub = client.advertise({ topic: TOPIC, encoding: "json", schemaName: "std_msgs/String" });
    client.sendMessage(pub, new TextEncoder().encode(JSON.stringify({ data: "from Foxglove" })));
    await until(() => got.includes("from Foxglove"), "the published value, back as a change");
    expect(await valueOfKey(KEY)).toBe("from Foxglove");
    // Publishing to another key by its name is refused (the channel is not advertised).
    const other = client.advertise({
      topic: "/qi/ALMemory/Secret/Key",
      encoding: "json",
      schemaName: "std_msgs/String",
    });
    client.sendMessage(other, new TextEncoder().encode(JSON.stringify({ data: "overwritten" })));
    await memory.call("insertData", KEY, "after");
    await until(() => got.includes("after"), "a later change");
    expect(await valueOfKey("Secret/Key")).toBe("still secret");
  });
});
