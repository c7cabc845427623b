import { TransportError } from "./errors.js";
import type { Listener, ListenOptions, OnChannel } from "./options.js";
import { schemeDriver } from "./schemes.js";
import { formatUrl, LISTEN_DEFAULTS, parseUrl, type QiUrl } from "./url.js";

/**
 * Listens on `url` (default host 127.0.0.1, port 0 = ephemeral; `0.0.0.0` or `::` for every
 * interface) and calls `onChannel` for each accepted connection (after the TLS handshake for
 * tcps/tcpsm). Rejects with a TransportError: ERR_BAD_URL, ERR_UNSUPPORTED_SCHEME,
 * ERR_BAD_OPTIONS or ERR_LISTEN.
 */
export async function listen(
  url: string | QiUrl,
  opts: ListenOptions,
  onChannel: OnChannel,
): Promise<Listener> {
  const u = typeof url === "string" ? parseUrl(url, LISTEN_DEFAULTS) : url;
  if (u.scheme === "qi") {
    throw new TransportError(
      "ERR_UNSUPPORTED_SCHEME",
      `cannot listen on a relative endpoint (${formatUrl(u)})`,
    );
  }
  const driver = schemeDriver(u.scheme);
  if (!driver) {
    throw new TransportError("ERR_UNSUPPORTED_SCHEME", `no transport available for ${u.scheme}:// URLs`);
  }
  if (!driver.listen) {
    throw new TransportError("ERR_UNSUPPORTED_SCHEME", `${u.scheme}:// URLs cannot be listened on here`);
  }
  return driver.listen(u, opts, onChannel);
}
