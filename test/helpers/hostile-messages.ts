/**
 * Well-framed but hostile qi messages, for fuzzing what lies behind the framer: a valid
 * 28-byte header (magic, version 0, a type in 1..8) around ids, flags and payloads chosen to
 * reach the routing and serving code with things it does not expect. Ids are biased toward the
 * real ones (service 0/1/the target's, objects handed out, reserved and user actions) so most
 * messages get past the first lookup; payloads are random bytes, valid payloads truncated or
 * flipped, or valid payloads of another member's signature.
 *
 * The HostileClient sends such messages over a raw socket after a proper handshake and keeps
 * account of every Call it sent, so a test can check that each one was answered (Reply, Error
 * or Canceled) unless the connection closed.
 */
import fc from "fast-check";
import { QiObject } from "../../src/object/index.js";
import { defaultCapabilities } from "../../src/connection/capabilities.js";
import { encodeCapabilityMap, encodeErrorPayload } from "../../src/connection/connection.js";
import { decode, encode } from "../../src/wire/codec.js";
import { type Message, MessageType } from "../../src/wire/message-types.js";
import type { MetaObject } from "../../src/wire/metaobject-types.js";
import { SERVICE_INFO_SIGNATURE } from "../../src/session/service-info.js";
import { ByteString, Dynamic, ObjectRef, Struct } from "../../src/wire/values.js";
import { type Frame, RawPeer } from "../connection/raw-peer.js";

// ------------------------------------------------------------------------------------------------
// Settings

export interface FuzzSettings {
  seed: number;
  runs: number;
}

/**
 * A fixed seed by default, so CI is deterministic; FUZZ_SEED and FUZZ_RUNS explore further
 * locally (`FUZZ_SEED=123 FUZZ_RUNS=40 npx vitest run test/gateway/fuzz.test.ts`).
 */
