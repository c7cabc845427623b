/**
 * What connection/ offers in every runtime (index.ts adds the Node-only challenge
 * authentication; index.browser.ts is this alone, swapped in by src/web/build.ts).
 */
export * from "./attach.js";
export * from "./auth.js";
export * from "./capabilities.js";
export * from "./connection.js";
export * from "./errors.js";
export { type ResolvedConnectionOptions, resolveConnectionOptions } from "./options.js";
export { decodeHandshakeMap } from "./handshake-map.js";
