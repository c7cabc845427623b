/**
 * The browser bundle is the one Session with the browser's transport: it loads no Node module
 * (no `node:` import, no Node-only driver), and carries the Session of src/session.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWeb } from "../../src/web/build.js";

let dir: string;
let qi: string;
let consoleJs: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qi-bundle-"));
  await buildWeb(dir, false);
  qi = await readFile(join(dir, "qi.js"), "utf8");
  consoleJs = await readFile(join(dir, "console.js"), "utf8");
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the browser bundle", () => {
  it("imports no Node module, and the console imports only ./qi.js", () => {
    for (const code of [qi, consoleJs]) {
      expect(code).not.toMatch(/\bfrom\s*["']node:/);
      expect(code).not.toMatch(/\bimport\(\s*["']node:/);
      expect(code).not.toMatch(/\brequire\(/);
    }
    const imports = [...consoleJs.matchAll(/\bfrom\s*["']([^"']+)["']/g)].map((m) => m[1]);
    expect(new Set(imports)).toEqual(new Set(["./qi.js"]));
    expect(qi).not.toMatch(/\bfrom\s*["'][^"']+["']/);
  });

  it("holds the one Session and the browser's drivers, not the Node ones", () => {
    expect(qi).toMatch(/src\/session\/session\.ts/);
    expect(qi).toMatch(/src\/session\/connections\.ts/);
    expect(qi).toMatch(/src\/transport\/drivers\.browser\.ts/);
    expect(qi).not.toMatch(/src\/transport\/drivers\.ts/);
    expect(qi).not.toMatch(/src\/transport\/(tcp|tls|ws-connect|ws-listen|socket-driver)\.ts/);
    expect(qi).not.toMatch(/browser-session/);
  });
});
