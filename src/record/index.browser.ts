/**
 * record/'s face in the browser bundle (src/web/build.ts swaps it in for index.ts): what the
 * console's record button needs — choosing members, the MCAP recording and its codec — without
 * replay, which hosts services and so needs the whole object layer.
 */
export * from "./channel-codec.js";
export { type JsonSchema, tupleMembers, valueSchema } from "./json-schema.js";
export * from "./mcap-recording.js";
export * from "./session-recorder.js";
