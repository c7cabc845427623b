/// <reference lib="dom" />
/**
 * The Messages panel: one group per watched signal, each message a collapsible JSON tree with
 * its number, and per group a pause, a filter (text in the message's JSON) and a stop. Bounded:
 * a group keeps its last MAX_PER_SIGNAL messages, the panel its last MAX_GROUPS groups.
 */
import { $, h } from "./dom.js";
import { jsonTree } from "./json-tree.js";
import { toggleButton } from "./subscriptions.js";

export const MAX_PER_SIGNAL = 100;
const MAX_GROUPS = 20;

interface Group {
  element: HTMLElement;
  list: HTMLOListElement;
  count: HTMLElement;
  received: number;
  paused: boolean;
  filter: string;
}

const groups = new Map<string, Group>();

/** The group of `key`, made (on top of the panel) when missing. */
function group(key: string, label: string): Group {
  const existing = groups.get(key);
  if (existing) return existing;
  const list = h("ol", { class: "messages" });
  const count = h("span", { class: "hint count", text: "0" });
  const pause = h("button", { type: "button", class: "small", "data-pause": key, text: "pause" });
  const filter = h("input", {
    class: "filter",
    placeholder: "filter",
    "aria-label": `filter the messages of ${label}`,
    "data-filter": key,
  });
  const clear = h("button", { type: "button", class: "small", text: "clear" });
  const stop = toggleButton(key, { on: "stop", off: "stopped" }, async () => {});
  const element = h(
    "section",
    { class: "signal-group", "data-signal": key },
    h(
      "div",
      { class: "row group-head" },
      h("span", { class: "name", text: label }),
      count,
      pause,
      stop,
      clear,
    ),
    filter,
    list,
  );
  const g: Group = { element, list, count, received: 0, paused: false, filter: "" };
  pause.addEventListener("click", () => {
    g.paused = !g.paused;
    pause.textContent = g.paused ? "resume" : "pause";
    element.classList.toggle("paused", g.paused);
  });
  filter.addEventListener("input", () => {
    g.filter = filter.value.trim().toLowerCase();
    for (const li of Array.from(list.children)) applyFilter(g, li as HTMLElement);
  });
  clear.addEventListener("click", () => list.replaceChildren());
  groups.set(key, g);
  $("messages").prepend(element);
  while (groups.size > MAX_GROUPS) {
    const oldest = groups.keys().next().value as string;
    groups.get(oldest)?.element.remove();
    groups.delete(oldest);
  }
  return g;
}

function applyFilter(g: Group, li: HTMLElement): void {
  li.hidden = g.filter !== "" && !(li.dataset.text ?? "").toLowerCase().includes(g.filter);
}

/** Opens the group of a signal just watched (so its stop and filter show before any message). */
export function openGroup(key: string, label: string): void {
  group(key, label);
}

/** One message (`value` as toJson gives it: the signal's arguments). */
export function addMessage(key: string, label: string, value: unknown): void {
  const g = group(key, label);
  g.received++;
  g.count.textContent = String(g.received);
  if (g.paused) return;
  const text = JSON.stringify(value) ?? "null";
  const li = h(
    "li",
    { "data-n": String(g.received) },
    h("span", { class: "n", text: `#${g.received}` }),
    h("span", { class: "time", text: new Date().toLocaleTimeString() }),
    h("code", { class: "line", text: text.length > 200 ? `${text.slice(0, 200)}…` : text }),
    jsonTree(value, undefined, 0, false),
  );
  li.dataset.text = text.length > 4000 ? text.slice(0, 4000) : text;
  applyFilter(g, li);
  g.list.prepend(li);
  while (g.list.childElementCount > MAX_PER_SIGNAL) g.list.lastElementChild?.remove();
}

export function clearMessages(): void {
  groups.clear();
  $("messages").replaceChildren();
}
