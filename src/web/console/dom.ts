/// <reference lib="dom" />
/**
 * The console's small DOM helpers: element lookup and creation (text only: nothing from the
 * robot ever goes through innerHTML), the status line, the notices list.
 */
import { isQiError, TransportError } from "../client/index.js";

const MAX_NOTICES = 100;

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el;
}

export function h<K extends keyof HTMLElementTagNameMap>(
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

export function setStatus(text: string, ok: boolean): void {
  const s = $("status");
  s.textContent = text;
  s.className = ok ? "status ok" : "status";
}

export function describeError(e: unknown): string {
  if (isQiError(e, "QI_ERR_AUTH")) {
    return `Wrong user or token: the server refused the login (${e.message}).`;
  }
  if (e instanceof TransportError) return `Cannot connect: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

/** A notice for the user (a watch that failed…), newest first. */
export function logEvent(text: string): void {
  const list = $("notices");
  list.prepend(h("li", { text: `${new Date().toLocaleTimeString()} ${text}` }));
  while (list.childElementCount > MAX_NOTICES) list.lastElementChild?.remove();
}
