/**
 * The CLI's TLS flags and token sources, through the real `qi` binary against a real gateway
 * on tcps:// and tcpsm:// (the test PKI): --ca, --pin, --cert/--key, --token-file (and its mode
 * check), QI_TOKEN, the warning for --token on argv, `qi hash-token` from stdin, and
 * `qi gateway --attach-ca/--attach-user` toward a tcps Service Directory.
 */
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserTokenAuthProvider } from "../../src/connection/index.js";
import { GatewayAuthProvider, hashToken, verifyToken } from "../../src/gateway/index.js";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { makeTestPki, type TestPki } from "../helpers/certs.js";
import { cleanup, runCleanup, world } from "../gateway/world.js";
import { QiProcess, runAll, runQi } from "./run-qi.js";

const CLIENT_CN = "qi-test-client";
let pki: TestPki;
let dir: string;
let tcps: string;
let tcpsm: string;
const files = { ca: "", clientCert: "", clientKey: "", openKey: "", token: "", openToken: "" };

function write(name: string, text: string, mode: number): string {
  const file = join(dir, name);
  writeFileSync(file, text, { mode });
  return file;
}

beforeAll(async () => {
  pki = await makeTestPki();
  dir = mkdtempSync(join(tmpdir(), "qi-cli-tls-"));
  files.ca = write("ca.pem", pki.caCert, 0o644);
  files.clientCert = write("client.pem", pki.clientCert, 0o644);
  files.clientKey = write("client.key", pki.clientKey, 0o600);
  files.openKey = write("client-open.key", pki.clientKey, 0o644);
  files.token = write("token", "s3cret\n", 0o600);
  files.openToken = write("token-open", "s3cret\n", 0o644);
  const { gw } = await world({
    allowAnonymous: false,
    authProvider: new GatewayAuthProvider(
      { nao: { token: hashToken("s3cret") } },
      { certificateUsers: [CLIENT_CN] },
    ),
    listen: ["tcps://127.0.0.1:0", "tcpsm://127.0.0.1:0"],
    tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert },
  });
  [tcps, tcpsm] = gw.endpoints();
  expect(tcps).toMatch(/^tcps:/);
  expect(tcpsm).toMatch(/^tcpsm:/);
}, 60_000);

afterAll(async () => {
  await runCleanup();
  rmSync(dir, { recursive: true, force: true });
});

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
const nao = () => ["--user", "nao", "--token-file", files.token];

describe("TLS flags of the client commands", () => {
  it("tcps: --ca FILE and --pin SHA256 reach the gateway; no trust, a wrong pin or a contradiction fail", async () => {
    const [ca, noTrust, pin, wrongPin, badPin, insecureAndCa] = await runAll([
      ["call", "Calc.add", "1", "2", "--url", tcps, "--ca", files.ca, ...nao()],
      ["services", "--url", tcps, ...nao()],
      ["call", "Calc.add", "2", "2", "--url", tcps, "--pin", fingerprint(pki.serverCert), ...nao()],
      ["services", "--url", tcps, "--pin", fingerprint(pki.caCert), ...nao()],
      ["services", "--url", tcps, "--pin", "not-a-fingerprint", ...nao()],
      ["services", "--url", tcps, "--ca", files.ca, "--insecure", ...nao()],
    ]);
    expect(ca).toMatchObject({ code: 0, stdout: "3\n", stderr: "" });
    expect(noTrust.code).toBe(3);
    expect(noTrust.stderr).toMatch(/--ca FILE or --pin SHA256/);
    expect(pin).toMatchObject({ code: 0, stdout: "4\n", stderr: "" });
    expect(wrongPin.code).toBe(3);
    expect(wrongPin.stderr).toMatch(/does not match the pinned fingerprint/);
    expect(badPin.code).toBe(2);
    expect(badPin.stderr).toMatch(/--pin "not-a-fingerprint" is not a SHA-256 fingerprint/);
    expect(insecureAndCa.code).toBe(2);
  });

  it("tcpsm: --cert/--key is the client certificate (its CN the user); missing ones are usage errors; an open key file is warned about", async () => {
    const tls = ["--ca", files.ca, "--cert", files.clientCert];
    const [cert, noCert, noKey, openKey] = await runAll([
      ["call", "Calc.add", "2", "3", "--url", tcpsm, ...tls, "--key", files.clientKey],
      ["services", "--url", tcpsm, "--ca", files.ca],
      ["services", "--url", tcpsm, ...tls],
      ["call", "Calc.add", "1", "1", "--url", tcpsm, ...tls, "--key", files.openKey],
    ]);
    expect(cert).toMatchObject({ code: 0, stdout: "5\n", stderr: "" });
    expect(noCert.code).toBe(2);
    expect(noCert.stderr).toMatch(/tcpsm needs a client certificate/);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--cert and --key go together/);
    expect(openKey).toMatchObject({ code: 0, stdout: "2\n" });
    expect(openKey.stderr).toMatch(
      /^warning: .*client-open\.key holds a secret but is readable by every user \(mode 0644\); chmod 600/,
    );
  });
});

