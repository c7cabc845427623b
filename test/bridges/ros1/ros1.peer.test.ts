/**
 * The ROS 1 bridge against the real ROS: rosmaster, rostopic, rosservice and a rospy node talk
 * to the gateway's node as they would to any ROS node.
 */
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { XmlRpcClient } from "@foxglove/xmlrpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bridgeRequests } from "../../../src/cli/bridge-flags.js";
import { GatewayAuthProvider } from "../../../src/gateway/index.js";
import { parse } from "@foxglove/rosmsg";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg-serialization";
import { SAY_REQUEST, SAY_RESPONSE } from "../../../src/bridges/mapping/index.js";
import { serviceType } from "../../../src/bridges/ros1/definitions.js";
import { decodeHeader, encodeHeader } from "../../../src/bridges/ros1/tcpros-header.js";
import { gc } from "../../gateway/world.js";
import { findProgram, type RosEnv, rosEnv, SYSTEM_PYTHON, waitFor } from "./ros-env.js";
import { metricValue, type Robot, robotWorld, TEST_MAPPING } from "./robot.js";

const found = findProgram("rosmaster") !== undefined && findProgram("rostopic") !== undefined;
if (!found)
  console.log(
    "ros1 peer tests skipped: rosmaster/rostopic not found (apt-get install ros-core python3-rostopic)",
  );

/** Listeners of a local object's signal (the lazy qi subscription is visible there). */
function listeners(robot: Robot, name: string): number {
  const signals = (robot.robot as unknown as { signals: Map<number, { listeners: Set<unknown> }> }).signals;
  const uid = [...robot.robot.metaObject().signals.values()].find((s) => s.name === name)!.uid;
  return signals.get(uid)?.listeners.size ?? 0;
}

