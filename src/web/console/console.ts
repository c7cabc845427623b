/// <reference lib="dom" />
/**
 * The web console: log in to a gateway (or any ws/wss qi endpoint), browse services, call
 * methods with JSON arguments, watch signals, read and set properties, show a camera
 * (`image(iiIr)` signals: width, height, sequence, RGB bytes) in a canvas, and the gateway's
 * page: a summary and its connected clients from /stats.json, fetched with the login's
 * credentials. Plain DOM, no framework; the client comes from ./qi.js.
 */
import {
  ByteString,
  connect,
  Dynamic,
  defaultUrl,
  isQiError,
  type MetaMethod,
  type MetaObject,
  type MetaProperty,
  type MetaSignal,
  ObjectRef,
  Optional,
  parseSignature,
  printSignature,
  Raw,
  RemoteObject,
  type Session,
  Struct,
  TransportError,
} from "../client/index.js";
import type { GatewayStatsJson } from "../stats.js";

type SigNode = ReturnType<typeof parseSignature>;

const FIRST_USER_MEMBER = 100;
const MAX_EVENTS = 300;

function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el;
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) el.append(c);
  return el;
}

// --- values ----------------------------------------------------------------------------------

/** The qi value model as JSON-friendly data for display. */
export function toDisplay(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Raw) return `<raw ${v.bytes.length} bytes>`;
  if (v instanceof ByteString) return v.toString();
  if (v instanceof Dynamic) return toDisplay(v.value);
  if (v instanceof Optional) return v.hasValue ? toDisplay(v.value) : null;
  if (v instanceof Struct)
    return Object.fromEntries(Object.entries(v.fields).map(([k, x]) => [k, toDisplay(x)]));
  if (v instanceof Map)
    return Object.fromEntries([...v].map(([k, x]) => [String(toDisplay(k)), toDisplay(x)]));
  if (v instanceof RemoteObject || v instanceof ObjectRef) return "<object>";
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (Array.isArray(v)) return v.map(toDisplay);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toDisplay(x)]));
  }
  return v;
}

function show(v: unknown): string {
  return JSON.stringify(toDisplay(v)) ?? "null";
}

function base64ToBytes(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** JSON → the value a signature expects (l/L → bigint, r ← "base64:…", maps, structs, m). */
export function fromJson(value: unknown, node: SigNode): unknown {
  switch (node.kind) {
    case "scalar":
      switch (node.code) {
        case "l":
        case "L":
          return typeof value === "number" || typeof value === "string" ? BigInt(value) : value;
        case "r":
          if (typeof value === "string") {
            return new Raw(
              value.startsWith("base64:") ? base64ToBytes(value.slice(7)) : new TextEncoder().encode(value),
            );
          }
          if (Array.isArray(value)) return new Raw(Uint8Array.from(value as number[]));
          return value;
        case "m":
          return value instanceof Dynamic ? value : toDynamic(value);
        default:
          return value;
      }
    case "list":
    case "varargs":
      return Array.isArray(value) ? value.map((x) => fromJson(x, node.element)) : value;
    case "map":
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        const numericKey = node.key.kind === "scalar" && /[cCwWiIlLfd]/.test(node.key.code);
        return new Map(
          Object.entries(value).map(([k, x]) => [
            fromJson(numericKey ? Number(k) : k, node.key),
            fromJson(x, node.value),
          ]),
        );
      }
      return value;
    case "tuple":
      if (node.fieldNames && value !== null && typeof value === "object" && !Array.isArray(value)) {
        const obj = value as Record<string, unknown>;
        const fields: Record<string, unknown> = {};
        node.fieldNames.forEach((f, i) => {
          fields[f] = fromJson(obj[f], node.members[i]);
        });
        return new Struct(node.name ?? "", fields);
      }
      return Array.isArray(value)
        ? value.map((x, i) => (node.members[i] ? fromJson(x, node.members[i]) : x))
        : value;
    case "optional":
      return value === null || value === undefined
        ? Optional.NONE
        : Optional.of(fromJson(value, node.element));
    default:
      return value;
  }
}

function toDynamic(value: unknown): Dynamic {
  if (value === null || value === undefined) return Dynamic.EMPTY;
  if (typeof value === "boolean") return new Dynamic("b", value);
  if (typeof value === "number") return new Dynamic(Number.isInteger(value) ? "i" : "d", value);
  if (typeof value === "string") return new Dynamic("s", value);
  if (Array.isArray(value)) return new Dynamic("[m]", value.map(toDynamic));
  return new Dynamic("{sm}", new Map(Object.entries(value).map(([k, x]) => [k, toDynamic(x)])));
}

