/**
 * Red team: what an unauthenticated client can make the gateway hold while its authenticate
 * call is being checked (the token check is asynchronous: scrypt on libuv's thread pool).
 */
import { connect as netConnect, type Socket } from "node:net";
import { afterEach, describe, expect } from "vitest";
import { defaultCapabilities } from "../../src/connection/capabilities.js";
import { encodeCapabilityMap } from "../../src/connection/connection.js";
import { encodeMessage } from "../../src/wire/header.js";
import { MessageType } from "../../src/wire/message-types.js";
import { cleanup, runCleanup, startCanary, startTarget } from "./harness.js";
import { sleep, openHole } from "./red-helpers.js";

afterEach(runCleanup);

function open(url: string, localAddress: string): Promise<Socket> {
  const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(url)!;
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: m[1], port: Number(m[2]), localAddress });
    cleanup.push(async () => {
      s.destroy();
    });
    s.on("error", () => {});
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

describe("red: before authentication", () => {
  // Expected: while an authenticate call is checked, what else the client sends is not read
  // (the socket is paused) or is bounded (a few messages, a few KiB), so an unauthenticated
  // client costs a bounded amount of memory. Today connection.ts onAuthenticateCall sets
  // `this.held = []` and onMessage pushes every message that arrives meanwhile, without a
  // limit (each up to the 64 KiB pre-authentication payload): 60 connections with a wrong
  // token, each streaming 64 KiB messages behind its authenticate call, fill the gateway.
  openHole(
    "bounds what is held while the token is checked (60 connections × 16 MB behind wrong tokens)",
    async () => {
      const t = await startTarget();
      const canary = await startCanary(t.gateway.tcpUrl);
      const before = t.gateway.rss();
      // Six wrong tokens: six scrypt checks at once (the limiter's default), each shared by the
      // connections that send the same user and token, all held for as long as the checks take.
      const auths = Array.from({ length: 6 }, (_, k) => {
        const caps = defaultCapabilities() as Map<string, unknown>;
        caps.set("auth_user", "alice");
        caps.set("auth_token", `wrong-token-${k}`);
        return encodeMessage({
          id: 1,
          type: MessageType.Call,
          flags: 0,
          service: 0,
          object: 0,
          action: 8,
          payload: encodeCapabilityMap(caps),
        });
      });
      const filler = encodeMessage({
        id: 2,
        type: MessageType.Post,
        flags: 0,
        service: 42,
        object: 1,
        action: 100,
        payload: new Uint8Array(60_000),
      });
      const burst = Buffer.concat(Array.from({ length: 270 }, () => filler)); // 16 MB
      const sockets = await Promise.all(
        Array.from({ length: 60 }, (_, i) => open(t.gateway.tcpUrl, `127.0.1.${i + 2}`)),
      );
      for (const [i, s] of sockets.entries()) {
        s.write(auths[i % auths.length]);
        s.write(burst);
      }
      let peak = 0;
      for (let i = 0; i < 20; i++) {
        await sleep(100);
        peak = Math.max(peak, t.gateway.rss() - before);
      }
      for (const s of sockets) s.destroy();
      const report = await canary.stop();
      console.info(
        `gateway RSS peak +${(peak / 1e6).toFixed(0)} MB; canary max latency ${report.maxLatencyMs.toFixed(0)} ms`,
      );
      expect(t.gateway.alive()).toBe(true);
      expect(peak).toBeLessThan(64_000_000);
    },
    60_000,
  );
});