describe.skipIf(!found)("ros1 bridge with the real ROS 1", () => {
  let ros: RosEnv;
  let world: Robot;

  beforeAll(async () => {
    ros = await rosEnv();
    await ros.startMaster();
    world = await robotWorld({
      master: ros.masterUri,
      masterCheckMs: 200,
      queueSize: 4,
      mapping: TEST_MAPPING,
    });
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    await ros?.close();
  }, 30_000);

  it("rostopic list shows the robot (demo mapping and the configured one)", async () => {
    const { stdout } = await ros.run("rostopic", ["list"]);
    for (const t of ["/qi/ALVideoDevice/image", "/qi/ALBattery/charge", "/qi/Robot/tick", "/cmd_vel"])
      expect(stdout).toContain(t);
  }, 30_000);

  it("rostopic echo -n 3 gets a mapped signal, subscribing on the qi side only while it listens", async () => {
    expect(listeners(world, "tick")).toBe(0);
    let n = 0;
    const timer = setInterval(() => world.robot.emit("tick", ++n), 50);
    try {
      const { stdout } = await ros.run("rostopic", ["echo", "-n", "3", "/qi/Robot/tick"]);
      const values = [...stdout.matchAll(/data: (\d+)/g)].map((m) => Number(m[1]));
      expect(values).toHaveLength(3);
      expect(values[1]).toBe(values[0] + 1);
    } finally {
      clearInterval(timer);
    }
    await waitFor(
      () => listeners(world, "tick") === 0,
      "the qi subscription to go with the last ROS subscriber",
    );
  }, 30_000);

  it("a property is latched: a late subscriber gets its value at once", async () => {
    const { stdout } = await ros.run("rostopic", ["echo", "-n", "1", "/qi/ALTextToSpeech/language"]);
    expect(stdout).toContain('data: "English"');
  }, 30_000);

  it("rostopic hz sees the camera at its fps", async () => {
    const camera = await world.sd.service("ALVideoDevice");
    await camera.property("fps").set(10);
    const hz = ros.spawn("rostopic", ["hz", "-w", "20", "/qi/ALVideoDevice/image"]);
    await waitFor(() => (hz.output().match(/average rate/g) ?? []).length >= 4, "four rate reports", 25_000);
    hz.kill("SIGINT");
    const rates = [...hz.output().matchAll(/average rate: ([\d.]+)/g)].map((m) => Number(m[1]));
    // 10 fps, give or take the jitter of a loaded machine's timers.
    expect(rates.at(-1)).toBeGreaterThan(7);
    expect(rates.at(-1)).toBeLessThan(12.5);
  }, 40_000);

  it("a rospy node gets sensor_msgs/Image with the camera's width, height and bytes", async () => {
    const script = join(ros.dir, "image_check.py");
    writeFileSync(
      script,
      [
        "import rospy",
        "from sensor_msgs.msg import Image",
        "rospy.init_node('image_check', anonymous=True)",
        "m = rospy.wait_for_message('/qi/ALVideoDevice/image', Image, timeout=20)",
        "print('IMAGE', m.width, m.height, m.encoding, m.step, len(m.data), flush=True)",
      ].join("\n"),
    );
    const { stdout, stderr } = await ros.run(SYSTEM_PYTHON, [script], 40_000);
    expect(stdout, stderr).toContain("IMAGE 640 480 rgb8 1920 921600");
  }, 45_000);

  it("rostopic pub calls a qi method with fields of the message", async () => {
    const { code, stderr } = await ros.run("rostopic", [
      "pub",
      "-1",
      "/cmd_vel",
      "geometry_msgs/Twist",
      "{linear: {x: 0.5, y: -0.25}, angular: {z: 0.125}}",
    ]);
    expect(code, stderr).toBe(0);
    await waitFor(() => world.moves.length > 0, "Robot.move to be called");
    expect(world.moves[0]).toEqual([0.5, -0.25, 0.125]);
  }, 30_000);

  it("rosservice call answers with the method's result or the qi error text", async () => {
    const ok = await ros.run("rosservice", ["call", "/robot/status"]);
    expect(ok.stdout).toMatch(/success: True\s+message: "all good"/);
    const setBool = await ros.run("rosservice", ["call", "/robot/enable", "data: true"]);
    expect(setBool.stdout).toMatch(/success: True\s+message: "enabled"/);
    const failed = await ros.run("rosservice", ["call", "/robot/fail"]);
    expect(failed.stdout).toMatch(/success: False\s+message: ".*the motors are off/);
    // std_srvs/Empty has no success field: the call itself fails with the qi error text.
    const empty = await ros.run("rosservice", ["call", "/robot/reset"]);
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toContain("the motors are off");
  }, 60_000);

  it("serves the demo's say as a service taking a string (a type given by its definitions)", async () => {
    const said = await callService(
      ros.masterUri,
      "/qi/ALTextToSpeech/say_service",
      SAY_REQUEST,
      SAY_RESPONSE,
      {
        text: "hello from a service",
      },
    );
    expect(said).toEqual({ ok: true, body: { success: true, message: "" } });
    const wrongType = await callService(
      ros.masterUri,
      "/qi/ALTextToSpeech/say_service",
      "int32 text",
      SAY_RESPONSE,
      {
        text: 1,
      },
    );
    expect(wrongType).toMatchObject({ ok: false, error: expect.stringMatching(/md5sum/) });
  }, 30_000);

  it("a ROS subscriber that stops reading gets old frames dropped, with bounded memory", async () => {
    const camera = await world.sd.service("ALVideoDevice");
    await camera.property("fps").set(30);
    const nodeUri = await lookupNode(ros.masterUri, "/qi_gateway");
    const [, , params] = (await new XmlRpcClient(nodeUri).methodCall("requestTopic", [
      "/stalled",
      "/qi/ALVideoDevice/image",
      [["TCPROS"]],
    ])) as [number, string, [string, string, number]];
    const socket = connect(params[2], params[1]);
    try {
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      socket.write(
        encodeHeader({
          callerid: "/stalled",
          topic: "/qi/ALVideoDevice/image",
          type: "sensor_msgs/Image",
          md5sum: "*",
        }),
      );
      socket.pause(); // never reads again
      await waitFor(
        async () => (await metricValue(world.gw, "qi_bridge_dropped_total", 'bridge="ros1"')) > 10,
        "the first drops",
        20_000,
      );
      gc();
      const before = process.memoryUsage();
      const droppedBefore = await metricValue(world.gw, "qi_bridge_dropped_total", 'bridge="ros1"');
      // 60 more frames (55 MB) for a reader that takes none of them.
      await waitFor(
        async () =>
          (await metricValue(world.gw, "qi_bridge_dropped_total", 'bridge="ros1"')) > droppedBefore + 60,
        "60 more drops",
        30_000,
      );
      gc();
      const after = process.memoryUsage();
      const grown = after.arrayBuffers + after.heapUsed - (before.arrayBuffers + before.heapUsed);
      expect(grown).toBeLessThan(20 * 1024 * 1024);
    } finally {
      socket.destroy();
      await camera.property("fps").set(5);
    }
  }, 60_000);

  it("its XML-RPC slave API refuses an oversized request and keeps answering others", async () => {
    const nodeUri = await lookupNode(ros.masterUri, "/qi_gateway");
    const huge = `<?xml version="1.0"?><methodCall><methodName>getPid</methodName><params><param><value>${"x".repeat(2 * 1024 * 1024)}</value></param></params></methodCall>`;
    await expect(fetch(nodeUri, { method: "POST", body: huge })).rejects.toThrow();
    const [code, , pid] = (await new XmlRpcClient(nodeUri).methodCall("getPid", ["/test"])) as [
      number,
      string,
      number,
    ];
    expect([code, pid]).toEqual([1, process.pid]);
  }, 30_000);

  it("keeps working when the master restarts: registers again", async () => {
    await ros.stopMaster();
    await ros.startMaster();
    await waitFor(
      async () =>
        (await ros.run("rostopic", ["list"], 10_000)).stdout.includes("/qi/ALTextToSpeech/language"),
      "the topics on the new master",
      30_000,
    );
    const { stdout } = await ros.run("rostopic", ["echo", "-n", "1", "/qi/ALTextToSpeech/language"]);
    expect(stdout).toContain('data: "English"');
    const service = await ros.run("rosservice", ["call", "/robot/status"]);
    expect(service.stdout).toContain("all good");
    // The bridge registers its publications and subscriptions one by one: publish once the new
    // master lists it as a subscriber, or `pub -1` may have come and gone before it is.
    await waitFor(
      async () =>
        /Subscribers:\s*\n\s*\* \/qi_gateway/.test(
          (await ros.run("rostopic", ["info", "/cmd_vel"], 10_000)).stdout,
        ),
      "the bridge subscribed to /cmd_vel on the new master",
      30_000,
    );
    await ros.run("rostopic", ["pub", "-1", "/cmd_vel", "geometry_msgs/Twist", "{linear: {x: 2.0}}"]);
    await waitFor(() => world.moves.some((m) => m[0] === 2), "a move after the restart");
  }, 90_000);

  it("counts messages and subscribers in the gateway's Prometheus output", async () => {
    const text = await world.gw.metrics.registry.metrics();
    expect(text).toMatch(/qi_bridge_messages_total\{bridge="ros1",direction="in"\} [1-9]/);
    expect(text).toMatch(/qi_bridge_messages_total\{bridge="ros1",direction="out"\} [1-9]/);
    expect(text).toContain('qi_bridge_subscribers{bridge="ros1"}');
  });
});

describe.skipIf(!found)("ros1 bridge started before its master", () => {
  it("starts anyway and registers once the master comes up", async () => {
    const ros = await rosEnv();
    let world: Robot | undefined;
    try {
      world = await robotWorld({ master: ros.masterUri, masterCheckMs: 200, mapping: TEST_MAPPING });
      await ros.startMaster();
      await waitFor(
        async () => (await ros.run("rostopic", ["list"], 10_000)).stdout.includes("/qi/Robot/tick"),
        "the topics on the late master",
        30_000,
      );
      const service = await ros.run("rosservice", ["call", "/robot/status"]);
      expect(service.stdout).toContain("all good");
    } finally {
      await world?.close();
      await ros.close();
    }
  }, 60_000);
});

describe.skipIf(!found)("ros1 bridge off by default", () => {
  it("a gateway with no --bridge and no bridges: section registers nothing with the master", async () => {
    expect(bridgeRequests({})).toEqual([]);
    const ros = await rosEnv();
    let world: Robot | undefined;
    try {
      await ros.startMaster();
      world = await robotWorld(undefined);
      const { stdout } = await ros.run("rostopic", ["list"]);
      expect(stdout).not.toContain("/qi/");
      const nodes = await ros.run("rosnode", ["list"]);
      expect(nodes.stdout).not.toContain("qi_gateway");
    } finally {
      await world?.close();
      await ros.close();
    }
  }, 60_000);
});

/** A ROS service client by hand (rospy cannot load a type it has no generated class for). */
describe.skipIf(!found)("ros1 bridge under the gateway's permissions", () => {
  it("gives ROS nothing its user may not subscribe to or call: denied calls answer with the gateway's error", async () => {
    const ros = await rosEnv();
    let world: Robot | undefined;
    try {
      await ros.startMaster();
      world = await robotWorld(
        { master: ros.masterUri, mapping: TEST_MAPPING },
        {
          allowAnonymous: false,
          authProvider: new GatewayAuthProvider({}),
          permissions: {
            users: {
              "bridge-ros1": {
                services: { allow: ["AL*", "Robot"] },
                call: { allow: ["Robot.status"] },
                subscribe: { allow: ["AL*"] },
              },
            },
          },
        },
      );
      const allowed = await ros.run("rosservice", ["call", "/robot/status"]);
      expect(allowed.stdout).toContain("all good");
      const denied = await ros.run("rosservice", ["call", "/robot/enable", "data: true"]);
      expect(denied.stdout).toMatch(/success: False\s+message: ".*(not allowed|denied|permission)/i);
      await ros.run("rostopic", ["pub", "-1", "/cmd_vel", "geometry_msgs/Twist", "{linear: {x: 1.0}}"]);
      // Robot.move is not allowed: the call is refused by the gateway, so the robot never moves.
      const hidden = await tickStaysOffRos(ros, world);
      expect(hidden).toBe(true);
      expect(world.moves).toEqual([]);
    } finally {
      await world?.close();
      await ros.close();
    }
  }, 90_000);
});

/** Whether the Robot's signal stayed off ROS (its subscription is not allowed). */
async function tickStaysOffRos(ros: RosEnv, world: Robot): Promise<boolean> {
  let n = 0;
  const timer = setInterval(() => world.robot.emit("tick", ++n), 50);
  try {
    const echo = await ros.run("rostopic", ["echo", "-n", "1", "/qi/Robot/tick"], 6_000);
    return !echo.stdout.includes("data:");
  } finally {
    clearInterval(timer);
  }
}

async function callService(
  masterUri: string,
  name: string,
  request: string,
  response: string,
  body: Record<string, unknown>,
): Promise<{ ok: true; body: unknown } | { ok: false; error: string }> {
  const [code, message, uri] = (await new XmlRpcClient(masterUri).methodCall("lookupService", [
    "/test",
    name,
  ])) as [number, string, string];
  if (code !== 1) throw new Error(`lookupService ${name}: ${message}`);
  const { hostname, port } = new URL(uri.replace("rosrpc:", "http:"));
  const type = serviceType("test/Any", request, response);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  try {
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(encodeHeader({ callerid: "/test", service: name, md5sum: type.md5sum, persistent: "0" }));
    const writer = new MessageWriter(parse(request));
    const payload = writer.writeMessage(body);
    const frame = Buffer.alloc(4 + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    frame.set(payload, 4);
    socket.write(frame);
    await waitFor(() => {
      const all = Buffer.concat(chunks);
      if (all.length < 4) return false;
      const headerEnd = 4 + all.readUInt32LE(0);
      const header = decodeHeader(all.subarray(4, headerEnd));
      if (header.has("error")) return true;
      return all.length >= headerEnd + 5 && all.length >= headerEnd + 5 + all.readUInt32LE(headerEnd + 1);
    }, "the service's answer");
    const all = Buffer.concat(chunks);
    const headerEnd = 4 + all.readUInt32LE(0);
    const header = decodeHeader(all.subarray(4, headerEnd));
    if (header.has("error")) return { ok: false, error: header.get("error")! };
    const ok = all[headerEnd] === 1;
    const reply = all.subarray(headerEnd + 5, headerEnd + 5 + all.readUInt32LE(headerEnd + 1));
    if (!ok) return { ok: false, error: reply.toString("utf8") };
    return { ok: true, body: new MessageReader(parse(response)).readMessage(reply) };
  } finally {
    socket.destroy();
    await closed;
  }
}

async function lookupNode(masterUri: string, name: string): Promise<string> {
  const [code, message, uri] = (await new XmlRpcClient(masterUri).methodCall("lookupNode", [
    "/test",
    name,
  ])) as [number, string, string];
  if (code !== 1) throw new Error(`lookupNode ${name}: ${message}`);
  return uri;
}
