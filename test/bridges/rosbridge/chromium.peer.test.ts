/**
 * roslibjs in a real browser: Debian's Chromium (through playwright-core) loads roslib
 * (bundled here with esbuild from the npm package, served from 127.0.0.1), connects to the
 * rosbridge bridge, logs in with ros.authenticate and subscribes to a topic. Skips with one
 * line when /usr/bin/chromium is absent.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE, startWebBridgeWorld, type WebBridgeWorld } from "./world.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(`chromium.peer.test.ts: skipped, ${CHROMIUM} not found (apt-get install chromium)`);

describe.skipIf(!haveChromium)(`roslibjs in Chromium (needs ${CHROMIUM})`, () => {
  let world: WebBridgeWorld;
  let browser: Browser | undefined;
  let server: Server | undefined;

  beforeAll(async () => {
    world = await startWebBridgeWorld({ rosbridge: {} });
    const bundle = await build({
      stdin: { contents: 'export * from "roslib";', resolveDir: process.cwd() },
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      // roslib reaches for the `ws` package only without a WebSocket of its own: the browser's.
      plugins: [
        {
          name: "browser-websocket",
          setup(b) {
            b.onResolve({ filter: /^ws$/ }, () => ({ path: "ws", namespace: "browser-websocket" }));
            b.onLoad({ filter: /.*/, namespace: "browser-websocket" }, () => ({
              contents: "export const WebSocket = globalThis.WebSocket;",
            }));
          },
        },
      ],
      logLevel: "silent",
    });
    const script = bundle.outputFiles[0]!.text;
    const page = `<!doctype html><script type="module">
      import { Ros, Topic } from "/roslib.js";
      window.levels = [];
      const ros = new Ros({ url: new URL(location.href).searchParams.get("ws") });
      ros.on("connection", () => {
        ros.authenticate(${JSON.stringify(ALICE.token)}, ${JSON.stringify(ALICE.user)}, "", "", 0, "", 0);
        new Topic({ ros, name: "/qi/Calc/level", messageType: "std_msgs/Int32" }).subscribe((m) => window.levels.push(m.data));
      });
    </script>`;
    server = createServer((req, res) => {
      if (req.url === "/roslib.js") res.writeHead(200, { "content-type": "text/javascript" }).end(script);
      else res.writeHead(200, { "content-type": "text/html" }).end(page);
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await world?.close();
  });

  it("subscribes to a topic and sees its value and a change", async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const port = (server!.address() as AddressInfo).port;
    await page.goto(`http://127.0.0.1:${port}/?ws=${encodeURIComponent(world.urls.rosbridge!)}`);
    await page.waitForFunction(() => (window as unknown as { levels: number[] }).levels?.includes(7), null, {
      timeout: 30_000,
    });
    await world.calc.setProperty("level", 8);
    await page.waitForFunction(() => (window as unknown as { levels: number[] }).levels.includes(8), null, {
      timeout: 30_000,
    });
    await world.calc.setProperty("level", 7);
    expect(errors).toEqual([]);
  });
});
