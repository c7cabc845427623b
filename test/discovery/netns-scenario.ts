/**
 * Runs inside a private network namespace (`unshare -n`, started by lan.peer.test.ts): a veth
 * pair makes a LAN of one machine (10.77.0.1 on v0, multicast routed there), then real `qi`
 * processes advertise and discover on it. Prints one JSON object of what it saw; the test
 * checks it. Every process it starts is killed before it exits.
 */
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { openMdns } from "../../src/discovery/mdns.js";
import { SERVICE_TYPE } from "../../src/discovery/index.js";
import { QiProcess, runQi } from "../cli/run-qi.js";

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });
ip("link", "set", "lo", "up");
ip("link", "set", "lo", "multicast", "on");
ip("link", "add", "v0", "type", "veth", "peer", "name", "v1");
ip("addr", "add", "10.77.0.1/24", "dev", "v0");
ip("link", "set", "v0", "up");
ip("link", "set", "v1", "up");
ip("route", "add", "224.0.0.0/4", "dev", "v0");

const started: QiProcess[] = [];
const report: Record<string, unknown> = {};
const TOKEN = "lan-test-token-1";

function start(args: string[]): QiProcess {
  const p = new QiProcess(["start", "--listen", "tcp://127.0.0.1:0", "--no-demo", "--json", ...args], {
    timeoutMs: 120_000,
    env: { QI_GATEWAY_TOKEN: TOKEN },
  });
  started.push(p);
  return p;
}

async function stop(p: QiProcess): Promise<string> {
  p.kill("SIGINT");
  return (await p.exit()).stderr;
}

async function until<T>(get: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get().catch(() => undefined);
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

try {
  // 1. A gateway on the namespace's LAN, advertised and browsing.
  const a = start([
    "--gateway",
    "tcp://0.0.0.0:0",
    "ws://0.0.0.0:0",
    "--advertise-name",
    "Lab robot",
    "--discover",
  ]);
  const line = JSON.parse((await a.waitFor(/^\{.*\}$/m, "stdout", 60_000))[0]) as {
    gateway: { endpoints: string[] };
  };
  report.endpoints = line.gateway.endpoints;
  const first = await runQi(["discover", "--json", "--timeout", "2"]);
  report.discover = { code: first.code, robots: JSON.parse(first.stdout || "null"), stderr: first.stderr };
  const found = (report.discover as { robots: { name: string; url: string }[] }).robots?.find(
    (r) => r.name === "Lab robot",
  );
  // Long after the two announcements: only an answer to the query can list it now.
  const [services, again] = await Promise.all([
    found
      ? runQi(["services", "--url", found.url, "--user", "nao"], { env: { QI_TOKEN: TOKEN } })
      : undefined,
    runQi(["discover", "--json", "--timeout", "1.5"]),
  ]);
  if (services) report.services = { code: services.code, stdout: services.stdout, stderr: services.stderr };
  report.discoverAgain = JSON.parse(again.stdout || "null");
  // The console's list, from the gateway's own browser (it hears its own announcement).
  const http = line.gateway.endpoints
    .find((e) => e.startsWith("ws://"))!
    .replace(/^ws/, "http")
    .replace(/\/qi$/, "");
  const basic = `Basic ${Buffer.from(`nao:${TOKEN}`).toString("base64")}`;
  report.robotsJson = await until(async () => {
    const res = await fetch(`${http}/robots.json`, { headers: { authorization: basic } });
    const body = (await res.json()) as { name: string }[];
    return body.length > 0 ? body : undefined;
  }, 15_000);
  report.robotsJsonAnonymous = (await fetch(`${http}/robots.json`)).status;

  // 2. Hostile answers while `qi discover` listens: escapes in names, a flood of instances.
  const hostile = openMdns({}, () => {});
  const flood = setInterval(() => {
    const evil = `Evil\u001b[2J\u001b]0;pwned\u0007\u009b31m robot.${SERVICE_TYPE}`;
    hostile.mdns.respond({
      answers: [
        { name: SERVICE_TYPE, type: "PTR", ttl: 120, data: evil },
        { name: evil, type: "SRV", ttl: 120, data: { port: 9559, target: "evil.local" } },
        {
          name: evil,
          type: "TXT",
          ttl: 120,
          data: [Buffer.alloc(250, 0x1b), Buffer.from("RobotType=\u001b[5mX")],
        },
        { name: "evil.local", type: "A", ttl: 120, data: "10.77.0.99" },
      ],
    });
    for (let p = 0; p < 20; p++) {
      const answers = [];
      for (let i = 0; i < 50; i++) {
        const fqdn = `flood-${p}-${i}.${SERVICE_TYPE}`;
        answers.push(
          { name: SERVICE_TYPE, type: "PTR", ttl: 120, data: fqdn },
          { name: fqdn, type: "SRV", ttl: 120, data: { port: 1 + i, target: "flood.local" } },
        );
      }
      hostile.mdns.respond({ answers });
    }
  }, 250);
  const [text, json] = await Promise.all([
    runQi(["discover", "--timeout", "2"]),
    runQi(["discover", "--json", "--timeout", "2"]),
  ]);
  clearInterval(flood);
  await hostile.close();
  report.hostile = {
    textCode: text.code,
    text: text.stdout,
    textStderr: text.stderr,
    jsonCount: (JSON.parse(json.stdout || "[]") as unknown[]).length,
    jsonHasEscape: /[\u0000-\u001f\u007f-\u009f]/.test(
      JSON.parse(json.stdout || "[]")
        .map((r: { name: string }) => r.name)
        .join(""),
    ),
  };
  report.stderrA = await stop(a);

  // 3. --no-advertise: nobody finds it.
  const quiet = start(["--gateway", "tcp://0.0.0.0:0", "--no-advertise"]);
  await quiet.waitFor(/^\{.*\}$/m, "stdout", 60_000);
  const none = await runQi(["discover", "--json", "--timeout", "1.5"]);
  report.noAdvertise = { robots: JSON.parse(none.stdout || "null"), stderr: await stop(quiet) };

  // 4. 5353 held by another program without sharing, and a loopback listener: qi start starts anyway.
  const holder = createSocket({ type: "udp4", reuseAddr: false });
  await new Promise<void>((r) => holder.bind(5353, "0.0.0.0", r));
  const busy = start(["--gateway", "tcp://0.0.0.0:0", "tcp://127.0.0.1:0"]);
  report.busyStarted = !!(await busy.waitFor(/^\{.*\}$/m, "stdout", 60_000).catch(() => undefined));
  await busy.waitFor(/cannot advertise/, "stderr", 10_000).catch(() => undefined);
  report.busyAlive = busy.child.exitCode === null;
  report.busyStderr = await stop(busy);
  holder.close();
} catch (e) {
  report.error = String((e as Error).stack ?? e);
} finally {
  for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.kill("SIGKILL");
  await Promise.all(started.map((p) => p.exit()));
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
