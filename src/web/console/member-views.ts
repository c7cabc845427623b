/// <reference lib="dom" />
/**
 * A service's page: its methods (call with a JSON array, converted by the signature as on the
 * command line: wire/json.ts), signals (watch), properties (get, set, watch) and, for a
 * camera signal `(iiIr)`, a canvas.
 */
import {
  argsFromJson,
  fromJson,
  type MetaMethod,
  type MetaObject,
  type MetaProperty,
  type MetaSignal,
  parseJson,
  type Raw,
  type RemoteObject,
} from "../client/index.js";
import { describeError, h, logEvent } from "./dom.js";
import { memberTypes, readableType, show, sigLine } from "./types.js";

const FIRST_USER_MEMBER = 100;

interface Watch {
  proxy: RemoteObject;
  signal: string;
  link: number;
}

/** Signals watched by this page, by `service.signal`. */
export const watches = new Map<string, Watch>();

/** Stops every watch (at logout). */
export async function unwatchAll(): Promise<void> {
  for (const w of watches.values())
    await w.proxy
      .signal(w.signal)
      .disconnect(w.link)
      .catch(() => {});
  watches.clear();
}

export function renderService(panel: HTMLElement, name: string, meta: MetaObject, proxy: RemoteObject): void {
  const propertyIds = new Set(meta.properties.keys());
  const byUid = <T extends { uid: number }>(a: T, b: T) => a.uid - b.uid;
  const methods = [...meta.methods.values()].filter((m) => m.uid >= FIRST_USER_MEMBER).sort(byUid);
  const signals = [...meta.signals.values()]
    .filter((s) => s.uid >= FIRST_USER_MEMBER && !propertyIds.has(s.uid))
    .sort(byUid);
  const properties = [...meta.properties.values()].filter((p) => p.uid >= FIRST_USER_MEMBER).sort(byUid);
  panel.replaceChildren(h("h2", { text: name }));
  if (meta.description) panel.append(h("p", { class: "desc", text: meta.description }));
  // A camera: a signal (width, height, sequence, RGB bytes), like the demo ALVideoDevice's `image`.
  const camera = signals.find((s) => /^\(ii[iI]r\)/.test(s.signature));
  if (camera) panel.append(cameraView(proxy, camera));
  panel.append(h("h3", { text: `Methods (${methods.length})` }));
  for (const m of methods) panel.append(methodView(proxy, m));
  panel.append(h("h3", { text: `Signals (${signals.length})` }));
  for (const s of signals) panel.append(signalView(proxy, name, s));
  panel.append(h("h3", { text: `Properties (${properties.length})` }));
  for (const p of properties) panel.append(propertyView(proxy, p));
}

function methodView(proxy: RemoteObject, m: MetaMethod): HTMLElement {
  const types = memberTypes(m.parametersSignature);
  const names = m.parameters.map((p) => p.name);
  const input = h("input", {
    "data-method": m.name,
    placeholder:
      types.length === 0
        ? "[]"
        : `[${types.map((t) => (t === "s" ? '"text"' : readableType(t))).join(", ")}]`,
    "aria-label": `arguments of ${m.name} as a JSON array`,
  });
  const result = h("pre", { class: "result", hidden: "" });
  const call = h("button", { type: "button", class: "small", "data-call": m.name, text: "call" });
  const run = async (): Promise<void> => {
    result.hidden = false;
    result.classList.remove("bad");
    let json: unknown;
    try {
      const text = input.value.trim();
      json = text === "" ? [] : parseJson(text);
      if (!Array.isArray(json)) json = [json];
    } catch (e) {
      result.textContent = `arguments are not JSON: ${(e as Error).message}`;
      result.classList.add("bad");
      return;
    }
    result.textContent = "…";
    const t0 = performance.now();
    try {
      const args = argsFromJson(json as unknown[], m.parametersSignature);
      const v = await proxy.call(`${m.name}::${m.parametersSignature}`, ...args);
      result.textContent = `${show(v)}   (${(performance.now() - t0).toFixed(1)} ms)`;
      result.dataset.ok = "1";
    } catch (e) {
      result.textContent = describeError(e);
      result.classList.add("bad");
    }
  };
  call.addEventListener("click", () => void run());
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") void run();
  });
  const div = h(
    "div",
    { class: "member", "data-member": m.name },
    sigLine(m.name, types, names, m.returnSignature),
  );
  if (m.description) div.append(h("div", { class: "desc", text: m.description }));
  div.append(h("div", { class: "row" }, input, call), result);
  return div;
}

