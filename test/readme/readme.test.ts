/**
 * The README runs (issue 18): its TypeScript blocks and the commands of its session transcript
 * are extracted and run against a real `qi start --allow-registration` (free ports: the
 * README's 9559 and 9503 are rewritten to them, "qimessaging" to this checkout's sources), so
 * the README cannot rot again. The banner it quotes is checked against the real one.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QiProcess, runQi } from "../cli/run-qi.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const INDEX = join(ROOT, "src", "index.ts");

let readme: string;
let robot: QiProcess;
let dir: string;
let sdUrl: string;
let gwUrl: string;
let token: string;

beforeAll(async () => {
  readme = await readFile(join(ROOT, "README.md"), "utf8");
  dir = await mkdtemp(join(tmpdir(), "qi-readme-"));
  robot = new QiProcess([
    "start",
    "--allow-registration",
    "--listen",
    "tcp://127.0.0.1:0",
    "--gateway",
    "tcp://127.0.0.1:0",
    "ws://127.0.0.1:0",
  ]);
  await robot.waitFor(/Ctrl-C to stop/, "stdout", 55_000);
  sdUrl = /Service Directory listening on (\S+)/.exec(robot.stdout)![1];
  gwUrl = /gateway listening on (tcp:\/\/[^,\s]+)/.exec(robot.stdout)![1];
  token = /token (\S+)/.exec(robot.stdout)![1];
}, 60_000);

afterAll(async () => {
  robot?.kill("SIGINT");
  await robot?.exit();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The fenced blocks of a language, in order. */
function blocks(text: string, lang: string): string[] {
  const out: string[] = [];
  const re = new RegExp("^```" + lang + "\\n([\\s\\S]*?)^```\\s*$", "gm");
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]);
  return out;
}

/** The README's addresses and package name, pointed at this run. */
function localise(code: string): string {
  return code
    .replaceAll('"qimessaging"', JSON.stringify(INDEX))
    .replaceAll("tcp://127.0.0.1:9503", gwUrl)
    .replaceAll("tcp://127.0.0.1:9559", sdUrl);
}

function env(): NodeJS.ProcessEnv {
  return { ...process.env, QI_URL: gwUrl, QI_USER: "nao", QI_TOKEN: token, NO_COLOR: "1" };
}

function runScript(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], { cwd: ROOT, env: env() });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `qi 'AL*' "x y"` → words, quotes removed (the README's commands use no other shell syntax). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

describe("the README", () => {
  it("has no unclosed code fence (a section swallowed into a block)", () => {
    const fences = readme.split("\n").filter((l) => /^```/.test(l));
    expect(fences.length % 2).toBe(0);
    for (let i = 0; i < fences.length; i += 2) expect(fences[i + 1]).toBe("```");
  });

  it("quotes the banner qi start prints", () => {
    expect(robot.stdout).toMatch(/try: QI_TOKEN=\S+ npx qi services --url tcp:\/\/\S+ --user nao/);
    expect(readme).toMatch(/try: QI_TOKEN=\S+ npx qi services --url tcp:\/\/127\.0\.0\.1:9503 --user nao/);
  });

  it("runs every command of the five-minute session", async () => {
    const session = blocks(readme, "text")[0];
    const commands = session
      .split("\n")
      .filter((l) => l.startsWith("$ npx qi "))
      .map((l) => shellWords(l.replace(/#.*$/, "")).slice(3));
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const args of commands) {
      const result = await runQi(args, { env: { QI_URL: gwUrl, QI_USER: "nao", QI_TOKEN: token } });
      expect(result, `qi ${args.join(" ")}`).toMatchObject({ code: 0 });
    }
  }, 120_000);

  it("runs every TypeScript block as written", async () => {
    const code = blocks(readme, "ts");
    expect(code.length).toBeGreaterThanOrEqual(3);
    for (const [i, block] of code.entries()) {
      const file = join(dir, `block-${i}.mts`);
      await writeFile(file, `${localise(block)}\nexport {};\n`);
      const result = await runScript(file);
      expect(result.code, `README block ${i} failed: ${result.stderr}\n${block}`).toBe(0);
      if (block.includes("registerService")) expect(result.stdout).toContain("Calc.add(2, 3) = 5");
    }
  }, 180_000);
});
