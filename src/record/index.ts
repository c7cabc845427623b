/** record/: recording qi signals, property changes and calls to MCAP files, and hosting a recording again (qi record, qi play, the console's record button). */
export * from "./channel-codec.js";
export { RecordingFileError, type RecordingFileErrorCode } from "./errors.js";
export { type JsonSchema, tupleMembers, valueSchema } from "./json-schema.js";
export * from "./mcap-recording.js";
export {
  decodeRawImage,
  encodeRawImage,
  RAW_IMAGE_SCHEMA,
  RAW_IMAGE_SCHEMA_NAME,
  type RawImageFrame,
} from "./raw-image.js";
export * from "./reading.js";
export * from "./replay.js";
export * from "./replay-plan.js";
export * from "./session-recorder.js";
