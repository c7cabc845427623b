/**
 * The text form of a Bottle, as `yarp read` prints it and `yarp write`/`yarp rpc` and the text
 * carriers send it: items separated by spaces, `(…)` nested lists, `"…"` strings with C escapes
 * (a plain word may go unquoted), `[abc]` vocabs, `{1 2 3}` blobs as byte values, and numbers
 * (a float always shows a decimal point, so it reads back as a float).
 */
import { type Bottle, BottleError, type BottleValue, Float, Vocab } from "./bottle.js";

const BARE_WORD = /^[A-Za-z_/][A-Za-z0-9_/.\-:+*]*$/;

export function bottleToText(bottle: readonly BottleValue[]): string {
  return bottle.map(itemText).join(" ");
}

function itemText(v: BottleValue): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : floatText(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return BARE_WORD.test(v) ? v : JSON.stringify(v);
  if (v instanceof Float) return floatText(v.value);
  if (v instanceof Vocab) return `[${v.text}]`;
  if (v instanceof Uint8Array) return `{${Array.from(v).join(" ")}}`;
  return `(${bottleToText(v)})`;
}

function floatText(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? "nan" : n > 0 ? "inf" : "-inf";
  const s = String(n);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** Parses one line of text into a Bottle; throws BottleError on unbalanced brackets or bad input. */
export function textToBottle(text: string, maxDepth = 32): Bottle {
  const p = new TextParser(text, maxDepth);
  const out = p.items(0, "");
  return out;
}

class TextParser {
  private pos = 0;
  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
  ) {}

  items(depth: number, close: string): BottleValue[] {
    if (depth > this.maxDepth) throw new BottleError("text Bottle nested too deeply");
    const out: BottleValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.s.length) {
        if (close) throw new BottleError(`missing "${close}"`);
        return out;
      }
      const c = this.s[this.pos];
      if (c === close) {
        this.pos++;
        return out;
      }
      if (c === ")" || c === "}" || c === "]") throw new BottleError(`unexpected "${c}"`);
      out.push(this.item(depth));
    }
  }

  private skipSpace(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos])) this.pos++;
  }

  private item(depth: number): BottleValue {
    const c = this.s[this.pos];
    if (c === "(") {
      this.pos++;
      return this.items(depth + 1, ")");
    }
    if (c === "{") {
      this.pos++;
      const bytes = this.items(depth + 1, "}");
      if (!bytes.every((b) => typeof b === "number" && Number.isInteger(b) && b >= 0 && b <= 255))
        throw new BottleError("a blob {…} holds byte values 0..255");
      return Uint8Array.from(bytes as number[]);
    }
    if (c === "[") {
      const end = this.s.indexOf("]", this.pos);
      if (end < 0) throw new BottleError('missing "]"');
      const word = this.s.slice(this.pos + 1, end);
      this.pos = end + 1;
      return Vocab.of(word);
    }
    if (c === '"') return this.quoted();
    const start = this.pos;
    while (this.pos < this.s.length && !/[\s()[\]{}"]/.test(this.s[this.pos])) this.pos++;
    return word(this.s.slice(start, this.pos));
  }

  private quoted(): string {
    let out = "";
    this.pos++;
    while (this.pos < this.s.length) {
      const c = this.s[this.pos++];
      if (c === '"') return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = this.s[this.pos++];
      out += e === "n" ? "\n" : e === "r" ? "\r" : e === "t" ? "\t" : e === "0" ? "\0" : (e ?? "");
    }
    throw new BottleError("unterminated string");
  }
}

function word(w: string): BottleValue {
  if (/^[-+]?\d+$/.test(w)) {
    const n = Number(w);
    return Number.isSafeInteger(n) ? n : BigInt(w);
  }
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(w) || /^[-+]?(inf|nan)$/.test(w)) {
    const n = w.endsWith("inf")
      ? w.startsWith("-")
        ? -Infinity
        : Infinity
      : w.endsWith("nan")
        ? NaN
        : Number(w);
    return new Float(n);
  }
  return w;
}
