/**
 * What to record and the subscriptions that feed an McapRecording: targets as `qi watch` takes
 * them (`ALBattery.charge`, `ALMemory.*`, `'AL*.*'`, a bare `ALMemory`), or by default every
 * signal and property of every service `qi services` shows (not the Service Directory's own,
 * nor `_hidden` ones). Properties are recorded with their value at the start, then each change;
 * with `calls`, each service's calls, results and errors (its traceObject signal, as `qi trace`).
 * Only types come from session/ and object/, so the console's own client can drive it too.
 */
import type { RemoteObject } from "../object/index.js";
import type { Session } from "../session/index.js";
import type { QiMember } from "./channel-codec.js";
import type { McapRecording, MethodDescription } from "./mcap-recording.js";

/** Member ids below this are libqi's reserved members (metaObject, traceObject, …). */
const FIRST_USER_MEMBER = 100;
const TRACE_KINDS: Record<number, "call" | "result" | "error"> = { 1: "call", 2: "result", 3: "error" };

export class RecordTargetError extends Error {
  override name = "RecordTargetError";
}

type SessionLike = Pick<Session, "services" | "service">;

/** `*` matches any run of characters, everything else itself. */
function glob(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
}

/** Splits `ALMemory.dataChanged` at the last dot; a bare name means all of the service. */
function splitTarget(text: string): { service: string; member: string } {
  const dot = text.lastIndexOf(".");
  if (dot < 0) return { service: text, member: "*" };
  if (dot === 0 || dot === text.length - 1)
    throw new RecordTargetError(`"${text}" is not SERVICE.SIGNAL (e.g. ALBattery.charge or ALMemory.*)`);
  return { service: text.slice(0, dot), member: text.slice(dot + 1) };
}

/** The user signals and properties of a service (properties are signals too, with the same id). */
export function membersOf(service: string, proxy: RemoteObject): QiMember[] {
  const meta = proxy.metaObject;
  const out: QiMember[] = [];
  for (const s of meta.signals.values()) {
    if (s.uid < FIRST_USER_MEMBER) continue;
    const p = meta.properties.get(s.uid);
    out.push(
      p
        ? { service, member: s.name, kind: "property", signature: p.signature }
        : { service, member: s.name, kind: "signal", signature: s.signature },
    );
  }
  return out;
}

export interface ChosenMembers {
  members: QiMember[];
  proxies: Map<string, RemoteObject>;
}

/** Resolves targets (or the default: everything visible) to members; unknown names fail clearly. */
export async function chooseMembers(
  session: SessionLike,
  targets: readonly string[],
): Promise<ChosenMembers> {
  const infos = (await session.services()).map((s) => s.name);
  const visible = infos.filter((n) => n !== "ServiceDirectory" && !n.startsWith("_"));
  const wanted = targets.length === 0 ? ["*.*"] : targets;
  const proxies = new Map<string, RemoteObject>();
  const members: QiMember[] = [];
  const seen = new Set<string>();
  for (const target of wanted) {
    const { service, member } = splitTarget(target);
    const names = service.includes("*")
      ? (service.startsWith("_") ? infos : visible).filter((n) => glob(service).test(n))
      : [service];
    if (names.length === 0) throw new RecordTargetError(`no service matches "${service}"`);
    let found = 0;
    for (const name of names) {
      if (!infos.includes(name)) throw new RecordTargetError(`unknown service "${name}"`);
      let proxy = proxies.get(name);
      if (!proxy) {
        proxy = await session.service(name);
        proxies.set(name, proxy);
      }
      for (const m of membersOf(name, proxy)) {
        if (!glob(member).test(m.member)) continue;
        found++;
        const key = `${m.service}.${m.member}`;
        if (!seen.has(key)) {
          seen.add(key);
          members.push(m);
        }
      }
    }
    if (found === 0 && !member.includes("*"))
      throw new RecordTargetError(`${service} has no signal or property "${member}"`);
  }
  return { members, proxies };
}

