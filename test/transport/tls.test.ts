import { X509Certificate } from "node:crypto";
import { execFileSync } from "node:child_process";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Channel } from "../../src/transport/channel.js";
import { connect } from "../../src/transport/connect.js";
import { TransportError } from "../../src/transport/errors.js";
import { listen } from "../../src/transport/listen.js";
import type { ConnectOptions, Listener, ListenOptions } from "../../src/transport/options.js";
import {
  bytes,
  channelPair,
  closedWith,
  collect,
  delay,
  makeMessage,
  type Pair,
} from "../helpers/channels.js";
import { makeTestPki, type TestPki } from "../helpers/certs.js";

let pki: TestPki;
beforeAll(async () => {
  execFileSync("openssl", ["version"]); // a clear failure if the CLI is missing
  pki = await makeTestPki();
});

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function pair(url: string, lo: ListenOptions, co: ConnectOptions): Promise<Pair> {
  const p = await channelPair(url, lo, co);
  cleanups.push(() => p.close());
  return p;
}

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  try {
    const ch = (await p) as Channel;
    ch.destroy();
  } catch (e) {
    expect(e).toBeInstanceOf(TransportError);
    return e as TransportError;
  }
  throw new Error("expected a rejection");
}

function serverTls(): ListenOptions["tls"] {
  return { key: pki.serverKey, cert: pki.serverCert };
}

async function roundTrip(p: Pair): Promise<void> {
  const atServer = collect(p.server, 1);
  const atClient = collect(p.client, 1);
  p.client.send(makeMessage(1, bytes(70_000, 3)));
  p.server.send(makeMessage(2, bytes(50, 4)));
  expect((await atServer)[0].payload).toEqual(bytes(70_000, 3));
  expect((await atClient)[0].payload).toEqual(bytes(50, 4));
}

/** A tcps listener that records accepted channels and handshake errors. */
async function tlsListener(scheme: "tcps" | "tcpsm", extra: Partial<ListenOptions> = {}) {
  const accepted: Channel[] = [];
  const errors: Error[] = [];
  const tls = scheme === "tcpsm" ? { ...serverTls()!, ca: pki.caCert } : serverTls()!;
  const listener: Listener = await listen(
    `${scheme}://127.0.0.1:0`,
    { tls, onError: (e) => errors.push(e), ...extra },
    (ch) => accepted.push(ch),
  );
  cleanups.push(() => listener.close());
  return { listener, accepted, errors };
}

describe("tcps", () => {
  it("verifies the server certificate against the given CA", async () => {
    const p = await pair("tcps://127.0.0.1:0", { tls: serverTls() }, { tls: { ca: pki.caCert } });
    expect(p.listener.url).toMatch(/^tcps:\/\/127\.0\.0\.1:\d+$/);
    expect(p.client.remoteUrl).toBe(p.listener.url);
    expect(p.client.isSecure).toBe(true);
    expect(p.server.isSecure).toBe(true);
    expect(p.client.peerCertificate?.subject.CN).toBe("localhost");
    expect(p.server.peerCertificate).toBeUndefined();
    await roundTrip(p);
  });

  it("carries a 5 MiB payload", async () => {
    const p = await pair("tcps://127.0.0.1:0", { tls: serverTls() }, { tls: { ca: pki.caCert } });
    const big = bytes(5 * 1024 * 1024, 11);
    const got = collect(p.server, 1);
    await p.client.sendAsync(makeMessage(1, big));
    expect(Buffer.from((await got)[0].payload).equals(Buffer.from(big))).toBe(true);
  });

  it("fails with a clear ERR_TLS against an untrusted certificate", async () => {
    const { listener, accepted } = await tlsListener("tcps");
    // Node's root CAs (no ca option) do not know the test CA.
    const e1 = await rejection(connect(listener.url));
    expect(e1.code).toBe("QI_ERR_TRANSPORT_TLS");
    expect(e1.message).toMatch(/not signed by a trusted CA|issuer|self-signed/);
    expect(e1.message).toMatch(/insecureAcceptAnyCertificate/);
    expect(e1.message).toContain(listener.url);
    // Another CA.
    const e2 = await rejection(connect(listener.url, { tls: { ca: pki.otherCaCert } }));
    expect(e2.code).toBe("QI_ERR_TRANSPORT_TLS");
    await delay(50);
    expect(accepted).toHaveLength(0);
  });

  it("checks the host name (servername) against the certificate", async () => {
    const { listener } = await tlsListener("tcps");
    const err = await rejection(
      connect(listener.url, { tls: { ca: pki.caCert, servername: "robot.example" } }),
    );
    expect(err.code).toBe("QI_ERR_TRANSPORT_TLS");
    expect(err.message).toMatch(/does not name this host/);
  });

  it("accepts any certificate with insecureAcceptAnyCertificate", async () => {
    const p = await pair(
      "tcps://127.0.0.1:0",
      { tls: serverTls() },
      { tls: { insecureAcceptAnyCertificate: true } },
    );
    await roundTrip(p);
  });

  it("accepts a pinned certificate (any fingerprint notation) without a CA", async () => {
    const fp = new X509Certificate(pki.serverCert).fingerprint256;
    const p = await pair("tcps://127.0.0.1:0", { tls: serverTls() }, { tls: { pinnedSha256: fp } });
    await roundTrip(p);
    const { listener } = await tlsListener("tcps");
    const ch = await connect(listener.url, {
      tls: { pinnedSha256: ["00".repeat(32), fp.replace(/:/g, "").toLowerCase()] },
    });
    ch.destroy();
  });

  it("rejects a certificate that does not match the pin", async () => {
    const { listener, accepted } = await tlsListener("tcps");
    const wrong = new X509Certificate(pki.clientCert).fingerprint256;
    const err = await rejection(connect(listener.url, { tls: { pinnedSha256: wrong, ca: pki.caCert } }));
    expect(err.code).toBe("QI_ERR_TRANSPORT_TLS");
    expect(err.message).toMatch(/does not match the pinned fingerprint/);
    expect(err.message).toContain(new X509Certificate(pki.serverCert).fingerprint256);
    await delay(50);
    expect(accepted.every((c) => c.closed)).toBe(true);
    expect((await rejection(connect(listener.url, { tls: { pinnedSha256: "abc" } }))).code).toBe(
      "QI_ERR_TRANSPORT_BAD_OPTIONS",
    );
  });

  it("a tcps listener needs a key and a certificate", async () => {
    const err = await rejection(listen("tcps://127.0.0.1:0", {}, () => {}));
    expect(err.code).toBe("QI_ERR_TRANSPORT_BAD_OPTIONS");
  });

  it("a plain tcp client on a tcps listener is reported through onError, not as a channel", async () => {
    const { listener, accepted, errors } = await tlsListener("tcps");
    const ch = await connect(`tcp://127.0.0.1:${listener.port}`);
    const closed = closedWith(ch);
    ch.send(makeMessage(1, bytes(100)));
    await closed;
    expect(accepted).toHaveLength(0);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toHaveProperty("code", "QI_ERR_TRANSPORT_TLS");
  });
});