export function fuzzSettings(defaultRuns: number, defaultSeed = 20_240_601): FuzzSettings {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : defaultSeed;
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : defaultRuns;
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${process.env.FUZZ_SEED}`);
  if (!(Number.isInteger(runs) && runs > 0))
    throw new Error(`FUZZ_RUNS must be a positive integer, got ${process.env.FUZZ_RUNS}`);
  return { seed, runs };
}

/** Runs `fc.assert`, and on failure says which seed to replay it with. */
export async function assertWithSeed<T>(
  property: fc.IAsyncPropertyWithHooks<T>,
  settings: FuzzSettings,
  label: string,
): Promise<void> {
  // Shrinking replays whole batches over sockets: worth it locally (FUZZ_SHRINK=1), too slow for CI.
  // The report names the seed and the error, not the thousands of messages of the counterexample
  // (the property's own error describes the messages that matter).
  await fc.assert(property, {
    seed: settings.seed,
    numRuns: settings.runs,
    endOnFailure: !process.env.FUZZ_SHRINK,
    reporter: (details) => {
      if (!details.failed) return;
      const cause =
        details.errorInstance instanceof Error
          ? details.errorInstance
          : new Error(String(details.errorInstance));
      throw new Error(
        `${label}: failed after ${details.numRuns} run(s); replay with FUZZ_SEED=${details.seed} FUZZ_RUNS=${settings.runs} ` +
          `(fast-check path ${details.counterexamplePath}; FUZZ_SHRINK=1 to shrink)\n${cause.message}`,
        { cause },
      );
    },
  });
}

/** Records what would reach process.on("uncaughtException"/"unhandledRejection"). */
export class UncaughtRecorder {
  readonly errors: string[] = [];
  private readonly onError = (e: unknown) => {
    this.errors.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  };

  install(): void {
    process.on("uncaughtException", this.onError);
    process.on("unhandledRejection", this.onError);
  }

  uninstall(): void {
    process.off("uncaughtException", this.onError);
    process.off("unhandledRejection", this.onError);
  }
}

// ------------------------------------------------------------------------------------------------
// What the generator knows about the node under test

export interface FuzzTargets {
  /** Id of the service the test serves ("Calc"). */
  serviceId: number;
  /** Method uids of that service's main object, by name. */
  methods: Record<string, number>;
  /** Signal uids, by name. */
  signals: Record<string, number>;
  /** Property uids, by name. */
  properties: Record<string, number>;
  /** Name of the method that returns an object (its replies teach the client object ids). */
  objectFactory: string;
}

/** An id resolved when the message is sent: fresh, reused from an earlier message, or fixed. */
type IdChoice = { kind: "fresh" } | { kind: "repeat"; back: number } | { kind: "fixed"; value: number };
/** An object id resolved when sent: one the client was handed (if any yet), or fixed. */
type ObjectChoice = { kind: "learned"; index: number } | { kind: "fixed"; value: number };

export interface HostilePlan {
  /** Which family of generator made it, for failure reports. */
  family: string;
  id: IdChoice;
  type: number;
  flags: number;
  service: number;
  object: ObjectChoice;
  action: number;
  payload: Uint8Array;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const shortText = fc.oneof(
  fc.constantFrom("", "Calc", "ServiceDirectory", "FuzzService", "level", "tick", "i", "(i)", "[m]", "o"),
  fc.string({ maxLength: 12 }),
);

const RESERVED_ACTIONS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 80, 81, 82, 83, 84, 85, 86];
const USER_ACTIONS = [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110];

function serviceIds(t: FuzzTargets): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(0, 1, t.serviceId) },
    { weight: 2, arbitrary: fc.integer({ min: 2, max: 12 }) },
    { weight: 1, arbitrary: fc.constantFrom(0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff) },
    { weight: 1, arbitrary: u32 },
  );
}

function objectIds(): fc.Arbitrary<ObjectChoice> {
  const fixed = (a: fc.Arbitrary<number>) => a.map((value): ObjectChoice => ({ kind: "fixed", value }));
  return fc.oneof(
    { weight: 6, arbitrary: fixed(fc.constantFrom(0, 1)) },
    { weight: 4, arbitrary: fc.nat(8).map((index): ObjectChoice => ({ kind: "learned", index })) },
    { weight: 2, arbitrary: fixed(fc.integer({ min: 2, max: 16 })) },
    { weight: 1, arbitrary: fixed(fc.integer({ min: 0x80000000, max: 0x80000010 })) },
    { weight: 1, arbitrary: fixed(u32) },
  );
}

function actionIds(t: FuzzTargets): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...RESERVED_ACTIONS) },
    { weight: 5, arbitrary: fc.constantFrom(...USER_ACTIONS) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        ...Object.values(t.methods),
        ...Object.values(t.signals),
        ...Object.values(t.properties),
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(9, 79, 87, 99, 0x7fffffff, 0xffffffff) },
    { weight: 1, arbitrary: u32 },
  );
}

const messageIds: fc.Arbitrary<IdChoice> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<IdChoice>({ kind: "fresh" }) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 1, max: 20 }).map((back): IdChoice => ({ kind: "repeat", back })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.constantFrom(0, 1, 0xffffffff), u32)
      .map((value): IdChoice => ({ kind: "fixed", value })),
  },
);

const messageTypes = fc.oneof(
  { weight: 12, arbitrary: fc.constant<number>(MessageType.Call) },
  { weight: 4, arbitrary: fc.constant<number>(MessageType.Post) },
  { weight: 2, arbitrary: fc.constant<number>(MessageType.Cancel) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<number>(
      MessageType.Reply,
      MessageType.Error,
      MessageType.Event,
      MessageType.Capability,
      MessageType.Canceled,
    ),
  },
);

/** Mostly the defined bits (DynamicPayload 0x01, ReturnType 0x02), sometimes any byte. */
const messageFlags = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.constantFrom(1, 2, 3) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

const EMPTY_META: MetaObject = {
  methods: new Map(),
  signals: new Map(),
  properties: new Map(),
  description: "",
};

function serviceInfoValue(t: FuzzTargets): fc.Arbitrary<Struct> {
  return fc
    .record({
      name: fc.oneof(
        fc.constantFrom("", "Calc", "ServiceDirectory"),
        fc.integer({ min: 0, max: 5 }).map((n) => `FuzzService${n}`),
        fc.string({ maxLength: 8 }),
      ),
      serviceId: fc.oneof(fc.constantFrom(0, 1, t.serviceId), fc.integer({ min: 2, max: 12 }), u32),
      machineId: shortText,
      processId: u32,
      endpoints: fc.array(fc.constantFrom("tcp://127.0.0.1:1", "qi:Calc", "", "tcp://[::1]:0"), {
        maxLength: 3,
      }),
      sessionId: shortText,
      objectUid: fc.uint8Array({ minLength: 0, maxLength: 24 }).map((b) => new ByteString(b)),
    })
    .map((fields) => new Struct("ServiceInfo", fields));
}

/** Payloads that are valid for *some* signature (often another member's), as the node sees them. */
function validPayloads(t: FuzzTargets): fc.Arbitrary<Uint8Array> {
  const ids = fc.oneof(fc.constantFrom(0, 1, t.serviceId, ...Object.values(t.signals)), u32);
  const anyDynamic = fc.oneof(
    i32.map((v) => new Dynamic("i", v)),
    shortText.map((v) => new Dynamic("s", v)),
    u32.map((v) => new Dynamic("I", v)),
    fc.constantFrom(...Object.values(t.properties)).map((v) => new Dynamic("I", v)),
    fc.array(i32, { maxLength: 4 }).map((v) => new Dynamic("[i]", v)),
    fc.constant(new Dynamic("v", undefined)),
    // An object reference inside a dynamic: the gateway rewrites those (spec §7.9).
    fc
      .tuple(fc.constantFrom(0, 1, t.serviceId), fc.oneof(fc.constantFrom(0, 1, 2, 3), u32))
      .map(([s, o]) => new Dynamic("o", new ObjectRef(EMPTY_META, s, o, new Uint8Array(20)))),
  );
  return fc.oneof(
    fc.tuple(ids, ids, u64).map((v) => encode("(IIL)", v)),
    fc.tuple(ids, ids, u64, shortText).map((v) => encode("(IILs)", v)),
    ids.map((v) => encode("(I)", [v])),
    anyDynamic.map((v) => encode("(m)", [v])),
    fc.tuple(anyDynamic, anyDynamic).map((v) => encode("(mm)", v)),
    fc.constant(encode("()", [])),
    fc.tuple(i32, i32).map((v) => encode("(ii)", v)),
    shortText.map((v) => encode("(s)", [v])),
    fc.tuple(shortText, shortText).map((v) => encode("(ss)", v)),
    anyDynamic.map((v) => encode("m", v)),
    fc.boolean().map((v) => encode("(b)", [v])),
    serviceInfoValue(t).map((v) => encode(`(${SERVICE_INFO_SIGNATURE})`, [v])),
    fc.constant(encodeCapabilityMap(defaultCapabilities())),
    shortText.map((v) => encodeErrorPayload(v)),
    fc.tuple(u32, u32).map(([s, o]) => encode("(o)", [new ObjectRef(EMPTY_META, s, o, new Uint8Array(20))])),
  );
}

function payloads(t: FuzzTargets): fc.Arbitrary<Uint8Array> {
  const valid = validPayloads(t);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 6, arbitrary: valid },
    {
      weight: 3,
      arbitrary: fc
        .tuple(valid, fc.double({ min: 0, max: 1, noNaN: true }))
        .map(([p, cut]) => p.slice(0, Math.floor(p.byteLength * cut))),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(valid, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([p, at, x]) => {
        const out = p.slice();
        if (out.byteLength > 0) out[at % out.byteLength] ^= x;
        return out;
      }),
    },
    // A huge length prefix (string, list, map) where a small value is expected.
    { weight: 1, arbitrary: fc.constant(Uint8Array.of(0xff, 0xff, 0xff, 0x7f, 0x41)) },
  );
}

/** Anything: random address, type, flags and payload (biased toward the real ids). */
function anyMessage(t: FuzzTargets): fc.Arbitrary<HostilePlan> {
  return fc.record({
    family: fc.constant("random"),
    id: messageIds,
    type: messageTypes,
    flags: messageFlags,
    service: serviceIds(t),
    object: objectIds(),
    action: actionIds(t),
    payload: payloads(t),
  });
}

/** A Cancel: short payload, or the id of a recent call (resolved by the client), or any id. */
function cancelMessage(t: FuzzTargets): fc.Arbitrary<HostilePlan> {
  return fc
    .record({
      service: serviceIds(t),
      object: objectIds(),
      payload: fc.oneof(
        fc.uint8Array({ maxLength: 3 }),
        u32.map((id) => encode("I", id)),
        fc.constant(new Uint8Array(0)),
      ),
      cancelsRecent: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
    })
    .map(
      ({ service, object, payload, cancelsRecent }): HostilePlan => ({
        family: cancelsRecent === undefined ? "cancel" : `cancel-recent-${cancelsRecent}`,
        id: { kind: "fresh" },
        type: MessageType.Cancel,
        flags: 0,
        service,
        object,
        action: 0,
        payload: cancelsRecent === undefined ? payload : Uint8Array.of(0xca, 0x9c, 0xe1, cancelsRecent),
      }),
    );
}

/**
 * Well-formed requests to real members, so the hostile client actually subscribes, gets
 * objects, registers services… and leaves all of it behind for the node to release.
 */
function meaningfulRequest(t: FuzzTargets): fc.Arbitrary<HostilePlan> {
  const call = (
    family: string,
    service: number,
    object: ObjectChoice,
    action: number,
    payload: fc.Arbitrary<Uint8Array>,
  ) =>
    fc.tuple(payload, fc.constantFrom(MessageType.Call, MessageType.Call, MessageType.Post)).map(
      ([p, type]): HostilePlan => ({
        family,
        id: { kind: "fresh" },
        type,
        flags: 0,
        service,
        object,
        action,
        payload: p,
      }),
    );
  const main: ObjectChoice = { kind: "fixed", value: 1 };
  const signalUids = Object.values(t.signals);
  const signal = fc.constantFrom(...signalUids);
  const link = fc.oneof(fc.bigInt({ min: 1n, max: 20n }), u64);
  const learned = fc.nat(8).map((index): ObjectChoice => ({ kind: "learned", index }));
  const methodCalls = Object.entries(t.methods).map(([name, uid]) =>
    call(
      `call-${name}`,
      t.serviceId,
      main,
      uid,
      fc.oneof(
        fc.tuple(i32, i32).map((v) => encode("(ii)", v)),
        i32.map((v) => encode("(i)", [v])),
        fc.tuple(shortText, shortText).map((v) => encode("(ss)", v)),
      ),
    ),
  );
  return fc.oneof(
    call(
      "registerEvent",
      t.serviceId,
      main,
      0,
      fc.tuple(signal, link).map(([s, l]) => encode("(IIL)", [t.serviceId, s, l])),
    ),
    call(
      "registerEventWithSignature",
      t.serviceId,
      main,
      8,
      fc
        .tuple(signal, link, fc.constantFrom("(i)", "(m)", "(s)", "", "(", "[i]"))
        .map(([s, l, w]) => encode("(IILs)", [t.serviceId, s, l, w])),
    ),
    call(
      "unregisterEvent",
      t.serviceId,
      main,
      1,
      fc.tuple(signal, link).map(([s, l]) => encode("(IIL)", [t.serviceId, s, l])),
    ),
    call(
      "makeObject",
      t.serviceId,
      main,
      t.methods[t.objectFactory],
      i32.map((v) => encode("(i)", [v])),
    ),
    fc.tuple(learned, fc.constantFrom(0, 2, 3, 100, 101)).chain(([object, action]) =>
      call(
        `object-action-${action}`,
        t.serviceId,
        object,
        action,
        fc.oneof(
          fc.constant(encode("()", [])),
          fc
            .tuple(fc.constantFrom(100, 101, 102), link)
            .map(([s, l]) => encode("(IIL)", [t.serviceId, s, l])),
          fc.constant(encode("(I)", [t.serviceId])),
        ),
      ),
    ),
    call(
      "property",
      t.serviceId,
      main,
      5,
      fc
        .oneof(
          fc.constantFrom(...Object.keys(t.properties)).map((n) => new Dynamic("s", n)),
          fc.constantFrom(...Object.values(t.properties)).map((u) => new Dynamic("I", u)),
        )
        .map((d) => encode("(m)", [d])),
    ),
    // Service Directory members (100 service … 109 _socketOfService).
    call(
      "sd-service",
      1,
      main,
      100,
      shortText.map((n) => encode("(s)", [n])),
    ),
    call(
      "sd-registerService",
      1,
      main,
      102,
      serviceInfoValue(t).map((v) => encode(`(${SERVICE_INFO_SIGNATURE})`, [v])),
    ),
    call(
      "sd-serviceReady",
      1,
      main,
      104,
      fc.integer({ min: 2, max: 12 }).map((id) => encode("(I)", [id])),
    ),
    call(
      "sd-registerEvent",
      1,
      main,
      0,
      fc.tuple(fc.constantFrom(106, 107), link).map(([s, l]) => encode("(IIL)", [1, s, l])),
    ),
    ...methodCalls,
  );
}

/** The generator of one hostile message. */
export function hostileMessage(t: FuzzTargets): fc.Arbitrary<HostilePlan> {
  return fc.oneof(
    { weight: 6, arbitrary: anyMessage(t) },
    { weight: 1, arbitrary: cancelMessage(t) },
    { weight: 3, arbitrary: meaningfulRequest(t) },
  );
}

// ------------------------------------------------------------------------------------------------
// The hostile client

export interface SentMessage {
  index: number;
  family: string;
  msg: Message;
}

export function describeSent(s: SentMessage): string {
  const m = s.msg;
  const head = Buffer.from(m.payload.subarray(0, 24)).toString("hex");
  return `#${s.index} ${s.family} id=${m.id} type=${m.type} flags=${m.flags} ${m.service}.${m.object}.${m.action} payload(${m.payload.byteLength})=${head}${m.payload.byteLength > 24 ? "…" : ""}`;
}

