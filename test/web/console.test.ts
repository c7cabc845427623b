/**
 * The web console in a real Chromium (playwright-core), against a Gateway on ws:// with
 * user/token authentication: log in (wrong token first), list services, call a method, watch
 * a signal, see camera frames drawn, read the gateway page (summary, connected clients, a 401).
 * Saves test-artifacts/console/services.png and gateway.png (gitignored).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, haveChromium, launchChromium, screenshot } from "./chromium.js";
import { startWebWorld, TOKEN, USER, type WebWorld } from "./world.js";

if (!haveChromium) console.warn(`console.test.ts: skipped, ${CHROMIUM} not found (apt-get install chromium)`);

describe.skipIf(!haveChromium)(`web console in Chromium (needs ${CHROMIUM})`, () => {
  let world: WebWorld;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    world = await startWebWorld();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it("serves the console and the client bundle with the right content types", async () => {
    const html = await fetch(world.pageUrl);
    expect(html.headers.get("content-type")).toMatch(/text\/html/);
    expect(html.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    const js = await fetch(`${world.pageUrl}qi.js`);
    expect(js.headers.get("content-type")).toMatch(/text\/javascript/);
    expect(await js.text()).toMatch(/export\s*\{/);
    expect((await fetch(`${world.pageUrl}..%2f..%2fetc/passwd`)).status).toBeGreaterThanOrEqual(403);
    // The stats name users and peers: the gateway's credentials are required.
    expect((await fetch(`${world.pageUrl}stats.json`)).status).toBe(401);
    const basic = `Basic ${Buffer.from(`${USER}:${TOKEN}`).toString("base64")}`;
    const stats = await (
      await fetch(`${world.pageUrl}stats.json`, { headers: { authorization: basic } })
    ).json();
    expect(stats).toHaveProperty("attached", true);
  });

  it("refuses a wrong token with a clear message, then logs in", async () => {
    await page.goto(world.pageUrl);
    await page.waitForSelector("body[data-ready='1']");
    expect(await page.inputValue("#login-url")).toBe(`${world.wsUrl}/qi`);
    await page.fill("#login-user", USER);
    await page.fill("#login-token", "wrong token");
    await page.click("#login-button");
    const err = page.locator("#login-error");
    await err.waitFor({ state: "visible" });
    expect(await err.textContent()).toMatch(/Wrong user or token/);
    expect(await err.textContent()).toMatch(/invalid user or token/);

    await page.fill("#login-token", TOKEN);
    await page.click("#login-button");
    await page.waitForSelector("#services button[data-service='Calc']");
    const names = await page.locator("#services button").allTextContents();
    expect(names).toEqual(expect.arrayContaining(["ServiceDirectory", "Calc", "ALVideoDevice"]));
    expect(await page.textContent("#status")).toMatch(/connected .* as alice/);
  });

  it("shows a service's members with readable signatures and calls a method", async () => {
    await page.click("#services button[data-service='Calc']");
    const add = page.locator(".member[data-member='add']");
    await add.waitFor();
    expect(await add.locator(".sig").textContent()).toBe("add(int32 a, int32 b) → int32");
    // One field per parameter, with its type; a wrong one is named as the user sees it.
    expect(await add.locator("label.param").allTextContents()).toEqual(["a int32", "b int32"]);
    await add.locator("input[data-param='a']").fill("40");
    await add.locator("input[data-param='b']").fill('"two"');
    await add.locator("button[data-call='add']").click();
    await page.waitForFunction(() =>
      document.querySelector(".member[data-member='add'] pre")?.textContent?.startsWith("b (int32):"),
    );
    expect(await add.locator("pre").textContent()).not.toMatch(/arg|\[1\]/);
    await add.locator("input[data-param='b']").fill("2");
    await add.locator("button[data-call='add']").click();
    await page.waitForFunction(() =>
      document.querySelector(".member[data-member='add'] pre")?.textContent?.startsWith("42"),
    );
    const greet = page.locator(".member[data-member='greet']");
    await greet.locator("input").fill("browser"); // a string parameter takes plain text
    await greet.locator("button").click();
    await page.waitForFunction(() =>
      document.querySelector(".member[data-member='greet'] pre")?.textContent?.startsWith('"hello browser"'),
    );
    await page.waitForFunction(
      () => document.querySelector("pre[data-property='level']")?.textContent === "7",
    );
    // Set the property from the page: the service sees the new value, the page shows it.
    const level = page.locator("pre[data-property='level']").locator("xpath=..");
    await level.locator("input").fill("9");
    await level.locator("button", { hasText: "set" }).click();
    await page.waitForFunction(
      () => document.querySelector("pre[data-property='level']")?.textContent === "9",
    );
    expect(world.calc.getProperty("level")).toBe(9);
  });

  it("watches a signal live", async () => {
    await page.click("button[data-watch='tick']");
    await page.waitForFunction(
      () => document.querySelector("button[data-watch='tick']")?.textContent === "stop",
    );
    for (let i = 1; i <= 3; i++) world.calc.emit("tick", i, `n${i}`);
    const group = page.locator("#messages [data-signal='signal:Calc.tick']");
    await page.waitForFunction(
      () => document.querySelectorAll("#messages [data-signal='signal:Calc.tick'] li").length >= 3,
    );
    const lines = await group.locator("li .line").allTextContents();
    expect(lines).toEqual(['[3,"n3"]', '[2,"n2"]', '[1,"n1"]']);
    expect(await group.locator("li .n").allTextContents()).toEqual(["#3", "#2", "#1"]);
    // The watch bar offers a stop wherever the user goes.
    expect(await page.isVisible("#watchbar [data-stop='signal:Calc.tick']")).toBe(true);
  });

  it("draws camera frames (640×480 RGB) into a canvas", async () => {
    await page.click("#services button[data-service='ALVideoDevice']");
    await page.click("#camera-toggle");
    await page.waitForFunction(
      () => Number((document.getElementById("camera") as HTMLCanvasElement)?.dataset.sequence ?? -1) >= 2,
      undefined,
      {
        timeout: 15_000,
      },
    );
    const pixels = await page.evaluate(() => {
      const c = document.getElementById("camera") as HTMLCanvasElement;
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      let distinct = new Set<number>();
      for (let i = 0; i < d.length; i += 4) {
        sum += d[i] + d[i + 1] + d[i + 2];
        if (distinct.size < 100) distinct.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      }
      distinct = new Set([...distinct]);
      return { w: c.width, h: c.height, sum, distinct: distinct.size };
    });
    expect(pixels.w).toBe(640);
    expect(pixels.h).toBe(480);
    expect(pixels.sum).toBeGreaterThan(0);
    expect(pixels.distinct).toBeGreaterThan(10);
    await page.waitForFunction(
      () => /fps received/.test(document.getElementById("camera-info")?.textContent ?? ""),
      undefined,
      {
        timeout: 5_000,
      },
    );
    await screenshot(page, "services");
  });

  it("shows the gateway page from /stats.json", async () => {
    // The world's handler has no `authenticate` (test/web/stats-auth.test.ts covers the
    // server side); here: the console sends the login's credentials and renders the answer.
    const authorizations: Array<string | undefined> = [];
    await page.route("**/stats.json", async (route) => {
      authorizations.push(route.request().headers().authorization);
      await route.continue();
    });
    await page.click("#tab-gateway");
    await page.waitForSelector("#gateway-clients tbody tr[data-user='alice']");
    expect(authorizations[0]).toBe(`Basic ${Buffer.from(`${USER}:${TOKEN}`).toString("base64")}`);
    const stat = (key: string) => page.textContent(`#gateway-summary [data-stat='${key}'] .value`);
    expect(await stat("clients")).toBe("1");
    expect(await stat("attached")).toBe("attached");
    expect(await stat("calls")).toMatch(/^[1-9][\d,]*$/); // the console's own calls went through
    const bytesOut = (await stat("bytesOut")) ?? "";
    expect(bytesOut).toMatch(/^\d+(\.\d)? (MB|GB)$/); // camera frames went through
    expect(Number.parseFloat(bytesOut) * (bytesOut.endsWith("GB") ? 1000 : 1)).toBeGreaterThan(0.9);

    const row = page.locator("#gateway-clients tbody tr[data-user='alice']");
    const cells = await row.locator("td").allTextContents();
    expect(cells).toHaveLength(9);
    const [number, user, peer, since, pending, subscriptions, objects, queued, dropped] = cells;
    expect(number).toMatch(/^\d+$/);
    expect(user).toBe(USER);
    expect(peer).toMatch(/127\.0\.0\.1/);
    expect(since).toMatch(/^\d+ (s|min)$/);
    expect(pending).toBe("0");
    expect(Number(subscriptions)).toBeGreaterThanOrEqual(1); // Calc.tick is still watched
    expect(Number(objects)).toBeGreaterThanOrEqual(0);
    expect(queued).toMatch(/^\d+(\.\d)? [kMG]?B$/);
    expect(dropped).toMatch(/^\d+$/);
    await page.waitForFunction(
      () => Number(document.getElementById("gateway-plot-traffic")?.dataset.points ?? 0) >= 3,
    );
    await screenshot(page, "gateway");

    // A refusal shows a clear message instead of the page (and stops polling).
    await page.unroute("**/stats.json");
    await page.route("**/stats.json", (route) =>
      route.fulfill({
        status: 401,
        contentType: "application/json",
        body: JSON.stringify({ error: "invalid user or token" }),
      }),
    );
    await page.click("#gateway-refresh");
    const err = page.locator("#gateway-error");
    await err.waitFor({ state: "visible" });
    expect(await err.textContent()).toMatch(
      /refused the credentials you logged in with \(invalid user or token\)/,
    );
    expect(await page.isHidden("#gateway-content")).toBe(true);
    await page.unroute("**/stats.json");
    await page.click("#gateway-refresh");
    await page.waitForSelector("#gateway-error", { state: "hidden" });
    expect(await page.isVisible("#gateway-clients tbody tr[data-user='alice']")).toBe(true);

    await page.click("#tab-services");
    expect(pageErrors).toEqual([]);
  });
});
