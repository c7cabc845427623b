/**
 * A YARP port of the bridge: a TCP listener on 127.0.0.1 (or the configured host) that any
 * YARP peer may open connections to, and the set of readers this port sends to. Writers and
 * RPC clients arrive as inbound connections; readers are added by port commands
 * (`[add] /reader` from `yarp connect` / `yarp read /r <port>`), looked up at the name server
 * and connected to with the tcp carrier.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import { type Bottle, Vocab } from "./bottle.js";
import { type InboundHandler, serveInbound } from "./inbound.js";
import type { NameClient } from "./name-client.js";
import { Outbound } from "./outbound.js";

export interface PortLimits {
  maxMessageBytes: number;
  /** Messages waiting per reader before the oldest is dropped. */
  queue: number;
  /** Connections (writers, RPC clients, tools) a port serves at once. */
  maxConnections: number;
  /** Readers a port sends to at once. */
  maxReaders: number;
  openingTimeoutMs: number;
  connectTimeoutMs: number;
}

export interface PortEvents {
  logger: Logger;
  names: NameClient;
  /** A data Bottle from a writer; the reply goes back when the writer wants one. */
  onData?: (bottle: Bottle, from: string) => Promise<Bottle | undefined>;
  /** The number of readers changed (0 → 1 starts the qi subscription, 1 → 0 ends it). */
  onReaders?: (count: number) => void;
  onDrop: (n: number) => void;
  onSent: () => void;
}

export class YarpPort {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly readers = new Map<string, Outbound>();
  private readonly connecting = new Set<string>();
  private closed = false;
  port = 0;

  constructor(
    readonly name: string,
    private readonly host: string,
    private readonly limits: PortLimits,
    private readonly events: PortEvents,
  ) {}

  get readerCount(): number {
    return this.readers.size;
  }

  async listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = this.limits.maxConnections;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, this.host, () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    serveInbound(socket, this.handler, this.limits)
      .catch((e: Error) => {
        if (e.name !== "ConnectionClosed")
          this.events.logger.debug({ port: this.name, err: e.message }, "YARP connection dropped");
      })
      .finally(() => socket.destroy());
  }

  private readonly handler: InboundHandler = {
    data: (bottle, from) =>
      this.events.onData
        ? this.events.onData(bottle, from)
        : Promise.resolve([Vocab.of("fail"), "not an input port"]),
    admin: async (bottle) => this.admin(bottle),
    command: async (command) => this.command(command),
  };

  private async admin(bottle: Bottle): Promise<Bottle> {
    const verb = bottle[0] instanceof Vocab ? bottle[0].text : String(bottle[0] ?? "");
    const target = typeof bottle[1] === "string" ? bottle[1] : undefined;
    if (verb === "add" && target) {
      const result = await this.addReader(target);
      return result.ok ? [0, `Added connection from ${this.name} to ${result.name}`] : [-1, result.error];
    }
    if (verb === "del" && target) {
      const removed = this.removeReader(readerName(target));
      return removed
        ? [0, `Removed connection from ${this.name} to ${readerName(target)}`]
        : [-1, "no such connection"];
    }
    if (verb === "list") {
      // `[list] [out] /r` asks whether that output exists; tools add it when the answer is empty.
      const kind = bottle[1] instanceof Vocab ? bottle[1].text : String(bottle[1] ?? "");
      if (kind === "out") {
        const only = typeof bottle[2] === "string" ? readerName(bottle[2]) : undefined;
        return [...this.readers.keys()].filter((r) => only === undefined || r === only);
      }
      return [];
    }
    return [-1, `unknown administrative command "${verb}"`];
  }

  private async command(command: string): Promise<string[]> {
    if (command === "*") {
      return [
        `This is ${this.name} at tcp://${this.host}:${this.port}/`,
        ...[...this.readers.keys()].map(
          (r) => `There is an output connection from ${this.name} to ${r} using tcp`,
        ),
        "*** end of message",
      ];
    }
    if (command.startsWith("!")) {
      return this.removeReader(readerName(command.slice(1)))
        ? [`Removing connection from ${this.name} to ${readerName(command.slice(1))}`]
        : ["No such connection"];
    }
    if (command.startsWith("/")) {
      const result = await this.addReader(command);
      return [result.ok ? `Connected to ${result.name}` : result.error];
    }
    return ["Unknown port command"];
  }

  /** Adds a reader by name: asks the name server where it is and connects to it. */
  async addReader(target: string): Promise<{ ok: true; name: string } | { ok: false; error: string }> {
    const name = readerName(target);
    if (this.closed) return { ok: false, error: "port is closing" };
    if (!this.events.onReaders) return { ok: false, error: "Outputs not allowed" };
    if (this.readers.has(name) || this.connecting.has(name)) return { ok: true, name };
    if (this.readers.size + this.connecting.size >= this.limits.maxReaders)
      return { ok: false, error: `too many readers (limit ${this.limits.maxReaders})` };
    this.connecting.add(name);
    try {
      const where = await this.events.names.query(name);
      if (!where) return { ok: false, error: `${name} is not registered with the name server` };
      const out = await Outbound.open({
        from: this.name,
        to: name,
        host: where.host,
        port: where.port,
        queue: this.limits.queue,
        connectTimeoutMs: this.limits.connectTimeoutMs,
        onDrop: this.events.onDrop,
        onSent: this.events.onSent,
        onClose: (reason) => {
          if (this.readers.get(name) !== out) return;
          this.readers.delete(name);
          this.events.logger.info({ port: this.name, reader: name, reason }, "YARP reader removed");
          this.events.onReaders?.(this.readers.size);
        },
      });
      if (this.closed) {
        out.close();
        return { ok: false, error: "port is closing" };
      }
      this.readers.set(name, out);
      this.events.logger.info({ port: this.name, reader: name }, "YARP reader added");
      this.events.onReaders?.(this.readers.size);
      return { ok: true, name };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    } finally {
      this.connecting.delete(name);
    }
  }

  removeReader(name: string): boolean {
    const out = this.readers.get(name);
    if (!out) return false;
    out.close();
    return true;
  }

  /** Sends one encoded Bottle to every reader (each with its own bounded queue). */
  publish(chunks: Uint8Array[]): void {
    for (const r of this.readers.values()) r.send(chunks);
  }

  /** Messages waiting for readers now (tests and metrics: stays bounded). */
  get queued(): number {
    let n = 0;
    for (const r of this.readers.values()) n += r.queued;
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of [...this.readers.values()]) r.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** `tcp://r`, `tcp:/r` or `/r` → `/r` (a carrier prefix names how to connect; we always use tcp). */
export function readerName(target: string): string {
  const m = /^[a-z_+.]+:\/+(.*)$/.exec(target);
  const rest = m ? m[1] : target;
  return rest.startsWith("/") ? rest : `/${rest}`;
}
