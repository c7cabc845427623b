/**
 * One mDNS socket through bonjour-service (which sits on multicast-dns), opened so that nothing
 * it meets can take the process down: the socket's errors (5353 taken, no multicast) and the
 * library's send errors go to `onProblem` instead of being thrown, and queries are answered at
 * a bounded rate (a flood of queries from the LAN must not turn us into a packet amplifier).
 */
import type { EventEmitter } from "node:events";
import { Bonjour } from "bonjour-service";

/** Where the socket listens and sends; the defaults are mDNS's (224.0.0.251:5353, all interfaces). */
export interface MdnsOptions {
  port?: number;
  /** The multicast group, or a unicast address to send to (tests without multicast). */
  ip?: string;
  /** The address to bind, or false not to bind at all (send-only). */
  bind?: string | false;
  /** The interface (address) to join the group on and send from. */
  interface?: string;
  /** false: join no group (tests exchanging unicast on 127.0.0.1). */
  multicast?: boolean;
}

/** A DNS resource record as dns-packet takes and gives it. */
export interface DnsRecord {
  name: string;
  type: string;
  ttl?: number;
  data?: unknown;
}

export interface DnsPacket {
  type?: string;
  answers?: DnsRecord[];
  additionals?: DnsRecord[];
  questions?: { name: string; type: string }[];
}

/** The parts of a multicast-dns instance used here. */
export interface MulticastDns extends EventEmitter {
  query(packet: { questions: { name: string; type: string }[] }, cb?: (e?: Error | null) => void): void;
  respond(packet: { answers: DnsRecord[]; additionals?: DnsRecord[] }, cb?: (e?: Error | null) => void): void;
  destroy(cb?: () => void): void;
}

/** bonjour-service's responder: it answers queries for the records registered with it. */
interface BonjourServer {
  mdns: MulticastDns;
  register(records: DnsRecord[]): void;
  unregister(records: DnsRecord[]): void;
  respondToQuery(query: DnsPacket): void;
}

export interface MdnsSocket {
  readonly mdns: MulticastDns;
  /** Records the library's responder answers queries with. */
  register(records: DnsRecord[]): void;
  unregister(records: DnsRecord[]): void;
  close(): Promise<void>;
}

/** Queries answered per second at most (RFC 6762 §6 asks for about one answer per record per second). */
const MAX_ANSWERS_PER_SECOND = 20;

/**
 * `onProblem(e, fatal)`: fatal when the socket cannot bind (5353 taken without sharing, no
 * permission); otherwise a membership or send problem (no multicast on an interface).
 */
export function openMdns(options: MdnsOptions, onProblem: (e: Error, fatal: boolean) => void): MdnsSocket {
  // The library types its options as a ServiceConfig; they are multicast-dns's options.
  const bonjour = new Bonjour(options as never, (e: Error) => onProblem(e, false));
  // `server` is private in the .d.ts only: it is the library's responder, used as documented in its source.
  const server = (bonjour as unknown as { server: BonjourServer }).server;
  const mdns = server.mdns;
  mdns.on("error", (e: Error) => onProblem(e, true));
  mdns.on("warning", (e: Error) => onProblem(e, false));
  mdns.removeAllListeners("query");
  let windowStart = 0;
  let answered = 0;
  mdns.on("query", (query: DnsPacket) => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      answered = 0;
    }
    if (++answered > MAX_ANSWERS_PER_SECOND) return;
    try {
      server.respondToQuery(query);
    } catch (e) {
      onProblem(e as Error, false);
    }
  });
  let closed: Promise<void> | undefined;
  return {
    mdns,
    register: (records) => server.register(records),
    unregister: (records) => server.unregister(records),
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        try {
          bonjour.destroy(() => resolve());
        } catch {
          resolve();
        }
      });
      return closed;
    },
  };
}
