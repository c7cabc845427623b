/// <reference lib="dom" />
/**
 * A camera: a signal (width, height, sequence, RGB bytes), like the demo ALVideoDevice's
 * `image`, drawn into a canvas at most once per animation frame (only the newest frame is
 * kept). The canvas counts the frames it drew (`data-drawn`), e.g. to see it resume after a
 * reconnection.
 */
import type { MetaSignal, Raw, RemoteObject } from "../client/index.js";
import { describeError, h } from "./dom.js";
import { rateOf, rateSelect } from "./rate-select.js";
import { addSubscription, isSubscribed, stopSubscription, toggleButton } from "./subscriptions.js";
import { memberTypes, sigLine } from "./types.js";

export function cameraView(proxy: RemoteObject, label: string, s: MetaSignal): HTMLElement {
  const canvas = h("canvas", { id: "camera", width: "640", height: "480", "data-drawn": "0" });
  const info = h("span", { id: "camera-info", class: "hint", text: "" });
  let latest: [number, number, number, Raw] | undefined;
  let frames = 0;
  let drawn = 0;
  let since = performance.now();
  let pending = false;
  const ctx = canvas.getContext("2d");
  const draw = (): void => {
    pending = false;
    const f = latest;
    if (!f || !ctx) return;
    const [w, hgt, seq, raw] = f;
    const rgb = raw.bytes;
    if (w <= 0 || hgt <= 0 || w * hgt > 4096 * 4096 || rgb.length < w * hgt * 3) return;
    if (canvas.width !== w || canvas.height !== hgt) {
      canvas.width = w;
      canvas.height = hgt;
    }
    const img = ctx.createImageData(w, hgt);
    const px = img.data;
    for (let i = 0, j = 0, n = w * hgt; i < n; i++, j += 3) {
      const k = i * 4;
      px[k] = rgb[j];
      px[k + 1] = rgb[j + 1];
      px[k + 2] = rgb[j + 2];
      px[k + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    drawn++;
    canvas.dataset.sequence = String(seq);
    canvas.dataset.drawn = String(drawn);
    const now = performance.now();
    if (now - since >= 1000) {
      info.textContent = `${w}×${hgt} · frame ${seq} · ${((frames * 1000) / (now - since)).toFixed(1)} fps received`;
      frames = 0;
      since = now;
    } else if (drawn === 1) {
      info.textContent = `${w}×${hgt} · frame ${seq}`;
    }
  };
  const key = `camera:${label}.${s.name}`;
  // A page wants the newest frame, not a queue of old ones.
  const rate = rateSelect("latest", { id: "camera-rate", "aria-label": "camera frame rate" });
  const onFrame = (w: number, hgt: number, seq: number, raw: Raw): void => {
    frames++;
    latest = [w, hgt, seq, raw];
    if (!pending) {
      pending = true;
      requestAnimationFrame(draw);
    }
  };
  const start = async (): Promise<void> => {
    try {
      const sig = proxy.signal(s.name);
      const link = await sig.connect(onFrame as (...args: unknown[]) => void, rateOf(rate));
      addSubscription({
        key,
        label: `camera ${label}.${s.name}`,
        owner: proxy,
        stop: () => sig.disconnect(link),
      });
    } catch (e) {
      info.textContent = describeError(e);
    }
  };
  // A new rate is a new subscription.
  rate.addEventListener("change", async () => {
    if (!isSubscribed(key)) return;
    await stopSubscription(key);
    await start();
  });
  const button = toggleButton(key, { on: "stop camera", off: "show camera" }, start, { id: "camera-toggle" });
  return h(
    "div",
    { class: "member" },
    h("div", { class: "row" }, sigLine(s.name, memberTypes(s.signature)), rate, button, info),
    canvas,
  );
}
