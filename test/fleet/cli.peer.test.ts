/**
 * The fleet from the command line, real processes on a real 3-node NATS cluster: two simulated
 * robots (`qi start --fleet --robot`), `qi robots`, `qi services --url nats://… --robot`, an edge
 * (`qi gateway --fleet` with a config's per-user robots) serving `qi call` and `qi watch` of the camera.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QiProcess, runQi } from "../cli/run-qi.js";
import { type NatsCluster, natsServerPath, startCluster, waitRouted } from "./nats-cluster.js";

const bin = natsServerPath();
if (!bin) console.log("fleet CLI peer tests skipped: nats-server not installed");

describe.skipIf(!bin)("qi and the fleet", () => {
  let cluster: NatsCluster;
  const procs: QiProcess[] = [];
  let dir: string;
  let edgeUrl: string;

  function robot(name: string, natsUrl: string, token: string): QiProcess {
    const p = new QiProcess(
      [
        "start",
        "--listen",
        "tcp://127.0.0.1:0",
        "-g",
        "tcp://127.0.0.1:0",
        "--token",
        token,
        "--fleet",
        natsUrl,
        "--robot",
        name,
      ],
      { timeoutMs: 120_000, env: { HOME: dir } },
    );
    procs.push(p);
    return p;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "qi-fleet-cli-"));
    cluster = await startCluster(bin as string, { size: 3 });
    await waitRouted(cluster.nodes.map((n) => n.url));
    const r1 = robot("sim-1", cluster.nodes[0].url, "token-one");
    const r2 = robot("sim-2", cluster.nodes[1].url, "token-two");
    const config = join(dir, "edge.json");
    writeFileSync(
      config,
      JSON.stringify({
        listen: ["tcp://127.0.0.1:0"],
        auth: { anonymous: true }, // an edge authenticates nobody itself: each robot does
        fleet: { url: cluster.nodes[2].url, users: { nao: "sim-2" }, defaultRobot: "sim-1" },
      }),
    );
    const edge = new QiProcess(["gateway", "--config", config], { timeoutMs: 120_000, env: { HOME: dir } });
    procs.push(edge);
    await Promise.all([r1.waitFor(/robot sim-1 in the fleet/), r2.waitFor(/robot sim-2 in the fleet/)]);
    edgeUrl = (await edge.waitFor(/edge gateway listening on (tcp:\/\/\S+)/))[1];
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exit()));
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lists the robots, and reaches one by name", async () => {
    const list = await runQi(["robots", "--url", cluster.nodes[2].url, "--json"]);
    expect(list.code, list.stderr).toBe(0);
    const robots = JSON.parse(list.stdout) as Array<{ name: string; services: string[] }>;
    expect(robots.map((r) => r.name)).toEqual(["sim-1", "sim-2"]);
    expect(robots[1].services).toContain("ALVideoDevice");
    const services = await runQi(
      ["services", "--url", cluster.nodes[0].url, "--robot", "sim-2", "--user", "nao", "--json"],
      { env: { QI_TOKEN: "token-two" } },
    );
    expect(services.code, services.stderr).toBe(0);
    expect(services.stdout).toContain("ALTextToSpeech");
  });

  it("serves each user's robot through an edge, camera included", async () => {
    const env = { env: { QI_TOKEN: "token-two" } };
    const call = await runQi(
      ["call", "ALMemory.insertData", '"k"', "7", "--url", edgeUrl, "--user", "nao"],
      env,
    );
    expect(call.code, call.stderr).toBe(0);
    const got = await runQi(
      ["call", "ALMemory.getData", '"k"', "--url", edgeUrl, "--user", "nao", "--json"],
      env,
    );
    expect(got.stdout.trim()).toContain("7");
    const watch = await runQi(
      ["watch", "ALVideoDevice.image", "--count", "1", "--url", edgeUrl, "--user", "nao", "--json"],
      env,
    );
    expect(watch.code, watch.stderr).toBe(0);
    // The edge reaches sim-2 for nao: sim-1's token does not open it.
    const wrong = await runQi(["services", "--url", edgeUrl, "--user", "nao"], {
      env: { QI_TOKEN: "token-one" },
    });
    expect(wrong.code).toBe(3);
  });
});
