/**
 * The robots found on the LAN at the console's login, in a real Chromium (playwright-core):
 * /robots.json is refused until the user and token are typed, then the list shows; a robot
 * with a WebSocket URL fills the endpoint when chosen (and the login through it works), a tcp-only
 * NAOqi robot is shown but cannot be chosen, and a hostile name stays text. The list comes from
 * a fixed source here (multicast is lan.peer.test.ts's business). Saves
 * test-artifacts/console-robot-choices.png.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscoveredRobot } from "../../src/discovery/index.js";
import { type Gateway, GatewayAuthProvider, hashToken, startGateway } from "../../src/gateway/index.js";
import { Session } from "../../src/session/index.js";
import { buildWeb } from "../../src/web/build.js";
import { gatewayWebHandler } from "../../src/web/index.js";
import { CHROMIUM, haveChromium, launchChromium } from "../web/chromium.js";

if (!haveChromium) console.warn(`console-choices.test.ts: skipped, ${CHROMIUM} not found`);

const USER = "alice";
const TOKEN = "robots at login";

describe.skipIf(!haveChromium)("robot choices at the console's login (Chromium)", () => {
  let root: string;
  let sd: Session;
  let gw: Gateway;
  let browser: Browser;
  let page: Page;
  let wsUrl: string;
  const robots: DiscoveredRobot[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "qi-web-robots-"));
    await buildWeb(root, false);
    sd = new Session();
    const [sdUrl] = await sd.listenStandalone("tcp://127.0.0.1:0");
    let gateway: Gateway | undefined;
    gateway = await startGateway({
      attach: sdUrl,
      listen: ["ws://127.0.0.1:0"],
      authProvider: new GatewayAuthProvider({ [USER]: { token: hashToken(TOKEN) } }),
      ws: {
        httpHandler: gatewayWebHandler(
          root,
          () => gateway,
          () => robots,
        ),
      },
    });
    gw = gateway;
    await gw.waitAttached();
    wsUrl = gw.endpoints().find((e) => e.startsWith("ws://"))!;
    const port = Number(new URL(wsUrl).port);
    robots.push(
      {
        name: "Lab robot",
        address: "127.0.0.1",
        addresses: ["127.0.0.1"],
        port: 9503,
        tls: false,
        url: "tcp://127.0.0.1:9503",
        ws: `ws://127.0.0.1:${port}/qi`,
      },
      {
        name: "Pepper",
        address: "192.0.2.31",
        addresses: ["192.0.2.31"],
        port: 9559,
        tls: false,
        url: "tcp://192.0.2.31:9559",
        robotType: "Pepper",
      },
      {
        name: '<img src=x onerror="document.body.dataset.pwned=1">',
        address: "192.0.2.66",
        addresses: ["192.0.2.66"],
        port: 9559,
        tls: true,
        url: "tcps://192.0.2.66:9559",
        ws: "javascript:alert(1)",
      },
    );
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 900, height: 800 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await sd?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("asks for credentials, lists the robots, fills the endpoint with the chosen one, logs in through it", async () => {
    await page.goto(`${wsUrl.replace(/^ws:/, "http:")}/?url=ws://127.0.0.1:1/qi`);
    await page.waitForSelector("body[data-ready='1']");
    const box = page.locator("#robot-choices");
    await box.waitFor({ state: "visible" });
    await page.waitForFunction(() =>
      /user and token/.test(document.querySelector("#robot-choices")?.textContent ?? ""),
    );
    await page.fill("#login-user", USER);
    await page.fill("#login-token", TOKEN);
    await page.locator("#login-token").dispatchEvent("change");
    await page.waitForSelector("#robot-choices button[data-url]");
    const buttons = page.locator("#robot-choices button");
    expect(await buttons.count()).toBe(3);
    const texts = await buttons.allTextContents();
    expect(texts[0]).toMatch(/^Lab robot — ws:\/\/127\.0\.0\.1:\d+\/qi$/);
    expect(texts[1]).toBe("Pepper — tcp://192.0.2.31:9559 (Pepper)");
    expect(texts[2]).toMatch(/^<img src=x onerror=.*tcps:\/\/192\.0\.2\.66:9559 \(TLS\)$/);
    // The hostile entry: text only, and its javascript: "ws" was not taken.
    expect(await page.locator("#robot-choices img").count()).toBe(0);
    expect(await buttons.nth(1).isDisabled()).toBe(true);
    expect(await buttons.nth(1).getAttribute("title")).toMatch(/needs a ws or wss endpoint/);
    expect(await buttons.nth(2).isDisabled()).toBe(true);

    await buttons.nth(0).click();
    expect(await page.inputValue("#login-url")).toBe(robots[0].ws);
    await mkdir("test-artifacts", { recursive: true });
    await page.screenshot({ path: "test-artifacts/console-robot-choices.png", fullPage: true });
    await page.click("#login-button");
    await page.waitForSelector("#services button[data-service='ServiceDirectory']");
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
