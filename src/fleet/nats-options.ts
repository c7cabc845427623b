/**
 * How the fleet dials NATS: the server URLs and, from the config file's `fleet:` section, its
 * credentials and TLS (never from the command line, where `ps` would show them). nats.js
 * reconnects to another server of the cluster by itself; we only ask it to keep trying.
 */
import type { NatsConnection, NodeConnectionOptions } from "@nats-io/transport-node";

export interface FleetNatsSettings {
  /** nats://host:port URLs of the cluster (any of them; the client learns the others). */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** TLS towards NATS: ca/cert/key file paths as nats.js takes them. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** Client name shown by the NATS server's monitoring. */
  name?: string;
}

export function natsServers(url: string): string[] {
  return url
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Loaded on first use: every `qi` command imports the fleet's flags, few dial NATS. */
export async function dialNats(s: FleetNatsSettings): Promise<NatsConnection> {
  const { connect } = await import("@nats-io/transport-node");
  const opts: NodeConnectionOptions = {
    servers: s.servers,
    name: s.name,
    user: s.user,
    pass: s.pass,
    token: s.token,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5_000,
  };
  if (s.tls) opts.tls = { ...s.tls };
  return connect(opts);
}
