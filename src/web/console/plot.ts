/// <reference lib="dom" />
/**
 * A live time chart (uPlot): several numeric series on one chart, a time window, pause, and a
 * list of series each with its own remove button. What the page keeps is bounded: at most
 * MAX_POINTS per series (the oldest go first) and nothing older than the longest window.
 * Series arrive at their own times; the chart aligns them on the union of their timestamps
 * with gaps spanned, and redraws at most every REDRAW_MS.
 */
import uPlot from "uplot";
import { h } from "./dom.js";

export const MAX_POINTS = 2000;
const REDRAW_MS = 250;
const WINDOWS_S = [10, 30, 60, 300];
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"];

export interface PlotOptions {
  /** Whether each series has a remove button (default true). */
  removable?: boolean;
  /** How the y axis writes a value (default: uPlot's). */
  format?: (value: number) => string;
}

interface Series {
  key: string;
  label: string;
  t: number[];
  v: number[];
  onRemove?: () => void;
}

export class LivePlot {
  readonly element: HTMLElement;
  private readonly series = new Map<string, Series>();
  private chart: uPlot | undefined;
  private readonly chartBox = h("div", { class: "chart" });
  private readonly list = h("ul", { class: "series-list" });
  private readonly pauseButton = h("button", { type: "button", class: "small plot-pause", text: "pause" });
  private readonly windowSelect = h("select", { class: "plot-window", "aria-label": "time window" });
  private windowS = 30;
  private paused = false;
  private dirty = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    id: string,
    private readonly emptyHint: string,
    private readonly options: PlotOptions = {},
  ) {
    for (const s of WINDOWS_S)
      this.windowSelect.append(h("option", { value: String(s), text: s < 60 ? `${s} s` : `${s / 60} min` }));
    this.windowSelect.value = String(this.windowS);
    this.windowSelect.addEventListener("change", () => {
      this.windowS = Number(this.windowSelect.value);
      this.dirty = true;
      this.redraw();
    });
    this.pauseButton.addEventListener("click", () => this.setPaused(!this.paused));
    this.element = h(
      "div",
      { class: "live-plot", id, "data-series": "0" },
      h("div", { class: "row plot-controls" }, this.windowSelect, this.pauseButton),
      this.chartBox,
      this.list,
    );
    this.renderList();
  }

  get size(): number {
    return this.series.size;
  }

  has(key: string): boolean {
    return this.series.has(key);
  }

  /** Adds a series (no-op if present); `onRemove` runs when the user removes it. */
  add(key: string, label: string, onRemove?: () => void): void {
    if (this.series.has(key)) return;
    this.series.set(key, { key, label, t: [], v: [], onRemove });
    this.rebuild();
  }

  remove(key: string): void {
    const s = this.series.get(key);
    if (!s) return;
    this.series.delete(key);
    this.rebuild();
    s.onRemove?.();
  }

  /** One value of a series, now (values that are not finite numbers are ignored). */
  push(key: string, value: number, at = Date.now() / 1000): void {
    const s = this.series.get(key);
    if (!s || !Number.isFinite(value)) return;
    s.t.push(at);
    s.v.push(value);
    if (s.t.length > MAX_POINTS) {
      s.t.splice(0, s.t.length - MAX_POINTS);
      s.v.splice(0, s.v.length - MAX_POINTS);
    }
    const oldest = at - WINDOWS_S[WINDOWS_S.length - 1];
    let drop = 0;
    while (drop < s.t.length && s.t[drop] < oldest) drop++;
    if (drop > 0) {
      s.t.splice(0, drop);
      s.v.splice(0, drop);
    }
    this.dirty = true;
    this.element.dataset.points = String(this.pointCount());
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.pauseButton.textContent = paused ? "resume" : "pause";
    this.element.classList.toggle("paused", paused);
    if (!paused) this.redraw();
  }

  /** Removes every series (without their onRemove) and the chart. */
  clear(): void {
    this.series.clear();
    this.rebuild();
  }

  private pointCount(): number {
    let n = 0;
    for (const s of this.series.values()) n += s.t.length;
    return n;
  }

  private renderList(): void {
    this.element.dataset.series = String(this.series.size);
    if (this.series.size === 0) {
      this.list.replaceChildren(h("li", { class: "hint", text: this.emptyHint }));
      return;
    }
    let i = 0;
    this.list.replaceChildren(
      ...[...this.series.values()].map((s) => {
        const swatch = h("span", { class: "swatch" });
        swatch.style.background = COLORS[i++ % COLORS.length];
        const li = h("li", { "data-plot-series": s.key }, swatch, h("span", { text: s.label }));
        if (this.options.removable !== false) {
          const remove = h("button", {
            type: "button",
            class: "small",
            title: "remove from the chart",
            text: "×",
          });
          remove.addEventListener("click", () => this.remove(s.key));
          li.append(remove);
        }
        return li;
      }),
    );
  }

  private rebuild(): void {
    this.chart?.destroy();
    this.chart = undefined;
    this.renderList();
    if (this.series.size === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const all = [...this.series.values()];
    const width = Math.max(260, this.chartBox.clientWidth || this.element.clientWidth || 320);
    this.chart = new uPlot(
      {
        width,
        height: 200,
        legend: { show: false },
        scales: { x: { time: true } },
        axes: [{}, this.yAxis()],
        series: [
          {},
          ...all.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length],
            width: 1.5,
            spanGaps: true,
          })),
        ],
      },
      [[], ...all.map(() => [])],
      this.chartBox,
    );
    this.dirty = true;
    this.timer ??= setInterval(() => this.redraw(), REDRAW_MS);
  }

  private yAxis(): uPlot.Axis {
    const format = this.options.format;
    if (!format) return {};
    return { size: 64, values: (_u: uPlot, ticks: number[]) => ticks.map(format) };
  }

  private redraw(): void {
    if (!this.chart || this.paused || !this.dirty) return;
    this.dirty = false;
    const all = [...this.series.values()];
    const now = Date.now() / 1000;
    const from = now - this.windowS;
    const times = new Set<number>();
    for (const s of all) for (const t of s.t) if (t >= from) times.add(t);
    const xs = [...times].sort((a, b) => a - b);
    const index = new Map(xs.map((t, i) => [t, i]));
    const ys = all.map((s) => {
      const y: Array<number | null> = new Array(xs.length).fill(null);
      s.t.forEach((t, i) => {
        const at = index.get(t);
        if (at !== undefined) y[at] = s.v[i];
      });
      return y;
    });
    const width = this.chartBox.clientWidth;
    if (width > 0 && Math.abs(width - this.chart.width) > 4) this.chart.setSize({ width, height: 200 });
    this.chart.setData([xs, ...ys] as uPlot.AlignedData, true);
    this.chart.setScale("x", { min: from, max: now });
    this.element.dataset.drawn = String(Number(this.element.dataset.drawn ?? 0) + 1);
  }
}
