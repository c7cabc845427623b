/**
 * IP address literals without node:net, so that URL parsing and the loopback test run the same
 * in the browser bundle: dotted-quad IPv4 (four decimal parts, no leading zeros, as Node's
 * isIPv4) and IPv6 (RFC 4291 text forms: `::` once, an IPv4 tail in the last 32 bits).
 */

const IPV4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

export function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => IPV4_PART.test(p));
}

/** The eight 16-bit groups of an IPv6 literal (zone, if any, already removed), or undefined. */
export function ipv6Groups(text: string): number[] | undefined {
  if (text === "" || text.includes(":::")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (half: string, last: boolean): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const pieces = half.split(":");
    for (const [i, piece] of pieces.entries()) {
      if (last && i === pieces.length - 1 && piece.includes(".")) {
        if (!isIPv4(piece)) return undefined;
        const [a, b, c, d] = piece.split(".").map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else if (HEX_GROUP.test(piece)) {
        out.push(Number.parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const compressed = halves.length === 2;
  const head = parse(halves[0], !compressed);
  const tail = compressed ? parse(halves[1], true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

export function isIPv6(text: string): boolean {
  return ipv6Groups(text) !== undefined;
}

/** 4 for an IPv4 literal, 6 for IPv6 (zone allowed), 0 otherwise: node:net's isIP. */
export function isIP(text: string): 0 | 4 | 6 {
  if (isIPv4(text)) return 4;
  return isIPv6(text.split("%")[0]) ? 6 : 0;
}

/** 127.0.0.0/8, ::1 and IPv4-mapped ::ffff:127.0.0.0/104. */
export function isLoopbackIp(text: string): boolean {
  if (isIPv4(text)) return text.startsWith("127.");
  const g = ipv6Groups(text.split("%")[0]);
  if (g === undefined) return false;
  const zeroUntil = (n: number): boolean => g.slice(0, n).every((x) => x === 0);
  if (zeroUntil(7) && g[7] === 1) return true;
  return zeroUntil(5) && g[5] === 0xffff && g[6] >> 8 === 127;
}
