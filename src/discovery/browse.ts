/**
 * Lists what answers for `_naoqi._tcp` (qi gateways and NAOqi robots). Reads the responses on an
 * mDNS socket itself rather than through bonjour-service's Browser, which keeps every instance
 * it ever hears with no bound and searches them linearly per answer: here at most `maxRobots`
 * instances and `maxHosts` host names are kept (more are dropped and counted), every record is
 * checked (text.ts), and a packet that makes no sense is skipped, never thrown on.
 */
import type { RemoteInfo } from "node:dgram";
import { type DnsPacket, type DnsRecord, type MdnsOptions, type MdnsSocket, openMdns } from "./mdns.js";
import { instanceName, normalName, parseTxt, SERVICE_TYPE, type ServiceTxt } from "./records.js";
import { DISCOVERY_LIMITS, hostPort, isLoopbackAddress, validAddress, validPort } from "./text.js";

/** One robot or gateway that answered: what `qi discover --json` prints and /robots.json serves. */
export interface DiscoveredRobot {
  /** The instance name, without control characters. */
  name: string;
  /** The address to use (IPv4 first), and every valid one announced. */
  address: string;
  addresses: string[];
  port: number;
  /** The port speaks TLS (TXT scheme=tcps). NAOqi robots announce no scheme: plain tcp. */
  tls: boolean;
  /** The qi URL to connect to, e.g. tcp://192.168.1.12:9559. */
  url: string;
  /** A WebSocket URL for the web console, when the gateway announces one (TXT ws=). */
  ws?: string;
  /** Pepper says `Pepper` (TXT RobotType). */
  robotType?: string;
}

export interface BrowseOptions {
  mdns?: MdnsOptions;
  /** Instances kept at once (default DISCOVERY_LIMITS.maxRobots). */
  maxRobots?: number;
  /** Queries at start, 1 s and 3 s, then every `requeryMs` (default 60 s). */
  requeryMs?: number;
  /** Socket problems; fatal when the socket could not bind. */
  onProblem?: (e: Error, fatal: boolean) => void;
}

interface Instance {
  name: string;
  port?: number;
  target?: string;
  txt: ServiceTxt;
  expires: number;
  /** Where the answer came from: the address when no A/AAAA record came with it. */
  sender: string;
}

interface Host {
  addresses: string[];
  expires: number;
}

const SUFFIX = `.${SERVICE_TYPE}`;
const MAX_TTL_S = 4500;

function ttlMs(record: DnsRecord): number {
  const ttl = typeof record.ttl === "number" && record.ttl > 0 ? Math.min(record.ttl, MAX_TTL_S) : 120;
  return ttl * 1000;
}

export class RobotBrowser {
  /** Instances not kept because `maxRobots` were already known. */
  dropped = 0;
  private readonly instances = new Map<string, Instance>();
  private readonly hosts = new Map<string, Host>();
  private readonly maxRobots: number;
  private socket: MdnsSocket | undefined;
  private timers: NodeJS.Timeout[] = [];
  private failure: Error | undefined;

  constructor(private readonly options: BrowseOptions = {}) {
    this.maxRobots = options.maxRobots ?? DISCOVERY_LIMITS.maxRobots;
  }

  /** The error that made the socket unusable (5353 not bindable, no permission), if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  start(): void {
    if (this.socket) return;
    const socket = openMdns(this.options.mdns ?? {}, (e, fatal) => {
      if (fatal) this.failure ??= e;
      this.options.onProblem?.(e, fatal);
    });
    this.socket = socket;
    socket.mdns.on("response", (packet: DnsPacket, rinfo: RemoteInfo) => {
      try {
        this.absorb(packet, rinfo);
      } catch (e) {
        this.options.onProblem?.(e as Error, false);
      }
    });
    const query = () =>
      socket.mdns.query({ questions: [{ name: SERVICE_TYPE, type: "PTR" }] }, (e) => {
        if (e) this.options.onProblem?.(e, false);
      });
    query();
    for (const delay of [1000, 3000]) this.timers.push(setTimeout(query, delay));
    this.timers.push(setInterval(query, this.options.requeryMs ?? 60_000));
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    const socket = this.socket;
    this.socket = undefined;
    await socket?.close();
  }

  /** What answered and has not expired or said goodbye, sorted by name. */
  robots(now = Date.now()): DiscoveredRobot[] {
    this.expire(now);
    const out: DiscoveredRobot[] = [];
    for (const inst of this.instances.values()) {
      if (inst.port === undefined) continue;
      const host = inst.target === undefined ? undefined : this.hosts.get(inst.target);
      const addresses = host && host.expires > now ? [...host.addresses] : [];
      if (addresses.length === 0) addresses.push(inst.sender);
      const address =
        addresses.find((a) => !a.includes(":") && !a.startsWith("169.254.")) ??
        addresses.find((a) => !a.includes(":")) ??
        addresses[0];
      const scheme = inst.txt.scheme ?? "tcp";
      const robot: DiscoveredRobot = {
        name: inst.name,
        address,
        addresses,
        port: inst.port,
        tls: scheme === "tcps",
        url: `${scheme}://${hostPort(address, inst.port)}`,
      };
      if (inst.txt.ws) robot.ws = `${inst.txt.ws.scheme}://${hostPort(address, inst.txt.ws.port)}/qi`;
      if (inst.txt.robotType) robot.robotType = inst.txt.robotType;
      out.push(robot);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.url.localeCompare(b.url));
  }

