/**
 * The ROS 1 bridge's camera path: the simulated robot's 640×480 rgb8 camera at 30 fps to a
 * rospy subscriber through the gateway's ros1 bridge, beside the same stream to a qi client
 * of the gateway over tcp://, same run. Rows: frames/s delivered (target 30), frames dropped,
 * latency from the camera's emit to the subscriber's receipt (p50, p99; both ends read the
 * same wall clock), measured with both subscribers on the same 10 s window; then the CPU of
 * this process (robot + gateway + bridge; the qi row also pays for the qi client, which runs
 * here too) as % of one core, one subscriber at a time for 5 s.
 *
 * Runs alone with `npx tsx bench/index.ts ros1`; needs rosmaster and rospy (else one row says
 * skipped).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RosNode } from "@foxglove/ros1";
import { TcpSocketNode } from "@foxglove/ros1/nodejs";
import { HttpServerNodejs } from "@foxglove/xmlrpc/nodejs";
import pino from "pino";
import { startBridges, stopBridges } from "../src/bridges/index.js";
import { createVideoDevice } from "../src/demo/index.js";
import { startGateway } from "../src/gateway/index.js";
import { Session } from "../src/session/index.js";
import { findProgram, rosEnv, SYSTEM_PYTHON } from "../test/bridges/ros1/ros-env.js";
import type { BenchRow } from "./table.js";

const GROUP = "ros1";
const FPS = 30;
const SECONDS = 10;
const CPU_SECONDS = 5;

interface Stream {
  received: Array<[seq: number, atMs: number]>;
  cpuPercent: number;
}

function summarize(
  name: string,
  stream: Stream,
  emitted: Map<number, number>,
  baseline?: Stream,
): BenchRow[] {
  const got = stream.received;
  const seqs = got.map(([s]) => s);
  const span = Math.max(1, Math.max(...seqs) - Math.min(...seqs) + 1);
  const latencies = got
    .map(([seq, at]) => at - (emitted.get(seq) ?? Number.NaN))
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  const pct = (p: number, l: number[]) =>
    l[Math.min(l.length - 1, Math.floor((p / 100) * l.length))] ?? Number.NaN;
  const fps = got.length / SECONDS;
  const base = baseline ? summarizeNumbers(baseline, emitted) : undefined;
  return [
    {
      group: GROUP,
      case: `${name}: 640x480 rgb8 at ${FPS} fps, frames/s`,
      value: fps,
      unit: "frames/s",
      baseline: base?.fps ?? FPS,
    },
    {
      group: GROUP,
      case: `${name}: frames missing in the received run`,
      value: span - got.length,
      unit: "frames",
    },
    {
      group: GROUP,
      case: `${name}: latency p50`,
      value: pct(50, latencies),
      unit: "ms",
      baseline: base?.p50,
    },
    {
      group: GROUP,
      case: `${name}: latency p99`,
      value: pct(99, latencies),
      unit: "ms",
      baseline: base?.p99,
    },
    {
      group: GROUP,
      case: `${name}: gateway process CPU`,
      value: stream.cpuPercent,
      unit: "% core",
      baseline: base?.cpu,
    },
  ];
}

function summarizeNumbers(s: Stream, emitted: Map<number, number>) {
  const l = s.received
    .map(([seq, at]) => at - (emitted.get(seq) ?? Number.NaN))
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  const pct = (p: number) => l[Math.min(l.length - 1, Math.floor((p / 100) * l.length))] ?? Number.NaN;
  return { fps: s.received.length / SECONDS, p50: pct(50), p99: pct(99), cpu: s.cpuPercent };
}

/** CPU of this process over `run`, as % of one core. */
async function measureCpu(run: () => Promise<Array<[number, number]>>): Promise<Stream> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const received = await run();
  const used = process.cpuUsage(cpu0);
  return { received, cpuPercent: ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100 };
}

