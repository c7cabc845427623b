/**
 * A throw-away PKI for TLS tests, made with the `openssl` CLI in a temporary directory (removed at
 * process exit) and cached per process.
 *
 *   CA "qi test CA"          → server cert (CN localhost, SAN IP:127.0.0.1, IP:::1, DNS:localhost)
 *                            → client cert (CN qi-test-client, clientAuth)
 *   CA "qi other CA"         → otherClientCert (a client the first CA does not trust)
 *
 * All values are PEM text, ready for tls options.
 */
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  caCert: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  /** A second CA, unrelated to caCert. */
  otherCaCert: string;
  /** A client certificate issued by the other CA. */
  otherClientKey: string;
  otherClientCert: string;
}

let cached: Promise<TestPki> | undefined;

export function makeTestPki(): Promise<TestPki> {
  cached ??= build();
  return cached;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run("openssl", args, { cwd: dir });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(" ")} failed: ${err.stderr ?? err.message}`);
  }
}

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`]);
  await writeFile(
    join(dir, `${name}.ext`),
    "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n",
  );
  // A CSR signed by its own key, so that extensions come from an extfile (works with OpenSSL 1.1 and 3).
  await openssl(dir, ["req", "-new", "-key", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`]);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-signkey",
    `${name}.key`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`,
  ]);
}

async function makeLeaf(dir: string, name: string, ca: string, cn: string, ext: string): Promise<void> {
  await openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`]);
  await openssl(dir, ["req", "-new", "-key", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`]);
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-set_serial",
    String(Date.now() + Math.floor(Math.random() * 1000)),
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`,
  ]);
}

async function build(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "qi-test-pki-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  await makeCa(dir, "ca", "qi test CA");
  await makeCa(dir, "other-ca", "qi other CA");
  const leaf = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n";
  await makeLeaf(
    dir,
    "server",
    "ca",
    "localhost",
    `${leaf}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n`,
  );
  await makeLeaf(dir, "client", "ca", "qi-test-client", `${leaf}extendedKeyUsage=clientAuth\n`);
  await makeLeaf(dir, "other-client", "other-ca", "qi-other-client", `${leaf}extendedKeyUsage=clientAuth\n`);
  const read = (f: string): Promise<string> => readFile(join(dir, f), "utf8");
  return {
    dir,
    caCert: await read("ca.crt"),
    serverKey: await read("server.key"),
    serverCert: await read("server.crt"),
    clientKey: await read("client.key"),
    clientCert: await read("client.crt"),
    otherCaCert: await read("other-ca.crt"),
    otherClientKey: await read("other-client.key"),
    otherClientCert: await read("other-client.crt"),
  };
}
