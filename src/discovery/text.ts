/**
 * Everything an mDNS answer carries is chosen by whoever sent it (anyone on the LAN): names are
 * cleaned before anything prints or shows them, numbers and addresses are checked.
 */
import { isIP } from "node:net";

/** The limits of discovery (docs/discovery.md); a browser keeps at most `maxRobots` answers. */
export const DISCOVERY_LIMITS = {
  /** Robots (service instances) kept at once; answers about more are dropped and counted. */
  maxRobots: 64,
  /** Characters kept of an instance name (DNS labels are at most 63 bytes). */
  maxNameLength: 63,
  /** Addresses kept per robot. */
  maxAddresses: 8,
  /** TXT strings read per record, and bytes per string. */
  maxTxtStrings: 16,
  maxTxtStringBytes: 255,
  /** Records read per packet (a 9000-byte packet holds a few hundred at most). */
  maxRecordsPerPacket: 512,
  /** Host names whose addresses are remembered while waiting for their service. */
  maxHosts: 128,
} as const;

// C0 and C1 controls, DEL, and the Unicode format characters that reorder or hide text
// (bidi overrides and isolates, zero-width ones): a terminal or a page must show what is there.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** `s` without control or invisible formatting characters, at most `max` characters, trimmed. */
export function cleanText(s: string, max: number): string {
  return [...s.replace(UNSAFE, "")].slice(0, max).join("").trim();
}

/** A TCP port (1..65535), or undefined. */
export function validPort(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535
    ? value
    : undefined;
}

/** Loopback (127/8, ::1, ::ffff:127/104). */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  return a === "::1" || a.startsWith("127.") || a.startsWith("::ffff:127.");
}

/**
 * A unicast address a client could connect to: an IPv4 or IPv6 literal that is not unspecified,
 * multicast or broadcast. Loopback only when `allowLoopback` (the answer came from this machine):
 * a LAN host naming 127.0.0.1 would point clients at their own machine.
 */
export function validAddress(value: unknown, allowLoopback: boolean): string | undefined {
  if (typeof value !== "string" || value.length > 45) return undefined;
  const family = isIP(value);
  if (family === 0) return undefined;
  const a = value.toLowerCase();
  if (!allowLoopback && isLoopbackAddress(a)) return undefined;
  if (family === 4) {
    const first = Number(a.split(".")[0]);
    if (first === 0 || first >= 224) return undefined; // unspecified, multicast, reserved, broadcast
    return a;
  }
  if (a === "::" || a.startsWith("ff")) return undefined;
  return a;
}

/** `host:port` for a URL: IPv6 in brackets. */
export function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
