/// <reference lib="dom" />
/**
 * Everything the page is subscribed to (watched signals and properties, plotted values, the
 * camera), by key, with how to stop it. The header's watch bar lists them, each with a "stop"
 * that stays visible wherever the user navigates; buttons anywhere that carry
 * `data-sub-key` show whether their subscription runs (`data-on` / `data-off` texts).
 */
import type { RemoteObject } from "../client/index.js";
import { $, h } from "./dom.js";

export interface Subscription {
  key: string;
  /** What the watch bar shows: `ALBattery.charge`, `plot Calc.tick[0]`. */
  label: string;
  /** The proxy it listens on: closing an object's panel stops its subscriptions. */
  owner: RemoteObject;
  stop(): Promise<void>;
}

const subscriptions = new Map<string, Subscription>();

export function isSubscribed(key: string): boolean {
  return subscriptions.has(key);
}

export function addSubscription(sub: Subscription): void {
  subscriptions.set(sub.key, sub);
  refresh(sub.key);
}

/** Stops one subscription (no-op when it is not running). */
export async function stopSubscription(key: string): Promise<void> {
  const sub = subscriptions.get(key);
  if (!sub) return;
  subscriptions.delete(key);
  refresh(key);
  await sub.stop().catch(() => {});
}

export async function stopOwnedBy(owner: RemoteObject): Promise<void> {
  const keys = [...subscriptions.values()].filter((s) => s.owner === owner).map((s) => s.key);
  await Promise.all(keys.map(stopSubscription));
}

export async function stopAllSubscriptions(): Promise<void> {
  await Promise.all([...subscriptions.keys()].map(stopSubscription));
}

/** A button that starts/stops the subscription `key`, its text following its state. */
export function toggleButton(
  key: string,
  texts: { on: string; off: string },
  start: () => Promise<void>,
  attrs: Record<string, string> = {},
): HTMLButtonElement {
  const b = h("button", {
    type: "button",
    class: "small",
    "data-sub-key": key,
    "data-on": texts.on,
    "data-off": texts.off,
    text: isSubscribed(key) ? texts.on : texts.off,
    ...attrs,
  });
  b.addEventListener("click", async () => {
    if (isSubscribed(key)) return stopSubscription(key);
    b.disabled = true;
    try {
      await start();
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function refresh(key: string): void {
  const on = subscriptions.has(key);
  for (const b of Array.from(document.querySelectorAll<HTMLElement>("[data-sub-key]"))) {
    if (b.dataset.subKey !== key) continue;
    b.textContent = (on ? b.dataset.on : b.dataset.off) ?? "";
    b.classList.toggle("active", on);
  }
  renderWatchBar();
}

function renderWatchBar(): void {
  const bar = $("watchbar");
  bar.hidden = subscriptions.size === 0;
  bar.replaceChildren(
    h("span", { class: "hint", text: "live:" }),
    ...[...subscriptions.values()].map((s) => {
      const stop = h("button", { type: "button", class: "small stop", "data-stop": s.key, text: "stop" });
      stop.addEventListener("click", () => void stopSubscription(s.key));
      return h("span", { class: "chip", "data-live": s.key }, h("span", { text: s.label }), stop);
    }),
  );
}
