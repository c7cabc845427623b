/**
 * The scheme table: scheme name → driver (connector + listener factory). It starts with the
 * drivers of the runtime (drivers.ts on Node; drivers.browser.ts, swapped in by the browser
 * build); other transports are added with registerScheme. This file imports no driver itself,
 * so connect/listen and everything above them stay runtime-neutral.
 */
import { runtimeDrivers } from "./drivers.js";
import type { SchemeDriver } from "./options.js";
import type { QiScheme } from "./url.js";

const drivers = new Map<QiScheme, SchemeDriver>(runtimeDrivers);

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
