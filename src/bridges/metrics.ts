/**
 * `qi_bridge_*` in the gateway's Prometheus registry: messages each way, drops and subscribers
 * per bridge. Counted as plain numbers on the hot path and read by prom-client at a scrape.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { BridgeMetrics } from "./plugin.js";

interface Numbers {
  in: number;
  out: number;
  dropped: number;
  subscribers: number;
}

const registered = new WeakMap<Registry, Map<string, Numbers>>();

function tables(registry: Registry): Map<string, Numbers> {
  let byBridge = registered.get(registry);
  if (byBridge) return byBridge;
  const table = new Map<string, Numbers>();
  byBridge = table;
  registered.set(registry, table);
  const messages = new Counter({
    name: "qi_bridge_messages_total",
    help: "Messages through a bridge, by direction (in: into qi, out: out of qi)",
    labelNames: ["bridge", "direction"],
    registers: [registry],
    collect: () => {
      messages.reset();
      for (const [bridge, n] of table) {
        messages.inc({ bridge, direction: "in" }, n.in);
        messages.inc({ bridge, direction: "out" }, n.out);
      }
    },
  });
  const drops = new Counter({
    name: "qi_bridge_dropped_total",
    help: "Messages a bridge dropped for a slow reader",
    labelNames: ["bridge"],
    registers: [registry],
    collect: () => {
      drops.reset();
      for (const [bridge, n] of table) drops.inc({ bridge }, n.dropped);
    },
  });
  const subscribers = new Gauge({
    name: "qi_bridge_subscribers",
    help: "Subscribers on the other framework's side of a bridge",
    labelNames: ["bridge"],
    registers: [registry],
    collect: () => {
      for (const [bridge, n] of table) subscribers.set({ bridge }, n.subscribers);
    },
  });
  return table;
}

export function bridgeMetrics(registry: Registry, bridge: string): BridgeMetrics {
  const n: Numbers = { in: 0, out: 0, dropped: 0, subscribers: 0 };
  tables(registry).set(bridge, n);
  return {
    messagesIn: (k = 1) => {
      n.in += k;
    },
    messagesOut: (k = 1) => {
      n.out += k;
    },
    dropped: (k = 1) => {
      n.dropped += k;
    },
    subscribers: (count) => {
      n.subscribers = count;
    },
  };
}