function argsFor(paramsSig: string, json: unknown[]): unknown[] {
  const node = parseSignature(paramsSig);
  if (node.kind === "tuple") return json.map((v, i) => (node.members[i] ? fromJson(v, node.members[i]) : v));
  return json.map((v) => fromJson(v, node));
}

/** `(ii)` → ["i", "i"], readable. */
function memberTypes(sig: string): string[] {
  try {
    const node = parseSignature(sig);
    if (node.kind === "tuple" && node.fieldNames === undefined)
      return node.members.map((m) => printSignature(m));
    return [printSignature(node)];
  } catch {
    return [sig];
  }
}

const TYPE_NAMES: Record<string, string> = {
  b: "bool",
  c: "int8",
  C: "uint8",
  w: "int16",
  W: "uint16",
  i: "int32",
  I: "uint32",
  l: "int64",
  L: "uint64",
  f: "float",
  d: "double",
  s: "string",
  r: "raw",
  m: "value",
  o: "object",
  v: "void",
  X: "unknown",
};

/** A readable type: `[s]` → `list<string>`, `{si}` → `map<string,int32>`. */
export function readableType(sig: string): string {
  let node: SigNode;
  try {
    node = parseSignature(sig);
  } catch {
    return sig;
  }
  const r = (n: SigNode): string => {
    switch (n.kind) {
      case "scalar":
        return TYPE_NAMES[n.code] ?? n.code;
      case "list":
        return `list<${r(n.element)}>`;
      case "map":
        return `map<${r(n.key)},${r(n.value)}>`;
      case "tuple":
        return n.name ? n.name : `(${n.members.map(r).join(", ")})`;
      case "optional":
        return `optional<${r(n.element)}>`;
      case "varargs":
        return `${r(n.element)}...`;
      case "kwargs":
        return `kwargs<${r(n.element)}>`;
    }
  };
  return r(node);
}

function sigLine(name: string, types: string[], paramNames: string[] = [], ret?: string): HTMLElement {
  const line = h("span", { class: "sig" }, h("span", { class: "name", text: name }), "(");
  types.forEach((t, i) => {
    if (i > 0) line.append(", ");
    line.append(h("span", { class: "type", text: readableType(t) }));
    if (paramNames[i]) line.append(` ${paramNames[i]}`);
  });
  line.append(")");
  if (ret !== undefined) line.append(" → ", h("span", { class: "type", text: readableType(ret) }));
  return line;
}

// --- state -----------------------------------------------------------------------------------

interface Watch {
  proxy: RemoteObject;
  signal: string;
  link: number;
}

let session: Session | undefined;
/** What the user logged in with (undefined: anonymous or logged out), reused for /stats.json. */
let credentials: { user: string; token: string } | undefined;
let current: { name: string; proxy: RemoteObject } | undefined;
const watches = new Map<string, Watch>();

function setStatus(text: string, ok: boolean): void {
  const s = $("status");
  s.textContent = text;
  s.className = ok ? "status ok" : "status";
}

