/// <reference lib="dom" />
/**
 * A value as a collapsible JSON tree (<details> per list, map and struct), built with
 * textContent only: every key and string comes from the robot. Bounded: at most MAX_CHILDREN
 * entries per level are drawn (then "… N more") and MAX_DEPTH levels.
 */
import { h } from "./dom.js";

const MAX_CHILDREN = 100;
const MAX_DEPTH = 12;

/** `value` is what toJson gives (plain JSON: arrays, objects, strings, numbers, booleans, null). */
export function jsonTree(value: unknown, label?: string, depth = 0, open = depth < 1): HTMLElement {
  const key = label === undefined ? [] : [h("span", { class: "j-key", text: label }), ": "];
  if (value === null || typeof value !== "object") {
    return h("div", { class: "leaf" }, ...key, leaf(value));
  }
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const brackets = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return h("div", { class: "leaf" }, ...key, brackets.join(""));
  if (depth >= MAX_DEPTH) return h("div", { class: "leaf" }, ...key, `${brackets[0]}…${brackets[1]}`);
  const details = h(
    "details",
    { class: "node" },
    h(
      "summary",
      {},
      ...key,
      h("span", {
        class: "hint",
        text: `${brackets[0]} ${entries.length} ${Array.isArray(value) ? "items" : "keys"} ${brackets[1]}`,
      }),
    ),
  );
  details.open = open;
  for (const [k, v] of entries.slice(0, MAX_CHILDREN)) details.append(jsonTree(v, k, depth + 1));
  if (entries.length > MAX_CHILDREN)
    details.append(h("div", { class: "hint", text: `… ${entries.length - MAX_CHILDREN} more` }));
  return details;
}

function leaf(v: unknown): HTMLElement {
  if (typeof v === "string") return h("span", { class: "j-str", text: JSON.stringify(v) });
  if (typeof v === "number") return h("span", { class: "j-num", text: String(v) });
  return h("span", { class: "j-lit", text: String(v) });
}