describe("tcpsm (mutual TLS)", () => {
  it("connects with a client certificate from the trusted CA", async () => {
    const p = await pair(
      "tcpsm://127.0.0.1:0",
      { tls: { ...serverTls()!, ca: pki.caCert } },
      { tls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey } },
    );
    expect(p.client.remoteUrl).toMatch(/^tcpsm:\/\//);
    expect(p.server.peerCertificate?.subject.CN).toBe("qi-test-client");
    expect(p.client.peerCertificate?.subject.CN).toBe("localhost");
    await roundTrip(p);
  });

  it("a tcpsm client must present a certificate", async () => {
    const { listener } = await tlsListener("tcpsm");
    const err = await rejection(connect(listener.url, { tls: { ca: pki.caCert } }));
    expect(err.code).toBe("QI_ERR_TRANSPORT_BAD_OPTIONS");
    expect(err.message).toMatch(/client certificate/);
  });

  it("a tcpsm listener needs a CA", async () => {
    const err = await rejection(listen("tcpsm://127.0.0.1:0", { tls: serverTls() }, () => {}));
    expect(err.code).toBe("QI_ERR_TRANSPORT_BAD_OPTIONS");
  });

  /**
   * With TLS 1.3 the client finishes its handshake before the server has checked the client
   * certificate, so the refusal shows either as a failed connect or as the channel closing.
   */
  async function expectRefused(opts: ConnectOptions, url: string): Promise<void> {
    let reason: Error | undefined;
    try {
      const ch = await connect(url, opts);
      const closed = closedWith(ch);
      ch.send(makeMessage(1, bytes(10)));
      reason = await closed;
    } catch (e) {
      reason = e as Error;
    }
    expect(reason).toBeInstanceOf(TransportError);
    expect(["QI_ERR_TRANSPORT_TLS", "QI_ERR_TRANSPORT_CLOSED"]).toContain((reason as TransportError).code);
  }

  it("the server refuses a client without a certificate", async () => {
    const { listener, accepted, errors } = await tlsListener("tcpsm");
    await expectRefused({ tls: { ca: pki.caCert } }, `tcps://127.0.0.1:${listener.port}`);
    await delay(50);
    expect(accepted).toHaveLength(0);
    expect(errors[0]).toHaveProperty("code", "QI_ERR_TRANSPORT_TLS");
  });

  it("the server refuses a client certificate from another CA", async () => {
    const { listener, accepted, errors } = await tlsListener("tcpsm");
    await expectRefused(
      { tls: { ca: pki.caCert, cert: pki.otherClientCert, key: pki.otherClientKey } },
      listener.url,
    );
    await delay(50);
    expect(accepted).toHaveLength(0);
    expect(errors[0]).toHaveProperty("code", "QI_ERR_TRANSPORT_TLS");
  });
});
