/**
 * Signature-driven binary codec (spec §2): encode JS values per a signature (encode.ts),
 * decode bytes per a signature (decode.ts), with a CodecContext for what the connection
 * negotiated (codec-context.ts). Decoding is safe on untrusted input.
 */
export { type CodecContext, DEFAULT_MAX_DEPTH } from "./codec-context.js";
export { decode, decodeFrom } from "./decode.js";
export { compareUtf8, encode, encodeInto, encodePayload } from "./encode.js";
export { GatheredPayload, type Payload, withPayload } from "./payload.js";
