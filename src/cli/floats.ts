/** Float32 printing lives in wire/floats.ts (shared with the web console). */
export { shortFloat32, tidyFloats } from "../wire/index.js";
