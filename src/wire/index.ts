/** wire/: signatures, values, the binary codec, message header, framer and MetaObject (the `qimessaging/wire` face). */
export * from "./codec.js";
export * from "./convert.js";
export * from "./errors.js";
export { shortFloat32, tidyFloats } from "./floats.js";
export * from "./framer.js";
export * from "./header.js";
export * from "./infer.js";
export { argsFromJson, ConversionError, fromJson, jsonToDynamic, parseJson, toJson } from "./json.js";
export * from "./message-types.js";
export * from "./metaobject.js";
export * from "./metaobject-types.js";
export { holdPayload, passOn, payloadWritten, releasePayload, takePayload } from "./payload-pool.js";
export * from "./reader.js";
export * from "./signature.js";
export * from "./values.js";
export * from "./writer.js";
