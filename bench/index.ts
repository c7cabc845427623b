/**
 * Runs every bench/*.bench.ts module (each exports `async function run(): Promise<BenchRow[]>`)
 * one after the other and prints one table. `npm run bench -- wire` runs only modules whose file
 * name contains "wire".
 *
 * Each module runs in a fresh Node process (bench/run-module.ts): a module measured after
 * others would inherit their heap, timers and JIT state, and the numbers of one would depend
 * on which ran before it.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchRow, printTable } from "./table.js";

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);

/** Runs one module in a child process; resolves with its rows (or one row saying it failed). */
function runModule(file: string): Promise<BenchRow[]> {
  const group = file.replace(/\.bench\.ts$/, "");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, join(here, "run-module.ts"), file], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
    });
    child.on("close", (code) => {
      const last = out.trim().split("\n").at(-1) ?? "";
      try {
        resolve(JSON.parse(last) as BenchRow[]);
      } catch {
        resolve([{ group, case: `FAILED: exit code ${code}`, value: "error", unit: "" }]);
      }
    });
  });
}

async function main(): Promise<void> {
  const files = readdirSync(here)
    .filter((f) => f.endsWith(".bench.ts"))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
  const rows: BenchRow[] = [];
  for (const file of files) {
    const started = performance.now();
    process.stderr.write(`bench: ${file} …`);
    rows.push(...(await runModule(file)));
    process.stderr.write(` ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  printTable(rows);
}

await main();
