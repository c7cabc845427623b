/**
 * The ROS 1 bridge: a ROS node on the master that publishes the mapped qi signals and
 * properties, subscribes to the mapped topics, and serves the mapped services, all through
 * the bridge's own qi session (so the gateway's permissions for its user apply).
 */
import type { RosNode } from "@foxglove/ros1";
import type { BridgeContext, BridgePlugin, RunningBridge } from "../plugin.js";
import { demoMapping, mergeMappings } from "../mapping/index.js";
import { startNode, watchMaster } from "./node.js";
import { ServiceServer } from "./service-server.js";
import { servedService } from "./services.js";
import { parseSettings } from "./settings.js";
import { TopicInBridge } from "./topic-in.js";
import { TopicOutBridge } from "./topic-out.js";

export const ros1Bridge: BridgePlugin = {
  name: "ros1",
  start: startRos1,
};

export async function startRos1(ctx: BridgeContext): Promise<RunningBridge> {
  const settings = parseSettings(ctx.settings);
  const mapping = ctx.demo ? mergeMappings(demoMapping(), settings.mapping) : settings.mapping;
  const logger = ctx.logger;
  const node = await startNode({
    name: settings.nodeName,
    master: settings.master,
    host: settings.host,
    logger,
  });
  const services = await ServiceServer.listen({
    host: settings.host,
    callerId: settings.nodeName,
    maxRequestBytes: settings.maxServiceRequestBytes,
    maxConnections: settings.maxServiceConnections,
    maxPendingPerConnection: settings.maxPendingRequests,
    onError: (err) => logger.debug({ err: err.message }, "ros1: service connection error"),
  });
  const outs: TopicOutBridge[] = [];
  const ins: TopicInBridge[] = [];
  const skipped: string[] = [];
  const countSubscribers = () => ctx.metrics.subscribers(outs.reduce((n, t) => n + t.subscriberCount, 0));
  let stopWatch = () => {};
  try {
    for (const entry of mapping.out) {
      const topic = new TopicOutBridge({
        node,
        session: ctx.session,
        entry,
        queueSize: settings.queueSize,
        metrics: ctx.metrics,
        logger,
        onSubscribers: countSubscribers,
      });
      try {
        await topic.start();
        outs.push(topic);
      } catch (err) {
        // A service that is absent or hidden from this user: the rest of the mapping still works.
        skipped.push(`${entry.topic} (${(err as Error).message})`);
        logger.warn({ topic: entry.topic, err: (err as Error).message }, "ros1: topic not published");
      }
    }
    for (const entry of mapping.in) {
      const topic = new TopicInBridge({
        node,
        session: ctx.session,
        entry,
        maxInFlight: settings.maxCallsInFlight,
        metrics: ctx.metrics,
        logger,
      });
      topic.start();
      ins.push(topic);
    }
    for (const entry of mapping.services)
      services.add(entry.name, servedService(entry, ctx.session, ctx.metrics));
    const serviceNames = mapping.services.map((s) => s.name);
    const servicesRegistered = await registerServices(node, services, serviceNames).then(
      () => true,
      (err: Error) => {
        logger.warn({ err: err.message }, "ros1: could not register the services (the master watch retries)");
        return false;
      },
    );
    stopWatch = watchMaster(
      node,
      settings.masterCheckMs,
      async () => {
        for (const t of outs) await registerPublisher(node, t.topic);
        for (const t of ins) await t.resubscribe();
        await registerServices(node, services, serviceNames);
      },
      logger,
      servicesRegistered && outs.every((t) => t.registered),
    );
  } catch (err) {
    stopWatch();
    for (const t of outs) t.close();
    for (const t of ins) t.close();
    services.close();
    node.shutdown();
    throw err;
  }
  const endpoints = [
    `node ${settings.nodeName} on master ${settings.master} (${node.rosFollower.url()})`,
    `${outs.length} topics out, ${ins.length} topics in, ${mapping.services.length} services: try \`rostopic list\``,
    ...skipped.map((s) => `not published: ${s}`),
  ];
  return {
    endpoints,
    async close() {
      stopWatch();
      for (const t of outs) t.close();
      for (const t of ins) t.close();
      await unregisterServices(
        node,
        services,
        mapping.services.map((s) => s.name),
      );
      services.close();
      // shutdown() unregisters the publishers and subscribers (best effort, master may be gone).
      node.shutdown();
    },
  };
}

async function registerPublisher(node: RosNode, topic: string): Promise<void> {
  const publication = node.publications.get(topic);
  if (!publication) return;
  const [code, message] = await node.rosMasterClient.registerPublisher(
    node.name,
    topic,
    publication.dataType,
    node.rosFollower.url()!,
  );
  if (code !== 1) throw new Error(`registerPublisher ${topic}: ${String(message)}`);
}

async function registerServices(node: RosNode, server: ServiceServer, names: string[]): Promise<void> {
  for (const name of names) {
    const [code, message] = await node.rosMasterClient.registerService(
      node.name,
      name,
      server.uri,
      node.rosFollower.url()!,
    );
    if (code !== 1) throw new Error(`registerService ${name}: ${String(message)}`);
  }
}

async function unregisterServices(node: RosNode, server: ServiceServer, names: string[]): Promise<void> {
  await Promise.all(
    names.map((name) =>
      node.rosMasterClient.unregisterService(node.name, name, server.uri).catch(() => undefined),
    ),
  );
}
