/**
 * JIDs as this transport needs them: split, compared case-insensitively (a simplification of
 * RFC 7622's PRECIS profiles, enough for ASCII account names), and built from an `xmpp://` URL.
 */
import { TransportError } from "../errors.js";
import type { QiUrl } from "../url.js";

export interface Jid {
  local: string;
  domain: string;
  resource: string;
}

const PART = /^[^\s@/"&'<>:]+$/;

/** Parses `local@domain[/resource]`; throws TransportError ERR_BAD_OPTIONS. */
export function parseJid(text: string, what = "JID"): Jid {
  const slash = text.indexOf("/");
  const bare = slash >= 0 ? text.slice(0, slash) : text;
  const resource = slash >= 0 ? text.slice(slash + 1) : "";
  const at = bare.indexOf("@");
  const local = at >= 0 ? bare.slice(0, at) : "";
  const domain = at >= 0 ? bare.slice(at + 1) : bare;
  if (!PART.test(local) || !PART.test(domain) || (slash >= 0 && resource === "") || resource.length > 1023) {
    throw new TransportError(
      "ERR_BAD_OPTIONS",
      `${what} ${JSON.stringify(text)} is not local@domain[/resource]`,
    );
  }
  return { local: local.toLowerCase(), domain: domain.toLowerCase(), resource };
}

export function bareOf(j: Jid): string {
  return `${j.local}@${j.domain}`;
}

export function fullOf(j: Jid): string {
  return j.resource === "" ? bareOf(j) : `${bareOf(j)}/${j.resource}`;
}

/** The bare JID part of a full JID string, lower-cased; "" when it is not a JID. */
export function bareOfText(text: string): string {
  try {
    return bareOf(parseJid(text));
  } catch {
    return "";
  }
}

/** The entry's full JID an `xmpp://robot@domain[:port][/resource]` URL names. */
export function jidOfUrl(url: QiUrl, defaultResource: string): Jid {
  if (url.user === undefined || url.user === "") {
    throw new TransportError("ERR_BAD_URL", `xmpp URL without an account: write xmpp://robot@${url.host}`);
  }
  const resource = url.path ? url.path.replace(/^\//, "") : defaultResource;
  return parseJid(`${url.user}@${url.host}/${resource}`, "xmpp URL");
}
