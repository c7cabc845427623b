/**
 * The one qi ↔ other-framework mapping the bridges share: default names, signature → message
 * type table, the allow-list config, and the simulated robot's default mapping.
 */
export {
  EMPTY_MAPPING,
  type Mapping,
  type MappingInput,
  mappingSchema,
  mergeMappings,
  parseMapping,
  type ServiceMapping,
  type TopicIn,
  type TopicOut,
} from "./config.js";
export { messageDefinitions, messageWriter, serializeMessage } from "./definitions.js";
export { demoMapping, SAY_REQUEST, SAY_RESPONSE, SAY_SERVICE_TYPE } from "./demo.js";
export { argsToJsonText } from "./json.js";
export { linkMemoryKey, MEMORY_KEY_SIGNATURE, memoryText, memoryValueFromMessage } from "./memory.js";
export { checkGraphName, defaultTopic } from "./names.js";
export {
  argsFromMessage,
  argsFromRequest,
  messageFromQi,
  type ReplyShape,
  replyShape,
  rosTypeOf,
  rosValue,
  serviceReply,
} from "./ros-json.js";
export {
  EMPTY_TYPE,
  fieldAt,
  IMAGE_TYPE,
  JSON_STRING,
  METHOD_SERVICE_TYPE,
  type MappingOptions,
  type MessageMapping,
  mappingForSignature,
  mappingForType,
  rosTime,
  STRING_TYPE,
  type TimeFields,
} from "./types.js";
