/**
 * Builds the browser side into dist/web/ (or `outDir`):
 *   qi.js        the client, `qimessaging/browser`, one ESM file (src/web/client/index.ts)
 *   console.js   the web console, which imports ./qi.js at run time (one copy of the client)
 *   index.html, console.css
 *
 * The client is the one Session of src/session, bundled unchanged. Where a module has a
 * browser twin next to it (`X.browser.ts` beside `X.ts`), the twin is bundled instead: the
 * transport's face and drivers (ws/wss over the page's WebSocket instead of sockets) and the
 * machine id. The Node built-ins shared code still touches are replaced by small shims
 * (node:crypto → Web Crypto, node:events → a tiny EventEmitter, src/dispatch → a one-thread
 * dispatcher, `process` → a stub). Any other Node import fails the build, naming its importer,
 * so nothing Node-only slips into the bundle unnoticed. The console alone may bundle the chart
 * library uPlot (its plots); its stylesheet is prepended to console.css, so the page still
 * loads one stylesheet under the handler's `style-src 'self'`.
 *
 * Run: `npx tsx src/web/build.ts [outDir]`.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const shims = join(here, "client", "shims");
const require = createRequire(import.meta.url);

/** `./X.js` → `./X.browser.ts` when that twin exists (the runtime seams: see the header). */
function browserTwin(path: string, importer: string): string | undefined {
  if (!path.startsWith(".") || !path.endsWith(".js") || importer === "") return undefined;
  const twin = resolve(dirname(importer), `${path.slice(0, -3)}.browser.ts`);
  return existsSync(twin) ? twin : undefined;
}

/** The console bundles its chart library and @mcap/core (the record button) with what it imports. */
const CONSOLE_PACKAGES = ["uplot", "@mcap/core", "@foxglove/crc", "heap-js", "tslib"];

/** Packages a bundle may contain (the chart library, for the console only). */
function browserShims(allowedPackages: readonly string[] = []): Plugin {
  return {
    name: "qi-browser-shims",
    setup(b) {
      b.onResolve({ filter: /\.js$/ }, (args) => {
        const twin = browserTwin(args.path, args.importer);
        return twin === undefined ? undefined : { path: twin };
      });
      b.onResolve({ filter: /^node:crypto$|^crypto$/ }, () => ({ path: join(shims, "crypto.ts") }));
      b.onResolve({ filter: /^node:events$|^events$/ }, () => ({ path: join(shims, "events.ts") }));
      b.onResolve({ filter: /\/dispatch\/index\.js$/ }, () => ({ path: join(shims, "dispatch.ts") }));
      b.onResolve({ filter: /^node:/ }, (args) => ({
        errors: [{ text: `${args.path} (imported by ${args.importer}) has no browser shim` }],
      }));
      b.onResolve({ filter: /^[^./]/ }, (args) =>
        allowedPackages.includes(args.path)
          ? undefined
          : {
              errors: [
                {
                  text: `package ${args.path} (imported by ${args.importer}) must not reach the browser bundle`,
                },
              ],
            },
      );
    },
  };
}

/** The console imports the client; at run time that is the separate ./qi.js file. */
const clientAsExternal: Plugin = {
  name: "qi-client-external",
  setup(b) {
    b.onResolve({ filter: /\/client\/index\.js$/ }, () => ({ path: "./qi.js", external: true }));
  },
};

export interface WebBuildResult {
  outDir: string;
  files: string[];
}

export async function buildWeb(
  outDir = resolve(here, "../../dist/web"),
  minify = true,
): Promise<WebBuildResult> {
  await mkdir(outDir, { recursive: true });
  const common = {
    bundle: true,
    format: "esm" as const,
    platform: "browser" as const,
    target: "es2022",
    minify,
    sourcemap: true,
    legalComments: "none" as const,
    logLevel: "silent" as const,
    inject: [join(shims, "process.ts")],
  };
  await build({
    ...common,
    entryPoints: [join(here, "client", "index.ts")],
    outfile: join(outDir, "qi.js"),
    plugins: [browserShims()],
  });
  await build({
    ...common,
    entryPoints: [join(here, "console", "console.ts")],
    outfile: join(outDir, "console.js"),
    plugins: [clientAsExternal, browserShims(CONSOLE_PACKAGES)],
  });
  for (const f of ["index.html", "favicon.svg"]) await copyFile(join(here, "console", f), join(outDir, f));
  const uplotCss = await readFile(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
  const consoleCss = await readFile(join(here, "console", "console.css"), "utf8");
  await writeFile(join(outDir, "console.css"), `${uplotCss}\n${consoleCss}`);
  return { outDir, files: ["qi.js", "console.js", "index.html", "console.css", "favicon.svg"] };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const out = process.argv[2] ? resolve(process.argv[2]) : undefined;
  buildWeb(out).then(
    (r) => console.log(`built ${r.files.join(", ")} into ${r.outDir}`),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
