/// <reference lib="dom" />
/**
 * The web console: log in to a gateway (or any ws/wss qi endpoint), browse services, call
 * methods with JSON arguments, watch signals, read and set properties, show a camera
 * (`image(iiIr)` signals: width, height, sequence, RGB bytes) in a canvas, and the gateway's
 * page: a summary and its connected clients from /stats.json, fetched with the login's
 * credentials. Plain DOM, no framework; the client comes from ./qi.js.
 */
import { connect, defaultUrl, type RemoteObject, type Session } from "../client/index.js";
import { $, describeError, h, setStatus } from "./dom.js";
import { login as loginState, startStats, stopStatsTimer } from "./gateway-page.js";
import { renderService, unwatchAll } from "./member-views.js";
import { mountRecorder } from "./recorder.js";
import { mountRobotChoices } from "./robot-choices.js";

let session: Session | undefined;
let current: { name: string; proxy: RemoteObject } | undefined;

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
  await unwatchAll();
  const s = session;
  session = undefined;
  loginState.credentials = undefined;
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
  mountRobotChoices($("login-form") as HTMLFormElement, $("login-url") as HTMLInputElement);
  $("logout").addEventListener("click", () => void logout());
  $("refresh").addEventListener("click", () => void listServices());
  $("clear-events").addEventListener("click", () => $("events").replaceChildren());
  $("tab-services").addEventListener("click", () => showTab("services"));
  $("tab-gateway").addEventListener("click", () => showTab("gateway"));
  $("gateway-refresh").addEventListener("click", () => startStats());
  mountRecorder($("events-panel"), () => session);
  document.body.dataset.ready = "1";
}

start();
