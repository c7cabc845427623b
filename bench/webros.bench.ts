/**
 * The web bridges' camera path: the simulated 640×480 rgb8 camera at 30 fps through the
 * gateway to roslibjs over rosbridge (CBOR), to @foxglove/ws-protocol's FoxgloveClient
 * (foxglove_msgs/RawImage, ROS 1 encoding), and to a qi client of the gateway over tcp://.
 *
 * Latency is from the camera's emit to a client's receipt, on one clock (performance.now():
 * camera, gateway, bridges and clients all run in this process, on one thread). Two ways,
 * interleaved in each of RUNS runs, so both see the same machine state:
 * - together: the three clients subscribed at once, on the SAME frames (TOGETHER_S s). Each
 *   path then also waits for the others' work on the one thread: the qi client's baseline
 *   pays for the bridges, which flatters their ratio.
 * - alone: each client the only subscriber, ALONE_S s in turn: what each path costs itself.
 * Rows per bridge: frames/s, p50/p99 over all runs' frames (≥ 300 per path and way) beside
 * the qi client's, each run's p50 with the 1-minute load when it began (the machine is
 * shared), and bytes per frame on the wire.
 * (rosbridge_suite itself needs ~269 ms to JSON-encode one such frame.)
 *
 * Runs alone with `npx tsx bench/index.ts webros`.
 */
import { loadavg } from "node:os";
import { decode } from "cbor2";
import foxglove from "@foxglove/ws-protocol";
import WebSocket from "ws";
import { UserTokenAuthenticator } from "../src/index.js";
import { Session } from "../src/session/index.js";
import { Ros, Topic } from "../test/bridges/rosbridge/roslib-api.js";
import { ALICE, startWebBridgeWorld, until } from "../test/bridges/rosbridge/world.js";
import type { BenchRow } from "./table.js";

const GROUP = "webros";
const RUNS = 3;
const TOGETHER_S = 10;
const ALONE_S = 10;
const STEP = 8; // the demo camera's pattern moves 8 pixels a frame, repeating every 256

const PATHS = ["qi", "rosbridge", "foxglove"] as const;
type Path = (typeof PATHS)[number];

function percentile(sorted: number[], p: number): number {
  return sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!
    : Number.NaN;
}

const sortedCopy = (xs: number[]) => [...xs].sort((a, b) => a - b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(): Promise<BenchRow[]> {
  const world = await startWebBridgeWorld({ rosbridge: {}, foxglove: {} });
  try {
    await world.camera.object.setProperty("fps", 30);
    // Emit times by sequence, from a listener on the camera object itself.
    const emitted = new Map<number, number>();
    const byResidue = new Map<number, number>();
    const imageUid = [...world.camera.object.metaObject().signals.values()].find(
      (s) => s.name === "image",
    )!.uid;
    const off = world.camera.object.connect(imageUid, (args: unknown[]) => {
      const seq = Number(args[2]);
      emitted.set(seq, performance.now());
      byResidue.set(seq % (256 / STEP), seq);
    });

    let current: Record<Path, number[]> | undefined;
    const seen: Record<Path, number> = { qi: 0, rosbridge: 0, foxglove: 0 };
    const record = (name: Path, seq: number | undefined) => {
      seen[name]++;
      const at = seq === undefined ? undefined : emitted.get(seq);
      if (current && at !== undefined) current[name].push(performance.now() - at);
    };

    const qi = new Session({ authenticator: new UserTokenAuthenticator(ALICE.user, ALICE.token) });
    await qi.connect(world.qiUrl);
    const image = (await qi.service("ALVideoDevice")).signal("image");
    const onQi = (...args: unknown[]) => record("qi", Number(args[2]));

    const ros = new Ros({});
    await new Promise<void>((resolve) => {
      ros.on("connection", () => resolve());
      ros.connect(world.urls.rosbridge!);
    });
    ros.authenticate(ALICE.token, ALICE.user, "", "", 0, "", 0);
    const topic = new Topic({
      ros,
      name: "/qi/ALVideoDevice/image",
      messageType: "sensor_msgs/Image",
      compression: "cbor",
    });
    const onRos = (m: unknown) => record("rosbridge", (m as { header: { seq: number } }).header.seq);

    const fox = new foxglove.FoxgloveClient({
      ws: new WebSocket(
        `${world.urls.foxglove}/?user=${ALICE.user}&token=${encodeURIComponent(ALICE.token)}`,
        [foxglove.FoxgloveClient.SUPPORTED_SUBPROTOCOL],
      ) as never,
    });
    let foxBytes = 0;
    let imageChannel: number | undefined;
    fox.on("advertise", (channels) => {
      imageChannel ??= channels.find((c) => c.topic === "/qi/ALVideoDevice/image")?.id;
    });
    fox.on("message", ({ data }) => {
      foxBytes = data.byteLength + 13; // opcode, subscription id, timestamp
      // The first pixel's red byte is (8 × seq) mod 256: the frame among the last 32 emitted.
      const red = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).at(-921_600)!;
      record("foxglove", byResidue.get(red / STEP));
    });
    await until(() => imageChannel !== undefined, "the Foxglove channels", 20_000);

    // Bytes of one rosbridge CBOR frame, as roslib receives it (a raw socket sees the same).
    const raw = new WebSocket(world.urls.rosbridge!);
    let rosBytes = 0;
    raw.on("message", (data, isBinary) => {
      if (isBinary && (decode(data as Buffer) as { op: string }).op === "publish")
        rosBytes = (data as Buffer).byteLength;
    });
    await new Promise((r) => raw.once("open", r));
    raw.send(JSON.stringify({ op: "auth", client: ALICE.user, mac: ALICE.token }));
    raw.send(
      JSON.stringify({
        op: "subscribe",
        topic: "/qi/ALVideoDevice/image",
        compression: "cbor",
        queue_length: 1,
      }),
    );
    await until(() => rosBytes > 0, "a raw rosbridge frame", 20_000);
    raw.close();

    // Subscribes exactly the paths of a phase; resolves once each has had a few frames.
    let qiLink: Awaited<ReturnType<typeof image.connect>> | undefined;
    let foxSub: number | undefined;
    let rosOn = false;
    const only = async (paths: readonly Path[]) => {
      if (paths.includes("qi") !== (qiLink !== undefined)) {
        if (qiLink === undefined) qiLink = await image.connect(onQi);
        else {
          await image.disconnect(qiLink);
          qiLink = undefined;
        }
      }
      if (paths.includes("rosbridge") !== rosOn) {
        rosOn = !rosOn;
        if (rosOn) topic.subscribe(onRos);
        else topic.unsubscribe(onRos);
      }
      if (paths.includes("foxglove") !== (foxSub !== undefined)) {
        if (foxSub === undefined) foxSub = fox.subscribe(imageChannel!);
        else {
          fox.unsubscribe(foxSub);
          foxSub = undefined;
        }
      }
      await sleep(500); // what was in flight for the last phase lands
      const before = { ...seen };
      await until(() => paths.every((p) => seen[p] > before[p] + 3), `frames on ${paths}`, 20_000);
    };
    const measure = async (seconds: number) => {
      const got: Record<Path, number[]> = { qi: [], rosbridge: [], foxglove: [] };
      current = got;
      await sleep(seconds * 1000);
      current = undefined;
      return got;
    };

    // Each run: the three together (the same frames), then each path alone, interleaved.
    const together: Array<Record<Path, number[]>> = [];
    const alone: Record<Path, number[]> = { qi: [], rosbridge: [], foxglove: [] };
    const loads: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      await only(PATHS);
      loads.push(loadavg()[0]!);
      together.push(await measure(TOGETHER_S));
      for (const path of PATHS) {
        await only([path]);
        alone[path].push(...(await measure(ALONE_S))[path]);
      }
    }
    await only([]);
    off();
    ros.close();
    fox.close();
    await qi.close();
    return rowsOf(together, alone, loads, { qi: 921_600 + 28 + 16, rosbridge: rosBytes, foxglove: foxBytes });
  } finally {
    await world.close();
  }
}

