/**
 * The fleet on one machine, against a real 3-node nats-server cluster (skipped without one):
 *
 *  - the robot's uplink for one 640×480×3 camera stream at 30 fps watched by 1, 10 and 100
 *    clients spread over two edge gateways, in multiples of the stream (target ≈ 1 whatever the
 *    count), beside the same clients on the robot's gateway directly (N×);
 *  - `add` p50/p99: client → edge → NATS → robot, beside client → robot gateway over tcp;
 *  - 10 robots × 50 fleet clients calling at once: calls/s and errors (target 0).
 *
 * Everything runs in this process except nats-server; each robot's NATS connection counts its
 * own bytes (nats.js stats), so the uplink is measured where it leaves the robot.
 */
import { startGateway } from "../src/gateway/index.js";
import { dialNats, FleetEdge, FleetRobot, fleetTransport } from "../src/fleet/index.js";
import { QiObject } from "../src/object/index.js";
import { Session } from "../src/session/index.js";
import { Raw } from "../src/wire/values.js";
import { natsServerPath, startCluster, waitRouted } from "../test/fleet/nats-cluster.js";
import type { BenchRow } from "./table.js";

const GROUP = "fleet";
const FRAME = 640 * 480 * 3;
const FPS = 30;
const cleanups: Array<() => Promise<unknown>> = [];

async function robotProcess(name: string, natsUrl: string) {
  const sd = new Session();
  cleanups.push(() => sd.close());
  const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const cam = new QiObject()
    .method("add", "(ii)", "i", (a: number, b: number) => a + b)
    .signal("image", "(r)");
  await sd.registerService("Cam", cam);
  const gw = await startGateway({ attach: sdUrl, listen: ["tcp://127.0.0.1:0"], allowAnonymous: true });
  cleanups.push(() => gw.close());
  await gw.waitAttached();
  const nc = await dialNats({ servers: [natsUrl], name });
  cleanups.push(() => nc.close());
  const robot = await FleetRobot.start({
    nc,
    robot: name,
    accept: (c) => gw.acceptChannel(c),
    services: () => ["Cam"],
  });
  cleanups.push(() => robot.close());
  return { cam, gw, nc, gwUrl: gw.endpoints()[0] };
}

async function watchers(urls: string[], n: number, make: () => Session) {
  const got = { frames: 0, bytes: 0 };
  for (let i = 0; i < n; i++) {
    const s = make();
    cleanups.push(() => s.close());
    await s.connect(urls[i % urls.length]);
    await (await s.service("Cam")).signal("image").connect((r: Raw) => {
      got.frames++;
      got.bytes += r.bytes.byteLength + 28;
    });
  }
  return got;
}

/** Emits `count` frames at FPS on the ideal timeline, then waits a moment for stragglers. */
async function stream(cam: QiObject, count: number, expected: () => boolean): Promise<void> {
  const frame = new Raw(Buffer.alloc(FRAME, 0x5a));
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    cam.emit("image", frame);
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + ((i + 1) * 1000) / FPS - performance.now())));
  }
  const end = performance.now() + 5_000;
  while (!expected() && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function latencies(s: Session, n: number): Promise<number[]> {
  const calc = await s.service("Cam");
  for (let i = 0; i < 200; i++) await calc.call("add", i, 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await calc.call("add", i, 1);
    out.push((performance.now() - t) * 1000);
  }
  return out;
}

export async function run(): Promise<BenchRow[]> {
  const bin = natsServerPath();
  if (!bin) return [{ group: GROUP, case: "nats-server not installed", value: "skipped", unit: "" }];
  const cluster = await startCluster(bin, { size: 3 });
  const rows: BenchRow[] = [];
  try {
    await waitRouted(cluster.nodes.map((n) => n.url));
    const robot = await robotProcess("cam-robot", cluster.nodes[0].url);
    const edges: FleetEdge[] = [];
    for (const node of [cluster.nodes[1], cluster.nodes[2]]) {
      const transport = fleetTransport({ keepConnection: true });
      cleanups.push(() => transport.close());
      const edge = await FleetEdge.start({
        url: node.url,
        transport,
        listen: ["tcp://127.0.0.1:0"],
        defaultRobot: "cam-robot",
      });
      cleanups.push(() => edge.close());
      edges.push(edge);
    }
    const edgeUrls = edges.map((e) => e.endpoints()[0]);

    // Uplink per subscriber count: fleet (through the edges) and direct, one after the other.
    let watching = 0;
    for (const n of [1, 10, 100]) {
      const frames = n === 100 ? 30 : 60;
      const fleet = await watchers(edgeUrls, n - watching, () => new Session());
      watching = n;
      const before = robot.nc.stats().outBytes;
      const f0 = fleet.frames;
      await stream(robot.cam, frames, () => fleet.frames - f0 >= frames * n);
      const uplink = robot.nc.stats().outBytes - before;
      const delivered = fleet.frames - f0;
      rows.push({
        group: GROUP,
        case: `robot uplink, 640×480×3 @30 fps, ${n} subscriber(s) over 2 edges (${delivered} of ${frames * n} frames delivered)`,
        value: uplink / (frames * FRAME),
        unit: "× stream",
        baseline: n,
        ratio: uplink / (frames * FRAME) / n,
      });
    }
    for (const n of [1, 10]) {
      const direct = await watchers([robot.gwUrl], n, () => new Session());
      await stream(robot.cam, 60, () => direct.frames >= 60 * n);
      rows.push({
        group: GROUP,
        case: `direct gateway, same stream, ${n} tcp subscriber(s) (what it sends, ×stream)`,
        value: direct.bytes / (60 * FRAME),
        unit: "× stream",
        baseline: n,
      });
    }

    // add latency: through an edge and NATS, beside the robot's gateway directly.
    const viaEdge = new Session();
    cleanups.push(() => viaEdge.close());
    await viaEdge.connect(edgeUrls[0]);
    const direct = new Session();
    cleanups.push(() => direct.close());
    await direct.connect(robot.gwUrl);
    const le = await latencies(viaEdge, 2_000);
    const ld = await latencies(direct, 2_000);
    rows.push({
      group: GROUP,
      case: "add p50: client → edge → NATS → robot (baseline: client → robot gateway, tcp)",
      value: percentile(le, 50),
      unit: "µs",
      baseline: percentile(ld, 50),
    });
    rows.push({
      group: GROUP,
      case: "add p99: client → edge → NATS → robot (baseline: direct)",
      value: percentile(le, 99),
      unit: "µs",
      baseline: percentile(ld, 99),
    });

    // 10 robots × 50 clients at once.
    const robots = [];
    for (let i = 0; i < 10; i++) robots.push(await robotProcess(`r${i}`, cluster.nodes[i % 3].url));
    let errors = 0;
    let calls = 0;
    const clients: Session[] = [];
    for (let i = 0; i < 10; i++) {
      const transport = fleetTransport({ robot: `r${i}` });
      for (let j = 0; j < 50; j++) {
        const s = new Session({ transport });
        cleanups.push(() => s.close());
        clients.push(s);
      }
    }
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (s, k) => {
        try {
          await s.connect(cluster.nodes[k % 3].url);
          const calc = await s.service("Cam");
          for (let i = 0; i < 20; i++) {
            if ((await calc.call<number>("add", i, k)) !== i + k) errors++;
            calls++;
          }
        } catch {
          errors++;
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    rows.push({
      group: GROUP,
      case: `10 robots × 50 clients at once (connect + 20 adds each): calls/s, ${errors} errors`,
      value: calls / secs,
      unit: "calls/s",
    });
  } finally {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    await cluster.stop();
  }
  return rows;
}
