/**
 * The layer rule (docs/architecture.md), enforced: a folder of src/ imports only folders below
 * it in LAYERS, only through their index.ts, and never its own index (an ESM cycle through the
 * barrel). The one exception is computed, not listed: a file the browser bundle loads may reach
 * past the index of a folder whose index would pull Node-only code into the bundle.
 */
import { readdirSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import {
  browserReach,
  deepImportAllowed,
  folderOf,
  type ImportEdge,
  indexFileOf,
  ROOT,
  readGraph,
  SRC,
} from "../../scripts/import-graph.js";
import { LAYERS, layerRank } from "../../scripts/layers.js";

const graph = readGraph();
const edges = [...graph.values()].flat();
const crossFolder = edges.filter(
  (e): e is ImportEdge & { target: string } =>
    e.target !== undefined && folderOf(e.from) !== "" && folderOf(e.target) !== folderOf(e.from),
);
const show = (e: ImportEdge) => `${relative(ROOT, e.from)}:${e.line} imports ${e.specifier}`;

describe("layer rule", () => {
  it("every folder of src/ has a place in the layer order", () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(folders.filter((f) => layerRank(f) < 0)).toEqual([]);
    expect(new Set(LAYERS).size).toBe(LAYERS.length);
  });

  it("no folder imports a folder above it (type-only imports included)", () => {
    const upward = crossFolder.filter((e) => layerRank(folderOf(e.target)) > layerRank(folderOf(e.from)));
    expect(upward.map(show)).toEqual([]);
  });

  it("no import reaches past another folder's index.ts (run scripts/route-imports.ts to fix)", () => {
    const reach = browserReach(graph);
    const deep = crossFolder.filter(
      (e) => e.target !== indexFileOf(folderOf(e.target)) && !deepImportAllowed(graph, reach, e),
    );
    expect(deep.map(show)).toEqual([]);
  });

  it("no file imports its own folder's index (an ESM cycle through the barrel)", () => {
    const own = edges.filter(
      (e) =>
        e.target !== undefined &&
        folderOf(e.from) !== "" &&
        e.target === indexFileOf(folderOf(e.from)) &&
        e.from !== e.target,
    );
    expect(own.map(show)).toEqual([]);
  });

  it("the package faces (src/index.ts, src/qimessaging-wire.ts) import folders only through their index", () => {
    const faces = [...graph.keys()].filter((f) => folderOf(f) === "");
    const deep = faces
      .flatMap((f) => graph.get(f) ?? [])
      .filter((e) => e.target !== undefined && e.target !== indexFileOf(folderOf(e.target)));
    expect(deep.map(show)).toEqual([]);
  });

  it("every folder's index.ts starts with one line saying what the folder owns", () => {
    for (const folder of LAYERS) {
      const first = readFileSync(indexFileOf(folder), "utf8").split("\n")[0];
      expect(first, folder).toMatch(new RegExp(`^/\\*\\* ${folder}/: .+ \\*/$`));
    }
  });
});
