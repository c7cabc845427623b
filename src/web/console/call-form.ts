/// <reference lib="dom" />
/**
 * A method's call form: one field per parameter, labelled with its name and readable type,
 * each converted by its own signature (wire/json.ts), so an error names the parameter as the
 * user sees it ("b (int32): expected an integer"), never a position in a hidden tuple. A
 * string parameter takes plain text (JSON quotes optional). A returned object opens as its
 * own panel (object-panel.ts).
 */
import { fromJson, type MetaMethod, parseJson, RemoteObject, tidyFloats } from "../client/index.js";
import { describeError, h } from "./dom.js";
import { memberTypes, readableType, show } from "./types.js";

export type ObjectOpener = (title: string, proxy: RemoteObject) => void;

/** The value of one field, or an error that names the parameter. */
export function fieldValue(text: string, sig: string, name: string): unknown {
  const what = `${name} (${readableType(sig)})`;
  const t = text.trim();
  if (sig === "s") {
    try {
      const j = parseJson(t);
      return typeof j === "string" ? j : text;
    } catch {
      return text;
    }
  }
  if (t === "") throw new Error(`${what}: no value given`);
  let json: unknown;
  try {
    json = parseJson(t);
  } catch {
    throw new Error(`${what}: “${t.length > 40 ? `${t.slice(0, 40)}…` : t}” is not a value (JSON)`);
  }
  return fromJson(json, sig, what);
}

export function callForm(
  proxy: RemoteObject,
  label: string,
  m: MetaMethod,
  openObject: ObjectOpener,
): HTMLElement {
  const types = memberTypes(m.parametersSignature);
  const names = types.map((_, i) => m.parameters[i]?.name || `argument ${i + 1}`);
  const inputs = types.map((t, i) =>
    h("input", {
      "data-param": names[i],
      placeholder: t === "s" ? "text" : readableType(t),
      "aria-label": `${names[i]} of ${m.name} (${readableType(t)})`,
    }),
  );
  const result = h("pre", { class: "result", hidden: "" });
  const call = h("button", { type: "button", class: "small", "data-call": m.name, text: "call" });
  let calls = 0;
  const run = async (): Promise<void> => {
    result.hidden = false;
    result.classList.remove("bad");
    delete result.dataset.ok;
    let args: unknown[];
    try {
      args = types.map((t, i) => fieldValue(inputs[i].value, t, names[i]));
    } catch (e) {
      result.textContent = (e as Error).message;
      result.classList.add("bad");
      return;
    }
    result.textContent = "…";
    const t0 = performance.now();
    try {
      const v = await proxy.call(`${m.name}::${m.parametersSignature}`, ...args);
      const ms = `(${(performance.now() - t0).toFixed(1)} ms)`;
      if (v instanceof RemoteObject) {
        calls++;
        const title = `${label}.${m.name}#${calls}`;
        result.textContent = `an object: opened as “${title}”   ${ms}`;
        openObject(title, v);
      } else {
        result.textContent = `${show(tidyFloats(v, m.returnSignature))}   ${ms}`;
      }
      result.dataset.ok = "1";
    } catch (e) {
      result.textContent = describeError(e);
      result.classList.add("bad");
    }
  };
  call.addEventListener("click", () => void run());
  const fields = h("div", { class: "params" });
  inputs.forEach((input, i) => {
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") void run();
    });
    fields.append(
      h(
        "label",
        { class: "param" },
        h(
          "span",
          {},
          h("span", { text: names[i] }),
          " ",
          h("span", { class: "type", text: readableType(types[i]) }),
        ),
        input,
      ),
    );
  });
  return h("div", { class: "row call-row" }, fields, call, result);
}
