/**
 * qi URLs (spec §6): `scheme://host:port` for connectable endpoints and `qi:ServiceName` for
 * relative endpoints ("reachable over the same connection as service ServiceName").
 *
 * Differences from libqi's qi::Url, all on the side of accepting more or failing louder:
 *  - IPv6 literals in brackets are supported: `tcp://[::1]:9559` (host stored without brackets).
 *  - Malformed input (bad port, stray path, unknown scheme, unbracketed IPv6) throws a
 *    TransportError ERR_BAD_URL saying what is wrong instead of producing a half-filled URL.
 *  - `qi:` followed by anything is always a relative endpoint; a host literally named "qi" must be
 *    written with a scheme (`tcp://qi:9559`).
 */
import { TransportError } from "./errors.js";
import { isIPv4, isIPv6, isLoopbackIp } from "./ip.js";

export type QiScheme = "tcp" | "tcps" | "tcpsm" | "ws" | "wss" | "xmpp" | "qi";
export const QI_SCHEMES: readonly QiScheme[] = ["tcp", "tcps", "tcpsm", "ws", "wss", "xmpp", "qi"];

export interface QiUrl {
  scheme: QiScheme;
  /** Host name or IP address; IPv6 without brackets. "" for `qi:` URLs. */
  host: string;
  /** 0..65535; 0 for `qi:` URLs (and "any port" when listening). */
  port: number;
  /** ws/wss only: path and query, starting with "/". */
  path?: string;
  /** `qi:` only: the service whose connection this endpoint shares. */
  serviceName?: string;
  /** `xmpp:` only: the account (JID local part) at `host`; `path` is then `/resource`. */
  user?: string;
}

export interface UrlDefaults {
  scheme?: QiScheme;
  host?: string;
  port?: number;
}

/** libqi's defaults for connecting: `tcp://127.0.0.1:9559`. */
export const CONNECT_DEFAULTS: Readonly<Required<UrlDefaults>> = Object.freeze({
  scheme: "tcp",
  host: "127.0.0.1",
  port: 9559,
});

/** libqi's defaults for listening: `tcp://127.0.0.1:0` (ephemeral port). */
export const LISTEN_DEFAULTS: Readonly<Required<UrlDefaults>> = Object.freeze({
  scheme: "tcp",
  host: "127.0.0.1",
  port: 0,
});

/** An XMPP server's client port (RFC 6120 §14.7). */
const XMPP_PORT = 5222;
const HOSTNAME_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/;
const ZONE_RE = /^[A-Za-z0-9_.-]+$/;

function bad(text: string, why: string): TransportError {
  return new TransportError("ERR_BAD_URL", `invalid URL ${JSON.stringify(text)}: ${why}`);
}

function isScheme(s: string): s is QiScheme {
  return (QI_SCHEMES as readonly string[]).includes(s);
}

function parsePort(text: string, raw: string): number {
  if (!/^\d{1,5}$/.test(raw)) throw bad(text, `port ${JSON.stringify(raw)} is not a number`);
  const port = Number(raw);
  if (port > 65535) throw bad(text, `port ${port} is out of range (0..65535)`);
  return port;
}

/** Validates a bracket-less IPv6 literal, with optional zone (`%eth0` or RFC 6874 `%25eth0`). */
function parseIPv6(text: string, literal: string): string {
  let addr = literal;
  let zone = "";
  const pct = literal.indexOf("%");
  if (pct >= 0) {
    addr = literal.slice(0, pct);
    zone = literal.slice(pct + 1);
    if (zone.startsWith("25")) zone = zone.slice(2);
    if (!ZONE_RE.test(zone)) throw bad(text, `bad IPv6 zone ${JSON.stringify(zone)}`);
  }
  if (!isIPv6(addr)) throw bad(text, `${JSON.stringify(addr)} is not an IPv6 address`);
  return zone ? `${addr.toLowerCase()}%${zone}` : addr.toLowerCase();
}

/**
 * Parses a qi URL. Missing parts come from `defaults` (itself completed with CONNECT_DEFAULTS):
 * `host` → `tcp://host:9559`, `host:port` → `tcp://host:port`, `tcps://host` → port 9559,
 * `tcp://:1234` → default host. Throws TransportError ERR_BAD_URL.
 */
