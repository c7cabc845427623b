/**
 * A real Prosody for the XMPP tests: generated config on 127.0.0.1, a free port, a temporary
 * data dir (and HOME), TLS with the test CA's server certificate (CN/SAN localhost), accounts
 * registered with prosodyctl, run in the foreground as a child process and killed at the end.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { makeTestPki } from "../../helpers/certs.js";

const run = promisify(execFile);

export const prosodyFound = ["/usr/bin/prosody", "/usr/bin/prosodyctl"].every((p) => existsSync(p));

export interface Prosody {
  port: number;
  caCert: string;
  /** `xmpp://127.0.0.1:port`: the service every account of the test uses. */
  service: string;
  domain: "localhost";
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and removes its directory (afterAll). */
  dispose(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function untilAccepting(port: number, want: boolean, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while ((await accepting(port)) !== want) {
    if (Date.now() - t0 > ms)
      throw new Error(`prosody ${want ? "did not start" : "did not stop"} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts Prosody with `accounts` (user → password) on host "localhost". */
export async function startProsody(accounts: Record<string, string>, extraConfig = ""): Promise<Prosody> {
  const pki = await makeTestPki();
  const dir = await mkdtemp(join(tmpdir(), "qi-prosody-"));
  await mkdir(join(dir, "data"));
  await mkdir(join(dir, "certs"));
  await writeFile(join(dir, "server.key"), pki.serverKey, { mode: 0o600 });
  await writeFile(join(dir, "server.crt"), pki.serverCert);
  const port = await freePort();
  const cfg = join(dir, "prosody.cfg.lua");
  await writeFile(
    cfg,
    `pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
certificates = "${dir}/certs"
daemonize = false
run_as_root = true
interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
c2s_direct_tls_ports = { }
s2s_ports = { }
c2s_require_encryption = true
authentication = "internal_hashed"
log = { warn = "*console" }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "presence"; "message"; "iq" }
modules_disabled = { "s2s"; "offline"; "c2s_direct_tls"; "legacy_ssl" }
${extraConfig}
VirtualHost "localhost"
  ssl = { key = "${dir}/server.key"; certificate = "${dir}/server.crt" }
`,
  );
  const env = { ...process.env, HOME: dir };
  for (const [user, password] of Object.entries(accounts)) {
    await run("prosodyctl", ["--config", cfg, "register", user, "localhost", password], { env });
  }
  let child: ChildProcess | undefined;
  const start = async () => {
    const p = spawn("prosody", ["--config", cfg, "-F"], { env, stdio: ["ignore", "ignore", "pipe"] });
    child = p;
    let stderr = "";
    p.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    try {
      await untilAccepting(port, true);
    } catch (e) {
      p.kill("SIGKILL");
      throw new Error(`${(e as Error).message}: ${stderr}`);
    }
  };
  const stop = async () => {
    const p = child;
    child = undefined;
    if (p === undefined || p.exitCode !== null) return;
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill("SIGKILL");
    await exited;
    await untilAccepting(port, false);
  };
  const kill = () => child?.kill("SIGKILL");
  process.once("exit", kill);
  await start();
  return {
    port,
    caCert: pki.caCert,
    service: `xmpp://127.0.0.1:${port}`,
    domain: "localhost",
    start,
    async stop() {
      await stop();
    },
    async restart() {
      await stop();
      await start();
    },
    async dispose() {
      await stop();
      process.removeListener("exit", kill);
      rmSync(dir, { recursive: true, force: true });
    },
  } satisfies Prosody;
}
