/**
 * Runs once before the suite: starts the `qi` binary once so that tsx has transpiled the whole
 * source tree into its cache. On a fresh CI machine, the first subprocess tests would otherwise
 * each transpile everything at the same time, on two cores, next to the other test files.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const root = fileURLToPath(new URL("../", import.meta.url));
  execFileSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "--version"], {
    cwd: root,
    stdio: "ignore",
    timeout: 120_000,
  });
}
