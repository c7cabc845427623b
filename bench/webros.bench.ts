/**
 * The web bridges' camera path: the simulated 640×480 rgb8 camera at 30 fps through the
 * gateway to roslibjs over rosbridge (CBOR), to @foxglove/ws-protocol's FoxgloveClient
 * (foxglove_msgs/RawImage, ROS 1 encoding), and to a qi client of the gateway over tcp://, all
 * three subscribed on the same 8 s window in this process. Rows: frames/s, latency from the
 * camera's emit to the client's receipt (p50, p99, same clock), bytes per frame on the wire.
 * The qi client is each row's baseline. (rosbridge_suite itself needs ~269 ms to JSON-encode
 * one such frame.)
 *
 * Runs alone with `npx tsx bench/index.ts webros`.
 */
import { decode } from "cbor2";
import foxglove from "@foxglove/ws-protocol";
import WebSocket from "ws";
import { UserTokenAuthenticator } from "../src/index.js";
import { Session } from "../src/session/index.js";
import { Ros, Topic } from "../test/bridges/rosbridge/roslib-api.js";
import { ALICE, startWebBridgeWorld, until } from "../test/bridges/rosbridge/world.js";
import type { BenchRow } from "./table.js";

const GROUP = "webros";
const SECONDS = 8;
const STEP = 8; // the demo camera's pattern moves 8 pixels a frame, repeating every 256

function percentile(sorted: number[], p: number): number {
  return sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!
    : Number.NaN;
}

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

    const latencies: Record<string, number[]> = { qi: [], rosbridge: [], foxglove: [] };
    let measuring = false;
    const record = (name: string, seq: number | undefined) => {
      const at = seq === undefined ? undefined : emitted.get(seq);
      if (measuring && at !== undefined) latencies[name]!.push(performance.now() - at);
    };

    const qi = new Session({ authenticator: new UserTokenAuthenticator(ALICE.user, ALICE.token) });
    await qi.connect(world.qiUrl);
    const camera = await qi.service("ALVideoDevice");
    await camera.signal("image").connect((...args: unknown[]) => record("qi", Number(args[2])));

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
    topic.subscribe((m) => record("rosbridge", (m as { header: { seq: number } }).header.seq));

    const fox = new foxglove.FoxgloveClient({
      ws: new WebSocket(
        `${world.urls.foxglove}/?user=${ALICE.user}&token=${encodeURIComponent(ALICE.token)}`,
        [foxglove.FoxgloveClient.SUPPORTED_SUBPROTOCOL],
      ) as never,
    });
    let foxBytes = 0;
    fox.on("advertise", (channels) => {
      const image = channels.find((c) => c.topic === "/qi/ALVideoDevice/image");
      if (image) fox.subscribe(image.id);
    });
    fox.on("message", ({ data }) => {
      foxBytes = data.byteLength + 13; // opcode, subscription id, timestamp
      // The first pixel's red byte is (8 × seq) mod 256: the frame among the last 32 emitted.
      const red = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).at(-921_600)!;
      record("foxglove", byResidue.get(red / STEP));
    });

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

    await until(() => foxBytes > 0, "the Foxglove stream", 20_000);
    measuring = true;
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    measuring = false;
    off();
    topic.unsubscribe();
    ros.close();
    fox.close();
    await qi.close();

    const stats = (name: string) => {
      const sorted = [...latencies[name]!].sort((a, b) => a - b);
      return { fps: sorted.length / SECONDS, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    };
    const base = stats("qi");
    const rows: BenchRow[] = [];
    const bytes: Record<string, number> = { qi: 921_600 + 28 + 16, rosbridge: rosBytes, foxglove: foxBytes };
    for (const name of ["rosbridge", "foxglove"]) {
      const s = stats(name);
      const label =
        name === "rosbridge" ? "rosbridge → roslibjs (CBOR)" : "Foxglove WS → FoxgloveClient (RawImage)";
      rows.push(
        {
          group: GROUP,
          case: `camera 640×480×3 @30 fps, ${label}: frames/s`,
          value: +s.fps.toFixed(1),
          unit: "frames/s",
          baseline: +base.fps.toFixed(1),
        },
        {
          group: GROUP,
          case: `  same, latency p50`,
          value: +s.p50.toFixed(2),
          unit: "ms",
          baseline: +base.p50.toFixed(2),
        },
        {
          group: GROUP,
          case: `  same, latency p99`,
          value: +s.p99.toFixed(2),
          unit: "ms",
          baseline: +base.p99.toFixed(2),
        },
        {
          group: GROUP,
          case: `  same, bytes per frame on the wire`,
          value: bytes[name]!,
          unit: "B",
          baseline: bytes.qi!,
        },
      );
    }
    return rows;
  } finally {
    // The standalone Service Directory's close() can stay pending with nothing left to wake
    // it (seen here; not the bridges'), which would end the process before the rows print.
    const bound = new Promise<void>((r) => setTimeout(r, 5_000));
    await Promise.race([
      world.close(),
      bound.then(() => console.error("world.close() still pending after 5 s")),
    ]);
  }
}
