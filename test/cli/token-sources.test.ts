/** Token sources and TLS flags as units: precedence, file modes, and the usage errors. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clientTlsFromFlags } from "../../src/cli/tls-flags.js";
import { readTokenFile, tokenFromFlags } from "../../src/cli/token-sources.js";

const dir = mkdtempSync(join(tmpdir(), "qi-token-sources-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string, mode = 0o600): string {
  const f = join(dir, name);
  writeFileSync(f, text, { mode });
  return f;
}

function collect() {
  const warnings: string[] = [];
  return { warnings, warn: (t: string) => warnings.push(t) };
}

describe("tokenFromFlags", () => {
  it("file first, then argv (warned), then the environment; none is undefined", () => {
    const w = collect();
    const f = file("t1", "from-file\nignored second line\n");
    expect(tokenFromFlags({ tokenFile: f, envToken: "env" }, w.warn)).toBe("from-file");
    expect(tokenFromFlags({ argvToken: "argv", envToken: "env" }, w.warn)).toBe("argv");
    expect(tokenFromFlags({ envToken: "env" }, w.warn)).toBe("env");
    expect(tokenFromFlags({ envToken: "" }, w.warn)).toBeUndefined();
    expect(w.warnings).toHaveLength(1);
    expect(w.warnings[0]).toMatch(/--token is visible .*QI_TOKEN=… or --token-file FILE/);
  });

  it("--token with --token-file is a usage error; the names follow the flag", () => {
    expect(() => tokenFromFlags({ argvToken: "a", tokenFile: "f" })).toThrow(
      expect.objectContaining({ exitCode: 2 }),
    );
    const w = collect();
    tokenFromFlags({ argvToken: "a", flag: "--attach-token", envName: "QI_ATTACH_TOKEN" }, w.warn);
    expect(w.warnings[0]).toMatch(/--attach-token is visible .*QI_ATTACH_TOKEN=/);
  });
});

describe("readTokenFile", () => {
  it("warns for group- or world-readable files, not for mode 600 or 400", () => {
    for (const [mode, warned] of [
      [0o600, false],
      [0o400, false],
      [0o640, true],
      [0o604, true],
    ] as const) {
      const w = collect();
      expect(readTokenFile(file(`m${mode.toString(8)}`, "tok\r\n", mode), w.warn)).toBe("tok");
      expect(w.warnings.length > 0).toBe(warned);
    }
  });

  it("an empty or missing file is a usage error", () => {
    expect(() => readTokenFile(file("empty", "\n"))).toThrow(/is empty/);
    expect(() => readTokenFile(join(dir, "nope"))).toThrow(/cannot read the token file/);
  });
});

describe("clientTlsFromFlags", () => {
  const pem = file("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 0o644);
  const fp = "ab".repeat(32);

  it("nothing set: undefined (the transport's defaults)", () => {
    expect(clientTlsFromFlags({})).toBeUndefined();
  });

  it("maps --ca, --pin (normalised), --cert/--key, --insecure", () => {
    const key = file("k.pem", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n");
    expect(clientTlsFromFlags({ ca: pem, pin: [fp.match(/../g)!.join(":")], cert: pem, key })).toEqual({
      ca: expect.stringContaining("BEGIN CERTIFICATE"),
      pinnedSha256: [fp.toUpperCase()],
      cert: expect.stringContaining("BEGIN CERTIFICATE"),
      key: expect.stringContaining("BEGIN PRIVATE KEY"),
    });
    expect(clientTlsFromFlags({ insecure: true })).toEqual({ insecureAcceptAnyCertificate: true });
  });

  it("usage errors: contradictions, half a client certificate, bad pins, files that are not PEM", () => {
    const usage = expect.objectContaining({ exitCode: 2 });
    expect(() => clientTlsFromFlags({ insecure: true, pin: [fp] })).toThrow(usage);
    expect(() => clientTlsFromFlags({ cert: pem })).toThrow(usage);
    expect(() => clientTlsFromFlags({ pin: ["xyz"] })).toThrow(/not a SHA-256 fingerprint/);
    expect(() => clientTlsFromFlags({ ca: file("notpem", "hello") })).toThrow(/is not a PEM file/);
    expect(() => clientTlsFromFlags({ ca: join(dir, "missing") }, "attach")).toThrow(/--attach-ca/);
  });
});
