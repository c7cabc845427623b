/// <reference lib="dom" />
/**
 * The rate a subscription asks the gateway for (issue 11's per-subscription rate control): every
 * event, only the newest (a slow page never gets a backlog), or at most N per second. A gateway
 * that does not know rate control ignores it and sends everything.
 */
import type { RemoteSignal } from "../client/index.js";
import { h } from "./dom.js";

export type Rate = Parameters<RemoteSignal["connect"]>[1];

const CHOICES: Array<[value: string, text: string, rate: Rate]> = [
  ["all", "every event", undefined],
  ["latest", "newest only", { latestOnly: true }],
  ["10", "≤ 10/s", { maxRate: 10, latestOnly: true }],
  ["2", "≤ 2/s", { maxRate: 2, latestOnly: true }],
  ["1", "≤ 1/s", { maxRate: 1, latestOnly: true }],
];

export function rateSelect(initial: string, attrs: Record<string, string> = {}): HTMLSelectElement {
  const select = h("select", {
    class: "rate",
    title: "how many events the gateway sends this page",
    ...attrs,
  });
  for (const [value, text] of CHOICES) select.append(h("option", { value, text }));
  select.value = initial;
  return select;
}

export function rateOf(select: HTMLSelectElement): Rate {
  return CHOICES.find(([value]) => value === select.value)?.[2];
}
