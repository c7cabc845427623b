import { describe, expect, it } from "vitest";
import { TransportError } from "../../src/transport/errors.js";
import {
  CONNECT_DEFAULTS,
  formatUrl,
  isLoopbackUrl,
  LISTEN_DEFAULTS,
  parseUrl,
  type QiUrl,
  sortEndpoints,
} from "../../src/transport/url.js";

describe("parseUrl", () => {
  const ok: Array<[string, QiUrl, string]> = [
    ["tcp://127.0.0.1:9559", { scheme: "tcp", host: "127.0.0.1", port: 9559 }, "tcp://127.0.0.1:9559"],
    ["tcps://nao.local:9503", { scheme: "tcps", host: "nao.local", port: 9503 }, "tcps://nao.local:9503"],
    ["tcpsm://robot:1", { scheme: "tcpsm", host: "robot", port: 1 }, "tcpsm://robot:1"],
    ["TCP://Host:80", { scheme: "tcp", host: "Host", port: 80 }, "tcp://Host:80"],
    ["tcp://10.0.0.5", { scheme: "tcp", host: "10.0.0.5", port: 9559 }, "tcp://10.0.0.5:9559"],
    ["tcp://:1234", { scheme: "tcp", host: "127.0.0.1", port: 1234 }, "tcp://127.0.0.1:1234"],
    ["tcp://host:9559/", { scheme: "tcp", host: "host", port: 9559 }, "tcp://host:9559"],
    ["  tcp://host:1  ", { scheme: "tcp", host: "host", port: 1 }, "tcp://host:1"],
    ["nao.local", { scheme: "tcp", host: "nao.local", port: 9559 }, "tcp://nao.local:9559"],
    ["nao.local:1234", { scheme: "tcp", host: "nao.local", port: 1234 }, "tcp://nao.local:1234"],
    ["192.168.1.2", { scheme: "tcp", host: "192.168.1.2", port: 9559 }, "tcp://192.168.1.2:9559"],
    ["my_robot-2:0", { scheme: "tcp", host: "my_robot-2", port: 0 }, "tcp://my_robot-2:0"],
    ["tcp://[::1]:9559", { scheme: "tcp", host: "::1", port: 9559 }, "tcp://[::1]:9559"],
    [
      "tcps://[FE80::1%25eth0]:9503",
      { scheme: "tcps", host: "fe80::1%eth0", port: 9503 },
      "tcps://[fe80::1%eth0]:9503",
    ],
    [
      "tcp://[::ffff:127.0.0.1]",
      { scheme: "tcp", host: "::ffff:127.0.0.1", port: 9559 },
      "tcp://[::ffff:127.0.0.1]:9559",
    ],
    ["[2001:db8::7]:65535", { scheme: "tcp", host: "2001:db8::7", port: 65535 }, "tcp://[2001:db8::7]:65535"],
    ["[::1]", { scheme: "tcp", host: "::1", port: 9559 }, "tcp://[::1]:9559"],
    [
      "ws://host:8002/qi?x=1",
      { scheme: "ws", host: "host", port: 8002, path: "/qi?x=1" },
      "ws://host:8002/qi?x=1",
    ],
    ["wss://[::1]:443/", { scheme: "wss", host: "::1", port: 443, path: "/" }, "wss://[::1]:443/"],
    [
      "qi:ServiceDirectory",
      { scheme: "qi", host: "", port: 0, serviceName: "ServiceDirectory" },
      "qi:ServiceDirectory",
    ],
    ["QI:ALMotion", { scheme: "qi", host: "", port: 0, serviceName: "ALMotion" }, "qi:ALMotion"],
  ];
  it.each(ok)("parses %s", (text, expected, formatted) => {
    const u = parseUrl(text);
    expect(u).toEqual(expected);
    expect(formatUrl(u)).toBe(formatted);
    expect(parseUrl(formatUrl(u))).toEqual(expected);
  });

  it("uses the given defaults (listen: port 0) and completes partial defaults", () => {
    expect(parseUrl("0.0.0.0", LISTEN_DEFAULTS)).toEqual({ scheme: "tcp", host: "0.0.0.0", port: 0 });
    expect(parseUrl("robot", { scheme: "tcps", port: 9503 })).toEqual({
      scheme: "tcps",
      host: "robot",
      port: 9503,
    });
    expect(parseUrl("tcp://", LISTEN_DEFAULTS)).toEqual({ scheme: "tcp", host: "127.0.0.1", port: 0 });
    expect(parseUrl("tcp://", CONNECT_DEFAULTS)).toEqual({ scheme: "tcp", host: "127.0.0.1", port: 9559 });
    expect(parseUrl(":4000", { port: 1 })).toEqual({ scheme: "tcp", host: "127.0.0.1", port: 4000 });
  });

  const bad: Array<[string, RegExp]> = [
    ["", /empty/],
    ["   ", /empty/],
    ["tcp://host name:1", /white space/],
    ["http://host:80", /unknown scheme "http"/],
    ["://host:1", /empty scheme/],
    ["qi://ServiceDirectory", /no authority/],
    ["qi:", /without a service name/],
    ["qi:a/b", /contains '\/'/],
    ["tcp://host:port", /port "port" is not a number/],
    ["tcp://host:65536", /out of range/],
    ["tcp://host:-1", /not a number/],
    ["tcp://host:123456", /not a number/],
    ["tcp://host:", /empty port/],
    ["tcp://host:1/path", /take no path/],
    ["tcp://host:1?q", /take no path/],
    ["tcp://user@host:1", /user information/],
    ["tcp://::1:9559", /must be written in brackets/],
    ["::1", /must be written in brackets/],
    ["tcp://[::1:9559", /missing '\]'/],
    ["tcp://[::1]9559", /unexpected "9559" after '\]'/],
    ["tcp://[127.0.0.1]:1", /not an IPv6 address/],
    ["tcp://[zz::1]:1", /not an IPv6 address/],
    ["tcp://[fe80::1%]:1", /bad IPv6 zone/],
    ["tcp://ho$t:1", /not a valid host name/],
    ["tcp://a..b:1", /not a valid host name/],
    ["tcp://host]:1", /unexpected '\]'/],
  ];
  it.each(bad)("rejects %j", (text, why) => {
    let err: unknown;
    try {
      parseUrl(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe("QI_ERR_TRANSPORT_BAD_URL");
    expect((err as TransportError).message).toMatch(why);
    expect((err as TransportError).message).toContain(JSON.stringify(text));
  });
});

describe("isLoopbackUrl", () => {
  it.each([
    ["tcp://127.0.0.1:9559", true],
    ["tcps://127.10.0.1:1", true],
    ["tcp://localhost:9559", true],
    ["tcp://LOCALHOST:9559", true],
    ["tcp://[::1]:9559", true],
    ["tcp://[::ffff:127.0.0.1]:9559", true],
    ["tcp://[0:0:0:0:0:0:0:1]:9559", true],
    ["tcp://192.168.1.2:9559", false],
    ["tcp://128.0.0.1:9559", false],
    ["tcp://[2001:db8::1]:9559", false],
    ["tcp://nao.local:9559", false],
    ["qi:ServiceDirectory", false],
    ["garbage://", false],
  ])("%s → %s", (url, expected) => {
    expect(isLoopbackUrl(url)).toBe(expected);
  });
  it("accepts a parsed URL", () => {
    expect(isLoopbackUrl({ scheme: "tcp", host: "127.0.0.1", port: 1 })).toBe(true);
  });
});

describe("sortEndpoints", () => {
  it("orders like libqi: qi:ServiceDirectory, qi:*, loopback, other authority, no authority", () => {
    const input = [
      "tcp://192.168.1.20:9559",
      "no-authority",
      "tcps://10.0.0.1:9503",
      "tcp://[::1]:9559",
      "qi:ALMotion",
      "tcp://127.0.0.1:9559",
      "qi:ServiceDirectory",
      "qi:ALBehaviorManager",
      "tcp://localhost:9559",
      "tcp://10.0.0.1:9559",
      "mailto:x",
    ];
    const copy = [...input];
    expect(sortEndpoints(input)).toEqual([
      "qi:ServiceDirectory",
      "qi:ALBehaviorManager",
      "qi:ALMotion",
      "tcp://127.0.0.1:9559",
      "tcp://[::1]:9559",
      "tcp://localhost:9559",
      "tcp://10.0.0.1:9559",
      "tcp://192.168.1.20:9559",
      "tcps://10.0.0.1:9503",
      "mailto:x",
      "no-authority",
    ]);
    expect(input).toEqual(copy); // not mutated
  });
  it("handles empty and single lists", () => {
    expect(sortEndpoints([])).toEqual([]);
    expect(sortEndpoints(["tcp://a:1"])).toEqual(["tcp://a:1"]);
  });
});
