/**
 * A YARP reader port of the project's own (for tests and the bench): registers `/name` with the
 * name server and receives what a port sends it, through the bridge's own inbound carrier code,
 * as a `yarp read` would. Each message's decoded Bottle goes to `onBottle`.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { Bottle } from "../../../src/bridges/yarp/bottle.js";
import { serveInbound } from "../../../src/bridges/yarp/inbound.js";
import type { NameClient } from "../../../src/bridges/yarp/name-client.js";

export class TestReader {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(
    readonly name: string,
    private readonly names: NameClient,
    private readonly onBottle: (b: Bottle) => void,
  ) {}

  async open(): Promise<void> {
    this.server = createServer((s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => {});
      serveInbound(
        s,
        {
          data: async (b) => {
            this.onBottle(b);
            return undefined;
          },
          admin: async () => [],
          command: async () => [],
        },
        { maxMessageBytes: 8 << 20, openingTimeoutMs: 5_000 },
      )
        .catch(() => {})
        .finally(() => s.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as { port: number }).port;
    await this.names.register(this.name, "127.0.0.1", this.port);
  }

  async close(): Promise<void> {
    await this.names.unregister(this.name).catch(() => {});
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
