/**
 * rosbridge v2 with the real roslibjs client (npm `roslib`, in Node over `ws`): login with the
 * gateway's credentials, rosapi listings, the camera as CBOR bytes, throttling, services
 * (a qi error is a failed response), publishing into a method and a property, fragments.
 */
import { Ros, Service, Topic } from "./roslib-api.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, BOB, startWebBridgeWorld, until, type WebBridgeWorld } from "./world.js";

let world: WebBridgeWorld;
const opened: Ros[] = [];

beforeAll(async () => {
  world = await startWebBridgeWorld({ rosbridge: {} });
  await world.camera.object.setProperty("fps", 30);
});

afterAll(async () => {
  for (const ros of opened) ros.close();
  await world?.close();
});

async function connect(credentials: { user: string; token: string } | null = ALICE): Promise<Ros> {
  const ros = new Ros({});
  opened.push(ros);
  const connected = new Promise<void>((resolve, reject) => {
    ros.on("connection", () => resolve());
    ros.on("error", () => reject(new Error("cannot connect")));
  });
  ros.connect(world.urls.rosbridge!);
  await connected;
  if (credentials) ros.authenticate(credentials.token, credentials.user, "", "", 0, "", 0);
  return ros;
}

function call<T>(ros: Ros, name: string, type: string, request: Record<string, unknown>): Promise<T> {
  const service = new Service({ ros, name, serviceType: type });
  return new Promise<T>((resolve, reject) =>
    service.callService(
      request,
      (r) => resolve(r as T),
      (e) => reject(new Error(String(e))),
    ),
  );
}

