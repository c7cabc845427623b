/**
 * Sessions over tcps:// (server verified with the test CA) and tcpsm:// (client certificates),
 * and clients that do not trust the server failing with a clear error.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AuthContext, AuthState } from "../../src/connection/index.js";
import { Session, type SessionOptions } from "../../src/session/index.js";
import { libqiCalc } from "../connection/calc.js";
import { makeTestPki, type TestPki } from "../helpers/certs.js";

let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki();
}, 60_000);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function session(options: SessionOptions): Session {
  const s = new Session({ timeoutMs: 5_000, ...options });
  cleanups.push(() => s.close());
  return s;
}

async function refusal(url: string, options: SessionOptions): Promise<Error> {
  const s = session(options);
  const e = await s.connect(url).then(
    () => undefined,
    (x: unknown) => x as Error,
  );
  if (!e) throw new Error("the connection was accepted");
  return e;
}

describe("tcps://", () => {
  it("SD and host on tcps, a client that verifies them with the CA calls the service", async () => {
    const serverTls = { key: pki.serverKey, cert: pki.serverCert };
    const clientTls = { ca: pki.caCert };
    const sd = session({ serverTls, clientTls });
    const [url] = await sd.listenStandalone("tcps://127.0.0.1:0");
    expect(url).toMatch(/^tcps:\/\/127\.0\.0\.1:\d+$/);
    const host = session({ serverTls, clientTls });
    const [hostUrl] = await host.listen("tcps://127.0.0.1:0");
    await host.connect(url);
    await host.registerService("Calc", libqiCalc());
    const client = session({ clientTls });
    await client.connect(url);
    const info = await client.serviceInfo("Calc");
    expect(info.endpoints).toContain(hostUrl);
    const calc = await client.service("Calc");
    expect(await calc.call("add", 40, 2)).toBe(42);
    const ticks: number[] = [];
    await calc.signal("tick").connect((n: number) => ticks.push(n));
    expect(await calc.property<number>("level").get()).toBe(7);
  });

  it("a client that does not trust the server certificate fails with a clear ERR_TLS", async () => {
    const sd = session({
      serverTls: { key: pki.serverKey, cert: pki.serverCert },
      clientTls: { ca: pki.caCert },
    });
    const [url] = await sd.listenStandalone("tcps://127.0.0.1:0");
    const noCa = await refusal(url, {});
    expect(noCa).toMatchObject({ code: "QI_ERR_TRANSPORT_TLS" });
    expect(noCa.message).toMatch(/certificate/i);
    expect(noCa.message).toMatch(/trusted|self-signed|CA/);
    const otherCa = await refusal(url, { clientTls: { ca: pki.otherCaCert } });
    expect(otherCa).toMatchObject({ code: "QI_ERR_TRANSPORT_TLS" });
    // Wrong host name: the certificate names localhost/127.0.0.1 only.
    const wrongName = await refusal(url, { clientTls: { ca: pki.caCert, servername: "robot.example" } });
    expect(wrongName).toMatchObject({ code: "QI_ERR_TRANSPORT_TLS" });
    // libqi's tcps (no verification) is an explicit opt-in.
    const insecure = session({ clientTls: { insecureAcceptAnyCertificate: true } });
    await insecure.connect(url);
    expect((await insecure.services()).map((s) => s.name)).toEqual(["ServiceDirectory"]);
  });
});

describe("tcpsm:// (mutual TLS)", () => {
  it("accepts a client certificate of the trusted CA; the auth provider sees its subject", async () => {
    const subjects: Array<string | undefined> = [];
    const sd = session({
      serverTls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert },
      clientTls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey },
      authProvider: {
        processAuth: (_data, ctx: AuthContext) => {
          subjects.push(ctx.peerCertificateSubject);
          return { state: AuthState.Done, identity: ctx.peerCertificateSubject };
        },
      },
    });
    const [url] = await sd.listenStandalone("tcpsm://127.0.0.1:0");
    await sd.registerService("Calc", libqiCalc());
    const client = session({ clientTls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey } });
    await client.connect(url);
    expect(await (await client.service("Calc")).call("add", 1, 2)).toBe(3);
    // The directory's own connection authenticates with a secret of its process and never
    // reaches the provider; the client's certificate subject does.
    expect(subjects).toEqual(["qi-test-client"]);
  });

  it("refuses clients without a certificate or with one of another CA", async () => {
    const sd = session({
      serverTls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert },
      clientTls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey },
    });
    const [url] = await sd.listenStandalone("tcpsm://127.0.0.1:0");
    // tcpsm without a client certificate is refused locally, before connecting.
    const none = await refusal(url, { clientTls: { ca: pki.caCert } });
    expect(none).toMatchObject({ code: "QI_ERR_TRANSPORT_BAD_OPTIONS" });
    // The same client over tcps:// reaches the server, which refuses it.
    const plain = await refusal(url.replace("tcpsm://", "tcps://"), { clientTls: { ca: pki.caCert } });
    // TLS 1.3: the client finishes its side of the handshake first, so the refusal arrives as
    // the loss of the connection, with the TLS alert as its cause.
    expect(plain).toMatchObject({ code: "QI_ERR_DISCONNECTED", cause: { code: "QI_ERR_TRANSPORT_TLS" } });
    expect(plain.message).toMatch(/requires a client certificate/);
    const other = await refusal(url, {
      clientTls: { ca: pki.caCert, cert: pki.otherClientCert, key: pki.otherClientKey },
    });
    // Same with a certificate of another CA (the client only sees the server close).
    expect(other).toMatchObject({ code: "QI_ERR_DISCONNECTED" });
  });
});
