/**
 * Printing: human text (colours only when stdout is a terminal and NO_COLOR is unset) or, with
 * --json, one JSON document per result / per event line. Values of the qi value model are
 * turned into JSON here (see toJson).
 */
import { ByteString, Dynamic, ObjectRef, Optional, Raw, Struct } from "../wire/index.js";

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

/**
 * The qi value model as JSON: bigint → number when safe (else a decimal string), Raw →
 * `{"base64": …}` (or `"<raw N bytes>"` for humans), Map → object (or a list of [key, value]
 * pairs when keys are not scalars), Struct → object of its fields, Dynamic → its value,
 * Optional → value or null, ObjectRef → {"object": "service.object"}.
 */
export function toJson(value: unknown, mode: "json" | "human" = "json", depth = 0): unknown {
  if (depth > 256) return "<too deep>";
  const next = (v: unknown) => toJson(v, mode, depth + 1);
  switch (typeof value) {
    case "undefined":
      return null;
    case "bigint":
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "string":
    case "boolean":
      return value;
    case "object":
      break;
    default:
      return String(value);
  }
  if (value === null) return null;
  if (value instanceof Dynamic) return next(value.value);
  if (value instanceof Raw || value instanceof Uint8Array) {
    const bytes = value instanceof Raw ? value.bytes : value;
    return mode === "human"
      ? `<raw ${bytes.byteLength} bytes>`
      : { base64: Buffer.from(bytes).toString("base64") };
  }
  if (value instanceof ByteString) {
    const text = strictUtf8(value.bytes);
    if (text !== undefined) return text;
    return mode === "human"
      ? `<binary ${value.bytes.byteLength} bytes: ${hex(value.bytes)}>`
      : { base64: Buffer.from(value.bytes).toString("base64") };
  }
  if (value instanceof Optional) return value.hasValue ? next(value.value) : null;
  if (value instanceof Struct) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value.fields)) out[k] = next(v);
    return out;
  }
  if (value instanceof ObjectRef) return { object: `${value.serviceId}.${value.objectId}` };
  if (Array.isArray(value)) return value.map(next);
  if (value instanceof Map) {
    const keys = [...value.keys()].map((k) => (k instanceof Dynamic ? k.value : k));
    if (
      keys.every(
        (k) =>
          typeof k === "string" || typeof k === "number" || typeof k === "bigint" || typeof k === "boolean",
      )
    ) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of value) out[String(k instanceof Dynamic ? k.value : k)] = next(v);
      return out;
    }
    return [...value].map(([k, v]) => [next(k), next(v)]);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = next(v);
  return out;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

const fatal = new TextDecoder("utf-8", { fatal: true });
function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return fatal.decode(bytes);
  } catch {
    return undefined;
  }
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
