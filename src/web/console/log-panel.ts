/// <reference lib="dom" />
/**
 * The Logs page, as `qi log` does: a LogListener from the robot's LogManager with the chosen
 * verbosity, each `onLogMessage` a line (time, level, category, message), filtered by a
 * category pattern (`*` allowed) and a search text, with pause and clear. Keeps the last
 * MAX_LINES lines. The listener is released when the user stops or logs out.
 */
import { type RemoteObject, type Session, Struct } from "../client/index.js";
import { $, describeError, h } from "./dom.js";

export const MAX_LINES = 500;
const LEVELS = ["silent", "fatal", "error", "warning", "info", "verbose", "debug"];

let listener: { object: RemoteObject; link: number } | undefined;
let paused = false;

function fieldsOf(v: unknown): Record<string, unknown> {
  if (v instanceof Struct) return v.fields;
  return v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {};
}

function levelOf(v: unknown): number {
  if (v instanceof Struct) return levelOf(v.fields.level);
  if (Array.isArray(v)) return levelOf(v[0]);
  return typeof v === "number" ? v : Number.NaN;
}

function timeOf(v: unknown): string {
  const ns = v instanceof Struct ? v.fields.ns : Array.isArray(v) ? v[0] : undefined;
  const ms =
    typeof ns === "bigint" ? Number(ns / 1_000_000n) : typeof ns === "number" ? ns / 1e6 : Date.now();
  return new Date(ms > 0 ? ms : Date.now()).toLocaleTimeString();
}

/** `qi.*` style pattern → RegExp (only `*` is special). */
function globRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`);
}

function visible(li: HTMLElement): boolean {
  const category = ($("log-category") as HTMLInputElement).value.trim();
  const search = ($("log-search") as HTMLInputElement).value.trim().toLowerCase();
  if (category !== "" && !globRegExp(category).test(li.dataset.category ?? "")) return false;
  return search === "" || (li.textContent ?? "").toLowerCase().includes(search);
}

function refilter(): void {
  for (const li of Array.from($("log-lines").children))
    (li as HTMLElement).hidden = !visible(li as HTMLElement);
}

function addLine(msg: unknown): void {
  if (paused) return;
  const m = fieldsOf(msg);
  const level = levelOf(m.level);
  const word = LEVELS[level] ?? String(level);
  const li = h(
    "li",
    { class: `level-${word}`, "data-level": word, "data-category": String(m.category ?? "") },
    h("span", { class: "time", text: timeOf(m.systemDate) }),
    h("span", { class: "level", text: word }),
    h("span", { class: "category", text: String(m.category ?? "") }),
    h("span", { class: "message", text: String(m.message ?? "") }),
  );
  li.hidden = !visible(li);
  const list = $("log-lines");
  list.prepend(li);
  while (list.childElementCount > MAX_LINES) list.lastElementChild?.remove();
}

async function start(session: Session): Promise<void> {
  const status = $("log-status");
  const level = Number(($("log-level") as HTMLSelectElement).value);
  try {
    const manager = await session.service("LogManager");
    const object = await manager.call<RemoteObject>("createListener");
    await object.call("setLevel", new Struct("LogLevel", { level }));
    const link = await object.signal("onLogMessage").connect((m: unknown) => addLine(m));
    listener = { object, link };
    status.textContent = `listening at level ${LEVELS[level]}`;
    $("log-start").textContent = "stop";
  } catch (e) {
    status.textContent = describeError(e);
  }
}

export async function stopLogs(): Promise<void> {
  const l = listener;
  listener = undefined;
  if (!l) return;
  $("log-start").textContent = "start";
  $("log-status").textContent = "stopped";
  await l.object
    .signal("onLogMessage")
    .disconnect(l.link)
    .catch(() => {});
  l.object.release();
}

export function setupLogPanel(session: () => Session | undefined): void {
  const select = $("log-level") as HTMLSelectElement;
  LEVELS.forEach((word, i) => {
    if (i > 0) select.append(h("option", { value: String(i), text: word }));
  });
  select.value = "4";
  select.addEventListener("change", () => {
    const level = Number(select.value);
    if (listener)
      void listener.object.call("setLevel", new Struct("LogLevel", { level })).then(() => {
        $("log-status").textContent = `listening at level ${LEVELS[level]}`;
      });
  });
  $("log-start").addEventListener("click", () => {
    const s = session();
    if (listener) void stopLogs();
    else if (s) void start(s);
  });
  $("log-pause").addEventListener("click", () => {
    paused = !paused;
    $("log-pause").textContent = paused ? "resume" : "pause";
  });
  $("log-clear").addEventListener("click", () => $("log-lines").replaceChildren());
  $("log-category").addEventListener("input", refilter);
  $("log-search").addEventListener("input", refilter);
}

/**
 * After a reconnection: a listener is an object passed by reference, which the Session cannot
 * restore, so a running one is replaced by a new one from the LogManager of the new connection.
 */
export async function renewLogs(session: Session): Promise<void> {
  if (!listener) return;
  await stopLogs();
  await start(session);
}

/** Starts listening when the page is shown (once per login). */
export function showLogs(session: Session | undefined): void {
  if (session && !listener) void start(session);
}
