/**
 * Publishes a gateway as `_naoqi._tcp` over mDNS, as NAOqi robots publish themselves: one
 * instance per tcp/tcps listener that is reachable from the LAN (plan.ts), announced twice
 * (RFC 6762 §8.3), then answered on query by the library's responder, and withdrawn with a
 * goodbye (TTL 0) on stop. Never fails the caller: when there is nothing to publish, or the
 * socket cannot work, it says so once through `warn` and the gateway goes on without it.
 */
import { hostname, networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { type DnsRecord, type MdnsOptions, type MdnsSocket, openMdns } from "./mdns.js";
import { type AdvertisePlan, planAdvertisement } from "./plan.js";
import { encodeTxt, hostLabel, publishableName, SERVICE_TYPE, SERVICES_ENUMERATION } from "./records.js";

export interface AdvertiseOptions {
  /** The instance name (the robot's name); cleaned and cut to a DNS label. */
  name: string;
  /** The gateway's listening endpoints (Gateway.endpoints()). */
  endpoints: string[];
  /** One line for the user (stderr), at most once per problem kind. */
  warn: (line: string) => void;
  mdns?: MdnsOptions;
  /** The machine's interfaces (default os.networkInterfaces()). */
  interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** The machine's host name, for the SRV target (default os.hostname()). */
  hostname?: string;
}

export interface AdvertisedService {
  name: string;
  scheme: "tcp" | "tcps";
  port: number;
  addresses: string[];
}

export interface Advertisement {
  readonly services: AdvertisedService[];
  /** Sends the goodbye and closes the socket (bounded in time). */
  stop(): Promise<void>;
}

const ANNOUNCE_AGAIN_MS = 1000;
const GOODBYE_TIMEOUT_MS = 1000;

function recordsFor(
  plan: AdvertisePlan,
  name: string,
  host: string,
): { records: DnsRecord[]; services: AdvertisedService[] } {
  const records: DnsRecord[] = [{ name: SERVICES_ENUMERATION, type: "PTR", ttl: 4500, data: SERVICE_TYPE }];
  const services: AdvertisedService[] = [];
  plan.services.forEach((s, i) => {
    const instance = publishableName(i === 0 ? name : `${name} (${s.scheme} ${s.port})`);
    const fqdn = `${instance}.${SERVICE_TYPE}`;
    const target = `${host}${i === 0 ? "" : `-${i}`}.local`;
    records.push(
      { name: SERVICE_TYPE, type: "PTR", ttl: 4500, data: fqdn },
      { name: fqdn, type: "SRV", ttl: 120, data: { port: s.port, target, priority: 0, weight: 0 } },
      { name: fqdn, type: "TXT", ttl: 4500, data: encodeTxt({ scheme: s.scheme, ws: s.ws }) },
      ...s.addresses.map((a) => ({ name: target, type: a.includes(":") ? "AAAA" : "A", ttl: 120, data: a })),
    );
    services.push({ name: instance, scheme: s.scheme, port: s.port, addresses: s.addresses });
  });
  return { records, services };
}

export function advertise(options: AdvertiseOptions): Advertisement | undefined {
  const plan = planAdvertisement(options.endpoints, options.interfaces ?? networkInterfaces());
  const skipped = plan.skipped.map((s) => `${s.endpoint}: ${s.reason}`).join(", ");
  if (plan.services.length === 0) {
    // One line for the common case (qi start's 127.0.0.1 defaults), not one per listener.
    options.warn(
      `mDNS: not advertised on the LAN (${skipped || "no tcp/tcps listener"}); listen on a LAN address such as tcp://0.0.0.0:9503 to be found by \`qi discover\``,
    );
    return undefined;
  }
  if (skipped) options.warn(`mDNS: not advertising ${skipped}`);
  // A separate host name: the machine's own `<host>.local` (avahi) answers with every address,
  // and clients would merge those with ours.
  const host = `${hostLabel(options.hostname ?? hostname())}-qi`;
  const { records, services } = recordsFor(plan, options.name, host);
  let socket: MdnsSocket | undefined;
  const told = new Set<string>();
  const problem = (e: Error, fatal: boolean) => {
    const code = (e as NodeJS.ErrnoException).code ?? e.message;
    const line = fatal
      ? `mDNS: cannot advertise (${code}); going on without it`
      : `mDNS: advertising may not reach the LAN (${code})`;
    if (!told.has(line)) {
      told.add(line);
      options.warn(line);
    }
    if (fatal) void socket?.close(); // the socket is unusable
  };
  try {
    socket = openMdns(options.mdns ?? {}, problem);
  } catch (e) {
    problem(e as Error, true);
    return undefined;
  }
  const open = socket;
  open.register(records);
  const announce = () => open.mdns.respond({ answers: records }, (e) => e && problem(e, false));
  announce();
  const again = setTimeout(announce, ANNOUNCE_AGAIN_MS);
  again.unref();
  let stopped: Promise<void> | undefined;
  return {
    services,
    stop: () => {
      stopped ??= (async () => {
        clearTimeout(again);
        open.unregister(records);
        const goodbye = records.map((r) => ({ ...r, ttl: 0 }));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, GOODBYE_TIMEOUT_MS);
          open.mdns.respond({ answers: goodbye }, () => {
            clearTimeout(timer);
            resolve();
          });
        });
        await open.close();
      })();
      return stopped;
    },
  };
}
