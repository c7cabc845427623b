import { describe, expect, it } from "vitest";
import { Admission, type AdmissionCap, addressKey } from "../../src/transport/admission.js";

function recorder() {
  const refusals: Array<[AdmissionCap, string, boolean]> = [];
  return { refusals, onRefused: (c: AdmissionCap, a: string, e: boolean) => refusals.push([c, a, e]) };
}

/** Admits `n` connections from `addr`, returning their tickets and which were closed. */
function admitMany(a: Admission, addr: string, n: number, closed: Set<string>, tag = addr) {
  const tickets = [];
  for (let i = 0; i < n; i++) {
    const name = `${tag}#${i}`;
    tickets.push({ name, ticket: a.admit(addr, () => closed.add(name)) });
  }
  return tickets;
}

describe("Admission (connection caps)", () => {
  it("per address: the oldest unauthenticated connection of that address makes room, others are untouched", () => {
    const r = recorder();
    const a = new Admission({ maxUnauthenticatedPerAddress: 3 }, r);
    const closed = new Set<string>();
    admitMany(a, "10.0.0.2", 1, closed, "other");
    const flood = admitMany(a, "10.0.0.1", 5, closed);
    expect([...closed]).toEqual(["10.0.0.1#0", "10.0.0.1#1"]);
    expect(flood.every((f) => f.ticket !== undefined)).toBe(true);
    expect(a.openFrom("10.0.0.1")).toBe(3);
    expect(a.open).toBe(4);
    expect(r.refusals).toEqual([
      ["max_unauthenticated_per_address", "10.0.0.1", true],
      ["max_unauthenticated_per_address", "10.0.0.1", true],
    ]);
  });

  it("authenticated connections are never evicted and leave the unauthenticated count", () => {
    const a = new Admission({ maxConnectionsPerAddress: 4, maxUnauthenticatedPerAddress: 2 });
    const closed = new Set<string>();
    const [first, second] = admitMany(a, "10.0.0.1", 2, closed);
    first.ticket!.authenticate();
    second.ticket!.authenticate();
    expect(a.unauthenticated).toBe(0);
    admitMany(a, "10.0.0.1", 3, closed, "late");
    expect([...closed]).toEqual(["late#0"]); // per-address unauthenticated cap (2)
    admitMany(a, "10.0.0.1", 1, closed, "more");
    expect(closed.has("10.0.0.1#0") || closed.has("10.0.0.1#1")).toBe(false);
    expect(a.openFrom("10.0.0.1")).toBe(4);
  });

  it("a cap full of authenticated connections refuses the new one", () => {
    const r = recorder();
    const a = new Admission({ maxConnections: 3, maxConnectionsPerAddress: 2 }, r);
    const closed = new Set<string>();
    for (const t of admitMany(a, "10.0.0.1", 2, closed)) t.ticket!.authenticate();
    expect(a.admit("10.0.0.1", () => {})).toBeUndefined();
    admitMany(a, "10.0.0.2", 1, closed)[0].ticket!.authenticate();
    expect(a.admit("10.0.0.3", () => {})).toBeUndefined();
    expect(r.refusals).toEqual([
      ["max_connections_per_address", "10.0.0.1", false],
      ["max_connections", "10.0.0.3", false],
    ]);
    expect(closed.size).toBe(0);
  });

  it("the total unauthenticated cap evicts the globally oldest pre-auth connection, keeping the login reserve", () => {
    const a = new Admission({ maxConnections: 10, maxUnauthenticated: 4, maxUnauthenticatedPerAddress: 2 });
    const closed = new Set<string>();
    const logins = admitMany(a, "10.0.0.9", 2, closed, "login");
    for (const l of logins) l.ticket!.authenticate();
    for (let i = 1; i <= 4; i++) admitMany(a, `10.0.1.${i}`, 2, closed);
    expect(a.unauthenticated).toBe(4);
    expect([...closed]).toEqual(["10.0.1.1#0", "10.0.1.1#1", "10.0.1.2#0", "10.0.1.2#1"]);
    expect(a.open).toBe(6);
    // The total cap with room only through eviction.
    for (let i = 5; i <= 9; i++) admitMany(a, `10.0.1.${i}`, 1, closed);
    expect(a.open).toBeLessThanOrEqual(10);
    expect(closed.has("login#0")).toBe(false);
  });

  it("release is idempotent and frees the address entry", () => {
    const a = new Admission();
    const t = a.admit("10.0.0.1", () => {})!;
    t.release();
    t.release();
    t.authenticate();
    expect(a.open).toBe(0);
    expect(a.unauthenticated).toBe(0);
    expect(a.openFrom("10.0.0.1")).toBe(0);
  });

  it("rejects limits that are not positive integers", () => {
    expect(() => new Admission({ maxConnections: 0 })).toThrow(/maxConnections/);
  });

  it("counts IPv6 clients per /64 and IPv4-mapped addresses as IPv4", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKey("::ffff:127.0.0.2")).toBe("127.0.0.2");
    expect(addressKey("127.0.0.2")).toBe("127.0.0.2");
  });
});