let nextHostileId = 500_000_000;

export class HostileClient {
  readonly peer: RawPeer;
  /** Calls sent and not answered yet: message id → how many (ids may repeat on purpose). */
  readonly unanswered = new Map<number, number>();
  /** The Call of each message id, for the failure report. */
  private readonly sentCalls = new Map<number, SentMessage>();
  /** Object ids the node handed us (decoded from replies to the object factory). */
  readonly learnedObjects: number[] = [];
  readonly sent: SentMessage[] = [];
  private readonly recentIds: number[] = [];
  private readonly factoryCalls = new Set<number>();

  private constructor(
    peer: RawPeer,
    private readonly avoid: (service: number, object: number, action: number) => boolean,
  ) {
    this.peer = peer;
    peer.onFrame((f) => this.onFrame(f));
  }

  /**
   * Connects and authenticates properly (the hostility starts after the handshake). `avoid`
   * names addresses that would only hurt other clients *by design* (see the served test).
   */
  static async connect(
    url: string,
    avoid: (service: number, object: number, action: number) => boolean = () => false,
  ): Promise<HostileClient> {
    const peer = await RawPeer.open(url);
    const answer = await peer.authenticate(encodeCapabilityMap(defaultCapabilities()));
    if (answer.msg.type !== MessageType.Reply) {
      peer.destroy();
      throw new Error(`hostile client: handshake answered with type ${answer.msg.type}`);
    }
    return new HostileClient(peer, avoid);
  }

