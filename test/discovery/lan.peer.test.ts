/**
 * Robots on the LAN for real: `qi start` advertises over multicast, `qi discover` finds it,
 * the found URL works, the console's /robots.json lists it, hostile answers stay bounded and
 * clean, --no-advertise hides it, and a taken 5353 does not stop `qi start`. Multicast to the
 * host's network is not for tests: it all runs in a private network namespace (unshare -n, as
 * root) with a veth pair as its LAN, in netns-scenario.ts. Skips with one line without unshare.
 */
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function canUnshare(): boolean {
  try {
    execFileSync("unshare", ["-n", "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"], {
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  }
}

const found = canUnshare();
if (!found) console.log("skipping the mDNS LAN test: `unshare -n` with veth links is not available here");

interface Report {
  error?: string;
  endpoints: string[];
  discover: {
    code: number;
    robots: { name: string; url: string; tls: boolean; port: number; ws?: string }[];
    stderr: string;
  };
  services?: { code: number; stdout: string; stderr: string };
  discoverAgain: { name: string }[];
  robotsJson?: { name: string; url: string }[];
  robotsJsonAnonymous: number;
  hostile: { textCode: number; text: string; textStderr: string; jsonCount: number; jsonHasEscape: boolean };
  stderrA: string;
  noAdvertise: { robots: unknown[]; stderr: string };
  busyStarted: boolean;
  busyAlive: boolean;
  busyStderr: string;
}

function runScenario(): Promise<Report> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a failure here kills everything the scenario started.
    const child = spawn(
      "unshare",
      ["-n", process.execPath, "--import", "tsx", "test/discovery/netns-scenario.ts"],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
        env: { ...process.env, NO_COLOR: "1" },
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 240_000);
    child.on("close", () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? "") as Report);
      } catch {
        reject(new Error(`no report from the scenario; stdout: ${out} stderr: ${err}`));
      }
    });
  });
}

describe.skipIf(!found)("robots on the LAN (private network namespace)", () => {
  it("advertise, discover, connect, list in the console; hostile answers; opt-out; 5353 taken", async () => {
    const r = await runScenario();
    expect(r.error).toBeUndefined();
    const tcp = r.endpoints.find((e) => e.startsWith("tcp://"))!;
    const port = Number(new URL(tcp).port);
    const lab = r.discover.robots.find((x) => x.name === "Lab robot");
    expect(lab).toMatchObject({ url: `tcp://10.77.0.1:${port}`, tls: false, port });
    expect(lab?.ws).toMatch(/^ws:\/\/10\.77\.0\.1:\d+\/qi$/);
    // The discovered URL is one a client can use.
    expect(r.services).toMatchObject({ code: 0 });
    // Found again long after the announcements: the responder answers queries.
    expect(r.discoverAgain.map((x) => x.name)).toContain("Lab robot");
    expect(r.robotsJson?.map((x) => x.name)).toContain("Lab robot");
    expect(r.robotsJsonAnonymous).toBe(401);
    // Hostile: no control character reaches the terminal, the list is bounded, the rest dropped.
    expect(r.hostile.textCode).toBe(0);
    expect(r.hostile.text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.hostile.text).toContain("Evil[2J]0;pwned31m robot");
    expect(r.hostile.jsonCount).toBeLessThanOrEqual(64);
    expect(r.hostile.jsonCount).toBeGreaterThan(10);
    expect(r.hostile.jsonHasEscape).toBe(false);
    expect(r.hostile.textStderr).toMatch(/more answers were dropped/);
    expect(r.stderrA).not.toMatch(/mDNS/);
    expect(r.noAdvertise.robots).toEqual([]);
    // 5353 taken: qi start starts, says so once, and says the loopback listener is not advertised.
    expect(r.busyStarted).toBe(true);
    expect(r.busyAlive).toBe(true);
    expect(r.busyStderr.match(/cannot advertise \(EADDRINUSE\)/g)).toHaveLength(1);
    expect(r.busyStderr).toMatch(/mDNS: not advertising tcp:\/\/127\.0\.0\.1:\d+: loopback only/);
  }, 300_000);
});
