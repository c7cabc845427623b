/**
 * The browser path's cost: 640×480×3 RGB frames delivered to a Node client through the
 * Gateway over ws:// (one binary WebSocket frame per qi message) vs over tcp://, same run,
 * same process (Service Directory hosting the camera, gateway and clients share one event loop,
 * so both paths pay the same for everything but the transport).
 *
 *   pull   getImage() calls, 4 in flight, for 2 s: frames/s
 *   push   `image` signal emitted at 60 fps for 2 s: frames/s delivered, drops counted
 */
import { startGateway } from "../src/gateway/index.js";
import { QiObject, type RemoteObject } from "../src/object/index.js";
import { Session } from "../src/session/index.js";
import { Raw } from "../src/wire/values.js";
import type { BenchRow } from "./table.js";

const GROUP = "browser";
const W = 640;
const H = 480;
const FRAME = W * H * 3;
const SECONDS = 2;
const IN_FLIGHT = 4;
const PUSH_FPS = 60;

async function pull(camera: RemoteObject): Promise<number> {
  let frames = 0;
  const end = performance.now() + SECONDS * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const [, , , raw] = await camera.call<[number, number, number, Raw]>("getImage");
      if (raw.bytes.length !== FRAME) throw new Error(`bad frame of ${raw.bytes.length} bytes`);
      frames++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return (frames * 1000) / (performance.now() - t0);
}

async function push(
  camera: RemoteObject,
  object: QiObject,
  pixels: Uint8Array,
): Promise<{ fps: number; lost: number }> {
  let got = 0;
  const link = await camera.signal("image").connect((_w: number, _h: number, _seq: number, raw: Raw) => {
    if (raw.bytes.length === FRAME) got++;
  });
  let sent = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      object.emit("image", W, H, sent++, new Raw(pixels));
      if (sent >= PUSH_FPS * SECONDS) {
        clearInterval(timer);
        resolve();
      }
    }, 1000 / PUSH_FPS);
  });
  const deadline = performance.now() + 2000;
  while (got < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const elapsed = performance.now() - t0;
  await camera.signal("image").disconnect(link);
  return { fps: (got * 1000) / elapsed, lost: sent - got };
}

export async function run(): Promise<BenchRow[]> {
  const pixels = new Uint8Array(FRAME);
  for (let i = 0; i < FRAME; i++) pixels[i] = (i * 7) & 0xff;
  let seq = 0;
  const object = new QiObject()
    .method("getImage", "()", "(iiIr)", () => [W, H, seq++, new Raw(pixels)])
    .signal("image", "(iiIr)");
  const sd = new Session();
  const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
  await sd.registerService("ALVideoDevice", object);
  const gw = await startGateway({
    attach: sdUrl,
    listen: ["tcp://127.0.0.1:0", "ws://127.0.0.1:0"],
    allowAnonymous: true,
  });
  await gw.waitAttached();
  const tcpUrl = gw.endpoints().find((e) => e.startsWith("tcp://"))!;
  const wsUrl = gw.endpoints().find((e) => e.startsWith("ws://"))!;
  const clients: Record<"tcp" | "ws", Session> = { tcp: new Session(), ws: new Session() };
  try {
    await clients.tcp.connect(tcpUrl);
    await clients.ws.connect(wsUrl);
    const cams = {
      tcp: await clients.tcp.service("ALVideoDevice"),
      ws: await clients.ws.service("ALVideoDevice"),
    };
    // warm-up, then alternate so neither path gets a cold or a hot slot only
    await pull(cams.tcp);
    await pull(cams.ws);
    const pulls = { tcp: [] as number[], ws: [] as number[] };
    for (let round = 0; round < 2; round++) {
      pulls.tcp.push(await pull(cams.tcp));
      pulls.ws.push(await pull(cams.ws));
    }
    const pushTcp = await push(cams.tcp, object, pixels);
    const pushWs = await push(cams.ws, object, pixels);
    const best = (xs: number[]) => Math.max(...xs);
    return [
      {
        group: GROUP,
        case: `640×480×3 getImage() through the gateway, ${IN_FLIGHT} in flight: ws client (baseline: tcp client)`,
        value: best(pulls.ws),
        unit: "frames/s",
        baseline: best(pulls.tcp),
      },
      {
        group: GROUP,
        case: `640×480×3 image signal at ${PUSH_FPS} fps through the gateway: ws client (baseline: tcp; lost ws ${pushWs.lost}, tcp ${pushTcp.lost})`,
        value: pushWs.fps,
        unit: "frames/s",
        baseline: pushTcp.fps,
      },
    ];
  } finally {
    await clients.tcp.close();
    await clients.ws.close();
    await gw.close();
    await sd.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((rows) => console.table(rows));
}
