/** IP literals without node:net (transport/ip.ts) agree with node:net on the forms URLs use. */
import { isIPv4 as nodeIsIPv4, isIPv6 as nodeIsIPv6 } from "node:net";
import { describe, expect, it } from "vitest";
import { isIP, isIPv4, isIPv6 } from "../../src/transport/index.js";
import { isLoopbackIp } from "../../src/transport/ip.js";

const SAMPLES = [
  "127.0.0.1",
  "0.0.0.0",
  "255.255.255.255",
  "256.1.1.1",
  "01.2.3.4",
  "1.2.3",
  "1.2.3.4.5",
  "a.b.c.d",
  "",
  "::",
  "::1",
  "1::",
  "fe80::1",
  "2001:db8::8a2e:370:7334",
  "1:2:3:4:5:6:7:8",
  "1:2:3:4:5:6:7:8:9",
  "1:2:3:4:5:6:7",
  "1::2::3",
  ":::",
  "::ffff:127.0.0.1",
  "::ffff:1.2.3.256",
  "1:2:3:4:5:6:1.2.3.4",
  "1:2:3:4:5:6:7:1.2.3.4",
  "12345::",
  "g::1",
  "::1.2.3.4",
  ":1::",
  "1:::2",
  "1:2:3:4:5:6:7::",
];

describe("ip literals", () => {
  it("match node:net's isIPv4 and isIPv6", () => {
    for (const s of SAMPLES) {
      expect([s, isIPv4(s)]).toEqual([s, nodeIsIPv4(s)]);
      expect([s, isIPv6(s)]).toEqual([s, nodeIsIPv6(s)]);
    }
    expect(isIP("fe80::1%eth0")).toBe(6);
    expect(isIP("example.com")).toBe(0);
  });

  it("loopback: 127/8, ::1, IPv4-mapped 127/8", () => {
    for (const s of ["127.0.0.1", "127.255.0.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::1%lo"])
      expect([s, isLoopbackIp(s)]).toEqual([s, true]);
    for (const s of ["128.0.0.1", "::2", "::ffff:10.0.0.1", "::127.0.0.1", "localhost"])
      expect([s, isLoopbackIp(s)]).toEqual([s, false]);
  });
});