  get isClosed(): boolean {
    return this.peer.isClosed;
  }

  /** Sends one planned message (ids resolved now); returns what went on the wire. */
  send(plan: HostilePlan): Message {
    const object =
      plan.object.kind === "fixed"
        ? plan.object.value
        : (this.learnedObjects[this.learnedObjects.length - 1 - plan.object.index] ?? 1);
    let id: number;
    if (plan.id.kind === "fresh") id = nextHostileId++;
    else if (plan.id.kind === "repeat")
      id = this.recentIds[this.recentIds.length - plan.id.back] ?? nextHostileId++;
    else id = plan.id.value;
    let payload = plan.payload;
    if (plan.family.startsWith("cancel-recent-")) {
      const back = Number(plan.family.slice("cancel-recent-".length));
      payload = encode("I", this.recentIds[this.recentIds.length - back] ?? 0);
    }
    const action = this.avoid(plan.service, object, plan.action) ? 0x7fff_fff0 : plan.action;
    const msg: Message = {
      id,
      type: plan.type as MessageType,
      flags: plan.flags,
      service: plan.service,
      object,
      action,
      payload,
    };
    const sent: SentMessage = { index: this.sent.length, family: plan.family, msg };
    this.sent.push(sent);
    this.recentIds.push(id);
    if (this.recentIds.length > 64) this.recentIds.shift();
    if (msg.type === MessageType.Call) {
      this.unanswered.set(id, (this.unanswered.get(id) ?? 0) + 1);
      this.sentCalls.set(id, sent);
      if (plan.family === "makeObject") this.factoryCalls.add(id);
    }
    if (!this.peer.isClosed) this.peer.send(msg);
    return msg;
  }

