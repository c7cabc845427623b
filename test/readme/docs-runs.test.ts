/**
 * The docs run (issue 18): README.md and every docs/**\/*.md (new documents are picked up by
 * themselves) are executed, so their examples cannot rot.
 *
 * The rules, for whoever writes a document:
 * - Every ```ts block runs as an ES module script (node + tsx) in a temporary directory:
 *   "qimessaging" is this checkout's src/index.ts, "./src/…" this checkout's sources, and the
 *   README's addresses tcp://127.0.0.1:9559 (Service Directory), tcp://127.0.0.1:9503 and
 *   ws://127.0.0.1:8002 (gateway) are the live ones; QI_URL / QI_USER / QI_TOKEN name the
 *   live gateway and its user `nao`. It must exit 0.
 * - Every line starting with `$ npx qi ` in a ```sh or ```text block runs as `qi …` against
 *   the same robot, in the same directory (which holds `nao.token`, the live token). It must
 *   exit 0, or non-zero when the lines shown under it include one starting with `error:`. The
 *   lines shown under it (up to the next `$` line or blank line) must appear in its output,
 *   loosely: digits stand for any digits, `…` / `...` for anything, in any order. A trailing
 *   `&` runs it in the background until the block's end (the next line starts once it prints
 *   "Ctrl-C to stop", so `$ npx qi log --count 1 &` then a `qi call` is no race); `< FILE`
 *   feeds a file of the directory to stdin. Only quotes are shell syntax; `#` starts a comment.
 * - A different robot: `$ npx qi start|sd|gateway|demo …` in a block starts that server in the
 *   background for the rest of its block, with its `--listen` / `--gateway` addresses moved to
 *   free ports on 127.0.0.1; it must answer `qi services`, the block's next commands go to it
 *   (as `--user` with `--token` / `--token-file` when given, else the live credentials), and it
 *   must exit 0 on Ctrl-C at the block's end.
 * - `<!-- file: NAME -->` on the line directly above a block writes the block (addresses
 *   rewritten as above) to NAME in the directory for later blocks (a config file a command uses).
 * - `<!-- not run: REASON -->` on the line directly above a block skips it; REASON must not be
 *   empty, and the skipped blocks are listed (as skipped tests, with their reasons).
 * Other blocks (```yaml, ```js, plain ```), and `qi …` lines without `$ npx`, are prose.
 *
 * A document's blocks run in order, as a reader follows them (a later block may use a file an
 * earlier one wrote, and the files of `<!-- file -->` blocks, written first); documents run a few
 * at a time, against one `qi start --allow-registration` (started only if a document has
 * something to run), each document in its own directory. A
 * block with a background watcher runs alone, so that it sees only its own block's events.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { badFences, type Block, commandsOf, parseBlocks, watches } from "./doc-blocks.js";
import { ROOT, Robot, runCommands, runTs, writeDocFile } from "./doc-runner.js";

/** README.md and docs/**\/*.md, relative to the root. */
async function documents(): Promise<string[]> {
  const docs = await readdir(join(ROOT, "docs"), { recursive: true });
  return ["README.md", ...docs.filter((d) => d.endsWith(".md")).map((d) => join("docs", d))].sort();
}

const DOCS = await documents();
const TEXT = new Map(
  await Promise.all(DOCS.map(async (d) => [d, await readFile(join(ROOT, d), "utf8")] as const)),
);
const BLOCKS = new Map(DOCS.map((d) => [d, parseBlocks(TEXT.get(d)!)]));

function runnable(block: Block): boolean {
  if (block.notRun !== undefined || block.file !== undefined) return false;
  if (block.lang === "ts") return true;
  return (block.lang === "sh" || block.lang === "text") && commandsOf(block).length > 0;
}

/**
 * At most this many blocks (of all documents) at a time, on two busy cores. A block with a
 * background watcher runs alone: the robot is shared, and its watcher must see only its own
 * block's events.
 */
const PARALLEL = 2;
let running = 0;
let alone = false;
const waiting: { exclusive: boolean; go: () => void }[] = [];
function admit(): void {
  while (waiting.length > 0) {
    const next = waiting[0];
    if (alone || (next.exclusive ? running > 0 : running >= PARALLEL)) return;
    waiting.shift();
    running++;
    alone = next.exclusive;
    next.go();
  }
}
async function slot<T>(exclusive: boolean, work: () => Promise<T>): Promise<T> {
  await new Promise<void>((go) => {
    waiting.push({ exclusive, go });
    admit();
  });
  try {
    return await work();
  } finally {
    running--;
    alone = false;
    admit();
  }
}

const dirs: string[] = [];
let shared: Promise<Robot> | undefined;
/** The robot every document runs against, started by the first document that needs it. */
function robotOnce(): Promise<Robot> {
  shared ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "qi-docs-robot-"));
    dirs.push(dir);
    return Robot.start(dir);
  })();
  return shared;
}
afterAll(async () => {
  if (shared) await (await shared).proc.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}, 30_000);

describe("the docs", () => {
  it("have no unclosed code fence and no empty not-run reason", () => {
    for (const doc of DOCS) {
      expect(badFences(TEXT.get(doc)!), `${doc}: fences not closed by a bare \`\`\``).toEqual([]);
      for (const b of BLOCKS.get(doc)!)
        expect(b.notRun, `${doc}:${b.line}: not run without a reason`).not.toBe("");
    }
  });

  it("README quotes the banner qi start prints", async () => {
    expect(TEXT.get("README.md")).toMatch(
      /try: QI_TOKEN=\S+ npx qi services --url tcp:\/\/127\.0\.0\.1:9503 --user nao/,
    );
  });

  it("README shows a session, a service host and a standalone gateway, and runs them", () => {
    const blocks = BLOCKS.get("README.md")!.filter(runnable);
    expect(blocks.filter((b) => b.lang === "ts").length).toBeGreaterThanOrEqual(3);
    const commands = blocks.flatMap(commandsOf).map((c) => c.args[0]);
    expect(commands).toContain("call");
    expect(commands).toContain("gateway");
  });

  describe.concurrent("run", () => {
    for (const doc of DOCS) {
      const blocks = BLOCKS.get(doc)!;
      for (const b of blocks.filter((b) => b.notRun))
        it.skip(`${doc}:${b.line} not run: ${b.notRun}`, () => {});
      if (!blocks.some(runnable)) continue;
      it(`${doc}`, { timeout: 10 * 60_000 }, async () => {
        const dir = await mkdtemp(join(tmpdir(), "qi-docs-"));
        dirs.push(dir);
        const robot = await robotOnce();
        await writeFile(join(dir, "nao.token"), `${robot.target.token}\n`, { mode: 0o600 });
        for (const block of blocks) if (block.file !== undefined) await writeDocFile(block, dir, robot);
        // A page is read top to bottom (a later block may use what an earlier one wrote), so its
        // blocks run in order; pages run beside each other, within the slots.
        const problems: (string | undefined)[] = [];
        for (const block of blocks.filter(runnable))
          problems.push(
            await slot(watches(block), async () => {
              const problem =
                block.lang === "ts" ? await runTs(block, dir, robot) : await runCommands(block, dir, robot);
              return problem && `${doc}:${block.line} (${block.lang}): ${problem}`;
            }),
          );
        if (doc === "README.md")
          expect(robot.proc.stdout).toMatch(/try: QI_TOKEN=\S+ npx qi services --url tcp:\/\/\S+ --user nao/);
        const failures = problems.filter((p) => p !== undefined);
        expect(failures, failures.join("\n\n")).toEqual([]);
      });
    }
  });
});
