/// <reference lib="dom" />
/** The gateway's page: a summary, charts and its connected clients from /stats.json, refreshed every 2 s. */
import type { GatewayStatsJson } from "../stats.js";
import { $, h } from "./dom.js";
import { plotStats } from "./gateway-plots.js";

/** What the user logged in with (undefined: anonymous or logged out), reused for /stats.json. */
export const login: { credentials: { user: string; token: string } | undefined } = { credentials: undefined };

let statsTimer: ReturnType<typeof setInterval> | undefined;

/** 5300000 → "5.3 MB" (decimal units, like network tools). */
export function humanBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${value} B`;
  return `${value < 100 ? value.toFixed(1) : value.toFixed(0)} ${units[unit]}`;
}

/** How long ago `since` was, coarse: "12 s", "2 min", "1 h 5 min", "3 d 2 h". */
export function relativeTime(since: Date, now: Date): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - since.getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** The qi credentials as an HTTP Basic header (UTF-8, since btoa only takes Latin-1). */
function basicAuthorization(user: string, token: string): string {
  const bytes = new TextEncoder().encode(`${user}:${token}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

function count(n: number | undefined): string {
  return n === undefined ? "–" : n.toLocaleString("en-US");
}

function renderSummary(stats: GatewayStatsJson): void {
  const t = stats.traffic;
  const items: Array<[key: string, label: string, value: string]> = [
    ["attached", "Service Directory", stats.attached ? "attached" : "not attached"],
    ["clients", "Clients", count(stats.clients.length)],
    ["calls", "Calls", count(t.calls)],
    ["errors", "Errors", count(t.errors)],
    ["refusedCalls", "Refused calls", count(t.refusedCalls)],
    ["droppedEvents", "Dropped events", count(stats.droppedEvents)],
    ["bytesIn", "Bytes in", t.bytesIn === undefined ? "–" : humanBytes(t.bytesIn)],
    ["bytesOut", "Bytes out", t.bytesOut === undefined ? "–" : humanBytes(t.bytesOut)],
  ];
  $("gateway-summary").replaceChildren(
    ...items.map(([key, label, value]) => {
      const item = h(
        "div",
        { class: "stat", "data-stat": key },
        h("span", { class: "label", text: label }),
        h("span", { class: "value", text: value }),
      );
      if (key === "attached") item.classList.add(stats.attached ? "good" : "bad");
      return item;
    }),
  );
}

function renderClients(stats: GatewayStatsJson): void {
  const now = new Date(stats.time);
  const num = (n: number) => h("td", { class: "num", text: count(n) });
  $("gateway-clients-count").textContent = String(stats.clients.length);
  const body = ($("gateway-clients") as HTMLTableElement).tBodies[0];
  if (stats.clients.length === 0) {
    body.replaceChildren(h("tr", {}, h("td", { colspan: "9", class: "hint", text: "No client connected." })));
    return;
  }
  body.replaceChildren(
    ...[...stats.clients]
      .sort((a, b) => a.number - b.number)
      .map((c) => {
        const since = new Date(c.connectedAt);
        return h(
          "tr",
          { "data-client": String(c.number), "data-user": c.user ?? "" },
          num(c.number),
          c.user === undefined
            ? h("td", { class: "hint", text: "anonymous" })
            : h("td", { class: "user", text: c.user }),
          h("td", { class: "peer", text: c.peer }),
          h("td", { class: "since", title: since.toLocaleString(), text: relativeTime(since, now) }),
          num(c.pendingCalls),
          num(c.subscriptions),
          num(c.objects),
          h("td", { class: "num", text: humanBytes(c.queuedBytes) }),
          num(c.droppedEvents),
        );
      }),
  );
}

export function stopStatsTimer(): void {
  if (statsTimer) clearInterval(statsTimer);
  statsTimer = undefined;
}

async function refreshStats(): Promise<void> {
  const err = $("gateway-error");
  const content = $("gateway-content");
  const fail = (message: string): void => {
    err.textContent = message;
    err.hidden = false;
  };
  try {
    // The same user and token as the qi login: the gateway checks them like a qi handshake.
    const headers: Record<string, string> = login.credentials
      ? { authorization: basicAuthorization(login.credentials.user, login.credentials.token) }
      : {};
    const r = await fetch("stats.json", { cache: "no-store", headers });
    if (r.status === 401) {
      // Each refusal counts against this address in the gateway's rate limiter, so polling on
      // would soon lock the qi login out too: stop until the user asks again.
      stopStatsTimer();
      content.hidden = true;
      const reason = await r
        .json()
        .then((body: { error?: unknown }) => (typeof body.error === "string" ? body.error : ""))
        .catch(() => "");
      fail(
        login.credentials
          ? `The gateway refused the credentials you logged in with${reason ? ` (${reason})` : ""}: its statistics need a user and token of this gateway. Refresh (↻) to try again.`
          : `Log in first: the gateway's statistics need the same user and token as its qi endpoint${reason ? ` (${reason})` : ""}.`,
      );
      return;
    }
    if (!r.ok) throw new Error(`/stats.json: HTTP ${r.status}`);
    const stats = (await r.json()) as GatewayStatsJson;
    if (!Array.isArray(stats.clients)) throw new Error("/stats.json is not a gateway's statistics");
    renderSummary(stats);
    renderClients(stats);
    plotStats(stats);
    $("gateway-updated").textContent = `updated ${new Date(stats.time).toLocaleTimeString()}`;
    content.hidden = false;
    err.hidden = true;
  } catch (e) {
    fail(`No gateway statistics: ${(e as Error).message}`);
  }
}

export function startStats(): void {
  void refreshStats();
  statsTimer ??= setInterval(() => void refreshStats(), 2000);
}
