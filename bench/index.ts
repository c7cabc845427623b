/**
 * Runs every bench/*.bench.ts module (each exports `async function run(): Promise<BenchRow[]>`)
 * one after the other and prints one table. `npm run bench -- wire` runs only modules whose file
 * name contains "wire".
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BenchModule, type BenchRow, printTable } from "./table.js";

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);

async function main(): Promise<void> {
  const files = readdirSync(here)
    .filter((f) => f.endsWith(".bench.ts"))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
  const rows: BenchRow[] = [];
  for (const file of files) {
    const group = file.replace(/\.bench\.ts$/, "");
    const started = performance.now();
    process.stderr.write(`bench: ${file} …`);
    try {
      const mod = (await import(pathToFileURL(join(here, file)).href)) as Partial<BenchModule>;
      if (typeof mod.run !== "function") {
        rows.push({ group, case: "no exported run()", value: "skipped", unit: "" });
      } else {
        rows.push(...(await mod.run()));
      }
    } catch (e) {
      rows.push({
        group,
        case: `FAILED: ${e instanceof Error ? e.message : String(e)}`,
        value: "error",
        unit: "",
      });
    }
    process.stderr.write(` ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  printTable(rows);
}

await main();
