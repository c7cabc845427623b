/**
 * The bridge's ports face any YARP peer: bad openings and oversize messages close that one
 * connection and nothing else; the text carrier serves calls; the gateway's permissions for
 * the bridge user bound what YARP sees. Runs without YARP (no name server: the bridge keeps
 * its ports and retries registration), finding its ports in the bridge's endpoint lines.
 */
import { connect } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type StartedBridge, startBridges, stopBridges } from "../../../src/bridges/index.js";
import { tcpOpening, yarpNumber } from "../../../src/bridges/yarp/carrier.js";
import { createDemoServices } from "../../../src/demo/index.js";
import type { GatewayOptions } from "../../../src/gateway/index.js";
import { cleanup, runCleanup, world } from "../../gateway/world.js";
import { freePort } from "./yarp-env.js";

const logger = pino({ level: "silent" });
afterEach(runCleanup);

async function bridgeOn(gwOptions: Partial<GatewayOptions> = {}): Promise<Map<string, number>> {
  const w = await world(gwOptions);
  for (const s of createDemoServices({ logger })) await w.host.registerService(s.name, s.object);
  const nowhere = await freePort();
  const started: StartedBridge[] = await startBridges(
    w.gw,
    [{ name: "yarp", settings: { nameserver: `127.0.0.1:${nowhere}`, maxMessageBytes: 4096 } }],
    { logger, demo: true },
  );
  cleanup.push(() => stopBridges(started));
  const ports = new Map<string, number>();
  for (const line of started[0].bridge.endpoints) {
    const m = /^\s+(\S+)\s+tcp:\/\/127\.0\.0\.1:(\d+)/.exec(line);
    if (m) ports.set(m[1], Number(m[2]));
  }
  return ports;
}

/** Sends `bytes`, resolves with everything the port answered once it closed the connection. */
function exchange(port: number, bytes: Buffer, endAfter?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    let got = "";
    s.on("data", (b) => {
      got += b.toString("latin1");
      if (endAfter && got.includes(endAfter)) s.end();
    });
    s.on("close", () => resolve(got));
    s.on("error", reject);
    s.write(bytes);
  });
}

describe("YARP bridge ports facing hostile peers", () => {
  it("serve calls over the text carrier (CONNACK, d, a Bottle line)", async () => {
    const ports = await bridgeOn();
    const rpc = ports.get("/qi/ALTextToSpeech/rpc")!;
    const got = await exchange(rpc, Buffer.from("CONNACK tester\nd\ngetAvailableLanguages\nq\n"));
    expect(got).toBe("Welcome tester\r\n(English French German Japanese Spanish)\r\n<ACK>\r\n");
  });

  it("close a connection with a bad opening or an oversize message, and keep serving", async () => {
    const ports = await bridgeOn();
    const rpc = ports.get("/qi/ALBattery/rpc")!;
    expect(await exchange(rpc, Buffer.from("GET / HTTP/1.1\r\n\r\n"))).toBe("");
    const huge = Buffer.concat([
      tcpOpening("/evil"),
      yarpNumber(10),
      Buffer.from([1, 1, 255, 255, 255, 255, 255, 255, 255, 255]),
      Buffer.from([0, 0, 0, 64, 0, 0, 0, 0]), // one block of 1 GiB
    ]);
    const answer = await exchange(rpc, huge);
    expect(answer.length).toBe(8); // the opening reply, then the port closed the connection
    const text = await exchange(rpc, Buffer.from("CONNECT t\nd\ngetBatteryCharge\n"), "\r\n8");
    expect(text).toMatch(/^Welcome t\r\n\d+\r\n/);
  });

  it("show YARP only what the gateway lets the bridge user see", async () => {
    const ports = await bridgeOn({
      permissions: {
        users: { "bridge-yarp": { services: { allow: ["ALBattery"] } } },
      },
    } as Partial<GatewayOptions>);
    expect([...ports.keys()].sort()).toEqual(["/qi/ALBattery/charge:o", "/qi/ALBattery/rpc"]);
  });
});
