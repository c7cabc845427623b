/**
 * What a recording holds, as services to host again: each service's recorded signals and
 * properties (with the value at the start), the methods `qi record` described, and the answers
 * of the calls it recorded (with --calls). Everything read from the file is checked: a channel
 * `qi record` did not write is left out, bad signatures and metadata are a RecordingFileError,
 * and the answers kept are bounded.
 */
import type { McapIndexedReader } from "@mcap/core";
import { parseSignature, toJson } from "../wire/index.js";
import { type CallEvent, decodeEvent, memberOf, type QiMember, topicOf } from "./channel-codec.js";
import { RecordingFileError } from "./errors.js";
import { type MethodDescription, SERVICE_METADATA } from "./mcap-recording.js";
import { asFileError } from "./reading.js";

/** Distinct (method, arguments) answers kept per recording. */
export const MAX_RECORDED_ANSWERS = 10_000;

export interface RecordedAnswer {
  value?: unknown;
  error?: string;
}

export interface ServicePlan {
  name: string;
  signals: QiMember[];
  properties: Array<{ member: QiMember; initial: unknown }>;
  methods: MethodDescription[];
  /** By answerKey(method, arguments as JSON). */
  answers: Map<string, RecordedAnswer>;
}

export interface ReplayPlan {
  services: Map<string, ServicePlan>;
  /** The members of the channels to replay, by channel id. */
  channels: Map<number, QiMember>;
  /** Channels left out (not written by `qi record`), by topic. */
  ignored: string[];
}

export function answerKey(method: string, argsJson: unknown): string {
  return `${method}\u0000${JSON.stringify(argsJson)}`;
}

export async function planReplay(reader: McapIndexedReader, file: string): Promise<ReplayPlan> {
  try {
    return await plan(reader, file);
  } catch (e) {
    throw asFileError(e, file);
  }
}

async function plan(reader: McapIndexedReader, file: string): Promise<ReplayPlan> {
  const services = new Map<string, ServicePlan>();
  const serviceOf = (name: string) => {
    let s = services.get(name);
    if (!s) {
      s = { name, signals: [], properties: [], methods: [], answers: new Map() };
      services.set(name, s);
    }
    return s;
  };
  const channels = new Map<number, QiMember>();
  const ignored: string[] = [];
  for (const [id, channel] of reader.channelsById) {
    const member = memberOf(channel.metadata);
    if (!member || (member.kind !== "calls" && !validSignature(member.signature))) {
      ignored.push(channel.topic);
      continue;
    }
    channels.set(id, member);
    const s = serviceOf(member.service);
    if (member.kind === "signal") s.signals.push(member);
    else if (member.kind === "property")
      s.properties.push({ member, initial: await firstValue(reader, member) });
    else await readAnswers(reader, member, s.answers);
  }
  for await (const record of reader.readMetadata({ name: SERVICE_METADATA })) {
    const service = record.metadata.get("service");
    if (service === undefined || !services.has(service)) continue;
    serviceOf(service).methods = parseMethods(record.metadata.get("methods"), file, service);
  }
  return { services, channels, ignored };
}

function validSignature(sig: string): boolean {
  try {
    parseSignature(sig);
    return true;
  } catch {
    return false;
  }
}

async function firstValue(reader: McapIndexedReader, member: QiMember): Promise<unknown> {
  for await (const m of reader.readMessages({ topics: [topicOf(member)] }))
    return decodeEvent(member, m.data, m.sequence);
  return undefined;
}

async function readAnswers(
  reader: McapIndexedReader,
  member: QiMember,
  answers: Map<string, RecordedAnswer>,
): Promise<void> {
  const pending = new Map<number, string>();
  for await (const m of reader.readMessages({ topics: [topicOf(member)] })) {
    const event = decodeEvent(member, m.data, m.sequence) as CallEvent;
    if (event.kind === "call") {
      if (pending.size < MAX_RECORDED_ANSWERS) pending.set(event.id, answerKey(event.method, event.value));
      continue;
    }
    const key = pending.get(event.id);
    pending.delete(event.id);
    if (key === undefined || (answers.size >= MAX_RECORDED_ANSWERS && !answers.has(key))) continue;
    answers.set(key, event.kind === "result" ? { value: event.value } : { error: String(event.value) });
  }
}

function parseMethods(text: string | undefined, file: string, service: string): MethodDescription[] {
  let list: unknown;
  try {
    list = JSON.parse(text ?? "[]");
  } catch {
    list = undefined;
  }
  const ok =
    Array.isArray(list) &&
    list.every(
      (m) =>
        typeof m === "object" &&
        m !== null &&
        typeof m.name === "string" &&
        validSignature(m.params) &&
        validSignature(m.returns),
    );
  if (!ok)
    throw new RecordingFileError(`${file}: the description of ${service}'s methods is malformed`, file);
  return list as MethodDescription[];
}

/** The key of a call's arguments at replay (the same JSON the recorder stored). */
export function argumentsKey(method: string, args: unknown[]): string {
  return answerKey(method, toJson(args));
}
