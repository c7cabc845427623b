/**
 * The world of the browser tests: a Service Directory (tcp) with a "Calc" service and the demo
 * camera ALVideoDevice, a Gateway listening on ws:// with user/token authentication, and the
 * web console served by that same ws listener (so the page is same-origin with its WebSocket).
 *
 * The Gateway does not pass `ws` listen options through yet (GatewayOptions has no `ws`), so
 * the web handler is injected by wrapping the ws scheme driver for the gateway's listen call.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createVideoDevice, type DemoService } from "../../src/demo/index.js";
import {
  type Gateway,
  GatewayAuthProvider,
  type GatewayOptions,
  hashToken,
  startGateway,
} from "../../src/gateway/index.js";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { registerScheme } from "../../src/transport/schemes.js";
import { wsDriver } from "../../src/transport/ws.js";
import { buildWeb } from "../../src/web/build.js";
import { gatewayWebHandler } from "../../src/web/console-handler.js";

export const USER = "alice";
export const TOKEN = "correct horse battery staple";

export interface WebWorld {
  sd: Session;
  gateway: Gateway;
  calc: QiObject;
  camera: DemoService;
  /** http://127.0.0.1:port/ of the gateway's ws listener (the console). */
  pageUrl: string;
  /** ws://127.0.0.1:port of the gateway. */
  wsUrl: string;
  webRoot: string;
  close(): Promise<void>;
}

export async function startWebWorld(gatewayOptions: Partial<GatewayOptions> = {}): Promise<WebWorld> {
  const webRoot = await mkdtemp(join(tmpdir(), "qi-web-"));
  await buildWeb(webRoot, false);

  const sd = new Session();
  const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const calc = new QiObject({ description: "A calculator for the console test" })
    .method("add", "(ii)", "i", (a: number, b: number) => a + b, {
      parameters: [{ name: "a" }, { name: "b" }],
      description: "Adds two numbers",
    })
    .method("greet", "(s)", "s", (name: string) => `hello ${name}`)
    .signal("tick", "(is)")
    .property("level", "i", 7);
  await sd.registerService("Calc", calc);
  const camera = createVideoDevice();
  await sd.registerService(camera.name, camera.object);
  camera.start?.();

  let gateway: Gateway | undefined;
  const handler = gatewayWebHandler(webRoot, () => gateway);
  registerScheme("ws", {
    connect: wsDriver.connect,
    listen: (url, opts, onChannel) =>
      wsDriver.listen(url, { ...opts, ws: { ...opts.ws, httpHandler: handler } }, onChannel),
  });
  try {
    gateway = await startGateway({
      attach: sdUrl,
      listen: ["ws://127.0.0.1:0"],
      authProvider: new GatewayAuthProvider({ [USER]: { token: hashToken(TOKEN) } }),
      ...gatewayOptions,
    });
  } finally {
    registerScheme("ws", wsDriver);
  }
  await gateway.waitAttached();
  const wsUrl = gateway.endpoints().find((e) => e.startsWith("ws://"))!;
  const gw = gateway;
  return {
    sd,
    gateway: gw,
    calc,
    camera,
    wsUrl,
    pageUrl: `${wsUrl.replace(/^ws:/, "http:")}/`,
    webRoot,
    async close() {
      camera.stop?.();
      await gw.close();
      await sd.close();
      await rm(webRoot, { recursive: true, force: true });
    },
  };
}
