/** What the simulated robot's Service Directory lists, in registration order. */
export const DEMO_DIRECTORY = [
  "ServiceDirectory",
  "ALMemory",
  "ALTextToSpeech",
  "ALVideoDevice",
  "ALBattery",
  "LogManager",
  "ALMotion",
];
