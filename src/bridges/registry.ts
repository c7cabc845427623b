/**
 * The bridges this build knows, by name. Each entry loads its code only when enabled, so an
 * idle gateway never loads a bridge's libraries. A new bridge adds one entry here.
 */
import type { BridgeEntry } from "./plugin.js";

export const BRIDGES: readonly BridgeEntry[] = [];

export function bridgeEntry(name: string): BridgeEntry | undefined {
  return BRIDGES.find((b) => b.name === name);
}

export function bridgeNames(): string[] {
  return BRIDGES.map((b) => b.name);
}