/** Nanoseconds since the epoch that never go back (wall clock at the start + a monotonic clock). */
export function monotonicClock(): () => bigint {
  const startNs = BigInt(Date.now()) * 1_000_000n;
  const startPerf = performance.now();
  let last = 0n;
  return () => {
    const t = startNs + BigInt(Math.round((performance.now() - startPerf) * 1e6));
    last = t > last ? t : last;
    return last;
  };
}

export interface SessionRecorderOptions {
  /** Record each service's calls, results and errors too (needs the right to trace). */
  calls?: boolean;
  /** Called after each recorded (or dropped) event: progress lines, limits. */
  onEvent?: () => void;
  clock?: () => bigint;
}

/** The subscriptions of one recording; `stop()` undoes them. */
export class SessionRecorder {
  private readonly undo: Array<() => Promise<unknown>> = [];

  private constructor(
    private readonly recording: McapRecording,
    private readonly clock: () => bigint,
    private readonly onEvent: () => void,
  ) {}

  static async start(
    chosen: ChosenMembers,
    recording: McapRecording,
    options: SessionRecorderOptions = {},
  ): Promise<SessionRecorder> {
    const r = new SessionRecorder(
      recording,
      options.clock ?? monotonicClock(),
      options.onEvent ?? (() => {}),
    );
    try {
      for (const [service, proxy] of chosen.proxies)
        await recording.describeService(service, methodsOf(proxy));
      for (const m of chosen.members) await r.subscribe(m, chosen.proxies.get(m.service)!);
      if (options.calls) for (const [service, proxy] of chosen.proxies) await r.traceCalls(service, proxy);
    } catch (e) {
      await r.stop();
      throw e;
    }
    return r;
  }

  async stop(): Promise<void> {
    const undo = this.undo.splice(0).reverse();
    await Promise.all(undo.map((fn) => fn().catch(() => {})));
  }

  private async subscribe(m: QiMember, proxy: RemoteObject): Promise<void> {
    const key = await this.recording.addMember(m);
    const record = (event: unknown) => {
      this.recording.write(key, event, this.clock());
      this.onEvent();
    };
    if (m.kind === "property") {
      const property = proxy.property(m.member);
      const link = await property.connect((value: unknown) => record(value));
      this.undo.push(() => property.disconnect(link));
      record(await property.get());
      return;
    }
    const signal = proxy.signal(m.member);
    const link = await signal.connect((...args: unknown[]) => record(args));
    this.undo.push(() => signal.disconnect(link));
  }

  private async traceCalls(service: string, proxy: RemoteObject): Promise<void> {
    const meta = proxy.metaObject;
    const key = await this.recording.addMember({ service, member: "calls", kind: "calls", signature: "" });
    const wasEnabled = await proxy.call<boolean>("isTraceEnabled");
    const signal = proxy.signal("traceObject");
    const link = await signal.connect((event: unknown) => {
      const f = fieldsOf(event);
      const kind = TRACE_KINDS[Number(f.kind)];
      const method = meta.methods.get(Number(f.slotId));
      if (!kind || !method || method.uid < FIRST_USER_MEMBER) return;
      this.recording.write(
        key,
        { id: Number(f.id), kind, method: method.name, value: f.arguments },
        this.clock(),
      );
      this.onEvent();
    });
    this.undo.push(async () => {
      await signal.disconnect(link);
      if (!wasEnabled) await proxy.call("enableTrace", false);
    });
  }
}

/** A Struct's fields by shape (the console's values come from another copy of the client). */
function fieldsOf(event: unknown): Record<string, unknown> {
  const fields = (event as { fields?: unknown } | null)?.fields;
  return (typeof fields === "object" && fields !== null ? fields : (event ?? {})) as Record<string, unknown>;
}

function methodsOf(proxy: RemoteObject): MethodDescription[] {
  return [...proxy.metaObject.methods.values()]
    .filter((m) => m.uid >= FIRST_USER_MEMBER)
    .map((m) => ({ name: m.name, params: m.parametersSignature, returns: m.returnSignature }));
}
