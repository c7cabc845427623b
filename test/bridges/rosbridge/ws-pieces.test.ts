import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { listenWeb, type WebListener } from "../../../src/bridges/rosbridge/listener.js";
import { binaryFrameHeader, sendPieces } from "../../../src/bridges/rosbridge/ws-pieces.js";

/** A client that speaks the upgrade by hand and hands back the raw bytes after it. */
async function rawClient(url: string): Promise<{ socket: Socket; bytes(): Buffer }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = Buffer.alloc(0);
  socket.on("data", (d) => {
    received = Buffer.concat([received, d]);
  });
  await new Promise((r) => socket.once("connect", r));
  socket.write(
    `GET / HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  return {
    socket,
    bytes: () => {
      const end = received.indexOf("\r\n\r\n");
      return end < 0 ? Buffer.alloc(0) : received.subarray(end + 4);
    },
  };
}

async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 5));
}

describe("binary messages from pieces", () => {
  let listener: WebListener | undefined;
  afterEach(async () => {
    await listener?.close();
  });

  it("leave as ONE unfragmented frame, in order with ws's own sends, pieces not joined", async () => {
    const head = Uint8Array.of(1, 2, 3);
    const pixels = new Uint8Array(70_000).fill(7);
    const tail = Uint8Array.of(9, 9);
    let written = 0;
    listener = await listenWeb({
      listen: "ws://127.0.0.1:0",
      maxClients: 4,
      maxPayload: 1 << 20,
      onConnection: (ws) => {
        ws.send("before");
        sendPieces(ws, [head, pixels, new Uint8Array(0), tail], () => written++);
        ws.send("after");
      },
    });
    const client = await rawClient(listener.url);
    const total = 2 + 6 + 10 + 70_005 + 2 + 5;
    await until(() => client.bytes().length >= total && written === 1);
    const b = client.bytes();
    expect([b[0], b[1], b.subarray(2, 8).toString()]).toEqual([0x81, 6, "before"]);
    // FIN + binary, 64-bit length, unmasked: one frame with every piece's bytes.
    expect([b[8], b[9]]).toEqual([0x82, 127]);
    expect(Number(b.readBigUInt64BE(10))).toBe(70_005);
    const payload = b.subarray(18, 18 + 70_005);
    expect([...payload.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect(payload.subarray(3, 70_003).every((x) => x === 7)).toBe(true);
    expect([...payload.subarray(70_003)]).toEqual([9, 9]);
    const after = b.subarray(18 + 70_005);
    expect([after[0], after[1], after.subarray(2).toString()]).toEqual([0x81, 5, "after"]);
    client.socket.destroy();
  });

  it("writes each length in its shortest form (RFC 6455 5.2)", () => {
    expect([...binaryFrameHeader(0)]).toEqual([0x82, 0]);
    expect([...binaryFrameHeader(125)]).toEqual([0x82, 125]);
    expect([...binaryFrameHeader(126)]).toEqual([0x82, 126, 0, 126]);
    expect([...binaryFrameHeader(65_535)]).toEqual([0x82, 126, 0xff, 0xff]);
    expect([...binaryFrameHeader(65_536)]).toEqual([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
  });

  it("calls back at once for a socket already closed, and writes nothing", async () => {
    let done = 0;
    listener = await listenWeb({
      listen: "ws://127.0.0.1:0",
      maxClients: 4,
      maxPayload: 1 << 20,
      onConnection: (ws) => {
        ws.on("close", () => sendPieces(ws, [Uint8Array.of(1)], () => done++));
      },
    });
    const client = await rawClient(listener.url);
    await until(() => client.bytes().length > 0 || listener!.clients.size > 0);
    client.socket.destroy();
    await until(() => done === 1);
  });
});
