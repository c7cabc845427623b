/**
 * connection/'s face in the browser bundle (src/web/build.ts swaps it in for index.ts): all of
 * it but the HMAC challenge authentication, whose node:crypto HMAC the page does not have.
 */
export * from "./neutral.js";