function describeError(e: unknown): string {
  if (isQiError(e, "QI_ERR_AUTH")) {
    return `Wrong user or token: the server refused the login (${e.message}).`;
  }
  if (e instanceof TransportError) return `Cannot connect: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

function logEvent(text: string): void {
  const list = $("events");
  list.prepend(h("li", { text: `${new Date().toLocaleTimeString()} ${text}` }));
  while (list.childElementCount > MAX_EVENTS) list.lastElementChild?.remove();
}

// --- login -----------------------------------------------------------------------------------

async function login(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  const err = $("login-error");
  err.hidden = true;
  const url = ($("login-url") as HTMLInputElement).value.trim();
  const user = ($("login-user") as HTMLInputElement).value;
  const token = ($("login-token") as HTMLInputElement).value;
  const button = $("login-button") as HTMLButtonElement;
  button.disabled = true;
  setStatus(`connecting to ${url}…`, false);
  try {
    const s = await connect(url, user !== "" || token !== "" ? { user, token } : {});
    session = s;
    credentials = user !== "" || token !== "" ? { user, token } : undefined;
    s.on("disconnected", (reason: string) => {
      setStatus(`disconnected: ${reason}`, false);
      showLogin(`Disconnected: ${reason}`);
    });
    s.on("serviceRegistered", () => void listServices());
    s.on("serviceUnregistered", () => void listServices());
    setStatus(`connected to ${url}${user ? ` as ${user}` : ""}`, true);
    $("login").hidden = true;
    $("services-page").hidden = false;
    await listServices();
  } catch (e) {
    setStatus("not connected", false);
    showLogin(describeError(e));
  } finally {
    button.disabled = false;
  }
}

function showLogin(message?: string): void {
  $("login").hidden = false;
  $("services-page").hidden = true;
  const err = $("login-error");
  if (message) {
    err.textContent = message;
    err.hidden = false;
  }
}

async function logout(): Promise<void> {
  for (const w of watches.values())
    await w.proxy
      .signal(w.signal)
      .disconnect(w.link)
      .catch(() => {});
  watches.clear();
  const s = session;
  session = undefined;
  credentials = undefined;
  current = undefined;
  await s?.close();
  setStatus("not connected", false);
  showLogin();
}

// --- services --------------------------------------------------------------------------------

async function listServices(): Promise<void> {
  if (!session) return;
  const ul = $("services");
  try {
    const infos = await session.services();
    ul.replaceChildren(
      ...infos.map((info) => {
        const b = h("button", { type: "button", "data-service": info.name, text: info.name });
        if (current?.name === info.name) b.classList.add("selected");
        b.addEventListener("click", () => void openService(info.name));
        return h("li", {}, b);
      }),
    );
  } catch (e) {
    ul.replaceChildren(h("li", { class: "error", text: describeError(e) }));
  }
}

async function openService(name: string): Promise<void> {
  if (!session) return;
  const panel = $("service");
  document.querySelectorAll<HTMLElement>("#services button").forEach((b) => {
    b.classList.toggle("selected", b.dataset.service === name);
  });
  let proxy: RemoteObject;
  try {
    proxy = await session.service(name);
  } catch (e) {
    panel.replaceChildren(h("p", { class: "error", text: describeError(e) }));
    return;
  }
  current = { name, proxy };
  renderService(panel, name, proxy.metaObject, proxy);
}

function renderService(panel: HTMLElement, name: string, meta: MetaObject, proxy: RemoteObject): void {
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
      json = text === "" ? [] : JSON.parse(text);
      if (!Array.isArray(json)) json = [json];
    } catch (e) {
      result.textContent = `arguments are not JSON: ${(e as Error).message}`;
      result.classList.add("bad");
      return;
    }
    result.textContent = "…";
    const t0 = performance.now();
    try {
      const args = argsFor(m.parametersSignature, json as unknown[]);
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
      await prop.set(fromJson(JSON.parse(input.value), parseSignature(p.signature)));
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

// --- gateway page ----------------------------------------------------------------------------

let statsTimer: ReturnType<typeof setInterval> | undefined;

/** 5300000 → "5.3 MB" (decimal units, like network tools). */
export function humanBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${value} B`;
  return `${value < 100 ? value.toFixed(1) : value.toFixed(0)} ${units[unit]}`;
}

