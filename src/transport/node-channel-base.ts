/**
 * The channel base of Node's sockets (SocketChannel over TCP/TLS, WsChannel over the `ws`
 * package): the addresses and the peer certificate read off the socket, Nagle off, keepalive.
 * Everything else is the runtime-neutral ChannelBase.
 */
import type { Socket } from "node:net";
import type { PeerCertificate, TLSSocket } from "node:tls";
import type { ChannelOptions } from "./channel.js";
import { ChannelBase, plainAddress } from "./channel-base.js";
import { formatUrl, type QiScheme } from "./url.js";

export abstract class NodeChannelBase extends ChannelBase {
  readonly peerCertificate?: PeerCertificate;

  protected constructor(
    socket: Socket,
    scheme: QiScheme,
    secure: boolean,
    opts: ChannelOptions,
    defaults: { highWaterMark: number; closeTimeout: number; keepAliveMs: number },
  ) {
    const remoteAddress = plainAddress(socket.remoteAddress);
    super(
      {
        remoteAddress,
        remoteUrl: formatUrl({ scheme, host: remoteAddress, port: socket.remotePort ?? 0 }),
        localUrl: formatUrl({ scheme, host: plainAddress(socket.localAddress), port: socket.localPort ?? 0 }),
        isSecure: secure,
      },
      {
        highWaterMark: opts.highWaterMark ?? defaults.highWaterMark,
        closeTimeout: opts.closeTimeout ?? defaults.closeTimeout,
      },
    );
    if (secure) {
      const cert = (socket as TLSSocket).getPeerCertificate?.();
      if (cert && Object.keys(cert).length > 0) this.peerCertificate = cert;
    }
    socket.setNoDelay(true);
    if (opts.keepAlive ?? true) socket.setKeepAlive(true, opts.keepAliveInitialDelay ?? defaults.keepAliveMs);
  }
}