export function parseUrl(text: string, defaults: UrlDefaults = CONNECT_DEFAULTS): QiUrl {
  if (typeof text !== "string") throw bad(String(text), "not a string");
  const d = { ...CONNECT_DEFAULTS, ...defaults };
  const s = text.trim();
  if (s === "") throw bad(text, "empty");
  if (/\s/.test(s)) throw bad(text, "contains white space");

  let scheme: QiScheme;
  let rest: string;
  const sep = s.indexOf("://");
  if (sep >= 0) {
    const name = s.slice(0, sep).toLowerCase();
    if (name === "") throw bad(text, "empty scheme");
    if (!isScheme(name)) {
      throw bad(text, `unknown scheme ${JSON.stringify(name)} (expected one of ${QI_SCHEMES.join(", ")})`);
    }
    if (name === "qi") throw bad(text, "qi: URLs have no authority; write qi:ServiceName");
    scheme = name;
    rest = s.slice(sep + 3);
  } else if (/^qi:/i.test(s)) {
    const serviceName = s.slice(3);
    if (serviceName === "") throw bad(text, "qi: URL without a service name");
    if (serviceName.includes("/")) throw bad(text, "service name contains '/'");
    return { scheme: "qi", host: "", port: 0, serviceName };
  } else {
    scheme = d.scheme;
    rest = s;
  }

  // Split authority and path (path only meaningful for ws/wss).
  const pathAt = rest.search(/[/?#]/);
  let authority = pathAt >= 0 ? rest.slice(0, pathAt) : rest;
  let path = pathAt >= 0 ? rest.slice(pathAt) : "";
  let user: string | undefined;
  if (scheme === "xmpp") {
    // xmpp://robot@example.org[:port][/resource]: the account, its server (port 5222) and resource.
    const at = authority.indexOf("@");
    if (at <= 0) throw bad(text, "xmpp URLs name an account: xmpp://robot@example.org");
    user = authority.slice(0, at);
    if (!/^[^\s@/:"&'<>]+$/.test(user)) throw bad(text, `bad XMPP account ${JSON.stringify(user)}`);
    authority = authority.slice(at + 1);
    if (!/^(\/[^/?#]+)?$/.test(path)) throw bad(text, "an xmpp URL's path is one resource name");
  } else if (authority.includes("@")) throw bad(text, "user information ('@') is not supported");
  if (scheme === "ws" || scheme === "wss" || scheme === "xmpp") {
    if (path !== "" && !path.startsWith("/")) path = `/${path}`;
  } else if (path !== "" && path !== "/") {
    throw bad(text, `${scheme} URLs take no path (found ${JSON.stringify(path)})`);
  } else {
    path = "";
  }

  let host: string;
  let portText: string | undefined;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) throw bad(text, "missing ']' after IPv6 address");
    host = parseIPv6(text, authority.slice(1, close));
    const after = authority.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) throw bad(text, `unexpected ${JSON.stringify(after)} after ']'`);
      portText = after.slice(1);
    }
  } else {
    const colons = authority.split(":").length - 1;
    if (colons > 1) throw bad(text, "IPv6 addresses must be written in brackets, e.g. tcp://[::1]:9559");
    if (authority.includes("]")) throw bad(text, "unexpected ']'");
    const colon = authority.indexOf(":");
    host = colon >= 0 ? authority.slice(0, colon) : authority;
    portText = colon >= 0 ? authority.slice(colon + 1) : undefined;
    if (host !== "" && !isIPv4(host) && !HOSTNAME_RE.test(host)) {
      throw bad(text, `${JSON.stringify(host)} is not a valid host name`);
    }
  }
  if (host === "") host = d.host;
  if (portText === "") throw bad(text, "empty port after ':'");
  const dflt = scheme === "xmpp" ? XMPP_PORT : d.port;
  const port = portText === undefined ? dflt : parsePort(text, portText);

  const url: QiUrl = { scheme, host, port };
  if (path !== "") url.path = path;
  if (user !== undefined) url.user = user;
  return url;
}

/** `scheme://host:port[path]` (IPv6 in brackets) or `qi:ServiceName`. */
export function formatUrl(url: QiUrl): string {
  if (url.scheme === "qi") return `qi:${url.serviceName ?? ""}`;
  const host = url.host.includes(":") ? `[${url.host}]` : url.host;
  const user = url.user !== undefined ? `${url.user}@` : "";
  return `${url.scheme}://${user}${host}:${url.port}${url.path ?? ""}`;
}

/** `host:port` with IPv6 in brackets. */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Is this IP address (or "localhost") a loopback address? */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost" || h === "localhost.") return true;
  return isLoopbackIp(h);
}

/** Does this URL point at the local machine through loopback? False for `qi:` and unparsable URLs. */
export function isLoopbackUrl(url: string | QiUrl): boolean {
  let u: QiUrl;
  try {
    u = typeof url === "string" ? parseUrl(url) : url;
  } catch {
    return false;
  }
  return u.scheme !== "qi" && isLoopbackHost(u.host);
}

function endpointClass(ep: string): number {
  if (ep === "qi:ServiceDirectory") return 0;
  if (/^qi:/i.test(ep)) return 1;
  if (ep.includes("://")) return isLoopbackUrl(ep) ? 2 : 3;
  return 4;
}

/**
 * libqi's endpoint preference (spec §6.4): `qi:ServiceDirectory`, other `qi:` endpoints, loopback
 * URLs, other URLs with an authority, strings without one; code-unit order within a class.
 * Returns a new array.
 */
export function sortEndpoints(endpoints: readonly string[]): string[] {
  return endpoints
    .map((ep) => ({ ep, cls: endpointClass(ep) }))
    .sort((a, b) => a.cls - b.cls || (a.ep < b.ep ? -1 : a.ep > b.ep ? 1 : 0))
    .map((x) => x.ep);
}