const LABEL: Record<Exclude<Path, "qi">, string> = {
  rosbridge: "rosbridge → roslibjs (CBOR)",
  foxglove: "Foxglove WS → FoxgloveClient (RawImage)",
};

function rowsOf(
  together: Array<Record<Path, number[]>>,
  alone: Record<Path, number[]>,
  loads: number[],
  bytes: Record<Path, number>,
): BenchRow[] {
  const all = (name: Path) => sortedCopy(together.flatMap((w) => w[name]));
  const ms = (xs: number[], p: number) => +percentile(xs, p).toFixed(2);
  const row = (c: string, value: number, unit: string, baseline: number): BenchRow => ({
    group: GROUP,
    case: c,
    value,
    unit,
    baseline,
  });
  const seconds = RUNS * TOGETHER_S;
  const qiAll = all("qi");
  const qiAlone = sortedCopy(alone.qi);
  const rows: BenchRow[] = [];
  for (const name of ["rosbridge", "foxglove"] as const) {
    const mine = all(name);
    const mineAlone = sortedCopy(alone[name]);
    rows.push(
      row(
        `camera 640×480×3 @30 fps, ${LABEL[name]}: frames/s (${mine.length} frames, ${RUNS}×${TOGETHER_S} s)`,
        +(mine.length / seconds).toFixed(1),
        "frames/s",
        +(qiAll.length / seconds).toFixed(1),
      ),
      row("  same, latency p50, the three clients on the same frames", ms(mine, 50), "ms", ms(qiAll, 50)),
      row("  same, latency p99, the three clients on the same frames", ms(mine, 99), "ms", ms(qiAll, 99)),
      ...together.map((w, i) =>
        row(
          `    window ${i + 1} p50 (${w[name].length} frames, load ${loads[i]!.toFixed(1)})`,
          ms(sortedCopy(w[name]), 50),
          "ms",
          ms(sortedCopy(w.qi), 50),
        ),
      ),
      row(
        `  same, latency p50, each client alone (${mineAlone.length} vs ${qiAlone.length} frames)`,
        ms(mineAlone, 50),
        "ms",
        ms(qiAlone, 50),
      ),
      row("  same, latency p99, each client alone", ms(mineAlone, 99), "ms", ms(qiAlone, 99)),
      row("  same, bytes per frame on the wire", bytes[name], "B", bytes.qi),
    );
  }
  return rows;
}
