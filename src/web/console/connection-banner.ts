/// <reference lib="dom" />
/**
 * What the page shows of the session's link: the Session reconnects by itself (src/session),
 * keeping the proxies and signal subscriptions the page holds, so a lost gateway shows a
 * "reconnecting…" banner over the page (attempt, next try) instead of the login; the banner
 * goes when the session is back. Only a loss the session gives up on returns to the login.
 */
import type { Session } from "../client/index.js";
import { $, setStatus } from "./dom.js";

export function followConnection(
  session: Session,
  url: string,
  connectedText: string,
  lost: (reason: string) => void,
): void {
  const banner = $("reconnect-banner");
  const show = (text: string): void => {
    banner.textContent = text;
    banner.hidden = false;
    document.body.dataset.connection = "reconnecting";
  };
  session.on("reconnecting", (attempt: number, delayMs: number, lastError: string | undefined) => {
    show(
      `Connection to ${url} lost: reconnecting… (attempt ${attempt}, next in ${(delayMs / 1000).toFixed(1)} s${
        lastError ? `: ${lastError}` : ""
      })`,
    );
    setStatus("reconnecting…", false);
  });
  session.on("reconnected", () => {
    banner.hidden = true;
    document.body.dataset.connection = "connected";
    setStatus(connectedText, true);
  });
  const gone = (reason: string) => {
    banner.hidden = true;
    document.body.dataset.connection = "lost";
    lost(reason);
  };
  // Emitted on every loss; while the session is reconnecting, the loss is only the banner's.
  session.on("disconnected", (reason: string) => {
    if (session.state === "reconnecting") show(`Connection to ${url} lost (${reason}): reconnecting…`);
    else gone(reason);
  });
  session.on("reconnectFailed", (lastError: string | undefined) => gone(lastError ?? "could not reconnect"));
  document.body.dataset.connection = "connected";
}
