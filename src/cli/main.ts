#!/usr/bin/env node
/** The `qi` binary. */
import { main } from "./program.js";

await main(process.argv);
