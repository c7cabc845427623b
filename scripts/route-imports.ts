/**
 * Rewrites every import in src/ that reaches past another folder's index.ts so that it goes
 * through that index, and adds to the index the names it did not export yet (the folder's
 * internal face). Only the module specifier of an import/export line changes: the imported
 * names, `type` markers and aliases stay as written. Idempotent: a second run changes nothing.
 *
 *   npx tsx scripts/route-imports.ts          # rewrite
 *   npx tsx scripts/route-imports.ts --check  # list what it would change, exit 1 if anything
 *
 * Refuses (exit 2, nothing written) on what it cannot do safely: a namespace or side-effect
 * import past an index, or an index that already exports another symbol under the same name.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import ts from "typescript";
import {
  browserReach,
  deepImportAllowed,
  folderOf,
  indexFileOf as indexOf,
  ROOT as root,
  readGraph,
  SRC as srcDir,
} from "./import-graph.js";

const check = process.argv.includes("--check");

function specifierFor(from: string, folder: string): string {
  let rel = relative(join(from, ".."), join(srcDir, folder, "index.js")).split(sep).join("/");
  if (!rel.startsWith(".")) rel = `./${rel}`;
  return rel;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}
interface NeededExport {
  folder: string;
  file: string;
  name: string;
  isType: boolean;
}

const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.build.json"), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  },
});
if (!config) throw new Error("cannot read tsconfig.build.json");
const program = ts.createProgram(config.fileNames, config.options);
const checker = program.getTypeChecker();

const edits = new Map<string, Edit[]>();
const needed = new Map<string, NeededExport>(); // key folder:name
const refusals: string[] = [];

/** Names a module exports, with the symbol each resolves to. */
function exportsOf(file: string): Map<string, ts.Symbol> {
  const sf = program.getSourceFile(file);
  const out = new Map<string, ts.Symbol>();
  const sym = sf && checker.getSymbolAtLocation(sf);
  if (!sym) return out;
  for (const e of checker.getExportsOfModule(sym)) out.set(e.name, resolveAlias(e));
  return out;
}

function resolveAlias(s: ts.Symbol): ts.Symbol {
  return s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
}

const graph = readGraph();
const reach = browserReach(graph);
const kept: string[] = [];

for (const [file, imports] of graph) {
  const fromFolder = folderOf(file);
  for (const edge of imports) {
    const { statement: stmt, sourceFile: sf, target } = edge;
    if (!target) continue;
    const toFolder = folderOf(target);
    if (toFolder === "" || toFolder === fromFolder || target === indexOf(toFolder)) continue;
    if (deepImportAllowed(graph, reach, edge)) {
      kept.push(`${relative(root, file)}:${edge.line} -> ${relative(root, target)}`);
      continue;
    }
    const where = `${relative(root, file)}: ${stmt.getText(sf).split("\n")[0]}`;

    const names: { name: string; isType: boolean }[] = [];
    const targetExports = exportsOf(target);
    const typeOnlyStmt = ts.isImportDeclaration(stmt)
      ? (stmt.importClause?.isTypeOnly ?? false)
      : stmt.isTypeOnly;
    const bindings = ts.isImportDeclaration(stmt)
      ? stmt.importClause?.namedBindings
      : stmt.exportClause;
    if (ts.isImportDeclaration(stmt) && (!stmt.importClause || stmt.importClause.name)) {
      refusals.push(`${where} (side-effect or default import past an index)`);
      continue;
    }
    if (!bindings || ts.isNamespaceImport(bindings) || ts.isNamespaceExport(bindings)) {
      refusals.push(`${where} (namespace or * import past an index)`);
      continue;
    }
    for (const el of bindings.elements) {
      const name = (el.propertyName ?? el.name).text;
      const sym = targetExports.get(name);
      if (!sym) {
        refusals.push(`${where} (${name} is not exported by ${relative(root, target)})`);
        continue;
      }
      const isType = typeOnlyStmt || el.isTypeOnly || (sym.flags & ts.SymbolFlags.Value) === 0;
      names.push({ name, isType });
    }

    const index = indexOf(toFolder);
    const indexExports = existsSync(index) ? exportsOf(index) : new Map<string, ts.Symbol>();
    for (const { name, isType } of names) {
      const have = indexExports.get(name);
      const want = targetExports.get(name);
      if (have && have !== want) {
        refusals.push(`${where} (${relative(root, index)} already exports another ${name})`);
        continue;
      }
      if (have) continue;
      const key = `${toFolder}:${name}`;
      const prior = needed.get(key);
      if (prior && prior.file !== target) {
        refusals.push(`${where} (${name} would come from two files of ${toFolder}/)`);
        continue;
      }
      needed.set(key, { folder: toFolder, file: target, name, isType: isType && (prior?.isType ?? true) });
    }
    const list = edits.get(file) ?? [];
    list.push({ start: edge.start, end: edge.end, text: specifierFor(file, toFolder) });
    edits.set(file, list);
  }
}

if (refusals.length > 0) {
  console.error(`route-imports: refusing, nothing written:\n  ${refusals.join("\n  ")}`);
  process.exit(2);
}

// The additions to each index, grouped by the file they come from.
const additions = new Map<string, Map<string, NeededExport[]>>();
for (const n of needed.values()) {
  const byFile = additions.get(n.folder) ?? new Map<string, NeededExport[]>();
  const list = byFile.get(n.file) ?? [];
  list.push(n);
  byFile.set(n.file, list);
  additions.set(n.folder, byFile);
}

if (kept.length > 0) {
  console.log(`kept past an index (browser bundle; the folder has no browser-safe index yet):\n  ${kept.join("\n  ")}`);
}
for (const [file, list] of edits) {
  console.log(`${relative(root, file)}: ${list.length} import(s) through an index`);
}
for (const [folder, byFile] of additions) {
  for (const [file, list] of byFile) {
    console.log(`${folder}/index.ts: + ${list.map((n) => n.name).join(", ")} (from ${relative(srcDir, file)})`);
  }
}
if (check) process.exit(edits.size > 0 || additions.size > 0 ? 1 : 0);

for (const [file, list] of edits) {
  let text = readFileSync(file, "utf8");
  for (const e of list.sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  writeFileSync(file, text);
}
const MARK = "// Internal face: what other folders of src/ use (kept up to date by scripts/route-imports.ts).";
for (const [folder, byFile] of additions) {
  const index = indexOf(folder);
  let text = existsSync(index) ? readFileSync(index, "utf8") : `/** ${folder}/: (say in one line what this folder owns) */\n`;
  if (!text.includes(MARK)) text = `${text.trimEnd()}\n\n${MARK}\n`;
  for (const [file, list] of [...byFile].sort(([a], [b]) => a.localeCompare(b))) {
    const spec = `./${relative(join(srcDir, folder), file).split(sep).join("/").replace(/\.ts$/, ".js")}`;
    const names = list
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((n) => (n.isType ? `type ${n.name}` : n.name));
    text += `export { ${names.join(", ")} } from "${spec}";\n`;
  }
  writeFileSync(index, text);
}
