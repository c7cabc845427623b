/**
 * One Foxglove client: its own FoxgloveServer (from @foxglove/ws-protocol, which owns the
 * framing) over a qi session of the client's user, so what it is advertised (channels for qi
 * signals and properties, services for methods, parameters for properties) is exactly what the
 * gateway lets that user see. A channel streams while subscribed; when the socket has more
 * than `maxInFlightBytes` unsent, new messages are dropped (and counted), never queued.
 */
import foxglove from "@foxglove/ws-protocol";
import type { WebSocket } from "ws";
import type { RemoteObject } from "../../object/index.js";
import type { Session } from "../../session/index.js";
import { fromJson, toJson } from "../../wire/index.js";
import { type QiTopic, readQiGraph } from "../rosbridge/qi-graph.js";
import { followTopic, writeTopic } from "../rosbridge/topic-link.js";
import { sendPieces } from "../rosbridge/ws-pieces.js";
import { argsFromRequest, type Mapping, serviceReply } from "../mapping/index.js";
import { channelFor, type Payload, payloadFor } from "./schemas.js";

type Server = InstanceType<typeof foxglove.FoxgloveServer>;
type IWebSocket = Parameters<Server["handleConnection"]>[0];
type Parameter = Parameters<Server["publishParameterValues"]>[0][number];

