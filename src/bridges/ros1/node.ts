/**
 * The bridge's ROS node: @foxglove/ros1's RosNode (XML-RPC slave API, TCPROS publishing and
 * subscribing) with every socket bound to the configured host (the library's XML-RPC server
 * would listen on all interfaces), and a watch of the master that registers everything
 * again when the master restarts (a new master knows nothing of the nodes of the old one).
 */
import { RosNode } from "@foxglove/ros1";
import { getPid, TcpServerNode, TcpSocketNode } from "@foxglove/ros1/nodejs";
import type { HttpHandler, HttpServer } from "@foxglove/xmlrpc";
import { HttpServerNodejs } from "@foxglove/xmlrpc/nodejs";
import type { Logger } from "pino";

/** The library's HTTP server, made to listen on one host only. */
class HostBoundHttpServer implements HttpServer {
  private readonly inner = new HttpServerNodejs();
  constructor(private readonly host: string) {}
  get handler(): HttpHandler {
    return this.inner.handler;
  }
  set handler(h: HttpHandler) {
    this.inner.handler = h;
  }
  url(): string | undefined {
    const port = this.inner.port();
    return port === undefined ? undefined : `http://${this.host}:${port}/`;
  }
  port(): number | undefined {
    return this.inner.port();
  }
  listen(port?: number, _hostname?: string, backlog?: number): Promise<void> {
    return this.inner.listen(port, this.host, backlog);
  }
  close(): void {
    this.inner.close();
  }
}

export interface NodeOptions {
  name: string;
  master: string;
  host: string;
  logger: Logger;
}

export async function startNode(o: NodeOptions): Promise<RosNode> {
  const tcpServer = await TcpServerNode.Listen({ host: o.host, port: 0 });
  const node = new RosNode({
    name: o.name,
    hostname: o.host,
    pid: getPid(),
    rosMasterUri: o.master,
    httpServer: new HostBoundHttpServer(o.host),
    tcpSocketCreate: TcpSocketNode.Create,
    tcpServer,
    // The library warns per failed write or dropped peer: debug detail, not operator news.
    log: { info: (msg: string) => o.logger.debug(msg), warn: (msg: string) => o.logger.debug(msg) },
  });
  // eventemitter3 does not throw on an unheard "error": still, say what went wrong.
  node.on("error", (err) => o.logger.warn({ err: err.message }, "ros1: node error"));
  await node.start();
  return node;
}

/**
 * Asks the master every `intervalMs` who this node is; when the answer is not this node's
 * URI (a restarted master), calls `register` once the master answers again.
 */
export function watchMaster(
  node: RosNode,
  intervalMs: number,
  register: () => Promise<void>,
  logger: Logger,
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lost = false;
  const tick = async () => {
    try {
      const [code, , uri] = await node.rosMasterClient.lookupNode(node.name, node.name);
      if (code !== 1 || uri !== node.rosFollower.url()) {
        logger.warn("ros1: the master does not know this node (restarted?): registering again");
        await register();
        logger.info("ros1: registered again with the master");
      } else if (lost) logger.info("ros1: the master is back");
      lost = false;
    } catch (err) {
      if (!lost) logger.warn({ err: (err as Error).message }, "ros1: cannot reach the master; retrying");
      lost = true;
    }
    if (!stopped) {
      timer = setTimeout(tick, intervalMs);
      timer.unref();
    }
  };
  timer = setTimeout(tick, intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
