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
export { demoMapping, SAY_REQUEST, SAY_RESPONSE, SAY_SERVICE_TYPE } from "./demo.js";
export { argsToJsonText } from "./json.js";
export { checkGraphName, defaultTopic } from "./names.js";
export {
  fieldAt,
  IMAGE_TYPE,
  JSON_STRING,
  type MessageMapping,
  mappingForSignature,
  mappingForType,
  STRING_TYPE,
} from "./types.js";
