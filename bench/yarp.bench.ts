/**
 * YARP bridge benchmarks, one run, against the real YARP name server (skipped when absent):
 *  - the camera (640×480 RGB) at 30 fps through the bridge to a YARP reader of the project's
 *    own (the tcp carrier, as `yarp read` speaks it) beside the same stream to a qi client of
 *    the gateway: frames/s delivered, latency from emission p50/p99;
 *  - `say ""` round trips per second over `/qi/ALTextToSpeech/rpc` (a tcp-carrier RPC client)
 *    beside the same call from a qi client of the gateway.
 * Run alone: `npx tsx bench/index.ts yarp`.
 */
import { connect } from "node:net";
import pino from "pino";
import { startBridges, stopBridges } from "../src/bridges/index.js";
import { decodeBottlePrefix, encodeBottle, type Bottle } from "../src/bridges/yarp/bottle.js";
import { ByteQueue } from "../src/bridges/yarp/byte-queue.js";
import { dataMessage, readYarpNumber, tcpOpening } from "../src/bridges/yarp/carrier.js";
import { NameClient } from "../src/bridges/yarp/name-client.js";
import { createDemoServices } from "../src/demo/index.js";
import { Session } from "../src/session/index.js";
import { TestReader } from "../test/bridges/yarp/reader.js";
import { until, YARP_FOUND, YarpEnv } from "../test/bridges/yarp/yarp-env.js";
import { runCleanup, world } from "../test/gateway/world.js";
import type { BenchRow } from "./table.js";

const GROUP = "yarp";
const SECONDS = 4;
const logger = pino({ level: "silent" });

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : Number.NaN;
}

/** A tcp-carrier RPC client: sends a Bottle, reads the reply Bottle and the acknowledgement. */
async function rpcClient(host: string, port: number) {
  const socket = connect(port, host);
  socket.setNoDelay(true);
  const q = new ByteQueue(socket);
  await new Promise<void>((r, f) => socket.once("connect", r).once("error", f));
  socket.write(tcpOpening("/bench/rpc"));
  await q.read(8);
  let pending = Buffer.alloc(0);
  return {
    async call(b: Bottle): Promise<Bottle> {
      socket.cork();
      for (const part of dataMessage(encodeBottle(b), true)) socket.write(part);
      socket.uncork();
      for (;;) {
        try {
          const [reply, used] = decodeBottlePrefix(pending);
          pending = pending.subarray(used);
          while (pending.length < 8) pending = Buffer.concat([pending, await q.read(1)]);
          if (readYarpNumber(pending.subarray(0, 8)) === undefined) throw new Error("no acknowledgement");
          pending = pending.subarray(8);
          return reply;
        } catch (e) {
          if ((e as Error).message !== "truncated Bottle" && pending.length > 0) throw e;
          pending = Buffer.concat([pending, await q.read(Math.max(1, Math.min(q.buffered, 1 << 16)))]);
        }
      }
    },
    close: () => socket.destroy(),
  };
}

export async function run(): Promise<BenchRow[]> {
  if (!YARP_FOUND)
    return [{ group: GROUP, case: "skipped: YARP not found (YARP_DIR)", value: "-", unit: "" }];
  const yarp = new YarpEnv();
  const rows: BenchRow[] = [];
  try {
    await yarp.start();
    const names = new NameClient({ host: "127.0.0.1", port: yarp.port });
    const w = await world();
    const services = createDemoServices({ logger });
    for (const s of services) await w.host.registerService(s.name, s.object);
    for (const s of services) s.start?.();
    const camera = services.find((s) => s.name === "ALVideoDevice")!.object;
    camera.setProperty("fps", 30);
    const emitted = new Map<number, number>();
    const imageUid = [...camera.metaObject().signals.values()].find((s) => s.name === "image")!.uid;
    camera.connect(imageUid, (args) => emitted.set(args[2] as number, performance.now()));
    const bridges = await startBridges(
      w.gw,
      [{ name: "yarp", settings: { nameserver: `127.0.0.1:${yarp.port}` } }],
      { logger, demo: true },
    );

    // Camera: the YARP reader and a qi client of the gateway, at once.
    const yarpLat: number[] = [];
    const reader = new TestReader("/bench/camera", names, (b) => {
      const now = performance.now();
      const pixels = b[3] as Uint8Array;
      const mod = pixels[0] / 8; // the demo's pattern moves 8 pixels per frame: seq % 32
      let best: number | undefined;
      for (const [seq, t] of emitted)
        if (seq % 32 === mod && t <= now && (best === undefined || seq > best)) best = seq;
      if (best !== undefined) yarpLat.push(now - emitted.get(best)!);
    });
    await reader.open();
    const qi = new Session();
    await qi.connect(w.gwUrl);
    const qiLat: number[] = [];
    const video = await qi.service("ALVideoDevice");
    await video.signal("image").connect((_w: number, _h: number, seq: number) => {
      const t = emitted.get(seq);
      if (t !== undefined) qiLat.push(performance.now() - t);
    });
    await yarp.run(["connect", "/qi/ALVideoDevice/image:o", "/bench/camera"]);
    await until(() => yarpLat.length > 5 && qiLat.length > 5, "frames on both sides");
    yarpLat.length = 0;
    qiLat.length = 0;
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const [ny, nq] = [yarpLat.length / SECONDS, qiLat.length / SECONDS];
    rows.push(
      {
        group: GROUP,
        case: "camera 640x480 rgb @30 fps → YARP reader, frames/s (vs qi client)",
        value: ny,
        unit: "frames/s",
        baseline: nq,
      },
      {
        group: GROUP,
        case: "camera → YARP reader latency p50 (vs qi client)",
        value: pct(yarpLat, 50),
        unit: "ms",
        baseline: pct(qiLat, 50),
      },
      {
        group: GROUP,
        case: "camera → YARP reader latency p99 (vs qi client)",
        value: pct(yarpLat, 99),
        unit: "ms",
        baseline: pct(qiLat, 99),
      },
    );
    await reader.close();

    // say "" round trips: YARP RPC port vs a qi client call through the gateway.
    const where = (await names.query("/qi/ALTextToSpeech/rpc"))!;
    const client = await rpcClient(where.host, where.port);
    const tts = await qi.service("ALTextToSpeech");
    const rate = async (f: () => Promise<unknown>) => {
      for (let i = 0; i < 50; i++) await f();
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 2_000) {
        await f();
        n++;
      }
      return (n * 1000) / (performance.now() - t0);
    };
    const reply = await client.call(["say", ""]);
    if (reply[0] !== "ok") throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
    const overYarp = await rate(() => client.call(["say", ""]));
    const overQi = await rate(() => tts.call("say", ""));
    rows.push({
      group: GROUP,
      case: 'say "" round trips over /qi/ALTextToSpeech/rpc (vs qi client)',
      value: overYarp,
      unit: "calls/s",
      baseline: overQi,
    });
    client.close();
    await qi.close();
    for (const s of services) s.stop?.();
    await stopBridges(bridges);
    await runCleanup();
  } finally {
    await yarp.close();
  }
  return rows;
}
