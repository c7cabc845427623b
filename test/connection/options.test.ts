/** ConnectionOptions resolved once (options.ts): every default in one place, nonsense refused. */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_CAPABILITIES,
  DEFAULT_MAX_AUTH_ROUNDS,
  DEFAULT_MAX_INCOMING_CALLS,
  DEFAULT_MAX_QUEUED_BYTES,
  nullAuthProvider,
  resolveConnectionOptions,
} from "../../src/connection/index.js";
import { memoryChannelPair } from "../../src/transport/memory-channel.js";
import { DEFAULT_MAX_PAYLOAD } from "../../src/wire/message-types.js";
import { Connection } from "../../src/connection/index.js";

describe("resolveConnectionOptions", () => {
  it("fills in every default", () => {
    expect(resolveConnectionOptions({ role: "server" })).toEqual({
      role: "server",
      capabilities: DEFAULT_CAPABILITIES,
      authenticator: undefined,
      authProvider: nullAuthProvider,
      maxAuthRounds: DEFAULT_MAX_AUTH_ROUNDS,
      enforceAuth: false,
      handshakeTimeoutMs: 10_000,
      maxPendingCalls: 10_000,
      maxPayload: DEFAULT_MAX_PAYLOAD,
      maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES,
      maxIncomingCalls: DEFAULT_MAX_INCOMING_CALLS,
    });
  });

  it("takes an explicit undefined as the default (callers pass their own optional values on)", () => {
    const r = resolveConnectionOptions({
      role: "client",
      handshakeTimeoutMs: undefined,
      maxPayload: undefined,
    });
    expect(r.handshakeTimeoutMs).toBe(10_000);
    expect(r.maxPayload).toBe(DEFAULT_MAX_PAYLOAD);
  });

  it.each([
    ["role", { role: "peer" }],
    ["maxPendingCalls", { maxPendingCalls: 0 }],
    ["maxIncomingCalls", { maxIncomingCalls: 1.5 }],
    ["maxAuthRounds", { maxAuthRounds: -1 }],
    ["maxPayload", { maxPayload: Number.NaN }],
    ["maxQueuedBytes", { maxQueuedBytes: 0 }],
    ["handshakeTimeoutMs", { handshakeTimeoutMs: 0 }],
    ["handshakeTimeoutMs", { handshakeTimeoutMs: Number.POSITIVE_INFINITY }],
  ])("refuses a bad %s with a RangeError naming it", (name, bad) => {
    const options = { role: "server", ...bad } as Parameters<typeof resolveConnectionOptions>[0];
    expect(() => resolveConnectionOptions(options)).toThrow(RangeError);
    expect(() => resolveConnectionOptions(options)).toThrow(name);
  });

  it("a Connection resolves its options at construction, before touching the channel", () => {
    const [a] = memoryChannelPair();
    expect(() => new Connection(a, { role: "client", maxPendingCalls: -5 })).toThrow(RangeError);
    expect(a.closed).toBe(false);
  });
});
