/**
 * Chromium for the browser tests (playwright-core, the system's /usr/bin/chromium), a login
 * helper, and where screenshots go: test-artifacts/console/ (gitignored).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);
export const ARTIFACTS = "test-artifacts/console";

/** `extraArgs`: more switches (e.g. for a page served by request interception). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...extraArgs,
    ],
  });
}

/** Logs the page in (it must show the login form) and waits for the services list. */
export async function logIn(page: Page, url: string, user: string, token: string): Promise<void> {
  await page.waitForSelector("body[data-ready='1']");
  await page.fill("#login-url", url);
  await page.fill("#login-user", user);
  await page.fill("#login-token", token);
  await page.click("#login-button");
  await page.waitForSelector("#services button[data-service='ServiceDirectory'], #login-error:not([hidden])");
  if (await page.isVisible("#login-error"))
    throw new Error(`login refused: ${await page.textContent("#login-error")}`);
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage });
}