describe("rosbridge with roslibjs", () => {
  it("lists topics and services through rosapi, with their types", async () => {
    const ros = await connect();
    const topics = await new Promise<{ topics: string[]; types: string[] }>((resolve, reject) =>
      ros.getTopics(
        (r) => resolve(r),
        (e) => reject(new Error(String(e))),
      ),
    );
    const image = topics.topics.indexOf("/qi/ALVideoDevice/image");
    expect(image).toBeGreaterThanOrEqual(0);
    expect(topics.types[image]).toBe("sensor_msgs/Image");
    expect(topics.types[topics.topics.indexOf("/qi/ALBattery/charge")]).toBe("std_msgs/Float32");
    const services = await new Promise<string[]>((resolve, reject) =>
      ros.getServices(
        (r) => resolve(r),
        (e) => reject(new Error(String(e))),
      ),
    );
    expect(services).toContain("/qi/ALTextToSpeech/say");
    expect(services).toContain("/rosapi/topics");
    const type = await new Promise<string>((resolve, reject) =>
      ros.getTopicType(
        "/qi/Calc/level",
        (r) => resolve(r),
        (e) => reject(new Error(String(e))),
      ),
    );
    expect(type).toBe("std_msgs/Int32");
    const time = await call<{ time: { secs: number } }>(ros, "/rosapi/get_time", "rosapi/GetTime", {});
    expect(Math.abs(time.time.secs - Date.now() / 1000)).toBeLessThan(60);
  });

  it("sends camera frames as 921,600 bytes under CBOR", async () => {
    const ros = await connect();
    const topic = new Topic({
      ros,
      name: "/qi/ALVideoDevice/image",
      messageType: "sensor_msgs/Image",
      compression: "cbor",
    });
    const frames: Array<{ width: number; height: number; encoding: string; data: Uint8Array }> = [];
    topic.subscribe((m) => frames.push(m as (typeof frames)[number]));
    await until(() => frames.length >= 3, "3 camera frames");
    topic.unsubscribe();
    for (const f of frames.slice(0, 3)) {
      expect(f.data).toBeInstanceOf(Uint8Array);
      expect(f.data.byteLength).toBe(921_600);
      expect([f.width, f.height, f.encoding]).toEqual([640, 480, "rgb8"]);
    }
  });

  it("throttles a subscription to throttle_rate (2 Hz)", async () => {
    const ros = await connect();
    const topic = new Topic({
      ros,
      name: "/qi/ALVideoDevice/image",
      messageType: "sensor_msgs/Image",
      compression: "cbor",
      throttle_rate: 500,
      queue_length: 1,
    });
    const times: number[] = [];
    topic.subscribe(() => times.push(performance.now()));
    await until(() => times.length >= 5, "5 throttled frames");
    topic.unsubscribe();
    // The bridge sends frame k at least k × 500 ms after frame 0: 2 s for 4 gaps (unthrottled,
    // 133 ms at 30 fps). The margin is frame 0's own delivery delay on a loaded machine.
    expect(times[4]! - times[0]!).toBeGreaterThanOrEqual(1_500);
  });

  it("calls say and add, and a qi error comes back as a failed service response", async () => {
    const ros = await connect();
    expect(await call(ros, "/qi/ALTextToSpeech/say", "qi_srvs/Call", { text: "hello" })).toEqual({});
    expect(await call(ros, "/qi/Calc/add", "qi_srvs/Call", { a: 2, b: 40 })).toEqual({ result: 42 });
    await expect(call(ros, "/qi/Calc/fail", "qi_srvs/Call", { why: "on purpose" })).rejects.toThrow(
      /failed: on purpose/,
    );
    await expect(call(ros, "/qi/Calc/nothing", "qi_srvs/Call", {})).rejects.toThrow(/unknown service/);
  });

  it("publishes into a property and a method, and a subscriber sees the property change", async () => {
    const ros = await connect();
    const level = new Topic({ ros, name: "/qi/Calc/level", messageType: "std_msgs/Int32" });
    const seen: number[] = [];
    level.subscribe((m) => seen.push((m as { data: number }).data));
    await until(() => seen.includes(7), "the latched current value");
    level.publish({ data: 11 });
    await until(() => seen.includes(11), "the new value");
    expect(await world.calc.getProperty("level")).toBe(11);
    level.unsubscribe();
  });

  it("reassembles, in roslib, a frame the bridge cut into fragment_size pieces", async () => {
    const ros = await connect();
    const frames: Array<{ data: string }> = [];
    // Ros emits a topic's whole publish message under the topic's name.
    ros.on("/qi/ALVideoDevice/image", (m) => frames.push((m as { msg: { data: string } }).msg));
    // roslib's Topic has no fragment_size option: the subscribe op as rosbridge documents it.
    ros.callOnConnection({
      op: "subscribe",
      id: "fragmented",
      topic: "/qi/ALVideoDevice/image",
      fragment_size: 100_000,
    });
    await until(() => frames.length >= 1, "one fragmented frame");
    ros.callOnConnection({ op: "unsubscribe", id: "fragmented", topic: "/qi/ALVideoDevice/image" });
    // JSON: the bytes are base64 text (1.2 MB), sent as 13 fragments of 100,000 characters.
    expect(Buffer.from(frames[0]!.data, "base64").byteLength).toBe(921_600);
  });

  it("refuses wrong credentials and clients that never log in, and applies each user's permissions", async () => {
    const wrong = await connect({ user: ALICE.user, token: "wrong" });
    const closed = new Promise<void>((r) => wrong.on("close", () => r()));
    await closed;
    const silent = await connect(null);
    const closedToo = new Promise<void>((r) => silent.on("close", () => r()));
    silent.getTopics(() => {});
    await closedToo;
    const bob = await connect(BOB);
    const topics = await new Promise<string[]>((resolve, reject) =>
      bob.getTopics(
        (r) => resolve(r.topics),
        (e) => reject(new Error(String(e))),
      ),
    );
    expect(topics).toContain("/qi/ALBattery/charge");
    expect(topics.some((t) => t.startsWith("/qi/ALVideoDevice/"))).toBe(false);
    await expect(call(bob, "/qi/Calc/add", "qi_srvs/Call", { a: 1, b: 1 })).rejects.toThrow(
      /unknown service/,
    );
  });
});
