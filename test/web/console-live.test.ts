/**
 * The console's live pages in a real Chromium, against a Gateway (ws, user/token) over a
 * Service Directory with Calc, the demo camera, ALBattery, ALMemory and LogManager: plot a live
 * numeric signal argument and a property on one chart (pause holds the chart), watch a
 * property (value in place, float32 in its shortest form), stop it from the watch bar, open a
 * returned object (LogManager.createListener) as a panel and release it on close, show log
 * lines with level/category/search filters, ALMemory's keys live, the layout at 420 px, and a
 * watch at a rate the page asks for.
 * Screenshots: test-artifacts/console/{plots,object,logs,memory,narrow-420}.png (gitignored).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import {
  createBattery,
  createLogManager,
  createMemory,
  type LogManagerService,
} from "../../src/demo/index.js";
import { Dynamic } from "../../src/wire/index.js";
import { gatewayStats } from "../../src/web/stats.js";
import { CHROMIUM, haveChromium, launchChromium, logIn, screenshot } from "./chromium.js";
import { startWebWorld, TOKEN, USER, type WebWorld } from "./world.js";

if (!haveChromium)
  console.warn(`console-live.test.ts: skipped, ${CHROMIUM} not found (apt-get install chromium)`);

describe.skipIf(!haveChromium)(`the console's live pages in Chromium (needs ${CHROMIUM})`, () => {
  let world: WebWorld;
  let browser: Browser;
  let page: Page;
  let logs: LogManagerService;
  const stopTimers: Array<() => void> = [];
  const pageErrors: string[] = [];

  const clientObjects = async (): Promise<number> => {
    const stats = await gatewayStats(world.gateway, USER); // alice sees her own rows
    return stats.clients.reduce((n, c) => n + c.objects, 0);
  };

  beforeAll(async () => {
    world = await startWebWorld();
    logs = createLogManager();
    const battery = createBattery(87);
    const memory = createMemory();
    for (const s of [memory, battery, logs]) {
      await world.sd.registerService(s.name, s.object);
      s.start?.();
      stopTimers.push(() => s.stop?.());
    }
    const mem = await world.sd.service("ALMemory");
    await mem.call("insertData", "Device/SubDeviceList/Battery/Charge", new Dynamic("f", 0.8));
    await mem.call("insertData", "Robot/Name", new Dynamic("s", "nao"));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(world.pageUrl);
    await logIn(page, `${world.wsUrl}/qi`, USER, TOKEN);
  }, 60_000);

  afterAll(async () => {
    for (const stop of stopTimers) stop();
    await browser?.close();
    await world?.close();
  });

  it("serves a favicon", async () => {
    const r = await fetch(`${world.pageUrl}favicon.svg`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/image\/svg\+xml/);
    expect(await page.getAttribute("link[rel='icon']", "href")).toBe("favicon.svg");
  });

  it("plots a live numeric signal argument and a property on one chart, and pauses", async () => {
    await page.click("#services button[data-service='Calc']");
    await page.click("button[data-plot='tick[0]']");
    await page.waitForSelector("#watchbar [data-live='plot:Calc.tick[0]']");
    let n = 0;
    // Emit until the chart holds and drew several points (the subscription is live by now).
    await expect
      .poll(
        async () => {
          for (let i = 0; i < 3; i++) world.calc.emit("tick", ++n * 10, `n${n}`);
          return page.evaluate(() => Number(document.getElementById("plot")?.dataset.points ?? 0));
        },
        { timeout: 15_000 },
      )
      .toBeGreaterThanOrEqual(6);
    await page.waitForFunction(() => Number(document.getElementById("plot")?.dataset.drawn ?? 0) >= 1);

    await page.click("#services button[data-service='ALBattery']");
    await page.click("button[data-plot-property='charge']");
    await page.waitForFunction(() => document.querySelectorAll("#plot [data-plot-series]").length === 2);
    expect(await page.locator("#plot [data-plot-series]").allTextContents()).toEqual([
      "Calc.tick[0]×",
      "ALBattery.charge×",
    ]);
    // The chart has its canvas and drew the series.
    expect(await page.locator("#plot canvas").count()).toBeGreaterThanOrEqual(1);

    // Paused: points still arrive (bounded), the chart is not redrawn.
    await page.click("#plot .plot-pause");
    const drawn = await page.evaluate(() => document.getElementById("plot")?.dataset.drawn);
    const before = await page.evaluate(() => Number(document.getElementById("plot")?.dataset.points));
    await expect
      .poll(
        async () => {
          world.calc.emit("tick", ++n * 10, `n${n}`);
          return page.evaluate(() => Number(document.getElementById("plot")?.dataset.points));
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThan(before + 2);
    await page.waitForTimeout(600); // longer than two redraw periods: a redraw would show here
    expect(await page.evaluate(() => document.getElementById("plot")?.dataset.drawn)).toBe(drawn);
    await page.click("#plot .plot-pause");
    await page.waitForFunction((d) => document.getElementById("plot")?.dataset.drawn !== d, drawn);
    await screenshot(page, "plots");
  });

  it("watches a property in place, float32 in its shortest form, and stops it from the watch bar", async () => {
    const value = page.locator("pre[data-property='charge']");
    await page.click("button[data-watch-property='charge']");
    // The battery drains 0.05 a second: each update is a float32 such as 86.95.
    await page.waitForFunction(
      () => Number(document.querySelector("pre[data-property='charge']")?.getAttribute("data-updates")) >= 1,
      undefined,
      { timeout: 10_000 },
    );
    const text = (await value.textContent()) ?? "";
    expect(text).toMatch(/^\d{1,3}(\.\d{1,2})?$/);
    expect(Math.abs(Number(text) - 87)).toBeLessThan(2);
    // The stop stays visible on another service's page.
    await page.click("#services button[data-service='Calc']");
    const stop = page.locator("#watchbar [data-stop='property:ALBattery.charge']");
    expect(await stop.isVisible()).toBe(true);
    await stop.click();
    await page.waitForSelector("#watchbar [data-live='property:ALBattery.charge']", { state: "detached" });
    await page.click("#services button[data-service='ALBattery']");
    expect(await page.textContent("button[data-watch-property='charge']")).toBe("watch");
  });

  it("opens a returned object as its own panel, watches it, and releases it on close", async () => {
    expect(await clientObjects()).toBe(0);
    await page.click("#services button[data-service='LogManager']");
    await page.click("button[data-call='createListener']");
    const panel = page.locator(".object-panel[data-object='LogManager.createListener#1']");
    await panel.waitFor();
    expect(await panel.locator(".member[data-member='setLevel'] .sig").textContent()).toMatch(/^setLevel\(/);
    expect(await panel.locator("[data-property-member='verbosity']").count()).toBe(1);
    expect(await clientObjects()).toBe(1);
    await panel.locator("button[data-watch='onLogMessage']").click();
    const key = "signal:LogManager.createListener#1.onLogMessage";
    await page.waitForSelector(`#watchbar [data-live='${key}']`);
    logs.log("info", "Console.Object", "through the opened object");
    const group = page.locator(`#messages [data-signal='${key}']`);
    await group.locator("li").first().waitFor();
    expect(await group.locator("li .line").first().textContent()).toContain("through the opened object");
    // The JSON tree opens on click.
    await group.locator("li details summary").first().click();
    expect(await group.locator("li .j-key").allTextContents()).toContain("message");
    await screenshot(page, "object");

    await panel.locator("button[data-close]").click();
    await panel.waitFor({ state: "detached" });
    await page.waitForSelector(`#watchbar [data-live='${key}']`, { state: "detached" });
    await expect.poll(clientObjects, { timeout: 10_000 }).toBe(0);
  });

  it("shows log lines from LogManager, with level, category and search filters", async () => {
    await page.click("#tab-logs");
    await page.waitForFunction(() =>
      /listening/.test(document.getElementById("log-status")?.textContent ?? ""),
    );
    logs.log("info", "Console.Test", "hello from the test");
    logs.log("warning", "Other.Thing", "a warning elsewhere");
    logs.log("debug", "Console.Test", "too verbose for info");
    await page.waitForSelector("#log-lines li[data-category='Other.Thing']");
    await page.waitForSelector("#log-lines li[data-category='Console.Test']");
    const messages = await page.locator("#log-lines li .message").allTextContents();
    expect(messages).toContain("hello from the test");
    expect(messages).not.toContain("too verbose for info");
    expect(await page.textContent("#log-lines li[data-category='Other.Thing'] .level")).toBe("warning");

    await page.fill("#log-category", "Console.*");
    expect(await page.isHidden("#log-lines li[data-category='Other.Thing']")).toBe(true);
    expect(await page.isVisible("#log-lines li[data-category='Console.Test']")).toBe(true);
    await page.fill("#log-category", "");
    await page.fill("#log-search", "warning else");
    expect(await page.isHidden("#log-lines li[data-category='Console.Test']")).toBe(true);
    await page.fill("#log-search", "");
    // A more verbose level reaches the listener on the robot.
    await page.selectOption("#log-level", "6");
    await page.waitForFunction(() => /debug/.test(document.getElementById("log-status")?.textContent ?? ""));
    logs.log("debug", "Console.Test", "now verbose enough");
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll("#log-lines .message")).some(
        (m) => m.textContent === "now verbose enough",
      ),
    );
    await screenshot(page, "logs");
  });

  it("shows ALMemory's keys with live values and a filter", async () => {
    await page.click("#tab-memory");
    const charge = page.locator("#memory-table tr[data-key='Device/SubDeviceList/Battery/Charge'] td.value");
    await charge.waitFor();
    expect(await charge.textContent()).toBe("0.8"); // a float32, shortest form
    expect(await page.textContent("#memory-table tr[data-key='Robot/Name'] td.value")).toBe('"nao"');
    const mem = await world.sd.service("ALMemory");
    await mem.call("insertData", "Device/SubDeviceList/Battery/Charge", new Dynamic("f", 0.3));
    await mem.call("insertData", "Motion/Walking", new Dynamic("b", true));
    await page.waitForFunction(
      () =>
        document.querySelector("#memory-table tr[data-key='Device/SubDeviceList/Battery/Charge'] td.value")
          ?.textContent === "0.3",
    );
    await page.waitForSelector("#memory-table tr[data-key='Motion/Walking']");
    expect(await page.textContent("#memory-count")).toBe("3");
    await page.fill("#memory-filter", "battery");
    expect(await page.isHidden("#memory-table tr[data-key='Robot/Name']")).toBe(true);
    expect(await charge.isVisible()).toBe(true);
    await page.fill("#memory-filter", "");
    await screenshot(page, "memory");
  });

  it("works at 420 px wide: no sideways scrolling, message numbers not clipped", async () => {
    await page.click("#tab-services");
    await page.click("#services button[data-service='Calc']");
    await page.click("button[data-watch='tick']");
    await page.waitForSelector("#watchbar [data-live='signal:Calc.tick']");
    for (let i = 1; i <= 120; i++) world.calc.emit("tick", i, `m${i}`);
    const group = page.locator("#messages [data-signal='signal:Calc.tick']");
    await page.waitForFunction(
      () =>
        document.querySelector("#messages [data-signal='signal:Calc.tick'] li .n")?.textContent === "#120",
    );
    // Bounded: the last 100 messages of the signal.
    expect(await group.locator("li").count()).toBe(100);
    await page.setViewportSize({ width: 420, height: 900 });
    await page.waitForFunction(() => document.documentElement.scrollWidth <= 420);
    const box = await group.locator("li .n").first().boundingBox();
    expect(box?.x).toBeGreaterThanOrEqual(0);
    expect(
      await group
        .locator("li .n")
        .first()
        .evaluate((e) => e.scrollWidth <= e.clientWidth + 1),
    ).toBe(true);
    await screenshot(page, "narrow-420");
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.click("#watchbar [data-stop='signal:Calc.tick']");
    await page.waitForSelector("#watchbar [data-live='signal:Calc.tick']", { state: "detached" });
  });

  it("watches a signal at the rate the page asks the gateway for", async () => {
    const count = () =>
      page.evaluate(() =>
        Number(document.querySelector("#messages [data-signal='signal:Calc.tick'] .count")?.textContent ?? 0),
      );
    const before = await count();
    await page.selectOption("select[data-rate='tick']", "1"); // at most 1/s, newest wins
    await page.click("button[data-watch='tick']");
    await page.waitForSelector("#watchbar [data-live='signal:Calc.tick']");
    for (let i = 1; i <= 30; i++) world.calc.emit("tick", i, `r${i}`);
    // The newest event comes through (after at most a second); most of the burst does not.
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll("#messages [data-signal='signal:Calc.tick'] li .line")).some(
        (l) => l.textContent === '[30,"r30"]',
      ),
    );
    expect((await count()) - before).toBeLessThanOrEqual(5);
    // The camera asks for the newest frame only by default.
    await page.click("#services button[data-service='ALVideoDevice']");
    expect(await page.inputValue("#camera-rate")).toBe("latest");
    expect(pageErrors).toEqual([]);
  });
});
