/**
 * What `qi start --bridge <name>` maps of the simulated robot, so a user sees it in the other
 * framework with one command: the camera, the battery, what TTS says, ALMemory keys the
 * demo writes, and `say` both as a topic (any string tool can publish) and as a service.
 */
import { type Mapping, parseMapping } from "./config.js";

/** A service type that takes a string, for `say` (std_srvs has none). */
export const SAY_SERVICE_TYPE = "qi_bridge/Say";
export const SAY_REQUEST = "string text";
export const SAY_RESPONSE = "bool success\nstring message";

export function demoMapping(): Mapping {
  return parseMapping(
    {
      out: [
        { service: "ALVideoDevice", signal: "image" },
        { service: "ALVideoDevice", property: "fps" },
        { service: "ALBattery", property: "charge" },
        { service: "ALTextToSpeech", signal: "started" },
        { service: "ALTextToSpeech", signal: "done" },
        { service: "ALTextToSpeech", property: "language" },
        { service: "ALMemory", signal: "dataChanged" },
        { service: "ALMemory", memoryKey: "Demo/Greeting" },
      ],
      in: [
        {
          topic: "/qi/ALTextToSpeech/say",
          type: "std_msgs/String",
          service: "ALTextToSpeech",
          method: "say",
        },
      ],
      services: [
        {
          name: "/qi/ALTextToSpeech/say_service",
          type: SAY_SERVICE_TYPE,
          service: "ALTextToSpeech",
          method: "say",
          args: ["text"],
          request: SAY_REQUEST,
          response: SAY_RESPONSE,
        },
        {
          name: "/qi/ALVideoDevice/startStreaming",
          type: "std_srvs/Empty",
          service: "ALVideoDevice",
          method: "startStreaming",
        },
        {
          name: "/qi/ALVideoDevice/stopStreaming",
          type: "std_srvs/Empty",
          service: "ALVideoDevice",
          method: "stopStreaming",
        },
        {
          name: "/qi/ALBattery/getBatteryCharge",
          type: "std_srvs/Trigger",
          service: "ALBattery",
          method: "getBatteryCharge",
        },
      ],
    },
    "demo mapping",
  );
}
