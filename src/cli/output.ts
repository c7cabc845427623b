/**
 * Printing: human text (colours only when stdout is a terminal and NO_COLOR is unset) or, with
 * --json, one JSON document per result / per event line. Values of the qi value model are
 * turned into JSON here (see toJson).
 */
import { toJson } from "../wire/index.js";

export type Style = "bold" | "dim" | "red" | "green" | "yellow" | "cyan";
const CODES: Record<Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
};

export function colorsFor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

export class Output {
  readonly color: boolean;

  constructor(
    readonly json: boolean,
    private readonly stream: NodeJS.WriteStream = process.stdout,
  ) {
    this.color = !json && colorsFor(stream);
  }

  style(style: Style, text: string): string {
    if (!this.color) return text;
    const [on, off] = CODES[style];
    return `\u001b[${on}m${text}\u001b[${off}m`;
  }

  line(text = ""): void {
    this.stream.write(`${text}\n`);
  }

  /** One JSON document on one line (the qi value model converted by toJson). */
  jsonLine(value: unknown): void {
    this.line(JSON.stringify(toJson(value, "json")));
  }

  /** A result value: JSON with --json, otherwise readable JSON (raw bytes summarised). */
  value(value: unknown): void {
    if (this.json) this.jsonLine(value);
    else this.line(formatHuman(value));
  }
}

/** A readable form: compact JSON when short, indented otherwise; raw bytes as `<raw N bytes>`. */
export function formatHuman(value: unknown): string {
  const j = toJson(value, "human");
  const compact = JSON.stringify(j) ?? "null";
  return compact.length <= 100 ? compact : JSON.stringify(j, null, 2);
}

/** The qi value model as JSON: wire/json.ts's, shared with the web console. */
export { toJson };

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Pads cells to aligned columns. */
export function table(rows: string[][], gap = "  "): string[] {
  const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "").length;
  const widths: number[] = [];
  for (const r of rows)
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visible(c));
    });
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + " ".repeat(widths[i] - visible(c))))
      .join(gap)
      .trimEnd(),
  );
}