describe("token sources", () => {
  const tcpsCa = () => ["--url", tcps, "--ca", files.ca];

  it("--token-file (mode 600: silent; 644: a warning), QI_TOKEN without a warning, --token with one", async () => {
    const [file, openFile, argv, both, userOnly] = await runAll([
      ["call", "Calc.add", "1", "2", ...tcpsCa(), "--user", "nao", "--token-file", files.token],
      ["call", "Calc.add", "1", "2", ...tcpsCa(), "--user", "nao", "--token-file", files.openToken],
      ["call", "Calc.add", "1", "2", ...tcpsCa(), "--user", "nao", "--token", "s3cret"],
      ["services", ...tcpsCa(), "--user", "nao", "--token", "x", "--token-file", files.token],
      ["services", ...tcpsCa(), "--user", "nao"],
    ]);
    expect(file).toMatchObject({ code: 0, stdout: "3\n", stderr: "" });
    expect(openFile).toMatchObject({ code: 0, stdout: "3\n" });
    expect(openFile.stderr).toMatch(/^warning: .*token-open holds a secret but is readable by every user/);
    expect(argv).toMatchObject({ code: 0, stdout: "3\n" });
    expect(argv.stderr).toMatch(
      /^warning: a token given with --token is visible to every local user \(ps, \/proc\/PID\/cmdline\); use QI_TOKEN=… or --token-file FILE instead\n$/,
    );
    expect(both.code).toBe(2);
    // Not a terminal: no prompt, a usage error that says where a token can come from.
    expect(userOnly.code).toBe(2);
    expect(userOnly.stderr).toMatch(/--user and a token go together.*QI_TOKEN, --token-file FILE/);
    const env = await runQi(["call", "Calc.add", "1", "2", ...tcpsCa()], {
      env: { QI_USER: "nao", QI_TOKEN: "s3cret" },
    });
    expect(env).toMatchObject({ code: 0, stdout: "3\n", stderr: "" });
    const wrongEnv = await runQi(["services", ...tcpsCa()], { env: { QI_USER: "nao", QI_TOKEN: "nope" } });
    expect(wrongEnv.code).toBe(3);
    expect(wrongEnv.stderr).not.toContain("nope");
  });

  it("qi hash-token reads the token from stdin (no warning); given as an argument it warns", async () => {
    const piped = await hashTokenWithStdin("pass word\n");
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe("");
    expect(await verifyToken("pass word", piped.stdout.trim())).toBe(true);
    const argv = await runQi(["hash-token", "pass word"]);
    expect(argv.code).toBe(0);
    expect(argv.stderr).toMatch(/^warning: a token given as an argument is visible/);
    expect(await verifyToken("pass word", argv.stdout.trim())).toBe(true);
    const empty = await hashTokenWithStdin("");
    expect(empty.code).toBe(2);
  });
});

describe("qi gateway", () => {
  it("--attach-ca/--attach-user/--attach-token-file reach a tcps Service Directory that wants credentials; --token-file for its own user", async () => {
    const sd = new Session({
      serverTls: { key: pki.serverKey, cert: pki.serverCert },
      clientTls: { ca: pki.caCert }, // it connects to itself
      authProvider: UserTokenAuthProvider.fromTable({ robot: "r0b0t" }),
      enforceAuth: true,
    });
    cleanup.push(() => sd.close());
    const [sdUrl] = await sd.listenStandalone("tcps://127.0.0.1:0");
    await sd.registerService(
      "Greeter",
      new QiObject().method("hi", "()", "s", () => "hi"),
    );
    const upstreamToken = write("upstream-token", "r0b0t\n", 0o600);
    const gw = new QiProcess([
      "gateway",
      "--attach",
      sdUrl,
      "--attach-ca",
      files.ca,
      "--attach-user",
      "robot",
      "--attach-token-file",
      upstreamToken,
      "--listen",
      "tcp://127.0.0.1:0",
      "--user",
      "nao",
      "--token-file",
      files.token,
      "--json",
    ]);
    cleanup.push(async () => {
      gw.kill("SIGKILL");
      await gw.exit();
    });
    const [line] = await gw.waitFor(/^\{.*\}$/m);
    const ready = JSON.parse(line) as { endpoints: string[]; attached: boolean };
    // Attached at start, or by a retry on a busy machine: the log line says so either way.
    await gw.waitFor(/attached to service directory/, "stderr", 40_000);
    const gwUrl = ready.endpoints.find((e) => e.startsWith("tcp://127.0.0.1"))!;
    const r = await runQi(["call", "Greeter.hi", "--url", gwUrl], {
      env: { QI_USER: "nao", QI_TOKEN: "s3cret" },
    });
    expect(r).toMatchObject({ code: 0, stdout: '"hi"\n' });
    expect(gw.stderr).not.toMatch(/warning/);
    // The same upstream token on argv works, with the warning; a token without a user is a usage error.
    const argv = new QiProcess([
      "gateway",
      "--attach",
      sdUrl,
      "--attach-ca",
      files.ca,
      "--attach-user",
      "robot",
      "--attach-token",
      "r0b0t",
      "--listen",
      "tcp://127.0.0.1:0",
      "--anonymous",
      "--json",
    ]);
    cleanup.push(async () => {
      argv.kill("SIGKILL");
      await argv.exit();
    });
    await argv.waitFor(/attached to service directory/, "stderr", 40_000);
    expect(argv.stderr).toMatch(/warning: a token given with --attach-token is visible .*QI_ATTACH_TOKEN/);
    const noUser = await runQi([
      "gateway",
      "--attach",
      sdUrl,
      "--attach-token-file",
      upstreamToken,
      "--listen",
      "tcp://127.0.0.1:0",
      "--anonymous",
    ]);
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toMatch(/an upstream token needs --attach-user/);
  });
});

function hashTokenWithStdin(input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "hash-token"], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdin.end(input);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}
