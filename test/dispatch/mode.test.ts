import { describe, expect, it } from "vitest";
import {
  DispatchError,
  Dispatcher,
  dispatchModeFromEnv,
  parseDispatchMode,
} from "../../src/dispatch/index.js";

describe("dispatch mode", () => {
  it("defaults to async when QI_DISPATCH is unset or empty", () => {
    expect(dispatchModeFromEnv({})).toBe("async");
    expect(dispatchModeFromEnv({ QI_DISPATCH: "" })).toBe("async");
    expect(dispatchModeFromEnv({ QI_DISPATCH: "  " })).toBe("async");
  });

  it("reads sync and async, ignoring case and blanks", () => {
    expect(dispatchModeFromEnv({ QI_DISPATCH: "sync" })).toBe("sync");
    expect(dispatchModeFromEnv({ QI_DISPATCH: " SYNC " })).toBe("sync");
    expect(dispatchModeFromEnv({ QI_DISPATCH: "async" })).toBe("async");
  });

  it("rejects anything else with ERR_BAD_MODE naming the variable and the value", () => {
    let err: unknown;
    try {
      dispatchModeFromEnv({ QI_DISPATCH: "serial" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DispatchError);
    expect((err as DispatchError).code).toBe("QI_ERR_DISPATCH_BAD_MODE");
    expect((err as DispatchError).message).toBe('QI_DISPATCH must be "async" or "sync", got "serial"');
  });

  it("parses a CLI flag value with its own source name", () => {
    expect(parseDispatchMode("sync", "--dispatch")).toBe("sync");
    expect(() => parseDispatchMode("1", "--dispatch")).toThrow(/--dispatch must be/);
  });

  it("Dispatcher takes its mode from the option, else from the environment", async () => {
    const saved = process.env.QI_DISPATCH;
    try {
      process.env.QI_DISPATCH = "sync";
      const fromEnv = new Dispatcher();
      expect(fromEnv.mode).toBe("sync");
      const explicit = new Dispatcher({ mode: "async" });
      expect(explicit.mode).toBe("async");
      await Promise.all([fromEnv.close(), explicit.close()]);
      expect(() => new Dispatcher({ mode: "parallel" as never })).toThrow(DispatchError);
    } finally {
      if (saved === undefined) delete process.env.QI_DISPATCH;
      else process.env.QI_DISPATCH = saved;
    }
  });
});
