/**
 * The gateway on tcps:// and tcpsm://: clients verify the gateway with the test CA, and on
 * tcpsm the client certificate is the credential (GatewayAuthProvider certificateUsers).
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { isQiError, UserTokenAuthenticator } from "../../src/connection/index.js";
import { GatewayAuthProvider, hashToken } from "../../src/gateway/index.js";
import { Session } from "../../src/session/index.js";
import { makeTestPki, type TestPki } from "../helpers/certs.js";
import { cleanup, client, runCleanup, world } from "./world.js";

afterEach(runCleanup);

let pki: TestPki;
beforeAll(async () => {
  pki = await makeTestPki();
}, 60_000);

/** The CN makeTestPki gives the client certificate. */
const CLIENT_CN = "qi-test-client";

async function refused(url: string, options: ConstructorParameters<typeof Session>[0]): Promise<unknown> {
  const s = new Session({ timeoutMs: 5_000, ...options });
  cleanup.push(() => s.close());
  try {
    await s.connect(url);
  } catch (e) {
    return e;
  }
  throw new Error("the connection was accepted");
}

describe("Gateway over TLS", () => {
  it("serves tcps:// to a client that verifies it with the CA", async () => {
    const { gw } = await world({
      listen: ["tcps://127.0.0.1:0"],
      tls: { key: pki.serverKey, cert: pki.serverCert },
    });
    const [url] = gw.endpoints();
    expect(url).toMatch(/^tcps:\/\/127\.0\.0\.1:\d+$/);
    const c = await client(url, { clientTls: { ca: pki.caCert } });
    const services = await c.services();
    expect(services.map((s) => s.name)).toEqual(["ServiceDirectory", "Calc"]);
    for (const s of services) expect(s.endpoints).toContain(url);
    const calc = await c.service("Calc");
    expect(await calc.call("add", 2, 3)).toBe(5);
    // A client that trusts another CA does not accept the gateway.
    expect(await refused(url, { clientTls: { ca: pki.otherCaCert } })).toMatchObject({
      code: "QI_ERR_TRANSPORT_TLS",
    });
  });

  describe("tcpsm:// (mutual TLS)", () => {
    async function mtlsWorld(certificateUsers: string[]) {
      const results: Array<{ ok: boolean; user: string | undefined }> = [];
      const provider = new GatewayAuthProvider(
        { alice: { token: hashToken("secret") } },
        { certificateUsers },
        (ok, _ctx, user) => results.push({ ok, user }),
      );
      const w = await world({
        allowAnonymous: false,
        authProvider: provider,
        listen: ["tcpsm://127.0.0.1:0"],
        tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert },
        permissions: {
          users: { [CLIENT_CN]: { services: { allow: ["Calc"] }, call: { allow: ["Calc.add"] } } },
        },
      });
      return { ...w, url: w.gw.endpoints()[0], results };
    }

    it("authenticates a client by its certificate's common name", async () => {
      const { url, results } = await mtlsWorld([CLIENT_CN]);
      expect(url).toMatch(/^tcpsm:\/\//);
      const c = await client(url, {
        clientTls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey },
      });
      expect(results).toEqual([{ ok: true, user: CLIENT_CN }]);
      // The identity is the CN: its permissions apply.
      expect((await c.services()).map((s) => s.name)).toEqual(["Calc"]);
      const calc = await c.service("Calc");
      expect(await calc.call("add", 40, 2)).toBe(42);
      await expect(calc.call("makeCounter", 1)).rejects.toMatchObject({
        message: `Permission denied: cannot call Calc.makeCounter.`,
      });
    });

    it("refuses a client without a certificate", async () => {
      const { url, gw } = await mtlsWorld([CLIENT_CN]);
      const e = await refused(url, { clientTls: { ca: pki.caCert } });
      expect(e).toBeInstanceOf(Error);
      expect(isQiError(e) || /^(QI_)?ERR_/.test((e as { code?: string }).code ?? "")).toBeTruthy();
      expect(gw.stats().clients).toBe(0);
    });

    it("refuses a certificate from another CA", async () => {
      const { url } = await mtlsWorld([CLIENT_CN, "qi-other-client"]);
      const e = await refused(url, {
        clientTls: { ca: pki.caCert, cert: pki.otherClientCert, key: pki.otherClientKey },
      });
      expect(e).toBeInstanceOf(Error);
    });

    it("wants a token from a valid certificate whose CN is not a certificate user", async () => {
      const { url } = await mtlsWorld([]);
      const tls = { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey };
      expect(await refused(url, { clientTls: tls })).toSatisfy((e: unknown) => isQiError(e, "QI_ERR_AUTH"));
      const alice = await client(url, {
        clientTls: tls,
        authenticator: new UserTokenAuthenticator("alice", "secret"),
      });
      // alice has no permissions entry while another user has: she sees nothing.
      expect(await alice.services()).toEqual([]);
    });
  });
});