  /** The calls still unanswered, described (for an assertion message). */
  unansweredCalls(): string[] {
    return [...this.unanswered.keys()].map((id) => {
      const s = this.sentCalls.get(id);
      return s ? describeSent(s) : `id=${id}`;
    });
  }

  /** Resolves true once every Call was answered, false when the connection closed first or time ran out. */
  async allAnswered(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.unanswered.size > 0 && !this.peer.isClosed && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    return this.unanswered.size === 0;
  }

  destroy(): void {
    this.peer.destroy();
  }

  private onFrame(f: Frame): void {
    const m = f.msg;
    if (m.type === MessageType.Reply || m.type === MessageType.Error || m.type === MessageType.Canceled) {
      const n = this.unanswered.get(m.id);
      if (n !== undefined) {
        if (n <= 1) this.unanswered.delete(m.id);
        else this.unanswered.set(m.id, n - 1);
      }
      if (m.type === MessageType.Reply && this.factoryCalls.delete(m.id)) this.learnObject(m.payload);
      return;
    }
    // The node calls us back (a service we registered: its MetaObject; an object we passed):
    // answer with an Error, as a peer that serves nothing would, so nothing waits on us forever.
    if (m.type === MessageType.Call && !this.peer.isClosed)
      this.peer.send({ ...m, type: MessageType.Error, flags: 0, payload: encodeErrorPayload("hostile") });
  }

