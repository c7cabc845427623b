#!/usr/bin/env node
/**
 * `npm start` without the 13 s rebuild when nothing changed: builds only when a file under
 * src/ (or the build configuration) is newer than the stamp the last build left in dist/.
 * Plain JavaScript so that the check itself costs no compiler start-up. `--clean` (prepack)
 * always builds, from an empty dist/, so a packed tarball never carries files of deleted sources.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const stamp = join(root, "dist", ".build-stamp");

function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let latest = st.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const sources = Math.max(
  ...["src", "package.json", "tsconfig.json", "tsconfig.build.json"].map((p) => newest(join(root, p))),
);
const clean = process.argv.includes("--clean");
if (clean) rmSync(join(root, "dist"), { recursive: true, force: true });
if (clean || sources >= built) {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