/** How long ago `since` was, coarse: "12 s", "2 min", "1 h 5 min", "3 d 2 h". */
export function relativeTime(since: Date, now: Date): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - since.getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** The qi credentials as an HTTP Basic header (UTF-8, since btoa only takes Latin-1). */
function basicAuthorization(user: string, token: string): string {
  const bytes = new TextEncoder().encode(`${user}:${token}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

function count(n: number | undefined): string {
  return n === undefined ? "–" : n.toLocaleString("en-US");
}

function renderSummary(stats: GatewayStatsJson): void {
  const t = stats.traffic;
  const items: Array<[key: string, label: string, value: string]> = [
    ["attached", "Service Directory", stats.attached ? "attached" : "not attached"],
    ["clients", "Clients", count(stats.clients.length)],
    ["calls", "Calls", count(t.calls)],
    ["errors", "Errors", count(t.errors)],
    ["refusedCalls", "Refused calls", count(t.refusedCalls)],
    ["droppedEvents", "Dropped events", count(stats.droppedEvents)],
    ["bytesIn", "Bytes in", t.bytesIn === undefined ? "–" : humanBytes(t.bytesIn)],
    ["bytesOut", "Bytes out", t.bytesOut === undefined ? "–" : humanBytes(t.bytesOut)],
  ];
  $("gateway-summary").replaceChildren(
    ...items.map(([key, label, value]) => {
      const item = h(
        "div",
        { class: "stat", "data-stat": key },
        h("span", { class: "label", text: label }),
        h("span", { class: "value", text: value }),
      );
      if (key === "attached") item.classList.add(stats.attached ? "good" : "bad");
      return item;
    }),
  );
}

function renderClients(stats: GatewayStatsJson): void {
  const now = new Date(stats.time);
  const num = (n: number) => h("td", { class: "num", text: count(n) });
  $("gateway-clients-count").textContent = String(stats.clients.length);
  const body = ($("gateway-clients") as HTMLTableElement).tBodies[0];
  if (stats.clients.length === 0) {
    body.replaceChildren(h("tr", {}, h("td", { colspan: "9", class: "hint", text: "No client connected." })));
    return;
  }
  body.replaceChildren(
    ...[...stats.clients]
      .sort((a, b) => a.number - b.number)
      .map((c) => {
        const since = new Date(c.connectedAt);
        return h(
          "tr",
          { "data-client": String(c.number), "data-user": c.user ?? "" },
          num(c.number),
          c.user === undefined
            ? h("td", { class: "hint", text: "anonymous" })
            : h("td", { class: "user", text: c.user }),
          h("td", { class: "peer", text: c.peer }),
          h("td", { class: "since", title: since.toLocaleString(), text: relativeTime(since, now) }),
          num(c.pendingCalls),
          num(c.subscriptions),
          num(c.objects),
          h("td", { class: "num", text: humanBytes(c.queuedBytes) }),
          num(c.droppedEvents),
        );
      }),
  );
}

function stopStatsTimer(): void {
  if (statsTimer) clearInterval(statsTimer);
  statsTimer = undefined;
}

async function refreshStats(): Promise<void> {
  const err = $("gateway-error");
  const content = $("gateway-content");
  const fail = (message: string): void => {
    err.textContent = message;
    err.hidden = false;
  };
  try {
    // The same user and token as the qi login: the gateway checks them like a qi handshake.
    const headers: Record<string, string> = credentials
      ? { authorization: basicAuthorization(credentials.user, credentials.token) }
      : {};
    const r = await fetch("stats.json", { cache: "no-store", headers });
    if (r.status === 401) {
      // Each refusal counts against this address in the gateway's rate limiter, so polling on
      // would soon lock the qi login out too: stop until the user asks again.
      stopStatsTimer();
      content.hidden = true;
      const reason = await r
        .json()
        .then((body: { error?: unknown }) => (typeof body.error === "string" ? body.error : ""))
        .catch(() => "");
      fail(
        credentials
          ? `The gateway refused the credentials you logged in with${reason ? ` (${reason})` : ""}: its statistics need a user and token of this gateway. Refresh (↻) to try again.`
          : `Log in first: the gateway's statistics need the same user and token as its qi endpoint${reason ? ` (${reason})` : ""}.`,
      );
      return;
    }
    if (!r.ok) throw new Error(`/stats.json: HTTP ${r.status}`);
    const stats = (await r.json()) as GatewayStatsJson;
    if (!Array.isArray(stats.clients)) throw new Error("/stats.json is not a gateway's statistics");
    renderSummary(stats);
    renderClients(stats);
    $("gateway-updated").textContent = `updated ${new Date(stats.time).toLocaleTimeString()}`;
    content.hidden = false;
    err.hidden = true;
  } catch (e) {
    fail(`No gateway statistics: ${(e as Error).message}`);
  }
}

function startStats(): void {
  void refreshStats();
  statsTimer ??= setInterval(() => void refreshStats(), 2000);
}

function showTab(which: "services" | "gateway"): void {
  $("tab-services").classList.toggle("active", which === "services");
  $("tab-gateway").classList.toggle("active", which === "gateway");
  $("gateway-page").hidden = which !== "gateway";
  if (which === "gateway") {
    $("login").hidden = true;
    $("services-page").hidden = true;
    startStats();
  } else {
    stopStatsTimer();
    if (session) $("services-page").hidden = false;
    else $("login").hidden = false;
  }
}

// --- start -----------------------------------------------------------------------------------

function start(): void {
  ($("login-url") as HTMLInputElement).value =
    new URLSearchParams(location.search).get("url") ?? defaultUrl();
  $("login-form").addEventListener("submit", (e) => void login(e as SubmitEvent));
  $("logout").addEventListener("click", () => void logout());
  $("refresh").addEventListener("click", () => void listServices());
  $("clear-events").addEventListener("click", () => $("events").replaceChildren());
  $("tab-services").addEventListener("click", () => showTab("services"));
  $("tab-gateway").addEventListener("click", () => showTab("gateway"));
  $("gateway-refresh").addEventListener("click", () => startStats());
  document.body.dataset.ready = "1";
}

start();
