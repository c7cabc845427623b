/**
 * Connection caps shared by a server's listeners: how many connections may be open in total
 * and per client address, and how many of them may still be unauthenticated. Checked at the
 * TCP accept, before any TLS handshake or HTTP parsing is spent on the socket.
 *
 * Policy against a flood that wants to lock legitimate clients out (idle sockets that never
 * authenticate): when an unauthenticated cap is full, the OLDEST unauthenticated connection
 * (of that address for the per-address caps) is closed to make room for the new one. A
 * legitimate client authenticates within milliseconds of connecting, so it is never the oldest;
 * a flood only keeps its sockets open by outrunning every login, and one address flooding only
 * evicts its own sockets. Refusing the NEW connection instead would let the flood hold the pool
 * for a whole handshake timeout, again and again. Authenticated connections are never evicted:
 * when the total caps are full of them, the new connection is refused.
 *
 * Per-address caps count IPv6 clients per /64 (one host usually owns a whole /64).
 */
import { plainAddress } from "./channel-base.js";

export interface AdmissionLimits {
  /** Open connections in total (authenticated or not). */
  maxConnections: number;
  /** Connections not authenticated yet, in total; keep it below maxConnections (a reserve for logins). */
  maxUnauthenticated: number;
  /** Open connections from one address (IPv6: one /64). */
  maxConnectionsPerAddress: number;
  /** Unauthenticated connections from one address (IPv6: one /64). */
  maxUnauthenticatedPerAddress: number;
}

export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = {
  maxConnections: 1_000,
  maxUnauthenticated: 256,
  maxConnectionsPerAddress: 64,
  maxUnauthenticatedPerAddress: 16,
};

/** Which cap closed a connection (the metric label). */
export type AdmissionCap =
  | "max_connections"
  | "max_unauthenticated"
  | "max_connections_per_address"
  | "max_unauthenticated_per_address";

export interface AdmissionEvents {
  /**
   * A cap closed a connection: the new one (`evicted` false: the cap is full of authenticated
   * connections) or the oldest unauthenticated one, to make room (`evicted` true).
   */
  onRefused?: (cap: AdmissionCap, address: string, evicted: boolean) => void;
}

/** One admitted connection, from its TCP accept until its socket closes. */
export class AdmissionTicket {
  /** The per-address key: the IPv4 address, or the IPv6 /64. */
  readonly address: string;
  private state: "unauthenticated" | "authenticated" | "released" = "unauthenticated";

  constructor(
    private readonly owner: Admission,
    private readonly group: AddressGroup,
    /** Closes the connection at once (set again as it moves from socket to channel). */
    public close: () => void,
  ) {
    this.address = group.key;
  }

  get authenticated(): boolean {
    return this.state === "authenticated";
  }

  get released(): boolean {
    return this.state === "released";
  }

  /** Closed by a cap to make room for a newer connection (already counted and logged there). */
  evicted = false;

  /** The peer authenticated: it leaves the unauthenticated caps and is never evicted. */
  authenticate(): void {
    if (this.state !== "unauthenticated") return;
    this.state = "authenticated";
    this.owner.leaveUnauthenticated(this, this.group);
  }

  /** The connection closed (idempotent). */
  release(): void {
    if (this.state === "released") return;
    const wasUnauthenticated = this.state === "unauthenticated";
    this.state = "released";
    this.owner.leave(this, this.group, wasUnauthenticated);
  }
}

interface AddressGroup {
  key: string;
  open: number;
  /** Insertion order is age order: the first is the oldest. */
  unauthenticated: Set<AdmissionTicket>;
}

export class Admission {
  readonly limits: AdmissionLimits;
  private readonly events: AdmissionEvents;
  private openCount = 0;
  private readonly unauthenticatedTickets = new Set<AdmissionTicket>();
  private readonly groups = new Map<string, AddressGroup>();

