/// <reference lib="dom" />
/**
 * The robots found on the LAN, offered at the console's login: a list above the Connect button
 * from /robots.json (served when the gateway runs with --discover). Choosing one fills the
 * endpoint field with its WebSocket URL; a robot that speaks only tcp (a NAOqi robot) is shown
 * but cannot be chosen (a browser needs ws/wss). The list is refused without credentials like
 * the stats: then it asks for the user and token, and fetches again once they are typed.
 *
 * Every name came from someone on the LAN: it is set as text, never as HTML, and the address is
 * always shown (a LAN host can call itself "Pepper"; the token goes to the address you choose).
 */

/** What /robots.json rows carry (discovery/'s DiscoveredRobot; re-checked: it is network data). */
interface RobotRow {
  name: string;
  url: string;
  tls: boolean;
  ws?: string;
  robotType?: string;
}

const MAX_SHOWN = 64;
const REFRESH_MS = 10_000;
const WS_URL = /^wss?:\/\/(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d{1,5}\/qi$/;

function rowsOf(body: unknown): RobotRow[] {
  if (!Array.isArray(body)) return [];
  const rows: RobotRow[] = [];
  for (const r of body.slice(0, MAX_SHOWN)) {
    if (typeof r !== "object" || r === null) continue;
    const { name, url, tls, ws, robotType } = r as Record<string, unknown>;
    if (typeof name !== "string" || typeof url !== "string") continue;
    rows.push({
      name: name.slice(0, 63),
      url: url.slice(0, 80),
      tls: tls === true,
      ws: typeof ws === "string" && WS_URL.test(ws) ? ws : undefined,
      robotType: typeof robotType === "string" ? robotType.slice(0, 32) : undefined,
    });
  }
  return rows;
}

function field(form: HTMLFormElement, name: string): string {
  const el = form.elements.namedItem(name);
  return el instanceof HTMLInputElement ? el.value : "";
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
}

export function mountRobotChoices(form: HTMLFormElement, urlInput: HTMLInputElement): void {
  const box = el("fieldset");
  box.id = "robot-choices";
  box.hidden = true;
  const legend = el("legend", "Robots on the LAN");
  legend.title = "announced over mDNS by anyone on the network: check the address before you log in";
  const note = el("p");
  note.className = "hint";
  const list = el("ul");
  box.append(legend, note, list);
  const submit = form.querySelector('button[type="submit"]');
  if (submit) form.insertBefore(box, submit);
  else form.append(box);

  const choose = (robot: RobotRow) => {
    if (!robot.ws) return;
    urlInput.value = robot.ws;
    urlInput.dispatchEvent(new Event("input", { bubbles: true }));
    urlInput.focus();
  };

  const render = (rows: RobotRow[]) => {
    note.textContent = rows.length === 0 ? "none answered yet" : "";
    note.hidden = rows.length > 0;
    list.replaceChildren(
      ...rows.map((robot) => {
        const button = el("button");
        button.type = "button";
        const kind = [robot.tls ? "TLS" : "", robot.robotType ?? ""].filter(Boolean).join(", ");
        button.textContent = `${robot.name} — ${robot.ws ?? robot.url}${kind ? ` (${kind})` : ""}`;
        button.dataset.url = robot.url;
        if (robot.ws) {
          button.dataset.ws = robot.ws;
          button.addEventListener("click", () => choose(robot));
        } else {
          button.disabled = true;
          button.title = `qi over tcp only (${robot.url}): the console needs a ws or wss endpoint`;
        }
        const item = el("li");
        item.append(button);
        return item;
      }),
    );
  };

  let inFlight = false;
  const refresh = async () => {
    if (inFlight || !form.isConnected) return;
    inFlight = true;
    try {
      const user = field(form, "user");
      const token = field(form, "token");
      const headers: Record<string, string> = {};
      // btoa takes Latin-1 only: encode UTF-8 first.
      if (user !== "" || token !== "")
        headers.authorization = `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${token}`)))}`;
      const res = await fetch("robots.json", { headers, cache: "no-store" });
      if (res.status === 404) {
        box.hidden = true; // discovery is off on this gateway
        return;
      }
      box.hidden = false;
      if (res.status === 401) {
        list.replaceChildren();
        note.hidden = false;
        note.textContent = "type your user and token to see the robots this gateway found";
        return;
      }
      if (!res.ok) return;
      render(rowsOf(await res.json()));
    } catch {
      // the gateway is away: keep what is shown
    } finally {
      inFlight = false;
    }
  };

  for (const name of ["user", "token"]) {
    const input = form.elements.namedItem(name);
    if (input instanceof HTMLInputElement) input.addEventListener("change", () => void refresh());
  }
  void refresh();
  const timer = setInterval(() => {
    if (!form.isConnected) clearInterval(timer);
    else if (!form.closest("[hidden]")) void refresh();
  }, REFRESH_MS);
}
