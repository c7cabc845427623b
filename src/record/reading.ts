/**
 * Opening a recording for replay, safely: the file is hostile until proven otherwise. Every
 * read the MCAP reader asks for is checked against the file's size before a byte is allocated
 * (a record claiming 4 GiB in a 1 MiB file is an error naming its offset, not an allocation),
 * and no single read may exceed `maxReadBytes`. Compressed chunks are refused (`qi record`
 * writes none). Any failure is a RecordingFileError saying what and where.
 */
import { McapIndexedReader } from "@mcap/core";
import { RecordingFileError } from "./errors.js";

/** Random access to the bytes of a file (a Node file handle, a Blob…). */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface OpenOptions {
  /** The largest single read (a chunk, the summary); default 256 MiB. */
  maxReadBytes?: number;
}

export const DEFAULT_MAX_READ_BYTES = 256 * 1024 * 1024;
const MAGIC_LENGTH = 8;

export async function openRecording(
  source: ByteSource,
  name: string,
  options: OpenOptions = {},
): Promise<McapIndexedReader> {
  const limit = options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
  const size = BigInt(source.size);
  if (size < BigInt(MAGIC_LENGTH * 2))
    throw new RecordingFileError(`${name} is not an MCAP recording: only ${size} bytes`, name, 0n);
  const magic = [0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]; // "\x89MCAP0\r\n" (MCAP spec)
  const isMagic = (b: Uint8Array) => b.length === MAGIC_LENGTH && magic.every((x, i) => b[i] === x);
  if (!isMagic(await source.read(0, MAGIC_LENGTH)))
    throw new RecordingFileError(
      `${name} is not an MCAP recording: it does not start with MCAP's magic bytes`,
      name,
      0n,
    );
  if (!isMagic(await source.read(source.size - MAGIC_LENGTH, MAGIC_LENGTH)))
    throw new RecordingFileError(
      `${name} is truncated: it ends at byte ${size} without MCAP's closing magic bytes (the recorder was killed before it could write the index?)`,
      name,
      size - BigInt(MAGIC_LENGTH),
    );
  const readable = {
    size: async () => size,
    read: async (offset: bigint, length: bigint) => {
      if (offset < 0n || length < 0n || offset + length > size)
        throw new RecordingFileError(
          `${name}: a record at offset ${offset} claims ${length} bytes, past the end of the file (${size} bytes): the file is truncated or corrupt`,
          name,
          offset,
        );
      if (length > BigInt(limit))
        throw new RecordingFileError(
          `${name}: a record at offset ${offset} claims ${length} bytes, more than the ${limit}-byte read limit`,
          name,
          offset,
        );
      return source.read(Number(offset), Number(length));
    },
  };
  try {
    return await McapIndexedReader.Initialize({ readable });
  } catch (e) {
    throw asFileError(e, name, size);
  }
}

/** A reader's failure as a RecordingFileError (kept as is when it already is one). */
export function asFileError(e: unknown, name: string, size?: bigint): RecordingFileError {
  if (e instanceof RecordingFileError) return e;
  const why = e instanceof Error ? e.message : String(e);
  const hint =
    size === undefined
      ? ""
      : ` (${size} bytes; a recording cut short — the recorder killed before it could write its index — ends like this)`;
  return new RecordingFileError(`${name} is not a complete MCAP recording: ${why}${hint}`, name, undefined, {
    cause: e,
  });
}
