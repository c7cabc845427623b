/**
 * Real nats-server processes for the fleet tests: a cluster of N servers routed on loopback,
 * optionally a leaf node (a robot's site "behind NAT": it dials out to the hub, nothing dials
 * in). Free ports, a temp dir per run (HOME too), every process killed in stop().
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function natsServerPath(): string | undefined {
  for (const p of ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]) {
    try {
      execFileSync(p, ["--version"], { stdio: "ignore" });
      return p;
    } catch {
      // not there
    }
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface NatsNode {
  name: string;
  port: number;
  url: string;
  proc: ChildProcess;
  conf: string;
  log: string[];
}

export interface NatsCluster {
  nodes: NatsNode[];
  leaf?: NatsNode;
  /** All cluster client URLs, comma-separated (what --fleet takes). */
  url: string;
  kill(node: NatsNode): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  size?: number;
  leaf?: boolean;
  /** Client credentials every node requires (user/password). */
  auth?: { user: string; pass: string };
}

function authBlock(auth?: { user: string; pass: string }): string {
  return auth ? `authorization { user: "${auth.user}", password: "${auth.pass}" }\n` : "";
}

async function startNode(
  bin: string,
  dir: string,
  name: string,
  conf: string,
  port: number,
): Promise<NatsNode> {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  const proc = spawn(bin, ["-c", file], {
    env: { ...process.env, HOME: dir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`nats-server ${name} not ready: ${log.join("")}`)), 15_000);
    proc.stderr?.on("data", (d: Buffer) => {
      log.push(String(d));
      if (log.length > 200) log.shift();
      if (String(d).includes("Server is ready")) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`nats-server ${name} exited (${code}): ${log.join("")}`));
    });
  });
  return { name, port, url: `nats://127.0.0.1:${port}`, proc, conf: file, log };
}

async function killNode(n: NatsNode): Promise<void> {
  if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => n.proc.once("exit", () => r()));
  n.proc.kill("SIGKILL");
  await exited;
}

export async function startCluster(bin: string, o: ClusterOptions = {}): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "qi-nats-"));
  const size = o.size ?? 3;
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const cports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const leafPort = await freePort();
  const nodes: NatsNode[] = [];
  const cluster: NatsCluster = {
    nodes,
    url: "",
    kill: killNode,
    async stop() {
      await Promise.all([...nodes, ...(cluster.leaf ? [cluster.leaf] : [])].map(killNode));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (let i = 0; i < size; i++) {
      const routes = cports.filter((_, j) => j !== i).map((p) => `"nats-route://127.0.0.1:${p}"`);
      const conf = [
        `server_name: n${i}`,
        `listen: "127.0.0.1:${ports[i]}"`,
        authBlock(o.auth),
        `cluster { name: fleet, listen: "127.0.0.1:${cports[i]}", routes: [${routes.join(", ")}] }`,
        i === 0 && o.leaf ? `leafnodes { listen: "127.0.0.1:${leafPort}" }` : "",
      ].join("\n");
      nodes.push(await startNode(bin, dir, `n${i}`, conf, ports[i]));
    }
    cluster.url = nodes.map((n) => n.url).join(",");
    if (o.leaf) {
      const port = await freePort();
      const conf = [
        "server_name: site",
        `listen: "127.0.0.1:${port}"`,
        authBlock(o.auth),
        `leafnodes { remotes: [ { url: "nats-leaf://${o.auth ? `${o.auth.user}:${o.auth.pass}@` : ""}127.0.0.1:${leafPort}" } ] }`,
      ].join("\n");
      cluster.leaf = await startNode(bin, dir, "site", conf, port);
    }
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/** Resolves once a message published on each node reaches a subscriber on the first (routes up). */
export async function waitRouted(urls: string[], timeoutMs = 15_000): Promise<void> {
  const { connect } = await import("@nats-io/transport-node");
  const sub = await connect({ servers: urls[0] });
  try {
    for (const url of urls.slice(1)) {
      const subject = `probe.${Math.random().toString(36).slice(2)}`;
      let got = false;
      sub.subscribe(subject, {
        callback: () => {
          got = true;
        },
      });
      await sub.flush();
      const pub = await connect({ servers: url });
      const t0 = Date.now();
      while (!got) {
        if (Date.now() - t0 > timeoutMs) throw new Error(`no route from ${url} to ${urls[0]}`);
        pub.publish(subject);
        await pub.flush();
        await new Promise((r) => setTimeout(r, 20));
      }
      await pub.close();
    }
  } finally {
    await sub.close();
  }
}
