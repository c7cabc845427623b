/**
 * The import graph of src/, read with the TypeScript parser (no type checking): every
 * import/export-from statement with its resolved target, whether it is type-only (erased at
 * run time) and where its specifier sits. Shared by the layer test and scripts/route-imports.ts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const SRC = join(ROOT, "src");
/** The browser bundle's entry (src/web/build.ts). */
export const BROWSER_ENTRY = join(SRC, "web", "client", "index.ts");
/**
 * Files that stand in for a folder's index in the browser build (src/web/build.ts): they are
 * that folder's face there, so they may import its files.
 */
export const INDEX_STAND_INS: ReadonlyMap<string, string> = new Map([
  [join(SRC, "web", "client", "shims", "dispatch.ts"), "dispatch"],
]);
/** Node built-ins the browser build replaces with shims (src/web/build.ts), and the shim files. */
const SHIMS: ReadonlyMap<string, string> = new Map([
  ["node:crypto", join(SRC, "web", "client", "shims", "crypto.ts")],
  ["crypto", join(SRC, "web", "client", "shims", "crypto.ts")],
  ["node:events", join(SRC, "web", "client", "shims", "events.ts")],
  ["events", join(SRC, "web", "client", "shims", "events.ts")],
]);

export interface ImportEdge {
  from: string;
  specifier: string;
  /** The .ts file under src/ it names; undefined for packages and built-ins. */
  target: string | undefined;
  /** Erased at run time: `import type`, or every named binding marked `type`. */
  typeOnly: boolean;
  /** Offsets of the specifier's text (inside the quotes). */
  start: number;
  end: number;
  line: number;
  statement: ts.ImportDeclaration | ts.ExportDeclaration;
  sourceFile: ts.SourceFile;
}

export function listSourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listSourceFiles(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

/** The top folder of a file under src/ ("" for src/index.ts). */
export function folderOf(file: string): string {
  const rel = relative(SRC, file).split(sep);
  return rel.length > 1 ? rel[0] : "";
}

export function indexFileOf(folder: string): string {
  return join(SRC, folder, "index.ts");
}

export function readImports(file: string): ImportEdge[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: ImportEdge[] = [];
  for (const stmt of sf.statements) {
    if (!ts.isImportDeclaration(stmt) && !ts.isExportDeclaration(stmt)) continue;
    const spec = stmt.moduleSpecifier;
    if (!spec || !ts.isStringLiteral(spec)) continue;
    out.push({
      from: file,
      specifier: spec.text,
      target: resolveSpecifier(file, spec.text),
      typeOnly: isTypeOnly(stmt),
      start: spec.getStart(sf) + 1,
      end: spec.getEnd() - 1,
      line: sf.getLineAndCharacterOfPosition(stmt.getStart(sf)).line + 1,
      statement: stmt,
      sourceFile: sf,
    });
  }
  return out;
}

function isTypeOnly(stmt: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(stmt)) {
    if (stmt.isTypeOnly) return true;
    const c = stmt.exportClause;
    return !!c && ts.isNamedExports(c) && c.elements.length > 0 && c.elements.every((e) => e.isTypeOnly);
  }
  const clause = stmt.importClause;
  if (!clause) return false; // a side-effect import
  if (clause.isTypeOnly) return true;
  if (clause.name) return false;
  const b = clause.namedBindings;
  return !!b && ts.isNamedImports(b) && b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly);
}

function resolveSpecifier(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const file = resolve(dirname(from), spec).replace(/\.js$/, ".ts");
  return file.startsWith(SRC + sep) && file.endsWith(".ts") ? file : undefined;
}

export type Graph = Map<string, ImportEdge[]>;

export function readGraph(): Graph {
  const g: Graph = new Map();
  for (const f of listSourceFiles()) g.set(f, readImports(f));
  return g;
}

/** Files reached from `entry` through imports that survive compilation. */
export function runtimeClosure(g: Graph, entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const f = stack.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const e of g.get(f) ?? []) if (!e.typeOnly && e.target) stack.push(e.target);
  }
  return seen;
}

/**
 * Can the browser bundle import this file? Not when anything it loads at run time imports a
 * package or a Node built-in the browser build has no shim for. dispatch/index.ts is replaced
 * by a shim in the browser build, so it always can.
 */
export function browserSafe(g: Graph, file: string): boolean {
  const shimmedDispatch = indexFileOf("dispatch");
  const seen = new Set<string>();
  const stack = [file];
  while (stack.length > 0) {
    const f = stack.pop() as string;
    if (seen.has(f) || f === shimmedDispatch) continue;
    seen.add(f);
    for (const e of g.get(f) ?? []) {
      if (e.typeOnly) continue;
      if (e.target) stack.push(e.target);
      else if (!e.specifier.startsWith(".") && !shimCovers(e)) return false;
    }
  }
  return true;
}

const shimExports = new Map<string, Set<string>>();

/** Does the browser shim of this built-in export every name the import takes from it? */
function shimCovers(e: ImportEdge): boolean {
  const shim = SHIMS.get(e.specifier);
  if (!shim) return false;
  let names = shimExports.get(shim);
  if (!names) {
    names = exportedNames(shim);
    shimExports.set(shim, names);
  }
  const clause = ts.isImportDeclaration(e.statement) ? e.statement.importClause : undefined;
  if (!clause) return true;
  if (clause.name && !names.has("default")) return false;
  const b = clause.namedBindings;
  if (b && ts.isNamedImports(b)) return b.elements.every((el) => names.has((el.propertyName ?? el.name).text));
  return true;
}

/** Names a file declares as exported (declarations and export lists; enough for the shims). */
function exportedNames(file: string): Set<string> {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const out = new Set<string>();
  for (const st of sf.statements) {
    if (ts.isExportAssignment(st)) out.add("default");
    else if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const el of st.exportClause.elements) out.add(el.name.text);
    } else if (ts.canHaveModifiers(st) && ts.getModifiers(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
      if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) out.add(d.name.text);
      } else if ("name" in st && st.name && ts.isIdentifier(st.name as ts.Node)) {
        out.add((st.name as ts.Identifier).text);
      }
    }
  }
  return out;
}

/**
 * Files the browser bundle loads: the runtime closure of its entry, with an import into another
 * folder counted as loading that folder's index when the index is browser-safe (what the
 * rewrite will make of it).
 */
export function browserReach(g: Graph): Set<string> {
  const reach = runtimeClosure(g, BROWSER_ENTRY);
  for (const f of [...reach]) {
    for (const e of g.get(f) ?? []) {
      if (e.typeOnly || !e.target) continue;
      const idx = indexFileOf(folderOf(e.target));
      if (folderOf(e.target) !== folderOf(f) && browserSafe(g, idx))
        for (const r of runtimeClosure(g, idx)) reach.add(r);
    }
  }
  return reach;
}

/**
 * May `e` reach past the index of the folder it imports? Only from a stand-in for that index,
 * or as a runtime import made by a file
 * the browser bundle loads, into a folder whose index would pull Node-only code into the bundle
 * (the folder has no browser-safe face yet).
 */
export function deepImportAllowed(g: Graph, reach: Set<string>, e: ImportEdge): boolean {
  if (e.target && INDEX_STAND_INS.get(e.from) === folderOf(e.target)) return true;
  if (e.typeOnly || !e.target || !reach.has(e.from)) return false;
  return !browserSafe(g, indexFileOf(folderOf(e.target)));
}