  private learnObject(payload: Uint8Array): void {
    for (const objectUid of [true, false]) {
      try {
        const ref = decode("o", payload, { objectUid });
        if (ref instanceof ObjectRef && ref.objectId !== 0) {
          this.learnedObjects.push(ref.objectId);
          return;
        }
      } catch {
        // Not this encoding: try the other.
      }
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Sends `plans` in small bursts, yielding between them so the node under test keeps up. */
export async function sendAll(client: HostileClient, plans: HostilePlan[], burst = 32): Promise<void> {
  for (let i = 0; i < plans.length && !client.isClosed; i++) {
    client.send(plans[i]);
    if (i % burst === burst - 1) await new Promise((r) => setImmediate(r));
  }
}

/** Uids of a local object's members, by name (for FuzzTargets). */
export function memberUids(meta: MetaObject): Pick<FuzzTargets, "methods" | "signals" | "properties"> {
  const methods: Record<string, number> = {};
  const signals: Record<string, number> = {};
  const properties: Record<string, number> = {};
  for (const m of meta.methods.values()) if (m.uid >= 100) methods[m.name] = m.uid;
  for (const s of meta.signals.values()) if (s.uid >= 100) signals[s.name] = s.uid;
  for (const p of meta.properties.values()) properties[p.name] = p.uid;
  return { methods, signals, properties };
}

/** The service both fuzz tests attack: methods of several shapes, an object factory, a signal, a property. */
export function fuzzCalc(level: number): QiObject {
  return new QiObject({ description: "fuzz calc" })
    .method("add", "(ii)", "i", (a: number, b: number) => a + b)
    .method("echo", "(m)", "m", (v: unknown) => v)
    .method("concat", "(ss)", "s", (a: string, b: string) => a + b)
    .method("makeCounter", "(i)", "o", (start: number) => {
      let value = start;
      return new QiObject().method("next", "()", "i", () => ++value).signal("changed", "(i)");
    })
    .signal("tick", "(i)")
    .property("level", "i", level);
}
