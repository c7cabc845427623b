import type { Channel } from "./channel.js";
import { TransportError } from "./errors.js";
import type { ConnectOptions } from "./options.js";
import { schemeDriver } from "./schemes.js";
import { CONNECT_DEFAULTS, formatUrl, parseUrl, type QiUrl } from "./url.js";

/**
 * Opens a Channel to `url` (`tcp://host:port`, `tcps://…`, `tcpsm://…`, or a bare `host[:port]`
 * which means tcp and port 9559). Rejects with a TransportError: ERR_BAD_URL,
 * ERR_UNSUPPORTED_SCHEME, ERR_BAD_OPTIONS, ERR_CONNECT, ERR_TLS, ERR_TIMEOUT or ERR_ABORTED.
 */
export async function connect(url: string | QiUrl, opts: ConnectOptions = {}): Promise<Channel> {
  const u = typeof url === "string" ? parseUrl(url, CONNECT_DEFAULTS) : url;
  if (u.scheme === "qi") {
    throw new TransportError(
      "ERR_UNSUPPORTED_SCHEME",
      `${formatUrl(u)} is a relative endpoint: reuse the connection of service ${u.serviceName}`,
    );
  }
  const driver = schemeDriver(u.scheme);
  if (!driver) {
    throw new TransportError("ERR_UNSUPPORTED_SCHEME", `no transport available for ${u.scheme}:// URLs`);
  }
  if (u.port === 0) throw new TransportError("ERR_BAD_URL", `cannot connect to port 0 (${formatUrl(u)})`);
  return driver.connect(u, opts);
}
