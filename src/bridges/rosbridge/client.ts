/**
 * One rosbridge v2 web client: its login (`auth`), then its ops in arrival order, each run
 * through a qi session of the client's own user, so the gateway's permissions apply to every
 * web user separately. Calls run concurrently (a slow method does not hold back a subscribe)
 * within a per-client cap; everything the client sends is checked and a bad message gets an
 * error `status`, never a crash.
 */
import type { Logger } from "pino";
import type { RemoteObject } from "../../object/index.js";
import type { Session } from "../../session/index.js";
import { chooseCompression, encodeFor, isBinary } from "./encode.js";
import { FragmentAssembler } from "./fragments.js";
import { checkMessage, countField, ProtocolError, type RosbridgeMessage, stringField } from "./frames.js";
import type { Outbox } from "./outbox.js";
import { normalizeName, type QiGraph, readQiGraph } from "./qi-graph.js";
import { rosapi } from "./rosapi.js";
import { argsFromRequest, serviceReply } from "../mapping/index.js";
import { ServiceHost } from "./service-host.js";
import { Subscriptions } from "./subscriptions.js";
import type { RosbridgeSettings } from "./settings.js";
import { writeTopic } from "./topic-link.js";

export interface ClientDeps {
  outbox: Outbox;
  settings: RosbridgeSettings;
  logger: Logger;
  /** The user's identity for (user, token), or undefined: the gateway's own check. */
  authenticate(user: string, token: string): Promise<string | undefined>;
  /** A qi session through the gateway as `user`. */
  openSession(user: string): Promise<Session>;
  /** Closes the WebSocket (policy violation) after a failed login. */
  refuse(reason: string): void;
  metrics: { in(): void; out(): void; subscribers(delta: number): void };
}

const LEVELS = ["none", "error", "warning", "info"] as const;
type Level = (typeof LEVELS)[number];

/** How often the client's view of services is re-read when a name is not found. */
const GRAPH_REFRESH_MS = 1_000;

export class RosbridgeClient {
  private session: Session | undefined;
  private state: "login" | "checking" | "ready" | "closed";
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private callsInFlight = 0;
  private statusLevel: Level = "error";
  private graph: Promise<QiGraph> | undefined;
  private graphReadAt = 0;
  private readonly objects = new Map<string, Promise<RemoteObject>>();
  private readonly fragments: FragmentAssembler;
  private subscriptions: Subscriptions;
  private host: ServiceHost | undefined;
  /** An open bridge's session being opened: messages wait for it. */
  private opening: Promise<void> | undefined;

  constructor(private readonly deps: ClientDeps) {
    const s = deps.settings;
    this.state = s.open ? "checking" : "login";
    this.fragments = new FragmentAssembler({
      maxMessageChars: s.maxMessageBytes,
      maxPending: s.maxPendingFragments,
      timeoutMs: s.fragmentTimeoutMs,
    });
    this.subscriptions = new Subscriptions(deps.outbox, s, {
      out: () => deps.metrics.out(),
      subscribers: (d) => deps.metrics.subscribers(d),
    });
  }

  /** Open bridge: the client acts as the bridge's own user from the start. */
  startOpen(user: string): Promise<void> {
    this.opening = (async () => {
      this.session = await this.deps.openSession(user);
      if (this.state === "closed") await this.session.close();
      else this.state = "ready";
    })();
    return this.opening;
  }

  /** One message from the socket, in arrival order. */
  receive(msg: RosbridgeMessage): void {
    if (this.state === "closed") return;
    if (++this.queued > this.deps.settings.maxQueuedMessages) {
      this.deps.refuse(`more than ${this.deps.settings.maxQueuedMessages} messages waiting`);
      return;
    }
    this.tail = this.tail
      .then(() => this.handle(msg))
      .catch((e: unknown) => this.status("error", (e as Error).message, msg.id))
      .finally(() => {
        this.queued--;
      });
  }

  /** A frame that did not parse: answered, not fatal. */
  reportBadFrame(error: Error): void {
    this.status("error", error.message);
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    await this.subscriptions.close();
    await this.host?.close();
    this.deps.outbox.close();
    await this.session?.close();
  }

  private async handle(msg: RosbridgeMessage): Promise<void> {
    if (this.state === "closed") return;
    this.deps.metrics.in();
    if (msg.op === "fragment") {
      const whole = this.fragments.add(msg);
      if (whole !== undefined) await this.handle(checkMessage(JSON.parse(whole)));
      return;
    }
    if (this.opening) await this.opening;
    if (msg.op === "auth") return this.login(msg);
    if (this.state !== "ready") {
      this.deps.refuse("authenticate first (op auth)");
      return;
    }
    const id = msg.id === undefined ? undefined : String(msg.id);
    switch (msg.op) {
      case "set_level": {
        const level = msg.level;
        if (typeof level !== "string" || !LEVELS.includes(level as Level))
          throw new ProtocolError(`set_level: "level" is one of ${LEVELS.join(", ")}`);
        this.statusLevel = level as Level;
        return;
      }
      case "subscribe":
        return this.subscribe(msg, id);
      case "unsubscribe":
        return this.subscriptions.unsubscribe(normalizeName(stringField(msg, "topic")), id);
      case "advertise":
      case "unadvertise":
        // Publishing needs no advertisement here; the topic must exist and be writable.
        if (msg.op === "advertise") await this.topic(stringField(msg, "topic"));
        return;
      case "publish":
        return this.publish(msg);
      case "call_service":
        return this.callService(msg, id);
      case "advertise_service":
      case "unadvertise_service":
      case "service_response":
        this.host ??= new ServiceHost(this.session!, this.deps.outbox, this.deps.settings);
        return this.host.handle(msg);
      default:
        throw new ProtocolError(`unknown op "${msg.op}"`);
    }
  }

