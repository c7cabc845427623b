/**
 * The mapping is the web bridges' allow-list, on top of the gateway's permissions: what it
 * does not name is not advertised, and the ways a client could still try to reach it by name
 * (rosbridge call_service, subscribe, publish, advertise_service; Foxglove clientPublish)
 * are refused. Calc.secret and Calc.tick exist, alice may use them through the gateway, and
 * the mapping leaves them out.
 */
import foxglove from "@foxglove/ws-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ALICE, startWebBridgeWorld, until, type WebBridgeWorld } from "./world.js";

let world: WebBridgeWorld;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  world = await startWebBridgeWorld({ rosbridge: {}, foxglove: {} });
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await world?.close();
});

type Message = Record<string, unknown>;

async function rosbridge(): Promise<{ messages: Message[]; send(m: Message): void }> {
  const ws = new WebSocket(world.urls.rosbridge!);
  sockets.push(ws);
  const messages: Message[] = [];
  ws.on("message", (data) => messages.push(JSON.parse(String(data)) as Message));
  await new Promise((r) => ws.once("open", r));
  const send = (m: Message) => ws.send(JSON.stringify(m));
  send({ op: "auth", client: ALICE.user, mac: ALICE.token });
  return { messages, send };
}

const reply = async (c: { messages: Message[] }, id: string) => {
  await until(() => c.messages.some((m) => m.id === id), `the answer to ${id}`);
  return c.messages.find((m) => m.id === id)!;
};

describe("the mapping as the web bridges' allow-list", () => {
  it("rosapi lists only what the mapping names", async () => {
    const c = await rosbridge();
    c.send({ op: "call_service", id: "t", service: "/rosapi/topics" });
    c.send({ op: "call_service", id: "s", service: "/rosapi/services" });
    const topics = ((await reply(c, "t")).values as { topics: string[] }).topics;
    const services = ((await reply(c, "s")).values as { services: string[] }).services;
    expect(topics).toContain("/qi/Calc/level");
    expect(topics).not.toContain("/qi/Calc/tick");
    expect(services).toContain("/qi/Calc/add");
    expect(services).not.toContain("/qi/Calc/secret");
    expect(services.filter((s) => s.startsWith("/qi/"))).toHaveLength(6);
  });

  it("refuses an unlisted member reached by its name, every way rosbridge offers", async () => {
    const c = await rosbridge();
    for (const [id, name] of [
      ["a", "/qi/Calc/secret"],
      ["b", "qi/Calc/secret"],
      ["c", "/qi/Calc/secret/"],
    ] as const) {
      c.send({ op: "call_service", id, service: name, args: {} });
      expect(await reply(c, id)).toMatchObject({ result: false });
    }
    c.send({ op: "subscribe", id: "sub", topic: "/qi/Calc/tick" });
    c.send({ op: "publish", id: "pub", topic: "/qi/Calc/secret", msg: {} });
    c.send({ op: "advertise", id: "adv", topic: "/qi/Calc/secret", type: "std_msgs/Empty" });
    for (const id of ["sub", "pub", "adv"])
      expect(await reply(c, id)).toMatchObject({ op: "status", level: "error" });
    // The mapped name still works on the same client: the refusals were per request.
    c.send({ op: "call_service", id: "ok", service: "/qi/Calc/add", args: { a: 2, b: 3 } });
    expect(await reply(c, "ok")).toMatchObject({ result: true, values: { result: 5 } });
    expect(world.secretCalls()).toBe(0);
  });

  it("advertise_service: refuses an unlisted name, and a listed one cannot replace the robot's service", async () => {
    const c = await rosbridge();
    c.send({ op: "advertise_service", id: "x", service: "/qi/Calc/secret", type: "qi_srvs/Call" });
    expect(await reply(c, "x")).toMatchObject({
      level: "error",
      msg: expect.stringMatching(/not in the bridge's mapping/),
    });
    // Listed, but Calc is the robot's: the Service Directory keeps one service per name.
    c.send({ op: "advertise_service", id: "y", service: "/qi/Calc/add", type: "qi_srvs/Call" });
    expect(await reply(c, "y")).toMatchObject({ level: "error" });
    c.send({ op: "call_service", id: "still", service: "/qi/Calc/add", args: { a: 1, b: 1 } });
    expect(await reply(c, "still")).toMatchObject({ result: true, values: { result: 2 } });
  });

  it("answers a std_srvs/Trigger mapping with success and message, as the ROS 1 bridge", async () => {
    const c = await rosbridge();
    c.send({ op: "call_service", id: "t", service: "/qi/Calc/twice", args: { a: 20, b: 22 } });
    expect(await reply(c, "t")).toMatchObject({ result: true, values: { success: true, message: "42" } });
  });

  it("Foxglove: advertises only mapped channels and services, and refuses publishing to an unlisted name", async () => {
    const ws = new WebSocket(
      `${world.urls.foxglove}/?user=${ALICE.user}&token=${encodeURIComponent(ALICE.token)}`,
      [foxglove.FoxgloveClient.SUPPORTED_SUBPROTOCOL],
    );
    sockets.push(ws);
    const client = new foxglove.FoxgloveClient({ ws: ws as never });
    const channels: string[] = [];
    const services: string[] = [];
    const errors: string[] = [];
    client.on("advertise", (list) => channels.push(...list.map((ch) => ch.topic)));
    client.on("advertiseServices", (list) => services.push(...list.map((s) => s.name)));
    client.on("status", (s) => errors.push(s.message));
    await until(() => channels.length > 0 && services.length > 0, "the advertisements");
    expect(channels).toContain("/qi/ALVideoDevice/image");
    expect(channels).not.toContain("/qi/Calc/tick");
    expect(services).not.toContain("/qi/Calc/secret");
    const id = client.advertise({ topic: "/qi/Calc/secret", encoding: "json", schemaName: "std_msgs/Empty" });
    client.sendMessage(id, new TextEncoder().encode("{}"));
    await until(() => errors.some((e) => /cannot publish to \/qi\/Calc\/secret/.test(e)), "a refusal");
    expect(world.secretCalls()).toBe(0);
    client.close();
  });
});
