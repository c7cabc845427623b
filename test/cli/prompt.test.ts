/**
 * The no-echo token prompt, on a real terminal: `script` runs `qi` on a pseudo-terminal, the
 * test types at the prompt once it shows, and checks that what was typed never appears in what
 * the terminal showed. Also the prompt's editing keys, through promptHidden on plain streams.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyToken } from "../../src/gateway/index.js";
import { promptHidden } from "../../src/cli/token-sources.js";
import { startWorld, type World } from "./world.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Runs `qi args…` on a pseudo-terminal; types `typed` once `prompt` shows. */
function onTerminal(
  args: string[],
  prompt: string,
  typed: string,
): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, "--import", "tsx", "src/cli/main.ts", ...args]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(" ");
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const k of ["QI_URL", "QI_USER", "QI_TOKEN"]) delete env[k];
  const child: ChildProcess = spawn("script", ["-qec", command, "/dev/null"], {
    cwd: ROOT,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let screen = "";
  let typedYet = false;
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    screen += d;
    if (!typedYet && screen.includes(prompt)) {
      typedYet = true;
      child.stdin!.write(typed);
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    }),
  );
}

let world: World;
beforeAll(async () => {
  world = await startWorld({ auth: { nao: "s3cret" } });
});
afterAll(async () => {
  await world.close();
});

describe.skipIf(!hasScript)("token prompt on a terminal", () => {
  it("qi hash-token asks for the token without echoing it", async () => {
    const { code, screen } = await onTerminal(["hash-token"], "token: ", "pa55word\r");
    expect(code).toBe(0);
    expect(screen).not.toContain("pa55word");
    const hash = screen.match(/scrypt\$\S+/)![0];
    expect(await verifyToken("pa55word", hash)).toBe(true);
  });

  it("--user without a token asks for it, without echo, and logs in", async () => {
    const { code, screen } = await onTerminal(
      ["call", "Echo.add", "20", "22", "--url", world.url, "--user", "nao"],
      "token for nao: ",
      "s3cret\r",
    );
    expect(screen).not.toContain("s3cret");
    expect(code).toBe(0);
    expect(screen).toMatch(/\b42\b/);
  });
});

describe("promptHidden", () => {
  function io() {
    const input = new PassThrough() as PassThrough & { setRawMode(raw: boolean): void; raw: boolean[] };
    input.raw = [];
    input.setRawMode = (raw) => input.raw.push(raw);
    let shown = "";
    const output = new PassThrough();
    output.on("data", (d) => {
      shown += String(d);
    });
    return { input, output, shown: () => shown };
  }

  it("ends at Enter, applies Backspace, restores the terminal mode, shows only the question", async () => {
    const t = io();
    const answer = promptHidden("token: ", t);
    t.input.write("ab");
    t.input.write("x\u007fc\r");
    expect(await answer).toBe("abc");
    expect(t.input.raw).toEqual([true, false]);
    expect(t.shown()).toBe("token: \n");
  });

  it("Ctrl-C cancels with a usage error", async () => {
    const t = io();
    const answer = promptHidden("token: ", t);
    t.input.write("ab\u0003");
    await expect(answer).rejects.toMatchObject({ exitCode: 2, message: "no token entered" });
  });
});
