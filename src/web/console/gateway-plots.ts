/// <reference lib="dom" />
/**
 * The gateway page's charts, from successive /stats.json answers: calls/s, errors/s and
 * clients on one chart, bytes in/out per second on another (rates from the differences of the
 * gateway's counters; a counter that went down — a restarted gateway — starts over).
 */
import type { GatewayStatsJson } from "../stats.js";
import { $ } from "./dom.js";
import { humanBytes } from "./gateway-page.js";
import { LivePlot } from "./plot.js";

const traffic = new LivePlot("gateway-plot-traffic", "waiting for statistics…", { removable: false });
const bytes = new LivePlot("gateway-plot-bytes", "waiting for statistics…", {
  removable: false,
  format: (n) => `${humanBytes(n)}/s`,
});
let mounted = false;
let last: { t: number; calls: number; errors: number; bytesIn: number; bytesOut: number } | undefined;

function mount(): void {
  if (mounted) return;
  mounted = true;
  $("gateway-plots").append(traffic.element, bytes.element);
  traffic.add("calls", "calls/s");
  traffic.add("errors", "errors/s");
  traffic.add("clients", "clients");
  bytes.add("in", "bytes in/s");
  bytes.add("out", "bytes out/s");
}

export function plotStats(stats: GatewayStatsJson): void {
  mount();
  const t = new Date(stats.time).getTime() / 1000;
  const now = {
    t,
    calls: stats.traffic.calls ?? 0,
    errors: stats.traffic.errors ?? 0,
    bytesIn: stats.traffic.bytesIn ?? 0,
    bytesOut: stats.traffic.bytesOut ?? 0,
  };
  traffic.push("clients", stats.clients.length, t);
  const prev = last;
  last = now;
  if (!prev || now.t <= prev.t) return;
  const dt = now.t - prev.t;
  const rate = (a: number, b: number) => (a >= b ? (a - b) / dt : Number.NaN);
  traffic.push("calls", rate(now.calls, prev.calls), t);
  traffic.push("errors", rate(now.errors, prev.errors), t);
  bytes.push("in", rate(now.bytesIn, prev.bytesIn), t);
  bytes.push("out", rate(now.bytesOut, prev.bytesOut), t);
}
