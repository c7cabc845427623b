/**
 * The scheme table: scheme name → driver (connector + listener factory). tcp, tcps and tcpsm are
 * built in, and ws, wss (WebSocket, ws.ts); other transports are added with registerScheme.
 */
import type { SchemeDriver } from "./options.js";
import { tcpDriver } from "./tcp.js";
import { tcpsDriver, tcpsmDriver } from "./tls.js";
import type { QiScheme } from "./url.js";
import { wsDriver, wssDriver } from "./ws.js";

const drivers = new Map<QiScheme, SchemeDriver>([
  ["tcp", tcpDriver],
  ["tcps", tcpsDriver],
  ["tcpsm", tcpsmDriver],
  ["ws", wsDriver],
  ["wss", wssDriver],
]);

/** Installs (or replaces) the driver of a scheme. `qi:` endpoints are relative and take no driver. */
export function registerScheme(scheme: Exclude<QiScheme, "qi">, driver: SchemeDriver): void {
  drivers.set(scheme, driver);
}

/** Removes the driver of a scheme (connect/listen then fail with ERR_UNSUPPORTED_SCHEME). */
export function unregisterScheme(scheme: Exclude<QiScheme, "qi">): void {
  drivers.delete(scheme);
}

export function schemeDriver(scheme: QiScheme): SchemeDriver | undefined {
  return drivers.get(scheme);
}

/** Schemes that currently have a driver. */
export function registeredSchemes(): QiScheme[] {
  return [...drivers.keys()];
}
