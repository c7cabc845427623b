/// <reference lib="dom" />
/**
 * An object's members, for a service's page and for a returned object's panel: methods (a
 * call form per method), signals (watch into Messages; plot a numeric argument), properties
 * (get, set, watch in place, plot when numeric) and, for a camera signal `(iiIr)`, a canvas.
 */
import {
  fromJson,
  type MetaMethod,
  type MetaObject,
  type MetaProperty,
  type MetaSignal,
  parseJson,
  type RemoteObject,
  tidyFloats,
} from "../client/index.js";
import { callForm, type ObjectOpener } from "./call-form.js";
import { cameraView } from "./camera-view.js";
import { describeError, h } from "./dom.js";
import { plotMember, watchProperty, watchSignal } from "./live.js";
import { isNumericSignature, numericMembers } from "./numeric.js";
import { rateOf, rateSelect } from "./rate-select.js";
import { toggleButton } from "./subscriptions.js";
import { memberTypes, readableType, show, sigLine } from "./types.js";

const FIRST_USER_MEMBER = 100;

let openObject: ObjectOpener = () => {};

/** Where returned objects go (object-panel.ts; set once at start, which avoids an import cycle). */
export function setObjectOpener(opener: ObjectOpener): void {
  openObject = opener;
}

/** A service's page: its name, description, camera if any, and members. */
export function renderService(panel: HTMLElement, name: string, proxy: RemoteObject): void {
  const meta = proxy.metaObject;
  panel.replaceChildren(h("h2", { text: name }));
  if (meta.description) panel.append(h("p", { class: "desc", text: meta.description }));
  const camera = userSignals(meta).find((s) => /^\(ii[iI]r\)/.test(s.signature));
  if (camera) panel.append(cameraView(proxy, name, camera));
  renderMembers(panel, name, proxy);
}

function userSignals(meta: MetaObject): MetaSignal[] {
  const propertyIds = new Set(meta.properties.keys());
  return [...meta.signals.values()]
    .filter((s) => s.uid >= FIRST_USER_MEMBER && !propertyIds.has(s.uid))
    .sort((a, b) => a.uid - b.uid);
}

/** Methods, signals and properties of `proxy` (called `label` on the page), appended to `panel`. */
export function renderMembers(panel: HTMLElement, label: string, proxy: RemoteObject): void {
  const meta = proxy.metaObject;
  const byUid = <T extends { uid: number }>(a: T, b: T) => a.uid - b.uid;
  const methods = [...meta.methods.values()].filter((m) => m.uid >= FIRST_USER_MEMBER).sort(byUid);
  const signals = userSignals(meta);
  const properties = [...meta.properties.values()].filter((p) => p.uid >= FIRST_USER_MEMBER).sort(byUid);
  panel.append(h("h3", { text: `Methods (${methods.length})` }));
  for (const m of methods) panel.append(methodView(proxy, label, m));
  panel.append(h("h3", { text: `Signals (${signals.length})` }));
  for (const s of signals) panel.append(signalView(proxy, label, s));
  panel.append(h("h3", { text: `Properties (${properties.length})` }));
  for (const p of properties) panel.append(propertyView(proxy, label, p));
}

function methodView(proxy: RemoteObject, label: string, m: MetaMethod): HTMLElement {
  const types = memberTypes(m.parametersSignature);
  const names = m.parameters.map((p) => p.name);
  const div = h(
    "div",
    { class: "member", "data-member": m.name },
    sigLine(m.name, types, names, m.returnSignature),
  );
  if (m.description) div.append(h("div", { class: "desc", text: m.description }));
  div.append(callForm(proxy, label, m, openObject));
  return div;
}

function signalView(proxy: RemoteObject, label: string, s: MetaSignal): HTMLElement {
  const types = memberTypes(s.signature);
  const rate = rateSelect("all", { "data-rate": s.name, "aria-label": `rate of ${s.name}` });
  const watch = toggleButton(
    `signal:${label}.${s.name}`,
    { on: "stop", off: "watch" },
    () => watchSignal(proxy, label, s.name, s.signature, rateOf(rate)),
    { "data-watch": s.name },
  );
  const row = h(
    "div",
    { class: "member row", "data-signal-member": s.name },
    sigLine(s.name, types),
    rate,
    watch,
  );
  for (const i of numericMembers(types)) {
    const title = types.length === 1 ? "plot" : `plot [${i}]`;
    row.append(
      toggleButton(
        `plot:${label}.${s.name}[${i}]`,
        { on: `unplot${types.length === 1 ? "" : ` [${i}]`}`, off: title },
        () => plotMember(proxy, label, s.name, types[i], i, "signal"),
        { "data-plot": `${s.name}[${i}]` },
      ),
    );
  }
  return row;
}

function propertyView(proxy: RemoteObject, label: string, p: MetaProperty): HTMLElement {
  const value = h("pre", {
    class: "result",
    "data-property": p.name,
    "data-live-value": `property:${label}.${p.name}`,
    text: "",
  });
  const input = h("input", {
    placeholder: `new value (${readableType(p.signature)})`,
    "aria-label": `new value of ${p.name}`,
  });
  const get = h("button", { type: "button", class: "small", text: "get" });
  const set = h("button", { type: "button", class: "small", text: "set" });
  const prop = proxy.property(p.name);
  const read = async (): Promise<void> => {
    try {
      value.textContent = show(tidyFloats(await prop.get(), p.signature));
      value.classList.remove("bad");
    } catch (e) {
      value.textContent = describeError(e);
      value.classList.add("bad");
    }
  };
  get.addEventListener("click", () => void read());
  set.addEventListener("click", async () => {
    try {
      const text = input.value.trim();
      await prop.set(
        fromJson(p.signature === "s" && !text.startsWith('"') ? text : parseJson(text), p.signature, p.name),
      );
      await read();
    } catch (e) {
      value.textContent = describeError(e);
      value.classList.add("bad");
    }
  });
  const watch = toggleButton(
    `property:${label}.${p.name}`,
    { on: "stop", off: "watch" },
    () => watchProperty(proxy, label, p.name, p.signature),
    { "data-watch-property": p.name },
  );
  const row = h("div", { class: "row" }, input, get, set, watch);
  if (isNumericSignature(p.signature))
    row.append(
      toggleButton(
        `plot:${label}.${p.name}`,
        { on: "unplot", off: "plot" },
        () => plotMember(proxy, label, p.name, p.signature, undefined, "property"),
        { "data-plot-property": p.name },
      ),
    );
  void read();
  return h(
    "div",
    { class: "member", "data-property-member": p.name },
    h(
      "span",
      { class: "sig" },
      h("span", { class: "name", text: p.name }),
      ": ",
      h("span", { class: "type", text: readableType(p.signature) }),
    ),
    row,
    value,
  );
}
