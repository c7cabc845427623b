/// <reference lib="dom" />
/**
 * A returned object (e.g. what `LogManager.createListener` gives) as its own panel: its
 * methods, signals and properties. Closing the panel stops the page's subscriptions on it and
 * releases the object, so the robot can drop it. At most MAX_OBJECTS panels stay open (the
 * oldest is closed first).
 */
import type { RemoteObject } from "../client/index.js";
import { $, h } from "./dom.js";
import { renderMembers } from "./member-views.js";
import { stopOwnedBy } from "./subscriptions.js";

const MAX_OBJECTS = 10;
const open = new Map<string, { element: HTMLElement; proxy: RemoteObject }>();

export function openObjectPanel(title: string, proxy: RemoteObject): void {
  const close = h("button", { type: "button", class: "small", "data-close": title, text: "close (release)" });
  const element = h(
    "section",
    { class: "panel object-panel", "data-object": title },
    h("h2", {}, h("span", { text: title }), close),
  );
  if (proxy.metaObject.description)
    element.append(h("p", { class: "desc", text: proxy.metaObject.description }));
  renderMembers(element, title, proxy);
  close.addEventListener("click", () => void closeObjectPanel(title));
  open.set(title, { element, proxy });
  $("objects").prepend(element);
  element.scrollIntoView({ block: "nearest" });
  while (open.size > MAX_OBJECTS) void closeObjectPanel(open.keys().next().value as string);
}

export async function closeObjectPanel(title: string): Promise<void> {
  const o = open.get(title);
  if (!o) return;
  open.delete(title);
  o.element.remove();
  await stopOwnedBy(o.proxy);
  o.proxy.release();
}

/**
 * After a reconnection: objects passed by reference are not restored by the Session (their
 * calls fail with ERR_DISCONNECTED), so each open panel says so; closing it still cleans up.
 */
export function markObjectsLost(): void {
  for (const { element } of open.values()) {
    if (element.querySelector(".lost")) continue;
    element.classList.add("stale");
    element.querySelector("h2")?.after(
      h("p", {
        class: "error lost",
        text: "This object was lost with the connection: call the method again for a new one.",
      }),
    );
  }
}

export async function closeAllObjects(): Promise<void> {
  await Promise.all([...open.keys()].map(closeObjectPanel));
}
