/**
 * The Foxglove WebSocket protocol with the published client (@foxglove/ws-protocol's
 * FoxgloveClient over `ws`): login by URL query, channels advertised with schemas, the camera
 * as foxglove_msgs/RawImage in ROS 1 encoding (decoded here by @foxglove/rosmsg-serialization,
 * pixels as bytes), a number, a service call and a qi error as a call failure, parameters
 * get/set/subscribe, clientPublish into a property, and refused credentials.
 */
import { parse } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg-serialization";
import foxglove from "@foxglove/ws-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ALICE, BOB, startWebBridgeWorld, until, type WebBridgeWorld } from "../rosbridge/world.js";

type Client = InstanceType<typeof foxglove.FoxgloveClient>;

let world: WebBridgeWorld;
const clients: Client[] = [];

beforeAll(async () => {
  world = await startWebBridgeWorld({ foxglove: {} });
  await world.camera.object.setProperty("fps", 30);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await world?.close();
});

interface Opened {
  client: Client;
  channels: Array<{ id: number; topic: string; encoding: string; schemaName: string; schema: string }>;
  services: Array<{ id: number; name: string }>;
}

async function open(credentials = ALICE): Promise<Opened> {
  const url = `${world.urls.foxglove}/?user=${encodeURIComponent(credentials.user)}&token=${encodeURIComponent(credentials.token)}`;
  const ws = new WebSocket(url, [foxglove.FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
  const client = new foxglove.FoxgloveClient({ ws: ws as never });
  clients.push(client);
  const opened: Opened = { client, channels: [], services: [] };
  client.on("advertise", (cs) => opened.channels.push(...(cs as Opened["channels"])));
  client.on("advertiseServices", (ss) => opened.services.push(...ss));
  await until(() => opened.channels.length > 0 && opened.services.length > 0, "advertisements");
  return opened;
}

function channel(o: Opened, topic: string) {
  const c = o.channels.find((ch) => ch.topic === topic);
  if (!c) throw new Error(`no channel ${topic}`);
  return c;
}

describe("Foxglove WebSocket protocol with FoxgloveClient", () => {
  it("advertises qi signals and properties as channels with schemas, methods as services", async () => {
    const o = await open();
    expect(channel(o, "/qi/ALVideoDevice/image")).toMatchObject({
      encoding: "ros1",
      schemaName: "foxglove_msgs/RawImage",
    });
    const charge = channel(o, "/qi/ALBattery/charge");
    expect(charge).toMatchObject({ encoding: "json", schemaName: "std_msgs/Float32" });
    expect(JSON.parse(charge.schema)).toEqual({ type: "object", properties: { data: { type: "number" } } });
    expect(o.services.map((s) => s.name)).toContain("/qi/ALTextToSpeech/say");
  });

  it("streams the camera as RawImage bytes and a number as JSON", async () => {
    const o = await open();
    const image = channel(o, "/qi/ALVideoDevice/image");
    const level = channel(o, "/qi/Calc/level");
    const reader = new MessageReader(parse(image.schema));
    const frames: Array<{ width: number; height: number; encoding: string; data: Uint8Array }> = [];
    const levels: unknown[] = [];
    const bySub = new Map<number, (data: ArrayBufferView) => void>();
    o.client.on("message", ({ subscriptionId, data }) => bySub.get(subscriptionId)?.(data));
    bySub.set(o.client.subscribe(image.id), (d) =>
      frames.push(reader.readMessage(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))),
    );
    bySub.set(o.client.subscribe(level.id), (d) => levels.push(JSON.parse(new TextDecoder().decode(d))));
    await until(() => frames.length >= 3 && levels.length >= 1, "3 frames and the level");
    expect(frames[0]).toMatchObject({ width: 640, height: 480, encoding: "rgb8" });
    expect(frames[0]!.data.byteLength).toBe(921_600);
    expect(levels[0]).toEqual({ data: 7 });
  });

  it("calls a service, and a qi error comes back as a call failure", async () => {
    const o = await open();
    const responses: unknown[] = [];
    const failures: string[] = [];
    o.client.on("serviceCallResponse", (r) => responses.push(JSON.parse(new TextDecoder().decode(r.data))));
    o.client.on("serviceCallFailure", (f) => failures.push(f.message));
    const id = (name: string) => o.services.find((s) => s.name === name)!.id;
    const request = (serviceId: number, callId: number, body: unknown) =>
      o.client.sendServiceCallRequest({
        serviceId,
        callId,
        encoding: "json",
        data: new TextEncoder().encode(JSON.stringify(body)),
      });
    request(id("/qi/Calc/add"), 1, { a: 40, b: 2 });
    request(id("/qi/Calc/fail"), 2, { why: "on purpose" });
    await until(() => responses.length >= 1 && failures.length >= 1, "a response and a failure");
    expect(responses[0]).toEqual({ result: 42 });
    expect(failures[0]).toMatch(/failed: on purpose/);
  });

  it("gets, sets and subscribes to parameters (qi properties), and publishes into a property", async () => {
    const o = await open();
    const values: Array<{ name: string; value: unknown }[]> = [];
    o.client.on("parameterValues", (e) => values.push(e.parameters));
    o.client.getParameters(["/qi/Calc/level"], "get-1");
    await until(() => values.length >= 1, "parameter values");
    expect(values[0]).toEqual([{ name: "/qi/Calc/level", value: 7 }]);
    o.client.subscribeParameterUpdates(["/qi/Calc/level"]);
    o.client.setParameters([{ name: "/qi/Calc/level", value: 9 }], "set-1");
    await until(() => values.some((v) => v[0]?.value === 9), "the new value");
    expect(await world.calc.getProperty("level")).toBe(9);
    const pub = o.client.advertise({
      topic: "/qi/Calc/level",
      encoding: "json",
      schemaName: "std_msgs/Int32",
    });
    o.client.sendMessage(pub, new TextEncoder().encode(JSON.stringify({ data: 12 })));
    await until(() => values.some((v) => v[0]?.value === 12), "the published value as an update");
    expect(await world.calc.getProperty("level")).toBe(12);
    await world.calc.setProperty("level", 7);
  });

  it("refuses wrong credentials before the upgrade, and shows each user only what it may see", async () => {
    const ws = new WebSocket(`${world.urls.foxglove}/?user=${ALICE.user}&token=wrong`, [
      foxglove.FoxgloveClient.SUPPORTED_SUBPROTOCOL,
    ]);
    const status = await new Promise<number>((resolve) => {
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
      ws.on("error", () => {});
    });
    expect(status).toBe(401);
    const bob = await open(BOB);
    expect(bob.channels.map((c) => c.topic)).toEqual(["/qi/ALBattery/charge"]);
  });
});