  constructor(limits: Partial<AdmissionLimits> = {}, events: AdmissionEvents = {}) {
    const given = Object.entries(limits).filter(([, v]) => v !== undefined);
    this.limits = { ...DEFAULT_ADMISSION_LIMITS, ...Object.fromEntries(given) };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isInteger(value) || value < 1)
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
    this.events = events;
  }

  /** Connections open now. */
  get open(): number {
    return this.openCount;
  }

  /** Connections open now that have not authenticated. */
  get unauthenticated(): number {
    return this.unauthenticatedTickets.size;
  }

  /** Open connections from the address (IPv6: its /64). */
  openFrom(remoteAddress: string): number {
    return this.groups.get(addressKey(remoteAddress))?.open ?? 0;
  }

  /**
   * A new connection from `remoteAddress`: its ticket, or undefined when it must be closed at
   * once. May close older unauthenticated connections (through their ticket's close) first.
   */
  admit(remoteAddress: string | undefined, close: () => void): AdmissionTicket | undefined {
    const key = addressKey(remoteAddress ?? "");
    const l = this.limits;
    const group = this.groups.get(key);
    // Full of authenticated connections: nothing may be evicted, the newcomer is refused.
    if (this.openCount >= l.maxConnections && this.unauthenticatedTickets.size === 0)
      return this.refuse("max_connections", key);
    if (group !== undefined && group.open >= l.maxConnectionsPerAddress && group.unauthenticated.size === 0)
      return this.refuse("max_connections_per_address", key);
    // Make room by closing the oldest unauthenticated connection the full cap counts.
    if (group !== undefined) {
      if (group.open >= l.maxConnectionsPerAddress)
        this.evictOldest(group.unauthenticated, "max_connections_per_address");
      else if (group.unauthenticated.size >= l.maxUnauthenticatedPerAddress)
        this.evictOldest(group.unauthenticated, "max_unauthenticated_per_address");
    }
    if (this.openCount >= l.maxConnections) this.evictOldest(this.unauthenticatedTickets, "max_connections");
    if (this.unauthenticatedTickets.size >= l.maxUnauthenticated)
      this.evictOldest(this.unauthenticatedTickets, "max_unauthenticated");

    let g = this.groups.get(key);
    if (g === undefined) {
      g = { key, open: 0, unauthenticated: new Set() };
      this.groups.set(key, g);
    }
    const ticket = new AdmissionTicket(this, g, close);
    g.open++;
    g.unauthenticated.add(ticket);
    this.openCount++;
    this.unauthenticatedTickets.add(ticket);
    return ticket;
  }

  /** @internal (AdmissionTicket) */
  leaveUnauthenticated(ticket: AdmissionTicket, group: AddressGroup): void {
    this.unauthenticatedTickets.delete(ticket);
    group.unauthenticated.delete(ticket);
  }

  /** @internal (AdmissionTicket) */
  leave(ticket: AdmissionTicket, group: AddressGroup, wasUnauthenticated: boolean): void {
    if (wasUnauthenticated) this.leaveUnauthenticated(ticket, group);
    this.openCount--;
    if (--group.open === 0) this.groups.delete(group.key);
  }

  private refuse(cap: AdmissionCap, address: string): undefined {
    this.events.onRefused?.(cap, address, false);
    return undefined;
  }

  private evictOldest(pool: Set<AdmissionTicket>, cap: AdmissionCap): void {
    const oldest = pool.values().next().value;
    if (oldest === undefined) return;
    oldest.release();
    oldest.evicted = true;
    this.events.onRefused?.(cap, oldest.address, true);
    oldest.close();
  }
}

/** The per-address key: IPv4 (also IPv4-mapped) as is, IPv6 as its /64 prefix. */
export function addressKey(remoteAddress: string): string {
  const addr = plainAddress(remoteAddress);
  if (!addr.includes(":")) return addr;
  const bare = addr.split("%")[0];
  const halves = bare.split("::");
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(":") : [];
  const groups =
    halves.length > 1
      ? [...head, ...new Array(Math.max(0, 8 - head.length - tail.length)).fill("0"), ...tail]
      : head;
  const prefix = groups.slice(0, 4).map((g) => (Number.parseInt(g, 16) || 0).toString(16));
  return `${prefix.join(":")}::/64`;
}
