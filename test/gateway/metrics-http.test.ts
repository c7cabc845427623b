/** The metrics endpoint: loopback by default, a bearer token when asked, no public metrics by accident. */
import { afterEach, describe, expect, it } from "vitest";
import { validateGatewayConfig } from "../../src/config/index.js";
import { GatewayMetrics } from "../../src/gateway/index.js";
import { isLoopbackHost, serveMetrics, splitMetricsAddress } from "../../src/gateway/metrics.js";
import { cleanup, runCleanup } from "./world.js";

afterEach(runCleanup);

async function serve(options: Parameters<typeof serveMetrics>[1]) {
  const server = await serveMetrics(new GatewayMetrics(), options);
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  const addr = server.address();
  if (!addr || typeof addr === "string") throw new Error("no address");
  return { url: `http://127.0.0.1:${addr.port}/metrics`, address: addr.address };
}

describe("metrics over HTTP", () => {
  it("listens on loopback when the address names no host", async () => {
    expect(splitMetricsAddress(":9100")).toEqual({ host: "127.0.0.1", port: 9100 });
    expect(splitMetricsAddress("[::1]:9100")).toEqual({ host: "::1", port: 9100 });
    const { url, address } = await serve({ address: ":0" });
    expect(address).toBe("127.0.0.1");
    expect((await fetch(url)).status).toBe(200);
  });

  it("refuses a non-loopback address without a token or allowRemote", async () => {
    await expect(serveMetrics(new GatewayMetrics(), { address: "0.0.0.0:0" })).rejects.toThrow(
      /metrics on 0\.0\.0\.0:0 would be readable by anyone.*token/,
    );
    await expect(serveMetrics(new GatewayMetrics(), { address: "[::]:0" })).rejects.toThrow(
      /readable by anyone/,
    );
    expect(isLoopbackHost("127.0.0.2")).toBe(true);
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("10.0.0.1")).toBe(false);
    expect(isLoopbackHost("127.evil.example")).toBe(false);
  });

  it("requires the bearer token when one is configured", async () => {
    const token = "metrics-token-0123456789";
    const { url } = await serve({ address: "127.0.0.1:0", token });
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("qi_gateway_clients");
  });

  it("is configured as host:port or { address, token, allowRemote }", () => {
    const base = { listen: ["tcp://127.0.0.1:0"], auth: { anonymous: true } };
    expect(validateGatewayConfig({ ...base, metrics: "127.0.0.1:9100" }).metrics).toBe("127.0.0.1:9100");
    const object = { address: "0.0.0.0:9100", token: "a-long-enough-token-123" };
    expect(validateGatewayConfig({ ...base, metrics: object }).metrics).toEqual(object);
    expect(() =>
      validateGatewayConfig({ ...base, metrics: { address: "0.0.0.0:9100", token: "short" } }),
    ).toThrow(/16 characters/);
  });
});
