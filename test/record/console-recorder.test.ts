/**
 * The console's record button in a real Chromium: record the camera through the gateway,
 * stop, download the file, and read it with @mcap/core: the same channels and schema as
 * `qi record` writes (the shared codec of src/record, bundled into the console).
 */
import { readFileSync } from "node:fs";
import { McapIndexedReader, TempBuffer } from "@mcap/core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, haveChromium, launchChromium } from "../web/chromium.js";
import { startWebWorld, TOKEN, USER, type WebWorld } from "../web/world.js";

if (!haveChromium) console.warn(`console-recorder.test.ts: skipped, ${CHROMIUM} not found`);

describe.skipIf(!haveChromium)("the console's record button (Chromium)", () => {
  let world: WebWorld;
  let browser: Browser;

  beforeAll(async () => {
    world = await startWebWorld();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it("records the camera into an MCAP download", async () => {
    const page = await browser.newPage({ acceptDownloads: true });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(world.pageUrl);
    await page.waitForSelector("body[data-ready='1']");
    await page.fill("#login-user", USER);
    await page.fill("#login-token", TOKEN);
    await page.click("#login-button");
    await page.waitForSelector("#services button[data-service='ALVideoDevice']");
    await page.fill("#record-targets", "ALVideoDevice.*");
    await page.click("#record-button");
    await page.waitForFunction(() =>
      /^\s*([3-9]|\d\d+) events/.test(document.querySelector("#record-status")?.textContent ?? ""),
    );
    await page.click("#record-button");
    const link = page.locator("#record-download");
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const path = await download.path();
    const reader = await McapIndexedReader.Initialize({ readable: new TempBuffer(readFileSync(path)) });
    const channels = [...reader.channelsById.values()];
    expect(channels.map((c) => c.topic).sort()).toEqual(["/ALVideoDevice/fps", "/ALVideoDevice/image"]);
    const image = channels.find((c) => c.topic === "/ALVideoDevice/image")!;
    expect(reader.schemasById.get(image.schemaId)?.name).toBe("foxglove_msgs/RawImage");
    expect(reader.statistics!.channelMessageCounts.get(image.id)).toBeGreaterThanOrEqual(2n);
    expect(errors).toEqual([]);
    await page.close();
  });
});
