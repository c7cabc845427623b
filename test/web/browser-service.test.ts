/**
 * A web page hosts a qi service: in real Chromium, the browser client (/qi.js) registers a
 * QiObject through a gateway that lets its clients register services. A Node client inside
 * (on the Service Directory) calls it, gets an Error it threw, and watches its signal; the page
 * waits for a service registered later; the service leaves with the page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { Session } from "../../src/session/index.js";
import { QiObject } from "../../src/object/index.js";
import { CHROMIUM, haveChromium, launchChromium } from "./chromium.js";
import { startWebWorld, TOKEN, USER, type WebWorld } from "./world.js";

interface PageWindow {
  qiTablet: { shown: string[]; emitTouch(x: number, y: number): void; close(): Promise<void> };
  qiLate: Promise<string>;
}

describe.skipIf(!haveChromium)(`a service hosted by a web page (needs ${CHROMIUM})`, () => {
  let world: WebWorld;
  let browser: Browser;
  let page: Page;
  let inside: Session;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    world = await startWebWorld({ allowServiceRegistration: true });
    inside = new Session();
    await inside.connect(world.sd.endpoints()[0]);
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await inside?.close();
    await world?.close();
  });

  it("registers, answers calls and errors, emits signals, waits for services, and leaves with the page", async () => {
    await page.goto(world.pageUrl);
    // Page code as a string: vitest rewrites dynamic import() in functions it compiles.
    const id = await page.evaluate<number>(`(async () => {
      const qi = await import(location.origin + "/qi.js");
      const session = await qi.connect(${JSON.stringify(`${world.wsUrl}/qi`)}, {
        user: ${JSON.stringify(USER)},
        token: ${JSON.stringify(TOKEN)},
      });
      const shown = [];
      const tablet = new qi.QiObject({ description: "the page's screen" })
        .method("showText", "(s)", "s", (text) => {
          shown.push(text);
          return "shown: " + text;
        })
        .method("fail", "()", "v", () => {
          throw new Error("the screen is off");
        })
        .signal("touched", "(ii)");
      const serviceId = await session.registerService("Tablet", tablet);
      window.qiTablet = {
        shown,
        emitTouch: (x, y) => tablet.emit("touched", x, y),
        close: () => session.close(),
      };
      window.qiLate = session.waitForService("LateService", 10000).then(() => "appeared");
      return serviceId;
    })()`);
    expect(id).toBeGreaterThan(1);

    // Inside, the page's service is a service like any other.
    await expect
      .poll(async () => (await inside.services()).map((s) => s.name), { timeout: 5_000 })
      .toContain("Tablet");
    const tablet = await inside.service("Tablet");
    expect(tablet.metaObject.description).toBe("the page's screen");
    expect(await tablet.call("showText", "hello from the robot")).toBe("shown: hello from the robot");
    expect(await page.evaluate(() => (window as unknown as PageWindow).qiTablet.shown)).toEqual([
      "hello from the robot",
    ]);
    await expect(tablet.call("fail")).rejects.toThrow(/the screen is off/);

    const touches: Array<[number, number]> = [];
    await tablet.signal("touched").connect((x: number, y: number) => touches.push([x, y]));
    await page.evaluate(() => (window as unknown as PageWindow).qiTablet.emitTouch(120, 80));
    await expect.poll(() => touches, { timeout: 5_000 }).toEqual([[120, 80]]);

    // The page waits for a service that appears later, inside.
    await inside.registerService(
      "LateService",
      new QiObject().method("ping", "()", "s", () => "pong"),
    );
    expect(await page.evaluate(() => (window as unknown as PageWindow).qiLate)).toBe("appeared");

    // The page goes away: so does its service.
    await page.evaluate(() => (window as unknown as PageWindow).qiTablet.close());
    await expect
      .poll(async () => (await inside.services()).map((s) => s.name), { timeout: 5_000 })
      .not.toContain("Tablet");
    expect(pageErrors).toEqual([]);
  });
});
