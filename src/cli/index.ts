/** cli/: the `qi` command (its binary is main.ts): commands, argument parsing, output and exit codes. */
export { main } from "./program.js";
