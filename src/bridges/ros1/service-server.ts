/**
 * A TCPROS service server, by hand: @foxglove/ros1 publishes and subscribes but does not serve
 * services. One listening socket serves every mapped service (the header names the one a
 * client wants); `rosservice` probes the type with `probe=1`, clients may keep a connection
 * (`persistent=1`) and send several requests, each answered in order.
 *
 * Reply framing: one ok byte, then a u32 length and the serialized response (ok = 1) or the
 * error text (ok = 0), which rospy raises as ServiceException with that text.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { ServiceType } from "./definitions.js";
import { decodeHeader, encodeHeader, FrameReader, MAX_HEADER_BYTES } from "./tcpros-header.js";

export type ServiceReply = { ok: true; response: Record<string, unknown> } | { ok: false; error: string };

export interface ServedService {
  type: ServiceType;
  handle(request: unknown): Promise<ServiceReply>;
}

export interface ServiceServerOptions {
  host: string;
  callerId: string;
  /** Largest request accepted, bytes. */
  maxRequestBytes: number;
  /** Connections open at once, all services together. */
  maxConnections: number;
  /** Requests waiting for their answer on one connection; a client sending more is cut off. */
  maxPendingPerConnection: number;
  onError?: (err: Error) => void;
}

export class ServiceServer {
  private readonly server: Server;
  private readonly services = new Map<string, ServedService>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly options: ServiceServerOptions,
    server: Server,
  ) {
    this.server = server;
    server.on("connection", (socket) => this.accept(socket));
  }

  static async listen(options: ServiceServerOptions): Promise<ServiceServer> {
    const server = createServer();
    server.maxConnections = options.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new ServiceServer(options, server);
  }

  /** `rosrpc://host:port`, what registerService tells the master. */
  get uri(): string {
    const address = this.server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    return `rosrpc://${this.options.host}:${port}`;
  }

  add(name: string, service: ServedService): void {
    this.services.set(name, service);
  }

  close(): void {
    this.server.close();
    for (const s of this.sockets) s.destroy();
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", (err) => this.options.onError?.(err));
    const reader = new FrameReader(MAX_HEADER_BYTES);
    let service: ServedService | undefined;
    // Requests on one connection are answered in order, one at a time.
    let queue = Promise.resolve();
    let pending = 0;
    socket.on("data", (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        this.options.onError?.(err as Error);
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (!service) {
          service = this.handshake(socket, frame);
          if (!service) return;
          reader.setLimit(this.options.maxRequestBytes);
          continue;
        }
        if (++pending > this.options.maxPendingPerConnection) {
          this.options.onError?.(new Error("a service client sent requests faster than they are answered"));
          socket.destroy();
          return;
        }
        const served = service;
        queue = queue
          .then(() => this.answer(socket, served, frame))
          .finally(() => {
            pending--;
          });
      }
    });
  }

  /** Answers the connection header; undefined when the connection ends here (probe, error). */
  private handshake(socket: Socket, frame: Uint8Array): ServedService | undefined {
    let header: Map<string, string>;
    try {
      header = decodeHeader(frame);
    } catch (err) {
      socket.end(encodeHeader({ error: (err as Error).message }));
      return undefined;
    }
    const name = header.get("service") ?? "";
    const service = this.services.get(name);
    if (!service) {
      socket.end(encodeHeader({ error: `no service ${name} on ${this.options.callerId}` }));
      return undefined;
    }
    const md5 = header.get("md5sum") ?? "*";
    if (md5 !== "*" && md5 !== service.type.md5sum) {
      socket.end(
        encodeHeader({
          error: `${name} is ${service.type.type} (md5sum ${service.type.md5sum}), client has ${md5}`,
        }),
      );
      return undefined;
    }
    const reply = encodeHeader({
      callerid: this.options.callerId,
      md5sum: service.type.md5sum,
      request_type: `${service.type.type}Request`,
      response_type: `${service.type.type}Response`,
      type: service.type.type,
    });
    if (header.get("probe") === "1") {
      socket.end(reply);
      return undefined;
    }
    socket.write(reply);
    return service;
  }

  private async answer(socket: Socket, service: ServedService, frame: Uint8Array): Promise<void> {
    let reply: ServiceReply;
    try {
      const request = service.type.request.readMessage(frame);
      reply = await service.handle(request);
    } catch (err) {
      reply = { ok: false, error: `bad request: ${(err as Error).message}` };
    }
    if (socket.destroyed) return;
    if (reply.ok) {
      let body: Uint8Array;
      try {
        body = service.type.response.writeMessage(reply.response);
      } catch (err) {
        reply = { ok: false, error: `cannot write the response: ${(err as Error).message}` };
        return this.writeError(socket, reply.error);
      }
      const head = Buffer.allocUnsafe(5);
      head.writeUInt8(1, 0);
      head.writeUInt32LE(body.byteLength, 1);
      socket.write(Buffer.concat([head, body]));
    } else this.writeError(socket, reply.error);
  }

  private writeError(socket: Socket, text: string): void {
    const body = Buffer.from(text, "utf8");
    const head = Buffer.allocUnsafe(5);
    head.writeUInt8(0, 0);
    head.writeUInt32LE(body.length, 1);
    socket.write(Buffer.concat([head, body]));
  }
}