export interface FoxgloveClientDeps {
  session: Session;
  /** The mapping: what it does not name is not advertised. */
  allow: Mapping;
  maxInFlightBytes: number;
  metrics: { in(): void; out(): void; dropped(): void; subscribers(delta: number): void };
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

const REQUEST_SCHEMA = JSON.stringify({ type: "object", description: "the method's parameters by name" });
const RESPONSE_SCHEMA = JSON.stringify({ type: "object", properties: { result: {} } });

/**
 * The socket as the library sees it, with two changes. A message the library sends as
 * fragments (its 13-byte header, then the payload with `fin`) leaves as one frame, so the
 * client does not join fragments again (see ws-pieces.ts). And a message whose payload has a
 * tail (a camera frame's pixels) gets the tail as its last piece, written from where qi
 * decoded it, never copied.
 */
function tailedSocket(ws: WebSocket): {
  connection: IWebSocket;
  sendWithTail(payload: Payload, send: (head: Uint8Array<ArrayBuffer>) => void): void;
} {
  let pending: Payload | undefined;
  let held: Uint8Array[] = [];
  const send = (data: string | ArrayBuffer | ArrayBufferView, options?: { fin?: boolean }) => {
    if (typeof data === "string") {
      ws.send(data, options ?? {});
      return;
    }
    const bytes =
      data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    held.push(bytes);
    if (options?.fin === false) return;
    const tail = pending?.head === data ? pending.tail : undefined;
    if (tail) held.push(tail);
    const pieces = held;
    held = [];
    sendPieces(ws, pieces, () => {});
  };
  const connection = new Proxy(ws, {
    get: (target, key) => (key === "send" ? send : Reflect.get(target, key, target)),
    set: (target, key, value) => Reflect.set(target, key, value, target),
  }) as unknown as IWebSocket;
  return {
    connection,
    sendWithTail(payload, sendHead) {
      pending = payload;
      try {
        sendHead(payload.head);
      } finally {
        pending = undefined;
      }
    },
  };
}

/** Serves `ws` until it closes; resolves once the client has been advertised everything. */
export async function serveFoxgloveClient(
  ws: WebSocket,
  deps: FoxgloveClientDeps,
): Promise<() => Promise<void>> {
  const { session, metrics } = deps;
  const graph = await readQiGraph(session, deps.allow);
  const server: Server = new foxglove.FoxgloveServer({
    name: "qimessaging gateway",
    capabilities: ["clientPublish", "parameters", "parametersSubscribe", "services"],
    supportedEncodings: ["json"],
  });
  const objects = new Map<string, Promise<RemoteObject>>();
  const object = (service: string) => {
    let o = objects.get(service);
    if (!o) {
      o = session.service(service);
      objects.set(service, o);
    }
    return o;
  };
  const { connection, sendWithTail } = tailedSocket(ws);
  const report = (e: unknown) =>
    server.sendStatus({ level: foxglove.StatusLevel.ERROR, message: (e as Error).message }, connection);
  server.on("error", report);

  // Channels: qi signals and properties.
  const channels = new Map<number, QiTopic>();
  const links = new Map<number, () => Promise<void>>();
  for (const topic of graph.topics.values())
    if (topic.kind !== "method") channels.set(server.addChannel(channelFor(topic)), topic);
  const send = (channelId: number, topic: QiTopic, args: readonly unknown[]) => {
    if (ws.bufferedAmount > deps.maxInFlightBytes) {
      metrics.dropped();
      return;
    }
    metrics.out();
    const now = Date.now();
    sendWithTail(payloadFor(topic, args, now), (head) =>
      server.sendMessage(channelId, BigInt(now) * 1_000_000n, head),
    );
  };
  server.on("subscribe", (channelId) => {
    const topic = channels.get(channelId);
    if (!topic || links.has(channelId)) return;
    const linking = async () => {};
    links.set(channelId, linking);
    metrics.subscribers(1);
    (async () => {
      const unlink = await followTopic(await object(topic.service), topic, (args) =>
        send(channelId, topic, args),
      );
      // Unsubscribed while linking: undo at once.
      if (links.get(channelId) === linking) links.set(channelId, unlink);
      else await unlink();
    })().catch(report);
  });
  server.on("unsubscribe", (channelId) => {
    const unlink = links.get(channelId);
    if (!unlink) return;
    links.delete(channelId);
    metrics.subscribers(-1);
    unlink().catch(() => {});
  });

  // Services: qi methods, JSON request fields by parameter name, response {result}.
  const services = new Map<number, typeof graph.services extends ReadonlyMap<string, infer S> ? S : never>();
  for (const s of graph.services.values()) {
    const id = server.addService({
      name: s.name,
      type: s.type,
      request: {
        encoding: "json",
        schemaName: `${s.type}_Request`,
        schemaEncoding: "jsonschema",
        schema: REQUEST_SCHEMA,
      },
      response: {
        encoding: "json",
        schemaName: `${s.type}_Response`,
        schemaEncoding: "jsonschema",
        schema: RESPONSE_SCHEMA,
      },
    });
    services.set(id, s);
  }
  server.on("serviceCallRequest", (request, conn) => {
    metrics.in();
    const s = services.get(request.serviceId);
    const fail = (e: unknown) =>
      server.sendServiceCallFailure(
        {
          op: "serviceCallFailure",
          serviceId: request.serviceId,
          callId: request.callId,
          message: (e as Error).message,
        },
        conn,
      );
    if (!s) return fail(new Error(`unknown service ${request.serviceId}`));
    (async () => {
      const text = fromUtf8.decode(request.data);
      const args = argsFromRequest(
        s.parametersSignature,
        s.parameterNames,
        text.length ? JSON.parse(text) : {},
      );
      const outcome = await (await object(s.service)).call(s.method, ...args).then(
        (value) => ({ ok: true as const, value }),
        (e: unknown) => ({ ok: false as const, error: (e as Error).message }),
      );
      const { result, values } = serviceReply(s.reply, s.returnSignature, outcome, false);
      if (!result) throw new Error(String(values));
      server.sendServiceCallResponse(
        {
          serviceId: request.serviceId,
          callId: request.callId,
          encoding: "json",
          data: utf8.encode(JSON.stringify(values)),
        },
        conn,
      );
    })().catch(fail);
  });

  // Parameters: qi properties, by their topic name.
  const properties = new Map(
    [...graph.topics.values()].filter((t) => t.kind === "property").map((t) => [t.name, t]),
  );
  const readParameters = async (names: readonly string[]): Promise<Parameter[]> => {
    const wanted = names.length ? names.filter((n) => properties.has(n)) : [...properties.keys()];
    return Promise.all(
      wanted.map(async (name) => {
        const p = properties.get(name)!;
        const value = await (await object(p.service)).property(p.member).get();
        return { name, value: toJson(value) as Parameter["value"] };
      }),
    );
  };
  server.on("getParameters", ({ parameterNames, id }, conn) => {
    metrics.in();
    readParameters(parameterNames)
      .then((params) => server.publishParameterValues(params, id, conn))
      .catch(report);
  });
  server.on("setParameters", ({ parameters, id }, conn) => {
    metrics.in();
    (async () => {
      for (const { name, value } of parameters) {
        const p = properties.get(name);
        if (!p) throw new Error(`unknown parameter ${name}`);
        await (await object(p.service)).property(p.member).set(fromJson(value, p.signature));
      }
      if (id !== undefined)
        server.publishParameterValues(await readParameters(parameters.map((p) => p.name)), id, conn);
    })().catch(report);
  });
  const parameterLinks = new Map<string, Promise<() => Promise<void>>>();
  server.on("subscribeParameterUpdates", (names) => {
    for (const name of names) {
      const p = properties.get(name);
      if (!p || parameterLinks.has(name)) continue;
      const linked = (async () => {
        const property = (await object(p.service)).property(p.member);
        const link = await property.connect((v: unknown) =>
          server.updateParameterValues([{ name, value: toJson(v) as Parameter["value"] }]),
        );
        return () => property.disconnect(link);
      })();
      linked.catch(report);
      parameterLinks.set(name, linked);
    }
  });
  server.on("unsubscribeParameterUpdates", (names) => {
    for (const name of names) {
      const linked = parameterLinks.get(name);
      parameterLinks.delete(name);
      linked?.then((unlink) => unlink()).catch(() => {});
    }
  });

  // clientPublish: JSON messages into a property (set) or a method (posted).
  server.on("message", ({ channel, data }) => {
    metrics.in();
    (async () => {
      const topic = graph.topics.get(channel.topic);
      if (!topic || topic.kind === "signal") throw new Error(`cannot publish to ${channel.topic}`);
      if (channel.encoding !== "json")
        throw new Error(`publish JSON to ${channel.topic}, not ${channel.encoding}`);
      const msg = JSON.parse(fromUtf8.decode(data)) as unknown;
      await writeTopic(await object(topic.service), topic, msg);
    })().catch(report);
  });

  server.handleConnection(connection, "web client");
  return async () => {
    for (const unlink of links.values()) await unlink().catch(() => {});
    if (links.size) metrics.subscribers(-links.size);
    links.clear();
    for (const linked of parameterLinks.values()) await linked.then((u) => u()).catch(() => {});
    await session.close();
  };
}
