/**
 * An ALVideoDevice-like camera: 640×480 RGB frames as the signal `image(iiIr)` (width,
 * height, sequence, bytes) at `fps` frames per second, and `getImage()` for one frame.
 *
 * Frames cost nothing to make: the picture is a diagonal gradient whose pixel colour only
 * depends on (pixel index mod 256), so frame k is a *view* at offset k·8 pixels into one
 * buffer allocated once — no 900 KB allocation or fill per frame (the codec copies the bytes
 * into the message anyway). Frames are produced only while someone is subscribed to `image`
 * and streaming is on (the default).
 */
import type { QiObject } from "../object/index.js";
import { CheckedObject, inRange } from "./checked-properties.js";
import { Raw } from "../wire/index.js";
import type { DemoService } from "./types.js";

export const FRAME_WIDTH = 640;
export const FRAME_HEIGHT = 480;
export const FRAME_CHANNELS = 3;
export const FRAME_BYTES = FRAME_WIDTH * FRAME_HEIGHT * FRAME_CHANNELS;
const PERIOD = 256; // pixels after which the pattern repeats
const STEP = 8; // pixels the picture moves per frame
const MAX_FPS = 30;

function makePattern(): Uint8Array {
  const pixels = FRAME_WIDTH * FRAME_HEIGHT + PERIOD;
  const buf = new Uint8Array(pixels * FRAME_CHANNELS);
  for (let p = 0; p < pixels; p++) {
    const v = p % PERIOD;
    buf[p * 3] = v;
    buf[p * 3 + 1] = (v * 2) & 0xff;
    buf[p * 3 + 2] = 255 - v;
  }
  return buf;
}

/** A QiObject that knows how many subscribers a signal has (to stream only when watched). */
class CameraObject extends CheckedObject {
  watchedUid = -1;
  onWatchers: (count: number) => void = () => {};
  private watchers = 0;

  override connect(uid: number, listener: Parameters<QiObject["connect"]>[1]): () => void {
    const off = super.connect(uid, listener);
    if (uid !== this.watchedUid) return off;
    this.watchers++;
    this.onWatchers(this.watchers);
    let done = false;
    return () => {
      off();
      if (done) return;
      done = true;
      this.watchers--;
      this.onWatchers(this.watchers);
    };
  }
}

export function createVideoDevice(): DemoService {
  const pattern = makePattern();
  let sequence = 0;
  let enabled = true;
  let watchers = 0;
  let running = false;
  let timer: ReturnType<typeof setInterval> | undefined;

  const frame = (): [number, number, number, Raw] => {
    const seq = sequence++ >>> 0;
    const offset = ((seq * STEP) % PERIOD) * FRAME_CHANNELS;
    return [FRAME_WIDTH, FRAME_HEIGHT, seq, new Raw(pattern.subarray(offset, offset + FRAME_BYTES))];
  };

  const object = new CameraObject({ description: "Simulated ALVideoDevice: a 640x480 RGB camera" });
  object
    .method("getImage", "()", "(iiIr)", frame, {
      description: "One frame: (width, height, sequence, RGB bytes)",
    })
    .method(
      "startStreaming",
      "()",
      "v",
      () => {
        enabled = true;
        reschedule();
      },
      { description: "Emits `image` at `fps` while someone is subscribed (the default)" },
    )
    .method(
      "stopStreaming",
      "()",
      "v",
      () => {
        enabled = false;
        reschedule();
      },
      { description: "Stops emitting `image`" },
    )
    .method("isStreaming", "()", "b", () => timer !== undefined, {
      description: "Whether frames are being emitted now",
    })
    .signal("image", "(iiIr)")
    .property("fps", "i", 5)
    .checked("fps", inRange("fps", 1, MAX_FPS, true));

  const meta = object.metaObject();
  const uidOf = (name: string) => [...meta.signals.values()].find((s) => s.name === name)!.uid;
  object.watchedUid = uidOf("image");
  object.onWatchers = (n) => {
    watchers = n;
    reschedule();
  };
  // Setting `fps` (locally or remotely) reschedules the timer.
  object.connect(uidOf("fps"), () => reschedule());

  function fps(): number {
    const v = Number(object.getProperty("fps"));
    return Number.isFinite(v) ? Math.min(MAX_FPS, Math.max(1, v)) : 5;
  }

  function reschedule(): void {
    if (timer) clearInterval(timer);
    timer = undefined;
    if (!running || !enabled || watchers === 0) return;
    timer = setInterval(() => object.emit("image", ...frame()), 1000 / fps());
    timer.unref();
  }

  return {
    name: "ALVideoDevice",
    object,
    start() {
      running = true;
      reschedule();
    },
    stop() {
      running = false;
      reschedule();
    },
  };
}
