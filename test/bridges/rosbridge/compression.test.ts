/**
 * rosbridge's `cbor-raw` (the ROS 1 serialization of the message in a CBOR envelope
 * `{secs, nsecs, bytes}`) and `png` (the JSON message packed into a PNG, base64, in a `png`
 * op, fragmented like any other text): read by roslibjs itself where it can, and by a raw
 * client that unpacks them as rosbridge defines them (the serialized bytes read back with the
 * ROS 1 deserializer, the PNG inflated with zlib).
 */
import { MessageReader } from "@foxglove/rosmsg-serialization";
import { decode } from "cbor2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { messageDefinitions } from "../../../src/bridges/mapping/index.js";
import { pngToText } from "../../../src/bridges/rosbridge/png.js";
import { Ros, Topic } from "./roslib-api.js";
import { ALICE, startWebBridgeWorld, until, type WebBridgeWorld } from "./world.js";

let world: WebBridgeWorld;
const sockets: WebSocket[] = [];
const opened: Ros[] = [];

beforeAll(async () => {
  world = await startWebBridgeWorld({ rosbridge: {} });
  await world.camera.object.setProperty("fps", 30);
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  for (const ros of opened) ros.close();
  await world?.close();
});

type Message = Record<string, unknown>;

async function raw(): Promise<{ messages: Message[]; send(m: Message): void }> {
  const ws = new WebSocket(world.urls.rosbridge!);
  sockets.push(ws);
  const messages: Message[] = [];
  ws.on("message", (data, isBinary) =>
    messages.push((isBinary ? decode(data as Buffer) : JSON.parse(String(data))) as Message),
  );
  await new Promise((r) => ws.once("open", r));
  const send = (m: Message) => ws.send(JSON.stringify(m));
  send({ op: "auth", client: ALICE.user, mac: ALICE.token });
  return { messages, send };
}

describe("rosbridge compression cbor-raw and png", () => {
  it("cbor-raw: a camera frame as sensor_msgs/Image ROS 1 bytes, and an Int32", async () => {
    const c = await raw();
    c.send({ op: "subscribe", topic: "/qi/ALVideoDevice/image", compression: "cbor-raw", queue_length: 1 });
    c.send({ op: "subscribe", topic: "/qi/Calc/level", compression: "cbor-raw" });
    const publishes = () => c.messages.filter((m) => m.op === "publish");
    await until(
      () =>
        publishes().some((m) => m.topic === "/qi/Calc/level") &&
        publishes().some((m) => m.topic === "/qi/ALVideoDevice/image"),
      "both topics",
    );
    const image = publishes().find((m) => m.topic === "/qi/ALVideoDevice/image")!.msg as {
      secs: number;
      nsecs: number;
      bytes: Uint8Array;
    };
    expect(Math.abs(image.secs - Date.now() / 1000)).toBeLessThan(60);
    expect(image.nsecs).toBeLessThan(1e9);
    const frame = new MessageReader(messageDefinitions("sensor_msgs/Image")).readMessage<{
      width: number;
      height: number;
      encoding: string;
      step: number;
      data: Uint8Array;
      header: { stamp: { sec: number } };
    }>(image.bytes);
    expect(frame).toMatchObject({ width: 640, height: 480, encoding: "rgb8", step: 1920 });
    expect(frame.data.byteLength).toBe(921_600);
    expect(Math.abs(frame.header.stamp.sec - image.secs)).toBeLessThan(2);
    const level = publishes().find((m) => m.topic === "/qi/Calc/level")!.msg as { bytes: Uint8Array };
    expect([...level.bytes]).toEqual([7, 0, 0, 0]);
    c.send({ op: "unsubscribe", topic: "/qi/ALVideoDevice/image" });
  });

  it("png: the JSON message in a PNG, cut into fragments, read back with zlib", async () => {
    const c = await raw();
    c.send({ op: "subscribe", topic: "/qi/Calc/level", compression: "png", fragment_size: 40 });
    await until(
      () => c.messages.some((m) => m.op === "fragment" && m.num === (m.total as number) - 1),
      "fragments",
    );
    const fragments = c.messages.filter((m) => m.op === "fragment");
    expect(fragments.length).toBeGreaterThan(2);
    const whole = JSON.parse(fragments.map((f) => f.data as string).join("")) as Message;
    expect(whole.op).toBe("png");
    const text = pngToText(Buffer.from(whole.data as string, "base64"), 1 << 20);
    expect(JSON.parse(text)).toEqual({ op: "publish", topic: "/qi/Calc/level", msg: { data: 7 } });
  });

  it("roslibjs reads png and cbor-raw subscriptions itself", async () => {
    const ros = new Ros({});
    opened.push(ros);
    await new Promise<void>((resolve) => {
      ros.on("connection", () => resolve());
      ros.connect(world.urls.rosbridge!);
    });
    ros.authenticate(ALICE.token, ALICE.user, "", "", 0, "", 0);
    const seen: unknown[] = [];
    const rawSeen: Array<{ bytes: Uint8Array }> = [];
    new Topic({ ros, name: "/qi/Calc/level", messageType: "std_msgs/Int32", compression: "png" }).subscribe(
      (m) => seen.push(m),
    );
    new Topic({
      ros,
      name: "/qi/ALBattery/charge",
      messageType: "std_msgs/Float32",
      compression: "cbor-raw",
    }).subscribe((m) => rawSeen.push(m as { bytes: Uint8Array }));
    await until(() => seen.length > 0 && rawSeen.length > 0, "a png and a cbor-raw message through roslib");
    expect(seen[0]).toEqual({ data: 7 });
    expect(rawSeen[0]!.bytes.byteLength).toBe(4);
  });

  it("serves an unknown compression as none, with a warning status", async () => {
    const c = await raw();
    c.send({ op: "set_level", level: "warning" });
    c.send({ op: "subscribe", id: "x", topic: "/qi/Calc/level", compression: "bogus" });
    await until(() => c.messages.some((m) => m.id === "x"), "a warning");
    expect(c.messages.find((m) => m.id === "x")).toMatchObject({ op: "status", level: "warning" });
    await until(() => c.messages.some((m) => m.op === "publish"), "the value as JSON");
    expect(c.messages.find((m) => m.op === "publish")).toMatchObject({ msg: { data: 7 } });
  });
});
