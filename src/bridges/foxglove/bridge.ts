import type { BridgePlugin } from "../plugin.js";

export const foxglovePlugin: BridgePlugin = {
  name: "foxglove",
  start: async () => {
    throw new Error("not yet");
  },
};
