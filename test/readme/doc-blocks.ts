/**
 * Reads a Markdown document into what the docs-runs test executes: its fenced blocks with the
 * directive comment directly above each, the `$ npx qi …` commands of its `sh`/`text` blocks
 * with the output shown under them, and the rewriting of the docs' well-known addresses.
 */

export interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  body: string;
  /** `<!-- not run: REASON -->` directly above: the block is skipped, REASON listed. */
  notRun?: string;
  /** `<!-- file: NAME -->` directly above: the block is written to NAME in the doc's directory. */
  file?: string;
}

export interface Command {
  /** 1-based line in the document. */
  line: number;
  /** The words after `$ npx qi`, quotes removed. */
  args: string[];
  /** `< FILE` at the end of the line: the command's stdin. */
  stdin?: string;
  /** The lines shown under the command (up to the next `$` line or blank line). */
  expected: string[];
}

const DIRECTIVE = /^<!--\s*(not run|file):\s*(.*?)\s*-->\s*$/;

/** Every fenced block of a document, with the directive (if any) on the line above it. */
export function parseBlocks(text: string): Block[] {
  const lines = text.split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const block: Block = { line: i + 1, lang: open[1], body: lines.slice(i + 1, end).join("\n") };
    const directive = i > 0 ? DIRECTIVE.exec(lines[i - 1]) : null;
    if (directive?.[1] === "not run") block.notRun = directive[2];
    if (directive?.[1] === "file") block.file = directive[2];
    out.push(block);
    i = end;
  }
  return out;
}

/** The fences that are not closed by a bare "```" (a section swallowed into a block). */
export function badFences(text: string): number[] {
  const bad: number[] = [];
  let open = false;
  for (const [i, l] of text.split("\n").entries()) {
    if (!l.startsWith("```")) continue;
    if (open && l.trim() !== "```") bad.push(i + 1);
    open = !open;
  }
  if (open) bad.push(-1);
  return bad;
}

/** `qi 'AL*' "x y"` → words, quotes removed (the docs' commands use no other shell syntax). */
export function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** The `$ npx qi …` lines of a `sh` or `text` block, each with the output shown under it. */
export function commandsOf(block: Block): Command[] {
  const lines = block.body.split("\n");
  const out: Command[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith("$ npx qi ")) continue;
    const expected: string[] = [];
    for (let j = i + 1; j < lines.length && lines[j].trim() !== "" && !lines[j].startsWith("$"); j++)
      expected.push(lines[j]);
    // A `#` after a space starts a comment (`'#tag'` or `a#b` stay arguments).
    const source = lines[i].slice("$ npx qi ".length).replace(/\s#\s.*$/, "");
    const redirect = /\s<\s*(\S+)\s*$/.exec(source);
    const words = shellWords(redirect ? source.slice(0, redirect.index) : source);
    out.push({ line: block.line + 1 + i, args: words, stdin: redirect?.[1], expected });
  }
  return out;
}

/** A block that starts a watcher in the background (`… &`): it must not see other blocks' events. */
export function watches(block: Block): boolean {
  return commandsOf(block).some((c) => c.args.at(-1) === "&");
}

/** Commands that keep running and serve: started in the background, for the rest of their block. */
export function isServer(args: string[]): boolean {
  return ["start", "sd", "gateway", "demo"].includes(args[0]);
}

/**
 * An expected output line as a pattern: digits match any digits (ports, dates, ids, values),
 * runs of spaces any spaces, and `…` or `...` anything. Lines that are only an ellipsis are
 * not checked.
 */
export function looseLine(expected: string): RegExp | undefined {
  const text = expected.trim();
  if (text === "" || text === "..." || text === "…") return undefined;
  const pattern = text
    .split(/(\.\.\.|…|\d+|\s+)/)
    .map((part) => {
      if (part === "..." || part === "…") return ".*";
      if (/^\d+$/.test(part)) return "\\d+";
      if (/^\s+$/.test(part)) return "\\s+";
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return new RegExp(pattern);
}

export interface LiveAddresses {
  sd: string;
  gateway: string;
  ws: string;
  /** This checkout's root, with a trailing slash. */
  root: string;
}

/** The docs' well-known addresses and package name, pointed at this run. */
export function localise(code: string, live: LiveAddresses): string {
  return code
    .replaceAll('"qimessaging"', JSON.stringify(`${live.root}src/index.ts`))
    .replaceAll('"./src/', JSON.stringify(`${live.root}src/`).slice(0, -1))
    .replaceAll("tcp://127.0.0.1:9503", live.gateway)
    .replaceAll("tcp://127.0.0.1:9559", live.sd)
    .replaceAll("ws://127.0.0.1:8002", live.ws);
}

/**
 * A server command's own listeners moved to free ports on 127.0.0.1 (`--listen` and
 * `--gateway` values), so that a doc can show `--listen tcp://0.0.0.0:9503` and still run.
 */
export function freePorts(args: string[]): string[] {
  const out: string[] = [];
  let listening = false;
  for (const a of args) {
    if (a.startsWith("-")) listening = a === "--listen" || a === "--gateway";
    else if (listening) {
      out.push(a.replace(/^(\w+:\/\/)[^/]*?(:\d+)?(\/.*)?$/, "$1127.0.0.1:0$3"));
      continue;
    }
    out.push(a);
  }
  // Where a doc relies on the defaults (9559, 9503, 8002), free ports too.
  const has = (flag: string) => args.includes(flag);
  if (["start", "sd", "gateway"].includes(args[0]) && !has("--listen") && !has("--config"))
    out.push("--listen", "tcp://127.0.0.1:0");
  if (args[0] === "start" && !has("--gateway") && !has("--no-gateway"))
    out.push("--gateway", "tcp://127.0.0.1:0", "ws://127.0.0.1:0");
  return out;
}
