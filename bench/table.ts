/** One result line of a benchmark module. */
export interface BenchRow {
  /** Module/topic, e.g. "wire". */
  group: string;
  /** What was measured, e.g. "framer 1 MiB payloads over TCP loopback". */
  case: string;
  /** The measurement (a string for notes such as "skipped"). */
  value: number | string;
  /** Unit of `value` and `baseline`, e.g. "MB/s", "msg/s", "ops/s". */
  unit: string;
  /** A comparable number in the same unit measured in the same run (or a stated target). */
  baseline?: number;
  /** value / baseline; computed by the printer when omitted. */
  ratio?: number;
}

/** Every bench/*.bench.ts module exports this. */
export type BenchModule = { run(): Promise<BenchRow[]> };

const COLUMNS = ["group", "case", "value", "unit", "baseline", "ratio"] as const;

function fmtNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString("en-US");
  if (abs >= 100) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

function cells(row: BenchRow): string[] {
  const ratio =
    row.ratio ??
    (typeof row.value === "number" && row.baseline !== undefined && row.baseline !== 0
      ? row.value / row.baseline
      : undefined);
  return [
    row.group,
    row.case,
    typeof row.value === "number" ? fmtNumber(row.value) : row.value,
    row.unit,
    row.baseline === undefined ? "" : fmtNumber(row.baseline),
    ratio === undefined ? "" : ratio.toFixed(2),
  ];
}

/** Render rows as one aligned text table (numbers right-aligned). */
export function formatTable(rows: readonly BenchRow[]): string {
  const body = rows.map(cells);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...body.map((r) => r[i].length)));
  const right = [false, false, true, false, true, true];
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(COLUMNS), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

export function printTable(rows: readonly BenchRow[]): void {
  process.stdout.write(`${formatTable(rows)}\n`);
}
