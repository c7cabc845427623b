/**
 * A TLS Service Directory with a private CA starts (issue 18 item 8): `qi sd --config` with a
 * tcps listener and `tls: { cert, key, ca }` connects to itself pinned to its own certificate,
 * with no NODE_EXTRA_CA_CERTS; a client that trusts the CA then uses it, one that does not is
 * refused.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Session } from "../../src/session/index.js";
import { makeTestPki, type TestPki } from "../helpers/certs.js";
import { QiProcess, runQi } from "./run-qi.js";

let pki: TestPki;
const processes: QiProcess[] = [];
beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(async () => {
  for (const p of processes) p.kill("SIGKILL");
  await Promise.all(processes.map((p) => p.exit()));
});

it("qi sd with a tcps listener and a private CA starts and serves clients that trust the CA", async () => {
  const files = { cert: "sd.crt", key: "sd.key", ca: "ca.crt" };
  await writeFile(join(pki.dir, files.cert), pki.serverCert);
  await writeFile(join(pki.dir, files.key), pki.serverKey, { mode: 0o600 });
  await writeFile(join(pki.dir, files.ca), pki.caCert);
  const config = join(pki.dir, "sd.yaml");
  await writeFile(
    config,
    `listen: [tcps://127.0.0.1:0]\ntls: { cert: ${files.cert}, key: ${files.key}, ca: ${files.ca} }\n`,
  );
  const sd = new QiProcess(["sd", "--config", config], { env: { NODE_EXTRA_CA_CERTS: undefined } });
  processes.push(sd);
  const [, url] = await sd.waitFor(/Service Directory listening on (tcps:\/\/127\.0\.0\.1:\d+)/);

  const trusting = new Session({ clientTls: { ca: pki.caCert } });
  try {
    await trusting.connect(url);
    expect((await trusting.services()).map((s) => s.name)).toEqual(["ServiceDirectory"]);
  } finally {
    await trusting.close();
  }
  const caFile = join(pki.dir, files.ca);
  const cli = await runQi(["services", "--url", url, "--ca", caFile]);
  expect(cli).toMatchObject({ code: 0 });
  expect(cli.stdout).toContain("ServiceDirectory");
  const untrusting = await runQi(["services", "--url", url]);
  expect(untrusting.code).toBe(3);
}, 60_000);
