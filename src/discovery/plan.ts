/**
 * Which of the gateway's listeners go on the LAN, at which addresses: only where it really
 * listens. A wildcard listener (0.0.0.0, ::) stands for the machine's LAN interfaces; a loopback
 * one is never published (nobody else could connect to it); an address of no interface is
 * skipped. Pure: the interfaces are a parameter (os.networkInterfaces()).
 */
import type { NetworkInterfaceInfo } from "node:os";
import { isLoopbackAddress, validAddress } from "./text.js";

export interface PlannedService {
  scheme: "tcp" | "tcps";
  port: number;
  addresses: string[];
  /** The ws/wss listener that shares these addresses, for the console. */
  ws?: { scheme: "ws" | "wss"; port: number };
}

export interface AdvertisePlan {
  services: PlannedService[];
  /** Listeners left out, each with why (told once on stderr). */
  skipped: { endpoint: string; reason: string }[];
}

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** The LAN addresses of the machine (not internal), IPv4 and, if `v6`, IPv6. */
function lanAddresses(interfaces: Interfaces, v6: boolean): string[] {
  const out: string[] = [];
  for (const list of Object.values(interfaces))
    for (const a of list ?? []) {
      if (a.internal || (a.family === "IPv6" && !v6)) continue;
      // Link-local IPv6 needs a zone a remote client cannot know from an AAAA record.
      if (a.family === "IPv6" && a.address.toLowerCase().startsWith("fe80")) continue;
      if (validAddress(a.address, false)) out.push(a.address);
    }
  return out;
}

function listenerAddresses(
  endpoint: string,
  interfaces: Interfaces,
): { scheme: string; port: number; addresses: string[] } | { skip: string } {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { skip: "not a URL" };
  }
  const scheme = url.protocol.slice(0, -1);
  const port = Number(url.port);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!port) return { skip: "no port" };
  if (host === "0.0.0.0") return { scheme, port, addresses: lanAddresses(interfaces, false) };
  if (host === "::") return { scheme, port, addresses: lanAddresses(interfaces, true) };
  if (isLoopbackAddress(host) || host === "localhost") return { skip: "loopback only" };
  if (!lanAddresses(interfaces, true).includes(host)) return { skip: "not an address of a LAN interface" };
  return { scheme, port, addresses: [host] };
}

export function planAdvertisement(endpoints: string[], interfaces: Interfaces): AdvertisePlan {
  // A wildcard listener shows in Gateway.endpoints() as one URL per address (127.0.0.1 among
  // them): group by scheme and port, and skip a listener only when none of its URLs reach the LAN.
  const groups = new Map<
    string,
    { scheme: string; port: number; addresses: string[]; skipped: AdvertisePlan["skipped"] }
  >();
  for (const endpoint of endpoints) {
    const scheme = endpoint.slice(0, endpoint.indexOf(":"));
    // tcpsm (mutual TLS) needs a client certificate no discovering client has; xmpp, nats…
    // are not reached by address.
    if (!["tcp", "tcps", "ws", "wss"].includes(scheme)) continue;
    const found = listenerAddresses(endpoint, interfaces);
    const port = "skip" in found ? Number(/:(\d+)(\/|$)/.exec(endpoint)?.[1] ?? 0) : found.port;
    const key = `${scheme}:${port}`;
    const group = groups.get(key) ?? { scheme, port, addresses: [], skipped: [] };
    groups.set(key, group);
    if ("skip" in found) group.skipped.push({ endpoint, reason: found.skip });
    else if (found.addresses.length === 0) group.skipped.push({ endpoint, reason: "no LAN interface" });
    else for (const a of found.addresses) if (!group.addresses.includes(a)) group.addresses.push(a);
  }
  const services: PlannedService[] = [];
  const skipped: AdvertisePlan["skipped"] = [];
  const ws: { scheme: "ws" | "wss"; port: number; addresses: string[] }[] = [];
  for (const g of groups.values()) {
    if (g.addresses.length === 0) skipped.push(...g.skipped);
    else if (g.scheme === "ws" || g.scheme === "wss")
      ws.push({ scheme: g.scheme, port: g.port, addresses: g.addresses });
    else services.push({ scheme: g.scheme as "tcp" | "tcps", port: g.port, addresses: g.addresses });
  }
  for (const s of services) {
    const shared = ws.find((w) => s.addresses.every((a) => w.addresses.includes(a)));
    if (shared) s.ws = { scheme: shared.scheme, port: shared.port };
  }
  return { services, skipped };
}
