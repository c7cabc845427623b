/// <reference lib="dom" />
/**
 * The web console: log in to a gateway (or any ws/wss qi endpoint) and
 *   - Services: browse services, call methods (a field per parameter), watch signals (Messages:
 *     JSON trees, per-signal pause/filter), watch and plot properties and numeric signal
 *     arguments (one live chart), see a camera, open returned objects as panels;
 *   - Logs: the robot's LogManager, as `qi log`;
 *   - Memory: ALMemory's keys with live values;
 *   - Gateway: summary, charts and clients from /stats.json with the login's credentials.
 * A lost connection shows "reconnecting…" while the Session reconnects by itself. Plain DOM,
 * no framework; the client comes from ./qi.js. Everything from the robot is shown as text.
 */
import { connect, defaultUrl, type Session } from "../client/index.js";
import { followConnection } from "./connection-banner.js";
import { $, describeError, h, setStatus } from "./dom.js";
import { login as loginState, startStats, stopStatsTimer } from "./gateway-page.js";
import { sharedPlot } from "./live.js";
import { renewLogs, setupLogPanel, showLogs, stopLogs } from "./log-panel.js";
import { renderService, setObjectOpener } from "./member-views.js";
import { clearMessages } from "./messages.js";
import { setupMemoryPanel, showMemory, stopMemory } from "./memory-panel.js";
import { closeAllObjects, markObjectsLost, openObjectPanel } from "./object-panel.js";
import { mountRecorder } from "./recorder.js";
import { mountRobotChoices } from "./robot-choices.js";
import { stopAllSubscriptions } from "./subscriptions.js";

const PAGES = ["services", "logs", "memory", "gateway"] as const;
type PageName = (typeof PAGES)[number];
let session: Session | undefined;
let currentService: string | undefined;
let page: PageName = "services";

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
    loginState.credentials = user !== "" || token !== "" ? { user, token } : undefined;
    const connectedText = `connected to ${url}${user ? ` as ${user}` : ""}`;
    followConnection(s, url, connectedText, (reason) => {
      if (session !== s) return;
      void logout(`Disconnected: ${reason}`);
    });
    s.on("serviceRegistered", () => void listServices());
    s.on("serviceUnregistered", () => void listServices());
    s.on("reconnected", () => {
      void listServices();
      markObjectsLost();
      void renewLogs(s);
    });
    setStatus(connectedText, true);
    showPage(page === "gateway" ? "services" : page);
    await listServices();
  } catch (e) {
    setStatus("not connected", false);
    showLogin(describeError(e));
  } finally {
    button.disabled = false;
  }
}

function showLogin(message?: string): void {
  for (const p of PAGES) $(`${p}-page`).hidden = true;
  $("login").hidden = false;
  const err = $("login-error");
  if (message) {
    err.textContent = message;
    err.hidden = false;
  }
}

async function logout(message?: string): Promise<void> {
  const s = session;
  session = undefined;
  currentService = undefined;
  await Promise.all([stopAllSubscriptions(), closeAllObjects(), stopLogs(), stopMemory()]);
  sharedPlot.clear();
  clearMessages();
  $("service").replaceChildren(h("p", { class: "hint", text: "Pick a service." }));
  loginState.credentials = undefined;
  await s?.close();
  setStatus("not connected", false);
  showLogin(message);
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
        if (currentService === info.name) b.classList.add("selected");
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
  try {
    const proxy = await session.service(name);
    currentService = name;
    renderService(panel, name, proxy);
  } catch (e) {
    panel.replaceChildren(h("p", { class: "error", text: describeError(e) }));
  }
}

// --- pages -----------------------------------------------------------------------------------

function showPage(which: PageName): void {
  page = which;
  for (const p of PAGES) $(`tab-${p}`).classList.toggle("active", p === which);
  if (which !== "gateway") stopStatsTimer();
  // The gateway page reads /stats.json over HTTP: it shows without a qi session too.
  if (!session && which !== "gateway") {
    showLogin();
    return;
  }
  $("login").hidden = true;
  for (const p of PAGES) $(`${p}-page`).hidden = p !== which;
  if (which === "gateway") startStats();
  if (which === "logs") showLogs(session);
  if (which === "memory") showMemory(session);
}

// --- start -----------------------------------------------------------------------------------

function start(): void {
  ($("login-url") as HTMLInputElement).value =
    new URLSearchParams(location.search).get("url") ?? defaultUrl();
  $("login-form").addEventListener("submit", (e) => void login(e as SubmitEvent));
  mountRobotChoices($("login-form") as HTMLFormElement, $("login-url") as HTMLInputElement);
  $("logout").addEventListener("click", () => void logout());
  $("refresh").addEventListener("click", () => void listServices());
  $("clear-notices").addEventListener("click", () => $("notices").replaceChildren());
  for (const p of PAGES) $(`tab-${p}`).addEventListener("click", () => showPage(p));
  $("gateway-refresh").addEventListener("click", () => startStats());
  $("plot-panel").append(sharedPlot.element);
  setObjectOpener(openObjectPanel);
  setupLogPanel(() => session);
  setupMemoryPanel(() => session);
  mountRecorder($("messages-panel"), () => session);
  document.body.dataset.ready = "1";
}

start();