  /** Reads one response packet (public for tests that feed packets directly). */
  absorb(packet: DnsPacket, rinfo: Pick<RemoteInfo, "address">, now = Date.now()): void {
    const sender = validAddress(rinfo.address, true);
    if (sender === undefined) return;
    const fromHere = isLoopbackAddress(sender);
    const records = [
      ...(Array.isArray(packet.answers) ? packet.answers.slice(0, DISCOVERY_LIMITS.maxRecordsPerPacket) : []),
      ...(Array.isArray(packet.additionals)
        ? packet.additionals.slice(0, DISCOVERY_LIMITS.maxRecordsPerPacket)
        : []),
    ].slice(0, DISCOVERY_LIMITS.maxRecordsPerPacket);
    // Services first, then addresses: an A record is kept only for a host a service names.
    for (const r of records) {
      if (r === null || typeof r !== "object" || typeof r.name !== "string" || r.name.length > 1024) continue;
      const name = normalName(r.name);
      if (r.type === "PTR" && name === SERVICE_TYPE && typeof r.data === "string") {
        if (r.ttl === 0) this.instances.delete(normalName(r.data));
        else this.instance(r.data, sender, now + ttlMs(r));
      } else if ((r.type === "SRV" || r.type === "TXT") && name.endsWith(SUFFIX)) {
        if (r.ttl === 0) {
          this.instances.delete(name);
          continue;
        }
        const inst = this.instance(r.name, sender, now + ttlMs(r));
        if (!inst) continue;
        if (r.type === "TXT") inst.txt = parseTxt(r.data);
        else {
          const data = r.data as { port?: unknown; target?: unknown } | undefined;
          const port = validPort(data?.port);
          const target =
            typeof data?.target === "string" && data.target.length <= 255 ? data.target : undefined;
          if (port === undefined || target === undefined) {
            this.instances.delete(name); // a service we cannot connect to is not listed
            continue;
          }
          inst.port = port;
          inst.target = normalName(target);
        }
      }
    }
    const targets = new Set([...this.instances.values()].map((i) => i.target));
    for (const r of records) {
      if ((r?.type !== "A" && r?.type !== "AAAA") || typeof r.name !== "string") continue;
      const name = normalName(r.name);
      if (!targets.has(name)) continue;
      const address = validAddress(r.data, fromHere);
      if (address === undefined) continue;
      this.hostAddress(name, address, r.ttl === 0 ? now : now + ttlMs(r));
    }
  }

  private instance(fqdn: string, sender: string, expires: number): Instance | undefined {
    const key = normalName(fqdn);
    const name = instanceName(fqdn);
    if (name === undefined) return undefined;
    let inst = this.instances.get(key);
    if (!inst) {
      if (this.instances.size >= this.maxRobots) this.expire(Date.now());
      if (this.instances.size >= this.maxRobots) {
        this.dropped++;
        return undefined;
      }
      inst = { name, txt: {}, expires, sender };
      this.instances.set(key, inst);
    }
    inst.expires = Math.max(inst.expires, expires);
    inst.sender = sender;
    return inst;
  }

  private hostAddress(name: string, address: string, expires: number): void {
    let host = this.hosts.get(name);
    if (!host || host.expires <= Date.now()) {
      if (!host && this.hosts.size >= DISCOVERY_LIMITS.maxHosts) {
        const oldest = this.hosts.keys().next().value;
        if (oldest !== undefined) this.hosts.delete(oldest);
      }
      host = { addresses: [], expires };
      this.hosts.set(name, host);
    }
    host.expires = Math.max(host.expires, expires);
    if (!host.addresses.includes(address) && host.addresses.length < DISCOVERY_LIMITS.maxAddresses)
      host.addresses.push(address);
  }

  private expire(now: number): void {
    for (const [key, inst] of this.instances) if (inst.expires <= now) this.instances.delete(key);
    for (const [key, host] of this.hosts) if (host.expires <= now) this.hosts.delete(key);
  }
}

/** Browses for `timeoutMs` and returns what answered; rejects when mDNS cannot be used at all. */
export async function discover(
  timeoutMs: number,
  options: BrowseOptions = {},
): Promise<{ robots: DiscoveredRobot[]; dropped: number }> {
  const browser = new RobotBrowser(options);
  browser.start();
  try {
    await new Promise<void>((resolve) => {
      const step = Math.min(100, timeoutMs);
      const end = Date.now() + timeoutMs;
      const tick = () => (browser.error || Date.now() >= end ? resolve() : setTimeout(tick, step));
      tick();
    });
    if (browser.error) throw browser.error;
    return { robots: browser.robots(), dropped: browser.dropped };
  } finally {
    await browser.stop();
  }
}
