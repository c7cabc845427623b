import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  gatewayOptionsFromConfig,
  loadGatewayConfig,
  validateGatewayConfig,
} from "../../src/config/index.js";
import { hashToken } from "../../src/gateway/index.js";

describe("gateway config", () => {
  it("reports a wrong key and a wrong value with their paths", () => {
    expect(() =>
      validateGatewayConfig({ listen: ["tcp://127.0.0.1:0"], limits: { maxPendingCall: 3 } }, "gw.yaml"),
    ).toThrow(/limits: Unrecognized key.*maxPendingCall/s);
    expect(() => validateGatewayConfig({ listen: ["http://x:1"] }, "gw.yaml")).toThrow(
      /listen\.0: a URL like tcp:\/\/host:port/,
    );
    expect(() => validateGatewayConfig({ listen: [] }, "gw.yaml")).toThrow(/listen: /);
  });

  it("loads YAML with a credentials file and refuses a config without any way to authenticate", () => {
    const dir = mkdtempSync(join(tmpdir(), "qi-gw-"));
    writeFileSync(join(dir, "users.yaml"), `users:\n  alice:\n    token: "${hashToken("s3cret")}"\n`);
    writeFileSync(
      join(dir, "gw.yaml"),
      "attach: tcp://127.0.0.1:9559\nlisten: [tcp://127.0.0.1:0]\nauth:\n  credentials: users.yaml\npermissions:\n  users:\n    alice:\n      services: { allow: ['*'] }\n",
    );
    const file = join(dir, "gw.yaml");
    const options = gatewayOptionsFromConfig(loadGatewayConfig(file), file);
    expect(options.authProvider).toBeDefined();
    expect(options.allowAnonymous).toBe(false);
    // Registration of services by external clients is off unless the file says so.
    expect(options.allowServiceRegistration).toBe(false);
    writeFileSync(
      join(dir, "reg.yaml"),
      "listen: [tcp://127.0.0.1:0]\nauth: { anonymous: true }\nregistration: { enabled: true }\npermissions:\n  default: { register: { allow: ['Tablet*'] } }\n",
    );
    const reg = join(dir, "reg.yaml");
    const regOptions = gatewayOptionsFromConfig(loadGatewayConfig(reg), reg);
    expect(regOptions.allowServiceRegistration).toBe(true);
    expect(
      gatewayOptionsFromConfig(
        validateGatewayConfig(
          {
            listen: ["ws://127.0.0.1:0"],
            auth: { anonymous: true },
            allowedOrigins: ["https://app.example:8443"],
          },
          "gw.yaml",
        ),
        join(dir, "gw.yaml"),
      ).ws,
    ).toEqual({ allowedOrigins: ["https://app.example:8443"] });
    expect(() =>
      validateGatewayConfig({ listen: ["ws://127.0.0.1:0"], allowedOrigins: ["*"] }, "gw.yaml"),
    ).toThrow(/allowedOrigins\.0: an origin like https:\/\/host:port/);
    expect(regOptions.permissions?.default?.register).toEqual({ allow: ["Tablet*"] });
    expect(() =>
      validateGatewayConfig({ listen: ["tcp://127.0.0.1:0"], registration: { enable: true } }, "gw.yaml"),
    ).toThrow(/registration: Unrecognized key.*enable/s);
    writeFileSync(join(dir, "open.yaml"), "listen: [tcp://127.0.0.1:0]\n");
    const open = join(dir, "open.yaml");
    expect(() => gatewayOptionsFromConfig(loadGatewayConfig(open), open)).toThrow(/auth needs users/);
  });
});

describe("gateway config: upstream credentials and TLS", () => {
  it("reads the upstream token from tokenFile and maps pin, cert and key", () => {
    const dir = mkdtempSync(join(tmpdir(), "qi-gw-upstream-"));
    writeFileSync(join(dir, "upstream.token"), "internal-secret\n", { mode: 0o600 });
    writeFileSync(join(dir, "gw.pem"), "CERT");
    writeFileSync(join(dir, "gw.key"), "KEY", { mode: 0o600 });
    const pin = "ab".repeat(32);
    const file = join(dir, "gw.yaml");
    const options = gatewayOptionsFromConfig(
      validateGatewayConfig(
        {
          listen: ["tcp://127.0.0.1:0"],
          auth: { anonymous: true },
          upstream: { user: "gateway", tokenFile: "upstream.token", pin, cert: "gw.pem", key: "gw.key" },
        },
        file,
      ),
      file,
    );
    expect(options.upstreamAuthenticator?.initialAuthData()).toEqual(
      new Map([
        ["user", "gateway"],
        ["token", "internal-secret"],
      ]),
    );
    expect(options.upstreamTls).toMatchObject({ pinnedSha256: pin, cert: "CERT", key: "KEY" });
  });
});
