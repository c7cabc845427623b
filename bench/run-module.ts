/**
 * Child of bench/index.ts: imports one bench module, runs it, prints its rows as one JSON line
 * on stdout (the module's own output goes to stderr), and exits.
 */
import { join } from "node:path";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchModule, BenchRow } from "./table.js";

const here = dirname(fileURLToPath(import.meta.url));
const file = process.argv[2];
const group = file.replace(/\.bench\.ts$/, "");
let rows: BenchRow[];
try {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as Partial<BenchModule>;
  rows =
    typeof mod.run === "function"
      ? await mod.run()
      : [{ group, case: "no exported run()", value: "skipped", unit: "" }];
} catch (e) {
  rows = [{ group, case: `FAILED: ${e instanceof Error ? e.message : String(e)}`, value: "error", unit: "" }];
}
process.stdout.write(`\n${JSON.stringify(rows)}\n`);
process.exit(0);
