/// <reference lib="dom" />
/**
 * The Memory page, like Choregraphe's memory viewer: ALMemory's keys with live values
 * (`dataChanged` updates a row in place, or adds it), a filter on the keys, float32 values in
 * their shortest form. Shows at most MAX_KEYS keys.
 */
import { type Dynamic, type RemoteObject, type Session, tidyFloats } from "../client/index.js";
import { $, describeError, h } from "./dom.js";
import { show } from "./types.js";

export const MAX_KEYS = 1000;

let memory: { proxy: RemoteObject; link: number } | undefined;
const rows = new Map<string, HTMLTableRowElement>();

function valueText(v: unknown): string {
  return show(tidyFloats(v, "m"));
}

function matches(key: string): boolean {
  const f = ($("memory-filter") as HTMLInputElement).value.trim().toLowerCase();
  return f === "" || key.toLowerCase().includes(f);
}

function setRow(key: string, value: unknown): void {
  let row = rows.get(key);
  if (!row) {
    if (rows.size >= MAX_KEYS) return;
    row = h(
      "tr",
      { "data-key": key },
      h("td", { class: "key", text: key }),
      h("td", { class: "value" }),
      h("td", { class: "hint since" }),
    );
    rows.set(key, row);
    const body = ($("memory-table") as HTMLTableElement).tBodies[0];
    const after = [...rows.keys()].sort().indexOf(key);
    body.insertBefore(row, body.children[after] ?? null);
  }
  row.cells[1].textContent = valueText(value);
  row.cells[2].textContent = new Date().toLocaleTimeString();
  row.hidden = !matches(key);
  row.classList.remove("flash");
  void row.offsetWidth;
  row.classList.add("flash");
  $("memory-count").textContent = String(rows.size);
}

async function load(session: Session): Promise<void> {
  const status = $("memory-status");
  try {
    const proxy = await session.service("ALMemory");
    if (!memory) {
      const link = await proxy
        .signal("dataChanged")
        .connect((key: string, value: Dynamic) => setRow(key, value));
      memory = { proxy, link };
    }
    const keys = (await proxy.call<string[]>("getDataList", "")).slice(0, MAX_KEYS);
    for (const key of keys) {
      try {
        setRow(key, await proxy.call("getData", key));
      } catch {
        // Removed meanwhile.
      }
    }
    status.textContent = "live";
  } catch (e) {
    status.textContent = describeError(e);
  }
}

export async function stopMemory(): Promise<void> {
  const m = memory;
  memory = undefined;
  rows.clear();
  ($("memory-table") as HTMLTableElement).tBodies[0].replaceChildren();
  if (m)
    await m.proxy
      .signal("dataChanged")
      .disconnect(m.link)
      .catch(() => {});
}

export function setupMemoryPanel(session: () => Session | undefined): void {
  $("memory-filter").addEventListener("input", () => {
    for (const [key, row] of rows) row.hidden = !matches(key);
  });
  $("memory-refresh").addEventListener("click", () => {
    const s = session();
    if (s) void load(s);
  });
}

export function showMemory(session: Session | undefined): void {
  if (session) void load(session);
}
