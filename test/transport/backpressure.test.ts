import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../src/transport/connect.js";
import { HEADER_SIZE } from "../../src/wire/message-types.js";
import { bytes, channelPair, closedWith, deferred, delay, makeMessage } from "../helpers/channels.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Races a promise against a delay: true when it settled within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await delay(ms);
  return settled;
}

describe("backpressure", () => {
  it("sendAsync stops resolving when the peer does not read, memory stays bounded, then drains", async () => {
    // A raw peer that accepts and does not read at all until told to.
    const accepted = deferred<Socket>();
    const server = createServer((s) => {
      s.pause();
      accepted.resolve(s);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    cleanups.push(() => new Promise((r) => server.close(r)));

    const hwm = 1024 * 1024;
    const ch = await connect(`tcp://127.0.0.1:${port}`, { highWaterMark: hwm });
    cleanups.push(() => ch.destroy());
    const peer = await accepted.promise;
    cleanups.push(() => peer.destroy());

    const payload = bytes(64 * 1024, 5);
    const msgSize = HEADER_SIZE + payload.byteLength;
    let sent = 0;
    let maxBuffered = 0;
    let blocked: Promise<void> | undefined;
    // Keep sending until one sendAsync does not resolve within 300 ms (kernel buffers are full).
    for (let i = 0; i < 10_000 && !blocked; i++) {
      const p = ch.sendAsync(makeMessage(i + 1, payload));
      sent++;
      maxBuffered = Math.max(maxBuffered, ch.bufferedBytes);
      if (!(await settlesWithin(p, ch.bufferedBytes > hwm ? 300 : 0))) blocked = p;
    }
    expect(blocked).toBeDefined();
    // The channel's own buffer never grows beyond the mark plus the message that crossed it.
    expect(maxBuffered).toBeLessThanOrEqual(hwm + msgSize);
    expect(ch.bufferedBytes).toBeGreaterThan(hwm);
    // send() reports the same condition synchronously.
    expect(ch.send(makeMessage(999_999, payload))).toBe(false);
    sent++;
    expect(await settlesWithin(blocked!, 200)).toBe(false);

    // Now the peer reads: the blocked sender resumes and everything arrives.
    let received = 0;
    const allIn = deferred<void>();
    const expected = sent * msgSize;
    peer.on("data", (c: Buffer) => {
      received += c.length;
      if (received >= expected) allIn.resolve();
    });
    peer.resume();
    await blocked;
    for (let i = 0; i < 20; i++) await ch.sendAsync(makeMessage(100_000 + i, payload));
    await allIn.promise;
    const more = expected + 20 * msgSize;
    while (received < more) await delay(10);
    expect(received).toBe(more);
  });

  it("a receiver that pauses its channel holds the sender back; resume() drains", async () => {
    const hwm = 512 * 1024;
    const p = await channelPair("tcp://127.0.0.1:0", {}, { highWaterMark: hwm });
    cleanups.push(() => p.close());
    let got = 0;
    p.server.onMessage(() => {
      got++;
    });
    p.server.pause();
    const payload = bytes(32 * 1024, 9);
    let blocked: Promise<void> | undefined;
    let sent = 0;
    for (let i = 0; i < 10_000 && !blocked; i++) {
      const s = p.client.sendAsync(makeMessage(i + 1, payload));
      sent++;
      if (!(await settlesWithin(s, p.client.bufferedBytes > hwm ? 300 : 0))) blocked = s;
    }
    expect(blocked).toBeDefined();
    expect(p.client.bufferedBytes).toBeLessThanOrEqual(hwm + HEADER_SIZE + payload.byteLength);
    p.server.resume();
    await blocked;
    while (got < sent) await delay(10);
    expect(got).toBe(sent);
  });

  it("pending sendAsync calls reject with ERR_CLOSED when the channel closes", async () => {
    const accepted = deferred<Socket>();
    const server = createServer((s) => {
      s.pause();
      accepted.resolve(s);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const ch = await connect(`tcp://127.0.0.1:${(server.address() as { port: number }).port}`, {
      highWaterMark: 64 * 1024,
    });
    const peer = await accepted.promise;
    cleanups.push(() => peer.destroy());
    const payload = bytes(64 * 1024, 1);
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      const s = ch.sendAsync(makeMessage(i + 1, payload));
      s.catch(() => {});
      pending.push(s);
    }
    const closed = closedWith(ch);
    ch.destroy();
    await closed;
    const results = await Promise.allSettled(pending);
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected)
      expect((r as PromiseRejectedResult).reason).toHaveProperty("code", "QI_ERR_TRANSPORT_CLOSED");
  });
});

describe("closing while the peer streams", () => {
  it("a closed channel reads and drops what its peer still sends, so both ends close at once, not after closeTimeout", async () => {
    // closeTimeout far beyond the test's own timeout: only a prompt close passes.
    const pair = await channelPair("tcp://127.0.0.1:0", { closeTimeout: 600_000 }, { closeTimeout: 600_000 });
    cleanups.push(() => pair.close());
    // The server stops reading; the client queues 24 MiB, more than both kernels' buffers hold,
    // so it is still writing when the server closes (a camera streaming to a closing gateway).
    pair.server.pause();
    const payload = bytes(1024 * 1024, 3);
    for (let i = 1; i <= 24; i++) pair.client.send(makeMessage(i, payload));
    expect(pair.client.bufferedBytes).toBeGreaterThan(8 * 1024 * 1024);
    const clientClosed = closedWith(pair.client);
    pair.server.close();
    await clientClosed;
    // The listener's close() waits for its sockets: they end once the client has flushed.
    await pair.listener.close();
  });
});
