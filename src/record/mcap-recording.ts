/**
 * An MCAP file being written: channels for qi members, one message per event, a summary and
 * index at close (McapWriter, chunked). McapWriter wants each call finished before the next,
 * while qi events arrive whenever they like: writes go through one promise chain, and events
 * that find more than `maxPendingBytes` already waiting (a disk slower than the robot) are
 * dropped and counted, never queued without bound. No Node module: the console uses it too.
 */
import { type IWritable, McapWriter } from "@mcap/core";
import { channelDefinition, encodeEvent, type QiMember, sequenceOf, type ToJson } from "./channel-codec.js";

export interface RecordingOptions {
  /** The file's profile and library strings (MCAP header). */
  library?: string;
  /** Bytes of events waiting for the writer beyond which new events are dropped (default 64 MiB). */
  maxPendingBytes?: number;
  /** How values become JSON (the console passes its client's toJson). */
  toJson?: ToJson;
  /** Events are no longer written once their bytes reach this (`full` turns true). */
  maxBytes?: number;
}

export interface RecordingStats {
  /** Events written (or queued to be). */
  events: number;
  /** Bytes of their messages. */
  bytes: number;
  /** Events dropped because the writer was behind. */
  dropped: number;
}

export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** Service descriptions are MCAP metadata records named this, so replay can host every method. */
export const SERVICE_METADATA = "qi.service";

export interface MethodDescription {
  name: string;
  params: string;
  returns: string;
}

export class McapRecording {
  readonly stats: RecordingStats = { events: 0, bytes: 0, dropped: 0 };
  private readonly writer: McapWriter;
  private tail: Promise<void> = Promise.resolve();
  private pendingBytes = 0;
  private failure: unknown;
  private closed = false;
  private readonly schemas = new Map<string, number>();
  private readonly channels = new Map<string, { id: number; member: QiMember }>();
  private readonly maxPending: number;
  private readonly json: ToJson | undefined;
  private readonly maxBytes: number;

  private constructor(writable: IWritable, options: RecordingOptions) {
    this.writer = new McapWriter({ writable, useStatistics: true, useChunks: true });
    this.maxPending = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.json = options.toJson;
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  static async start(writable: IWritable, options: RecordingOptions = {}): Promise<McapRecording> {
    const r = new McapRecording(writable, options);
    await r.writer.start({ profile: "", library: options.library ?? "qimessaging" });
    return r;
  }

  /** The first write error, if the file could not be written (the disk is full…). */
  get error(): unknown {
    return this.failure;
  }

  /** Whether the events reached `maxBytes` (later ones are not written). */
  get full(): boolean {
    return this.stats.bytes >= this.maxBytes;
  }

  /** Registers the channel of a member (once); resolves with its key for `write`. */
  addMember(member: QiMember): Promise<string> {
    const def = channelDefinition(member);
    const known = this.channels.get(def.topic);
    if (known) return Promise.resolve(def.topic);
    return this.enqueue(async () => {
      if (this.channels.has(def.topic)) return def.topic;
      const schemaKey = `${def.schemaEncoding}\u0000${def.schemaName}`;
      let schemaId = this.schemas.get(schemaKey);
      if (schemaId === undefined) {
        schemaId = await this.writer.registerSchema({
          name: def.schemaName,
          encoding: def.schemaEncoding,
          data: def.schemaData,
        });
        this.schemas.set(schemaKey, schemaId);
      }
      const id = await this.writer.registerChannel({
        topic: def.topic,
        messageEncoding: def.messageEncoding,
        schemaId,
        metadata: def.metadata,
      });
      this.channels.set(def.topic, { id, member });
      return def.topic;
    });
  }

  /** Records what replay needs to host a service's methods (their names and signatures). */
  describeService(service: string, methods: MethodDescription[]): Promise<void> {
    return this.enqueue(() =>
      this.writer.addMetadata({
        name: SERVICE_METADATA,
        metadata: new Map([
          ["service", service],
          ["methods", JSON.stringify(methods)],
        ]),
      }),
    );
  }

  /**
   * Records one event on a channel (`key` from addMember) at `timeNs` (ns since the epoch).
   * Returns false when it was not written (the writer is behind, the recording is full or
   * closed).
   */
  write(key: string, event: unknown, timeNs: bigint): boolean {
    const channel = this.channels.get(key);
    if (!channel || this.closed || this.full || this.failure !== undefined) return false;
    const data = encodeEvent(channel.member, event, timeNs, this.json);
    if (this.pendingBytes + data.byteLength > this.maxPending) {
      this.stats.dropped++;
      return false;
    }
    const sequence = sequenceOf(channel.member, event, this.stats.events);
    this.stats.events++;
    this.stats.bytes += data.byteLength;
    this.pendingBytes += data.byteLength;
    void this.enqueue(() =>
      this.writer.addMessage({ channelId: channel.id, sequence, logTime: timeNs, publishTime: timeNs, data }),
    )
      .finally(() => {
        this.pendingBytes -= data.byteLength;
      })
      .catch(() => {});
    return true;
  }

  /** Waits for the queued events, then writes the summary and index. */
  async close(): Promise<void> {
    if (this.closed) return this.tail;
    this.closed = true;
    await this.enqueue(() => this.writer.end());
    if (this.failure !== undefined) throw this.failure;
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.then(
      () => {},
      (e: unknown) => {
        this.failure ??= e;
      },
    );
    return run;
  }
}