function signalView(proxy: RemoteObject, service: string, s: MetaSignal): HTMLElement {
  const key = `${service}.${s.name}`;
  const button = h("button", {
    type: "button",
    class: "small",
    "data-watch": s.name,
    text: watches.has(key) ? "stop" : "watch",
  });
  button.addEventListener("click", async () => {
    const existing = watches.get(key);
    if (existing) {
      watches.delete(key);
      button.textContent = "watch";
      await existing.proxy
        .signal(s.name)
        .disconnect(existing.link)
        .catch(() => {});
      return;
    }
    button.disabled = true;
    try {
      const link = await proxy.signal(s.name).connect((...args: unknown[]) => {
        logEvent(`${service}.${s.name}${show(args).replace(/^\[/, "(").replace(/\]$/, ")")}`);
      });
      watches.set(key, { proxy, signal: s.name, link });
      button.textContent = "stop";
    } catch (e) {
      logEvent(`cannot watch ${key}: ${describeError(e)}`);
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "member row" }, sigLine(s.name, memberTypes(s.signature)), button);
}

function propertyView(proxy: RemoteObject, p: MetaProperty): HTMLElement {
  const value = h("pre", { class: "result", "data-property": p.name, text: "" });
  const input = h("input", { placeholder: "new value (JSON)", "aria-label": `new value of ${p.name}` });
  const get = h("button", { type: "button", class: "small", text: "get" });
  const set = h("button", { type: "button", class: "small", text: "set" });
  const prop = proxy.property(p.name);
  const read = async (): Promise<void> => {
    try {
      value.textContent = show(await prop.get());
      value.classList.remove("bad");
    } catch (e) {
      value.textContent = describeError(e);
      value.classList.add("bad");
    }
  };
  get.addEventListener("click", () => void read());
  set.addEventListener("click", async () => {
    try {
      await prop.set(fromJson(parseJson(input.value), p.signature));
      await read();
    } catch (e) {
      value.textContent = describeError(e);
      value.classList.add("bad");
    }
  });
  void read();
  return h(
    "div",
    { class: "member" },
    h(
      "span",
      { class: "sig" },
      h("span", { class: "name", text: p.name }),
      ": ",
      h("span", { class: "type", text: readableType(p.signature) }),
    ),
    h("div", { class: "row" }, input, get, set),
    value,
  );
}

// --- camera ----------------------------------------------------------------------------------

function cameraView(proxy: RemoteObject, s: MetaSignal): HTMLElement {
  const canvas = h("canvas", { id: "camera", width: "640", height: "480" });
  const info = h("span", { id: "camera-info", class: "hint", text: "" });
  const button = h("button", { type: "button", class: "small", id: "camera-toggle", text: "show camera" });
  let link: number | undefined;
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
    if (w <= 0 || hgt <= 0 || rgb.length < w * hgt * 3) return;
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
    const now = performance.now();
    if (now - since >= 1000) {
      info.textContent = `${w}×${hgt} · frame ${seq} · ${((frames * 1000) / (now - since)).toFixed(1)} fps received`;
      frames = 0;
      since = now;
    } else if (drawn === 1) {
      info.textContent = `${w}×${hgt} · frame ${seq}`;
    }
  };
  button.addEventListener("click", async () => {
    if (link !== undefined) {
      const l = link;
      link = undefined;
      button.textContent = "show camera";
      await proxy
        .signal(s.name)
        .disconnect(l)
        .catch(() => {});
      return;
    }
    button.disabled = true;
    try {
      link = await proxy.signal(s.name).connect((w: number, hgt: number, seq: number, raw: Raw) => {
        frames++;
        latest = [w, hgt, seq, raw];
        if (!pending) {
          pending = true;
          requestAnimationFrame(draw);
        }
      });
      button.textContent = "stop camera";
    } catch (e) {
      info.textContent = describeError(e);
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "div",
    { class: "member" },
    h("div", { class: "row" }, sigLine(s.name, memberTypes(s.signature)), button, info),
    canvas,
  );
}