export async function run(): Promise<BenchRow[]> {
  if (!findProgram("rosmaster"))
    return [{ group: GROUP, case: "rosmaster not found", value: "skipped", unit: "" }];
  const logger = pino({ level: "silent" });
  const ros = await rosEnv();
  const sd = new Session();
  let bridges: Awaited<ReturnType<typeof startBridges>> = [];
  const camera = createVideoDevice();
  const gw = await (async () => {
    await ros.startMaster();
    await sd.listenStandalone("tcp://127.0.0.1:0");
    camera.object.setProperty("fps", FPS);
    await sd.registerService("ALVideoDevice", camera.object);
    camera.start?.();
    const g = await startGateway({
      attach: sd.endpoints()[0],
      listen: ["tcp://127.0.0.1:0"],
      allowAnonymous: true,
    });
    await g.waitAttached();
    return g;
  })();
  // When each frame left the camera, by sequence number (wall clock, as rospy reads it).
  const emitted = new Map<number, number>();
  const uid = [...camera.object.metaObject().signals.values()].find((s) => s.name === "image")!.uid;
  const unwatch = camera.object.connect(uid, (args) => {
    emitted.set(Number(args[2]), Date.now());
  });
  try {
    bridges = await startBridges(
      gw,
      [
        {
          name: "ros1",
          settings: {
            master: ros.masterUri,
            mapping: { out: [{ service: "ALVideoDevice", signal: "image" }] },
          },
        },
      ],
      { logger, demo: false },
    );
    // Both subscribers over the same window, so the machine's load weighs on both alike.
    const [rospy, qi, nodeRos] = await Promise.all([
      rospyStream(ros, SECONDS),
      qiStream(gw.endpoints()[0], SECONDS),
      nodeRosStream(ros.masterUri, SECONDS),
    ]);
    // CPU needs one subscriber at a time.
    const rospyCpu = (await measureCpu(() => rospyStream(ros, CPU_SECONDS))).cpuPercent;
    const qiCpu = (await measureCpu(() => qiStream(gw.endpoints()[0], CPU_SECONDS))).cpuPercent;
    const qiStats = { received: qi, cpuPercent: qiCpu };
    return [
      ...summarize("qi client (tcp)", qiStats, emitted),
      ...summarize("rospy via ros1 bridge", { received: rospy, cpuPercent: rospyCpu }, emitted, qiStats),
      ...summarize(
        "@foxglove/ros1 subscriber via ros1 bridge",
        { received: nodeRos, cpuPercent: Number.NaN },
        emitted,
        qiStats,
      ).filter((r) => !r.case.endsWith("CPU")),
    ];
  } finally {
    unwatch();
    await stopBridges(bridges);
    camera.stop?.();
    await gw.close();
    await sd.close();
    await ros.close();
  }
}

/** A rospy node: waits for the first frame, then records (seq, receipt time) for `seconds`. */
async function rospyStream(
  ros: Awaited<ReturnType<typeof rosEnv>>,
  seconds: number,
): Promise<Array<[number, number]>> {
  const script = join(ros.dir, "bench_sub.py");
  writeFileSync(
    script,
    [
      "import json, time, rospy",
      "from sensor_msgs.msg import Image",
      "got = []",
      "def on(m):",
      "    got.append((m.header.seq, time.time() * 1000))",
      "rospy.init_node('bench_sub', anonymous=True)",
      "rospy.Subscriber('/qi/ALVideoDevice/image', Image, on, queue_size=4, buff_size=1 << 24, tcp_nodelay=True)",
      "while not got: time.sleep(0.01)",
      `time.sleep(${seconds})`,
      "start = got[0][1]",
      `print(json.dumps([g for g in got if g[1] - start < ${seconds * 1000}]))`,
    ].join("\n"),
  );
  const { stdout, stderr } = await ros.run(SYSTEM_PYTHON, [script], (seconds + 40) * 1000);
  const last = stdout.trim().split("\n").at(-1) ?? "";
  if (!last.startsWith("[")) throw new Error(`rospy subscriber failed: ${stderr.slice(-400)}`);
  return JSON.parse(last) as Array<[number, number]>;
}

/**
 * A ROS subscriber in another Node process would be fairer; this one (@foxglove/ros1, in this
 * process) shows what the bridge and TCPROS cost without rospy's Python in the way.
 */
async function nodeRosStream(masterUri: string, seconds: number): Promise<Array<[number, number]>> {
  const node = new RosNode({
    name: "/bench_node_sub",
    hostname: "127.0.0.1",
    pid: process.pid,
    rosMasterUri: masterUri,
    httpServer: new HttpServerNodejs(),
    tcpSocketCreate: TcpSocketNode.Create,
  });
  await node.start();
  try {
    const got: Array<[number, number]> = [];
    let first = 0;
    const sub = node.subscribe({ topic: "/qi/ALVideoDevice/image", dataType: "sensor_msgs/Image" });
    sub.on("message", (msg) => {
      const now = Date.now();
      if (!first) first = now;
      if (now - first < seconds * 1000) got.push([(msg as { header: { seq: number } }).header.seq, now]);
    });
    while (!first || Date.now() - first < seconds * 1000) await new Promise((r) => setTimeout(r, 50));
    return got;
  } finally {
    node.shutdown();
  }
}

async function qiStream(url: string, seconds: number): Promise<Array<[number, number]>> {
  const client = new Session();
  await client.connect(url);
  try {
    const cam = await client.service("ALVideoDevice");
    const got: Array<[number, number]> = [];
    let first = 0;
    const link = await cam.signal("image").connect((_w: number, _h: number, seq: number) => {
      const now = Date.now();
      if (!first) first = now;
      if (now - first < seconds * 1000) got.push([seq, now]);
    });
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (first && Date.now() - first >= seconds * 1000) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    });
    await cam.signal("image").disconnect(link);
    return got;
  } finally {
    await client.close();
  }
}
