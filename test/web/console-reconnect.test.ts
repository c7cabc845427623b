/**
 * Issue 11, the console's part: a real `qi start` (fixed ports, fixed token) is killed
 * (SIGKILL: a crash) under a Chromium page that shows the camera and watches a property. The
 * page shows "reconnecting…" instead of returning to the login, and once `qi start` is back on
 * the same ports the banner goes and the camera draws new frames without the user doing
 * anything. The page is this test's build, served by Chromium's request interception at the
 * gateway's own origin (the ws listener takes same-origin pages only; `qi start` from sources
 * serves no console without a dist/web build), so it loads whatever qi start is doing.
 * Screenshots: test-artifacts/console/{reconnecting,reconnected}.png (gitignored).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { buildWeb } from "../../src/web/build.js";
import { QiProcess } from "../cli/run-qi.js";
import { freePort } from "../resilience/helpers.js";
import { CHROMIUM, haveChromium, launchChromium, logIn, screenshot } from "./chromium.js";

if (!haveChromium)
  console.warn(`console-reconnect.test.ts: skipped, ${CHROMIUM} not found (apt-get install chromium)`);

const TOKEN = "console reconnect token";

describe.skipIf(!haveChromium)(`the console rides through a restart of qi start (needs ${CHROMIUM})`, () => {
  let webRoot: string;
  let sdPort: number;
  let wsPort: number;
  let qi: QiProcess | undefined;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const startQi = async (): Promise<QiProcess> => {
    const proc = new QiProcess(
      ["start", "--listen", `tcp://127.0.0.1:${sdPort}`, "--gateway", `ws://127.0.0.1:${wsPort}`],
      { env: { QI_GATEWAY_TOKEN: TOKEN }, timeoutMs: 180_000 },
    );
    qi = proc;
    await proc.waitFor(/Ctrl-C to stop/, "stdout", 60_000);
    return proc;
  };

  const killQi = async (): Promise<void> => {
    const proc = qi;
    qi = undefined;
    if (!proc) return;
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.kill("SIGKILL");
    await proc.exit();
  };

  const drawn = () => page.evaluate(() => Number(document.getElementById("camera")?.dataset.drawn ?? 0));

  beforeAll(async () => {
    webRoot = await mkdtemp(join(tmpdir(), "qi-console-reconnect-"));
    await buildWeb(webRoot, false);
    sdPort = await freePort();
    wsPort = await freePort();
    await startQi();
    // A page answered by interception counts as coming from the public network for Chromium's
    // Local Network Access checks, which would then block its WebSocket to 127.0.0.1.
    browser = await launchChromium(["--disable-features=LocalNetworkAccessChecks"]);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    const types: Record<string, string> = {
      html: "text/html",
      js: "text/javascript",
      css: "text/css",
      svg: "image/svg+xml",
    };
    await page.route(`http://127.0.0.1:${wsPort}/**`, async (route) => {
      const path = new URL(route.request().url()).pathname.slice(1) || "index.html";
      if (!/^[a-z.]+\.(html|js|css|svg)$/.test(path)) return route.fulfill({ status: 404, body: "" });
      const body = await readFile(join(webRoot, path)).catch(() => undefined);
      if (!body) return route.fulfill({ status: 404, body: "" });
      await route.fulfill({ status: 200, contentType: types[path.split(".").pop() ?? ""], body });
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await killQi();
    if (webRoot) await rm(webRoot, { recursive: true, force: true });
  });

  it("shows reconnecting… while qi start is down, then resumes the camera by itself", async () => {
    await page.goto(`http://127.0.0.1:${wsPort}/`);
    await logIn(page, `ws://127.0.0.1:${wsPort}/qi`, "nao", TOKEN);
    await page.click("#services button[data-service='ALBattery']");
    await page.click("button[data-watch-property='charge']");
    await page.waitForSelector("#watchbar [data-live='property:ALBattery.charge']");
    await page.click("#services button[data-service='ALVideoDevice']");
    await page.click("#camera-toggle");
    await page.waitForFunction(
      () => Number(document.getElementById("camera")?.dataset.drawn ?? 0) >= 2,
      undefined,
      { timeout: 20_000 },
    );

    await killQi();
    await page.waitForSelector("body[data-connection='reconnecting']", { timeout: 20_000 });
    const banner = page.locator("#reconnect-banner");
    expect(await banner.isVisible()).toBe(true);
    expect(await banner.textContent()).toMatch(/reconnecting…/);
    expect(await page.isHidden("#login")).toBe(true);
    expect(await page.isVisible("#camera")).toBe(true);
    // Wait for an attempt that failed against the dead port, so the restart is a real comeback.
    await page.waitForFunction(
      () => /attempt [2-9]/.test(document.getElementById("reconnect-banner")?.textContent ?? ""),
      undefined,
      { timeout: 20_000 },
    );
    await screenshot(page, "reconnecting", false);
    const before = await drawn();

    await startQi();
    await page.waitForSelector("body[data-connection='connected']", { timeout: 30_000 });
    expect(await banner.isHidden()).toBe(true);
    expect(await page.textContent("#status")).toMatch(/connected to .* as nao/);
    // The camera resumes on its own: new frames drawn after the comeback.
    await page.waitForFunction(
      (n) => Number(document.getElementById("camera")?.dataset.drawn ?? 0) >= n + 2,
      before,
      { timeout: 30_000 },
    );
    expect(await page.textContent("#camera-toggle")).toBe("stop camera");
    // The property watch resumed too: back on ALBattery, its value is updated in place again
    // (the battery changes its charge every second).
    await page.click("#services button[data-service='ALBattery']");
    await page.waitForFunction(
      () => Number(document.querySelector("pre[data-property='charge']")?.getAttribute("data-updates")) >= 1,
      undefined,
      { timeout: 10_000 },
    );
    expect(await page.textContent("button[data-watch-property='charge']")).toBe("stop");
    expect(await page.isVisible("#watchbar [data-live='camera:ALVideoDevice.image']")).toBe(true);
    await screenshot(page, "reconnected", false);
    expect(await page.isHidden("#login")).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 150_000);
});
