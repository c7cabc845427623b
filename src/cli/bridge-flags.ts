/**
 * `--bridge NAME` (repeatable) and each bridge's own flags on `qi start` and `qi gateway`,
 * turned into bridge requests (flags over the config file's `bridges:` section), started
 * beside the gateway with their warnings on stderr and their endpoints printed.
 */
import { Option } from "commander";
import type { Logger } from "pino";
import {
  BRIDGES,
  type BridgeRequest,
  checkBridgeNames,
  type StartedBridge,
  startBridges,
  stopBridges,
} from "../bridges/index.js";
import type { Gateway } from "../gateway/index.js";
import { usageError } from "./errors.js";
import { onCleanup } from "./lifecycle.js";
import type { Output } from "./output.js";
import { warnOnStderr } from "./token-sources.js";

export interface BridgeFlagValues {
  bridge?: string[];
  [flag: string]: unknown;
}

export function bridgeFlagOptions(): Option[] {
  const names = BRIDGES.map((b) => b.name);
  const options = [
    new Option(
      "--bridge <name...>",
      `enable a bridge to another framework${names.length ? ` (${names.join(", ")})` : ""}: insecure, off by default`,
    ),
  ];
  for (const entry of BRIDGES)
    for (const flag of entry.flags)
      options.push(new Option(flag.flags, `${entry.name}: ${flag.description}`));
  return options;
}

/** commander's camelCase attribute of a flag such as `--ros-master <url>`. */
function attributeOf(flags: string): string {
  const long = /--([a-z0-9-]+)/.exec(flags)?.[1] ?? "";
  return long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function bridgeRequests(
  opts: BridgeFlagValues,
  configured: Record<string, Record<string, unknown>> = {},
): BridgeRequest[] {
  const names = [...new Set([...Object.keys(configured), ...(opts.bridge ?? [])])];
  try {
    checkBridgeNames(names);
  } catch (e) {
    throw usageError((e as Error).message, "see `qi gateway --help` for the bridges of this build");
  }
  return names.map((name) => {
    const settings: Record<string, unknown> = { ...configured[name] };
    const entry = BRIDGES.find((b) => b.name === name)!;
    for (const flag of entry.flags) {
      const value = opts[attributeOf(flag.flags)];
      if (value !== undefined) settings[flag.key] = value;
    }
    return { name, settings };
  });
}

/** Starts the requested bridges, prints where to point each framework, stops them at exit. */
export async function runBridges(
  gateway: Gateway,
  requests: BridgeRequest[],
  ctx: { logger: Logger; demo: boolean; out: Output },
): Promise<StartedBridge[]> {
  if (requests.length === 0) return [];
  const started = await startBridges(gateway, requests, {
    logger: ctx.logger,
    demo: ctx.demo,
    warn: (line) => warnOnStderr(line),
  });
  onCleanup(() => stopBridges(started));
  if (!ctx.out.json)
    for (const b of started) for (const line of b.bridge.endpoints) ctx.out.line(`${b.name}: ${line}`);
  return started;
}
