/**
 * One error base with package-unique codes, checkable across two copies of the package: a
 * second copy is a second instance of the same modules (loaded again under another URL).
 */
import { describe, expect, it } from "vitest";
import { CliError, ExitCode } from "../../src/cli/errors.js";
import { ConfigError } from "../../src/config/errors.js";
import { isQiError, QiError } from "../../src/connection/errors.js";
import { DispatchError } from "../../src/dispatch/errors.js";
import { isQiBaseError, QiBaseError } from "../../src/errors/index.js";
import { GatewayError } from "../../src/gateway/errors.js";
import { TransportError } from "../../src/transport/errors.js";
import { WireError } from "../../src/wire/errors.js";

const CLASSES = [WireError, TransportError, QiError, DispatchError, ConfigError, GatewayError, CliError];

describe("error codes", () => {
  it("are unique across every error class and all start with QI_ERR_", () => {
    const all = CLASSES.flatMap((c) => [...c.codes]);
    expect(new Set(all).size).toBe(all.length);
    for (const code of all) expect(code).toMatch(/^QI_ERR_[A-Z0-9_]+$/);
  });

  it("a class-local code maps to the class's prefixed one; the prefixed one is kept", () => {
    expect(new QiError("ERR_CLOSED", "x").code).toBe("QI_ERR_CLOSED");
    expect(new TransportError("ERR_CLOSED", "x").code).toBe("QI_ERR_TRANSPORT_CLOSED");
    expect(new DispatchError("ERR_CLOSED", "x").code).toBe("QI_ERR_DISPATCH_CLOSED");
    expect(new WireError("ERR_TRUNCATED", "x", 3).code).toBe("QI_ERR_WIRE_TRUNCATED");
    expect(new QiError("QI_ERR_TIMEOUT", "x").code).toBe("QI_ERR_TIMEOUT");
    expect(new ConfigError("bad", "f.yaml").code).toBe("QI_ERR_CONFIG");
    expect(new CliError("bad", ExitCode.Usage).code).toBe("QI_ERR_CLI_USAGE");
    expect(new GatewayError("ERR_BAD_OPTIONS", "x").code).toBe("QI_ERR_GATEWAY_BAD_OPTIONS");
  });

  it("every error is a QiBaseError and an Error, with its class's name", () => {
    for (const e of [
      new QiError("ERR_AUTH", "x"),
      new TransportError("ERR_TLS", "x"),
      new WireError("ERR_BUDGET", "x"),
      new DispatchError("ERR_NO_EXPORT", "x"),
      new ConfigError("x", "f"),
      new CliError("x", ExitCode.Failure),
      new GatewayError("ERR_BAD_OPTIONS", "x"),
    ]) {
      expect(e).toBeInstanceOf(Error);
      expect(e).toBeInstanceOf(QiBaseError);
      expect(isQiBaseError(e)).toBe(true);
      expect(e.name).toBe(e.constructor.name);
    }
    expect(new QiError("ERR_AUTH", "x")).not.toBeInstanceOf(TransportError);
    expect(isQiBaseError(new Error("plain"))).toBe(false);
    expect(QiError.is({ code: "QI_ERR_AUTH" })).toBe(false); // a look-alike without the brand
  });

  it("keeps the cause", () => {
    const cause = new Error("inner");
    expect(new TransportError("ERR_CONNECT", "x", { cause }).cause).toBe(cause);
    expect(new QiError("ERR_REMOTE", "x", { cause }).cause).toBe(cause);
  });
});

describe("two copies of the package", () => {
  it("instanceof, the static is() and isQiError hold for an error made by the other copy", async () => {
    const url = new URL("../../src/connection/errors.ts?second-copy", import.meta.url).href;
    const other = (await import(/* @vite-ignore */ url)) as typeof import("../../src/connection/errors.js");
    expect(other.QiError).not.toBe(QiError); // really a second class
    const theirs = new other.QiError("ERR_CLOSED", "closed over there");
    expect(theirs).toBeInstanceOf(QiError);
    expect(theirs).toBeInstanceOf(QiBaseError);
    expect(QiError.is(theirs, "QI_ERR_CLOSED")).toBe(true);
    expect(isQiError(theirs, "ERR_CLOSED")).toBe(true);
    expect(other.isQiError(new QiError("ERR_AUTH", "here"), "QI_ERR_AUTH")).toBe(true);
    expect(theirs).not.toBeInstanceOf(TransportError);
  });

  it("the other copy's base recognises this copy's errors", async () => {
    const url = new URL("../../src/errors/base-error.ts?second-copy", import.meta.url).href;
    const other = (await import(/* @vite-ignore */ url)) as typeof import("../../src/errors/base-error.js");
    expect(other.QiBaseError).not.toBe(QiBaseError);
    expect(other.isQiBaseError(new WireError("ERR_TRUNCATED", "x"))).toBe(true);
    expect(new DispatchError("ERR_CLOSED", "x")).toBeInstanceOf(other.QiBaseError);
  });
});
