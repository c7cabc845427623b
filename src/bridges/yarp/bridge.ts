/**
 * The YARP bridge: the mapped qi services as YARP ports, registered with the name server.
 * It reaches qi only through its own session (a gateway client with its own user), checks the
 * name server every `nameServerCheckMs` and registers its ports again after a restart, and
 * unregisters them on stop.
 */
import type { BridgeContext, RunningBridge } from "../plugin.js";
import { NameClient } from "./name-client.js";
import type { YarpPort } from "./port.js";
import { openServicePorts } from "./service-ports.js";
import { parseSettings } from "./settings.js";

export async function startYarpBridge(ctx: BridgeContext): Promise<RunningBridge> {
  const settings = parseSettings(ctx.settings, ctx.demo);
  const names = new NameClient(settings.nameServer);
  const logger = ctx.logger;
  const ports: YarpPort[] = [];
  const countReaders = () => ctx.metrics.subscribers(ports.reduce((n, p) => n + p.readerCount, 0));
  const limits = {
    maxMessageBytes: settings.maxMessageBytes,
    queue: settings.queue,
    maxConnections: settings.maxConnections,
    maxReaders: settings.maxReaders,
    openingTimeoutMs: settings.openingTimeoutMs,
    connectTimeoutMs: settings.connectTimeoutMs,
  };
  try {
    for (const [service, mapping] of Object.entries(settings.services)) {
      let remote: Awaited<ReturnType<typeof ctx.session.service>>;
      try {
        remote = await ctx.session.service(service);
      } catch (e) {
        // Absent, or not allowed for the bridge's user: YARP simply does not see it.
        logger.warn({ service, err: (e as Error).message }, "YARP bridge skips a service it cannot reach");
        continue;
      }
      ports.push(
        ...(await openServicePorts({
          service,
          remote,
          mapping,
          prefix: settings.prefix,
          host: settings.host,
          limits,
          maxPendingCalls: settings.maxPendingCalls,
          names,
          logger,
          metrics: ctx.metrics,
          onReaders: countReaders,
        })),
      );
    }
  } catch (e) {
    await Promise.all(ports.map((p) => p.close()));
    throw e;
  }

  let registered = false;
  const registerAll = async () => {
    for (const p of ports) await names.register(p.name, settings.host, p.port);
    registered = true;
  };
  try {
    await registerAll();
  } catch (e) {
    logger.warn(
      { nameServer: names.describe(), err: (e as Error).message },
      "YARP name server unreachable; will retry",
    );
  }

  // A restarted name server has forgotten our ports (all, or those a failed pass missed):
  // one `list` per check, and each port it lacks is registered again.
  let checking = false;
  const check = async () => {
    if (checking || ports.length === 0) return;
    checking = true;
    try {
      const known = new Map((await names.list()).map((r) => [r.name, r.port]));
      const missing = ports.filter((p) => known.get(p.name) !== p.port);
      for (const p of missing) await names.register(p.name, settings.host, p.port);
      if (missing.length > 0)
        logger.info({ ports: missing.length, nameServer: names.describe() }, "YARP ports registered again");
      registered = true;
    } catch (e) {
      if (registered)
        logger.warn({ err: (e as Error).message }, "YARP name server lost; will register again");
      registered = false;
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), settings.nameServerCheckMs);
  timer.unref();

  return {
    endpoints: [
      `YARP name server ${names.describe()}: ${ports.length} ports under ${settings.prefix}/ (yarp name list)`,
      ...ports.map((p) => `  ${p.name}  tcp://${settings.host}:${p.port}`),
    ],
    async close() {
      clearInterval(timer);
      await Promise.all(ports.map((p) => names.unregister(p.name).catch(() => {})));
      await Promise.all(ports.map((p) => p.close()));
    },
  };
}
