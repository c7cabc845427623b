/// <reference lib="dom" />
/**
 * Live values: watching a signal (into the Messages panel), watching a property (its value
 * updated in place), and plotting a numeric signal argument or property on the shared chart.
 * Each is a subscription (subscriptions.ts): listed in the watch bar, stopped from anywhere.
 */
import { type RemoteObject, tidyFloats, toJson } from "../client/index.js";
import { describeError, logEvent } from "./dom.js";
import { addMessage, openGroup } from "./messages.js";
import { asNumber } from "./numeric.js";
import { LivePlot } from "./plot.js";
import type { Rate } from "./rate-select.js";
import { addSubscription, stopSubscription } from "./subscriptions.js";
import { show } from "./types.js";

/** The chart of the services page. */
export const sharedPlot = new LivePlot("plot", "Nothing plotted: press “plot” next to a number.");

/** Watches signal `name` of `proxy` (called `label` on the page) into the Messages panel. */
export async function watchSignal(
  proxy: RemoteObject,
  label: string,
  name: string,
  signature: string,
  rate?: Rate,
): Promise<void> {
  const key = `signal:${label}.${name}`;
  const title = `${label}.${name}`;
  try {
    const sig = proxy.signal(name);
    const link = await sig.connect((...args: unknown[]) => {
      addMessage(key, title, toJson(tidyFloats(args, signature), "human"));
    }, rate);
    openGroup(key, title);
    addSubscription({ key, label: title, owner: proxy, stop: () => sig.disconnect(link) });
  } catch (e) {
    logEvent(`cannot watch ${title}: ${describeError(e)}`);
  }
}

/**
 * Watches property `name`: every element showing it (`data-live-value` = its key, on whichever
 * page is drawn now) gets each new value, float32 in its shortest form.
 */
export async function watchProperty(
  proxy: RemoteObject,
  label: string,
  name: string,
  signature: string,
): Promise<void> {
  const key = `property:${label}.${name}`;
  const prop = proxy.property(name);
  try {
    const link = await prop.connect((v: unknown) => {
      const text = show(tidyFloats(v, signature));
      document.querySelectorAll<HTMLElement>("[data-live-value]").forEach((shown) => {
        if (shown.dataset.liveValue !== key) return;
        shown.textContent = text;
        shown.classList.remove("bad");
        shown.dataset.updates = String(Number(shown.dataset.updates ?? 0) + 1);
      });
    });
    addSubscription({ key, label: `${label}.${name}`, owner: proxy, stop: () => prop.disconnect(link) });
  } catch (e) {
    logEvent(`cannot watch ${label}.${name}: ${describeError(e)}`);
  }
}

/** Plots argument `index` of signal `name` (or the property `name` when index is undefined). */
export async function plotMember(
  proxy: RemoteObject,
  label: string,
  name: string,
  signature: string,
  index: number | undefined,
  kind: "signal" | "property",
): Promise<void> {
  const title = index === undefined ? `${label}.${name}` : `${label}.${name}[${index}]`;
  const key = `plot:${title}`;
  const push = (v: unknown) => sharedPlot.push(key, asNumber(tidyFloats(v, signature)));
  sharedPlot.add(key, title, () => void stopSubscription(key));
  try {
    let stop: () => Promise<void>;
    if (kind === "property") {
      const prop = proxy.property(name);
      const link = await prop.connect(push);
      stop = () => prop.disconnect(link);
      // The current value first: a property may change rarely.
      void prop.get().then(push, () => {});
    } else {
      const sig = proxy.signal(name);
      const link = await sig.connect((...args: unknown[]) => push(args[index ?? 0]));
      stop = () => sig.disconnect(link);
    }
    addSubscription({
      key,
      label: `plot ${title}`,
      owner: proxy,
      stop: async () => {
        sharedPlot.remove(key);
        await stop();
      },
    });
  } catch (e) {
    sharedPlot.remove(key);
    logEvent(`cannot plot ${title}: ${describeError(e)}`);
  }
}