  private async login(msg: RosbridgeMessage): Promise<void> {
    if (this.state !== "login") {
      if (this.state === "ready") this.status("info", "already authenticated", msg.id);
      return;
    }
    this.state = "checking";
    // rosauth's fields as roslib's Ros.authenticate(mac, client, …) sends them: the user in
    // `client`, the gateway token in `mac`; `user`/`token` are accepted too.
    const user = typeof msg.user === "string" ? msg.user : msg.client;
    const token = typeof msg.token === "string" ? msg.token : msg.mac;
    const identity =
      typeof user === "string" && typeof token === "string"
        ? await this.deps.authenticate(user, token)
        : undefined;
    if (this.state !== "checking") return;
    if (identity === undefined) {
      this.deps.refuse("authentication failed");
      return;
    }
    this.session = await this.deps.openSession(identity);
    if (this.state !== "checking") {
      await this.session.close();
      return;
    }
    this.state = "ready";
    this.deps.logger.info({ user: identity }, "rosbridge client authenticated");
  }

  private async subscribe(msg: RosbridgeMessage, id: string | undefined): Promise<void> {
    const topic = await this.topic(stringField(msg, "topic"));
    const { compression, warning } = chooseCompression(msg.compression);
    if (warning) this.status("warning", warning, id);
    await this.subscriptions.subscribe(topic, await this.object(topic.service), {
      id: id ?? "",
      throttleMs: countField(msg, "throttle_rate", 3_600_000),
      queueLength: countField(msg, "queue_length", this.deps.settings.maxQueueLength),
      fragmentSize: countField(msg, "fragment_size", Number.MAX_SAFE_INTEGER),
      compression,
    });
  }

  private async publish(msg: RosbridgeMessage): Promise<void> {
    const topic = await this.topic(stringField(msg, "topic"));
    if (topic.kind === "signal")
      throw new ProtocolError(`${topic.name} is a qi signal: only its service emits it`);
    await writeTopic(await this.object(topic.service), topic, msg.msg);
  }

  private async callService(msg: RosbridgeMessage, id: string | undefined): Promise<void> {
    const name = normalizeName(stringField(msg, "service"));
    const { compression } = chooseCompression(msg.compression);
    const fragmentSize = countField(msg, "fragment_size", Number.MAX_SAFE_INTEGER);
    const reply = (result: boolean, values: unknown) =>
      this.deps.outbox.sendNow(
        encodeFor({ op: "service_response", service: name, id, values, result }, compression, fragmentSize),
      );
    if (name.startsWith("/rosapi/")) {
      const answer = rosapi(name, msg.args, await this.readGraph(true));
      if (!answer) return reply(false, `unknown rosapi service ${name}`);
      return answer.ok ? reply(true, answer.values) : reply(false, answer.error);
    }
    const service =
      (await this.readGraph(false)).services.get(name) ?? (await this.readGraph(true)).services.get(name);
    if (!service) return reply(false, `unknown service ${name}`);
    if (this.callsInFlight >= this.deps.settings.maxCallsInFlight)
      return reply(false, `more than ${this.deps.settings.maxCallsInFlight} calls in flight`);
    const args = argsFromRequest(service.parametersSignature, service.parameterNames, msg.args);
    const object = await this.object(service.service);
    this.callsInFlight++;
    // Not awaited: the next ops of this client proceed while the method runs.
    object
      .call(service.method, ...args)
      .then(
        (value) => ({ ok: true as const, value }),
        (e: unknown) => ({ ok: false as const, error: (e as Error).message }),
      )
      .then((outcome) => {
        const r = serviceReply(service.reply, service.returnSignature, outcome, isBinary(compression));
        reply(r.result, r.values);
      })
      .finally(() => {
        this.callsInFlight--;
      });
  }

  private async topic(raw: string) {
    const name = normalizeName(raw);
    const topic =
      (await this.readGraph(false)).topics.get(name) ?? (await this.readGraph(true)).topics.get(name);
    if (!topic) throw new ProtocolError(`unknown topic ${name}`);
    return topic;
  }

  /** The client's view of the robot; re-read at most once a second when asked to refresh. */
  private readGraph(refresh: boolean): Promise<QiGraph> {
    const now = Date.now();
    if (!this.graph || (refresh && now - this.graphReadAt > GRAPH_REFRESH_MS)) {
      this.graphReadAt = now;
      this.objects.clear();
      this.graph = readQiGraph(this.session!, this.deps.settings.mapping);
      this.graph.catch(() => {
        this.graph = undefined;
      });
    }
    return this.graph;
  }

  private object(service: string): Promise<RemoteObject> {
    let o = this.objects.get(service);
    if (!o) {
      o = this.session!.service(service);
      o.catch(() => this.objects.delete(service));
      this.objects.set(service, o);
    }
    return o;
  }

  private status(level: Exclude<Level, "none">, text: string, id?: string | number): void {
    if (this.state === "closed") return;
    if (LEVELS.indexOf(level) > LEVELS.indexOf(this.statusLevel)) return;
    const msg: RosbridgeMessage = { op: "status", level, msg: text };
    if (id !== undefined) msg.id = String(id);
    this.deps.outbox.sendNow(encodeFor(msg, "none", 0));
  }
}
