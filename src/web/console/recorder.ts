/// <reference lib="dom" />
/**
 * The console's record button: records chosen signals and properties (patterns as `qi record`
 * takes them; empty = everything) into an MCAP file in the page's memory with the same codec
 * as `qi record` (src/record), and offers it as a download when stopped. The page's memory is
 * the limit: recording stops by itself at MAX_BYTES.
 */
import { type Session, toJson } from "../client/index.js";
import { chooseMembers, McapRecording, SessionRecorder } from "../../record/index.js";
import { describeError, h } from "./dom.js";

/** A recording kept in the page stops at this size (the download is built from memory). */
export const MAX_BYTES = 256 * 1024 * 1024;

/** McapWriter's IWritable over chunks kept in memory, turned into a Blob at the end. */
class MemoryWritable {
  readonly parts: Uint8Array[] = [];
  private size = 0n;
  position(): bigint {
    return this.size;
  }
  async write(buffer: Uint8Array): Promise<void> {
    this.parts.push(buffer.slice());
    this.size += BigInt(buffer.byteLength);
  }
}

interface Running {
  recorder: SessionRecorder;
  recording: McapRecording;
  memory: MemoryWritable;
  timer: ReturnType<typeof setInterval>;
}

/** Adds the record form to `host`; `session` gives the console's current session. */
export function mountRecorder(host: HTMLElement, session: () => Session | undefined): void {
  const targets = h("input", {
    id: "record-targets",
    placeholder: "ALBattery.charge ALMemory.* (empty: everything)",
    "aria-label": "signals to record",
  });
  const button = h("button", { type: "button", id: "record-button", class: "small", text: "● Record" });
  const status = h("span", { id: "record-status", class: "hint" });
  host.append(h("div", { class: "recorder" }, targets, button, status));
  let running: Running | undefined;

  const stop = async () => {
    const r = running;
    if (!r) return;
    running = undefined;
    clearInterval(r.timer);
    await r.recorder.stop();
    await r.recording.close();
    const blob = new Blob(r.memory.parts as BlobPart[], { type: "application/octet-stream" });
    const link = h("a", {
      href: URL.createObjectURL(blob),
      download: `qi-${new Date().toISOString().replace(/[:.]/g, "-")}.mcap`,
      id: "record-download",
      text: `download (${r.recording.stats.events} events, ${Math.round(blob.size / 1024)} KiB)`,
    });
    status.replaceChildren(link);
    button.textContent = "● Record";
  };

  const start = async () => {
    const s = session();
    if (!s) return;
    button.disabled = true;
    try {
      const chosen = await chooseMembers(
        s,
        targets.value.split(/\s+/).filter((t) => t !== ""),
      );
      const memory = new MemoryWritable();
      const recording = await McapRecording.start(memory, {
        library: "qi console",
        toJson: (v) => toJson(v),
      });
      const recorder = await SessionRecorder.start(chosen, recording, {
        onEvent: () => {
          if (recording.full) void stop();
        },
      });
      const timer = setInterval(() => {
        status.textContent = `${recording.stats.events} events, ${Math.round(recording.stats.bytes / 1024)} KiB`;
      }, 500);
      running = { recorder, recording, memory, timer };
      button.textContent = "■ Stop";
      status.textContent = `recording ${chosen.members.length} signals and properties`;
    } catch (e) {
      status.textContent = describeError(e);
    } finally {
      button.disabled = false;
    }
  };

  button.addEventListener("click", () => void (running ? stop() : start()));
}
