#!/usr/bin/env node
/** The `qi` binary. */
import { main } from "./program.js";

// `qi services | head -3`: the reader leaving is not an error (as for any Unix tool).
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
}

await main(process.argv);
