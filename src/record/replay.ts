/**
 * Hosting a recording again: one QiObject per recorded service with its recorded signals and
 * properties (at their recorded start values) and its methods, answered from the recorded
 * calls when the same arguments were recorded, else with an error saying so. Then the events
 * are emitted at their recorded pace (or ×rate), in log-time order, once or in a loop.
 */
import type { McapIndexedReader } from "@mcap/core";
import { QiError } from "../connection/index.js";
import { QiObject } from "../object/index.js";
import { fromJson } from "../wire/index.js";
import { decodeEvent, EventDecodeError, type QiMember } from "./channel-codec.js";
import { asFileError } from "./reading.js";
import { argumentsKey, type ReplayPlan, type ServicePlan } from "./replay-plan.js";

const FIRST_USER_MEMBER = 100;

/** A QiObject that reports each new subscriber of a user signal (to start a replay on the first). */
class ReplayObject extends QiObject {
  onSubscribe: () => void = () => {};

  override connect(uid: number, listener: Parameters<QiObject["connect"]>[1]): () => void {
    const off = super.connect(uid, listener);
    if (uid >= FIRST_USER_MEMBER) this.onSubscribe();
    return off;
  }
}

export interface HostedRecording {
  objects: Map<string, QiObject>;
  /** Resolves once `count` subscriptions to recorded signals exist (at once for 0). */
  subscribers(count: number): Promise<void>;
}

export function hostRecording(plan: ReplayPlan): HostedRecording {
  const objects = new Map<string, QiObject>();
  let subscriptions = 0;
  const waiters = new Set<() => void>();
  for (const s of plan.services.values()) {
    const object = serviceObject(s);
    object.onSubscribe = () => {
      subscriptions++;
      for (const w of waiters) w();
    };
    objects.set(s.name, object);
  }
  return {
    objects,
    subscribers: (count) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (subscriptions < count) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
  };
}

function serviceObject(s: ServicePlan): ReplayObject {
  const object = new ReplayObject({ description: `${s.name}, replayed from a recording` });
  const taken = new Set<string>();
  for (const m of s.signals) {
    object.signal(m.member, m.signature);
    taken.add(m.member);
  }
  for (const { member, initial } of s.properties) {
    object.property(member.member, member.signature, initial);
    taken.add(member.member);
  }
  const recorded = s.answers.size;
  for (const m of s.methods) {
    if (taken.has(m.name)) continue;
    object.method(m.name, m.params, m.returns, (...args: unknown[]) => {
      const answer = s.answers.get(argumentsKey(m.name, args));
      if (!answer)
        throw new QiError(
          "ERR_NO_SUCH_MEMBER",
          recorded === 0
            ? `${s.name}.${m.name} is replayed from a recording without calls (record with --calls)`
            : `${s.name}.${m.name} was not recorded with these arguments`,
        );
      if (answer.error !== undefined) throw new Error(answer.error);
      return fromJson(answer.value, m.returns);
    });
  }
  return object;
}

export interface ReplayOptions {
  /** Speed factor: 2 replays twice as fast (default 1). */
  rate?: number;
  loop?: boolean;
  signal?: AbortSignal;
  /** An event that could not be decoded (skipped). */
  onSkip?: (why: string) => void;
}

/** Emits the recorded events; resolves with how many were emitted (at the end, or when aborted). */
export async function replayEvents(
  reader: McapIndexedReader,
  plan: ReplayPlan,
  objects: Map<string, QiObject>,
  options: ReplayOptions = {},
): Promise<number> {
  const rate = options.rate ?? 1;
  let emitted = 0;
  do {
    let startNs: bigint | undefined;
    const startMs = performance.now();
    try {
      for await (const m of reader.readMessages()) {
        if (options.signal?.aborted) return emitted;
        const member = plan.channels.get(m.channelId);
        if (!member || member.kind === "calls") continue;
        startNs ??= m.logTime;
        const dueMs = startMs + Number(m.logTime - startNs) / 1e6 / rate;
        const wait = dueMs - performance.now();
        if (wait > 1 && !(await sleep(wait, options.signal))) return emitted;
        if (emit(objects.get(member.service)!, member, m.data, m.sequence, options.onSkip)) emitted++;
      }
    } catch (e) {
      throw asFileError(e, "the recording");
    }
  } while (options.loop && !options.signal?.aborted);
  return emitted;
}

function emit(
  object: QiObject,
  member: QiMember,
  data: Uint8Array,
  sequence: number,
  onSkip: ReplayOptions["onSkip"],
): boolean {
  let value: unknown;
  try {
    value = decodeEvent(member, data, sequence);
  } catch (e) {
    if (e instanceof EventDecodeError) {
      onSkip?.(e.message);
      return false;
    }
    throw e;
  }
  if (member.kind === "property") object.setProperty(member.member, value);
  else object.emit(member.member, ...(value as unknown[]));
  return true;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
