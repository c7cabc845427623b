/**
 * Transport's face in the browser bundle (src/web/build.ts swaps it in for index.ts): the
 * neutral parts only; ws/wss over the page's WebSocket come with the scheme registry
 * (drivers.browser.ts).
 */
export * from "./neutral.js";
