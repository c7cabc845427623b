/**
 * What a qi gateway publishes over DNS-SD, and how an answer's records are read.
 *
 * NAOqi robots publish the service type `_naoqi._tcp` (real NAOs also `_nao._tcp`), an instance
 * named after the robot, the port of their Service Directory (9559), and a TXT record where
 * Pepper puts `RobotType=Pepper` (an older NAO leaves it blank). A qi gateway publishes the same
 * type, so NAOqi tools list it too, with the port of its tcp or tcps listener and these TXT keys:
 *
 *   scheme=tcp|tcps     which scheme the port speaks (absent on NAOqi robots: plain tcp)
 *   ws=ws:8002          a WebSocket listener on the same addresses (wss:PORT with TLS), for the
 *                       web console; the qi path is /qi, as on every gateway
 *
 * No version or product string: an mDNS answer goes to everyone on the LAN.
 */
import { cleanText, DISCOVERY_LIMITS, validPort } from "./text.js";

export const SERVICE_TYPE = "_naoqi._tcp.local";
export const SERVICES_ENUMERATION = "_services._dns-sd._udp.local";

/** What the TXT record of a `_naoqi._tcp` instance says that we use. */
export interface ServiceTxt {
  scheme?: "tcp" | "tcps";
  ws?: { scheme: "ws" | "wss"; port: number };
  robotType?: string;
}

export function encodeTxt(txt: ServiceTxt): Buffer[] {
  const out: Buffer[] = [];
  if (txt.scheme) out.push(Buffer.from(`scheme=${txt.scheme}`));
  if (txt.ws) out.push(Buffer.from(`ws=${txt.ws.scheme}:${txt.ws.port}`));
  if (txt.robotType) out.push(Buffer.from(`RobotType=${txt.robotType}`));
  return out;
}

/**
 * Reads the keys we know from TXT data (dns-packet gives a Buffer or an array of them); ignores
 * the rest, and anything past the limits, without failing.
 */
export function parseTxt(data: unknown): ServiceTxt {
  const strings = (Array.isArray(data) ? data : [data]).slice(0, DISCOVERY_LIMITS.maxTxtStrings);
  const txt: ServiceTxt = {};
  for (const s of strings) {
    if (!Buffer.isBuffer(s) || s.length > DISCOVERY_LIMITS.maxTxtStringBytes) continue;
    const text = s.toString("utf8");
    const eq = text.indexOf("=");
    if (eq <= 0) continue;
    const key = text.slice(0, eq).toLowerCase();
    const value = text.slice(eq + 1);
    if (key === "scheme" && (value === "tcp" || value === "tcps")) txt.scheme = value;
    else if (key === "ws") {
      const m = /^(wss?):(\d{1,5})$/.exec(value);
      const port = m ? validPort(Number(m[2])) : undefined;
      if (m && port) txt.ws = { scheme: m[1] as "ws" | "wss", port };
    } else if (key === "robottype") {
      const type = cleanText(value, 32);
      if (type !== "") txt.robotType = type;
    }
  }
  return txt;
}

/** Lower case, without a trailing dot: DNS names compare case-insensitively. */
export function normalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/**
 * The instance label of `<instance>._naoqi._tcp.local` (dns-packet escapes dots inside a label
 * as `\.`), cleaned for display; undefined when the name is not one of ours or is empty.
 */
export function instanceName(fqdn: string): string | undefined {
  const suffix = `.${SERVICE_TYPE}`;
  if (!normalName(fqdn).endsWith(suffix)) return undefined;
  const raw = fqdn.replace(/\.$/, "").slice(0, -suffix.length).replace(/\\\./g, ".");
  const name = cleanText(raw, DISCOVERY_LIMITS.maxNameLength);
  return name === "" ? undefined : name;
}

/** An instance label we may publish: no dots (they separate labels), at most 63 UTF-8 bytes. */
export function publishableName(name: string): string {
  let label = cleanText(name.replace(/\./g, "-"), DISCOVERY_LIMITS.maxNameLength);
  while (Buffer.byteLength(label) > 63) label = [...label].slice(0, -1).join("");
  return label === "" ? "qi" : label;
}

/** A host label (letters, digits, hyphens) for the SRV target, from the machine's host name. */
export function hostLabel(hostname: string): string {
  const label = hostname
    .split(".")[0]
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50);
  return label === "" ? "qi" : label;
}
