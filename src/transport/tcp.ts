/** Scheme `tcp`: plain TCP (spec §6.2). */
import { connect as netConnect, createServer } from "node:net";
import type { SchemeDriver } from "./options.js";
import { establish, serve } from "./socket-driver.js";

export const tcpDriver: Required<SchemeDriver> = {
  connect(url, opts) {
    return establish({
      url: { ...url, scheme: "tcp" },
      opts,
      secure: false,
      start: () => netConnect({ host: url.host, port: url.port }),
    });
  },
  listen(url, opts, onChannel) {
    return serve({
      server: createServer(),
      url: { ...url, scheme: "tcp" },
      opts,
      onChannel,
      readyEvent: "connection",
    });
  },
};
