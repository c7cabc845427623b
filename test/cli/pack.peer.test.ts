/**
 * The package as a user gets it (issue 18 item 1): `npm pack` of a copy of this checkout (its
 * prepack builds dist/), the tarball installed into a temporary app, then `npx qi --version`,
 * `qi start` until ready, and a strict TypeScript compile of an example against the installed
 * types (library .d.ts checked too, with no @types/ws around). A *.peer test: it runs once, and
 * its dependencies come from the registry in CI, from the npm cache here (--prefer-offline).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

let dir: string;
let app: string;
let tarball: string;
const children: ChildProcess[] = [];

/** The checkout's own files (tracked and new, not ignored), as `npm pack` in a clone sees them. */
async function copyCheckout(to: string): Promise<void> {
  const { stdout } = await run("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const file of stdout.split("\0").filter((f) => f && !f.startsWith("node_modules"))) {
    await mkdir(join(to, file, ".."), { recursive: true });
    await cp(join(ROOT, file), join(to, file)).catch(() => undefined); // deleted but still listed
  }
  await symlink(join(ROOT, "node_modules"), join(to, "node_modules"));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qi-pack-"));
  const source = join(dir, "source");
  app = join(dir, "app");
  await mkdir(source);
  await mkdir(app);
  await copyCheckout(source);
  const packed = await run("npm", ["pack", "--silent", "--pack-destination", dir], {
    cwd: source,
    env: { ...process.env, npm_config_cache: process.env.npm_config_cache },
    maxBuffer: 64 * 1024 * 1024,
  });
  tarball = join(dir, packed.stdout.trim().split("\n").pop()!);
  await writeFile(
    join(app, "package.json"),
    JSON.stringify({ name: "qi-app", private: true, type: "module" }),
  );
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts", tarball], {
    cwd: app,
    maxBuffer: 64 * 1024 * 1024,
  });
}, 600_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("npm pack → npm install → use", () => {
  it("ships the build, the docs, the licence and source maps with their sources", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball]);
    const files = stdout.split("\n");
    for (const f of [
      "package/LICENSE",
      "package/README.md",
      "package/docs/cli.md",
      "package/dist/cli/main.js",
    ])
      expect(files).toContain(f);
    expect(files).toContain("package/dist/index.d.ts");
    expect(files).toContain("package/dist/web/index.html");
    expect(files.some((f) => f.includes("build-stamp"))).toBe(false);
    const map = JSON.parse(
      await readFile(join(app, "node_modules", "qimessaging", "dist", "session", "session.js.map"), "utf8"),
    ) as { sourcesContent?: string[] };
    expect(map.sourcesContent?.[0]).toContain("class Session");
  });

  it("npx qi --version prints the package's version", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
    const { stdout } = await run("npx", ["--no-install", "qi", "--version"], { cwd: app });
    expect(stdout.trim()).toBe(pkg.version);
  });

  it("qi start runs the simulated robot, the gateway and the console from the installed package", async () => {
    const child = spawn(
      "npx",
      [
        "--no-install",
        "qi",
        "start",
        "--listen",
        "tcp://127.0.0.1:0",
        "--gateway",
        "tcp://127.0.0.1:0",
        "ws://127.0.0.1:0",
      ],
      { cwd: app, env: { ...process.env, NO_COLOR: "1" }, detached: true },
    );
    children.push(child);
    let out = "";
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        if (out.includes("Ctrl-C to stop")) resolve();
      });
      child.on("close", () => reject(new Error(`qi start exited: ${out}`)));
    });
    const exited = new Promise((r) => child.on("close", r));
    try {
      await ready;
      expect(out).toContain("services: ALMemory");
      expect(out).toMatch(/web console: http:\/\/127\.0\.0\.1:\d+\//);
    } finally {
      process.kill(-child.pid!, "SIGINT");
    }
    await exited;
  }, 120_000);

  it("an example compiles with tsc --strict against the installed types (no @types/ws needed)", async () => {
    await writeFile(
      join(app, "example.ts"),
      `import { Application, QiObject, Session, UserTokenAuthenticator, robotLogger } from "qimessaging";
const session = new Session({ authenticator: new UserTokenAuthenticator("nao", "token") });
await session.connect();
const tts = await session.service("ALTextToSpeech");
await tts.call("say", "hello");
const calc = new QiObject().method("add", "(ii)", "i", (a: number, b: number) => a + b);
await session.registerService("Calc", calc);
robotLogger(session).info("started");
const app = new Application({ argv: ["--qi-url", "tcp://127.0.0.1:9559"] });
const url: string | undefined = app.url;
console.log(url);
`,
    );
    await writeFile(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
          typeRoots: [join(ROOT, "node_modules", "@types")],
        },
        files: ["example.ts"],
      }),
    );
    const result = await run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: app }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(result.out).toBe("");
    expect(result.code).toBe(0);
  }, 120_000);
});
