/**
 * The mDNS flags of `qi start` and `qi gateway`: advertising the gateway as `_naoqi._tcp` (on
 * unless --no-advertise or `advertise: false` in the config) and browsing for robots to offer
 * at the console's login (--discover: off by default, it sends queries on the LAN).
 */
import { hostname } from "node:os";
import { Option } from "commander";
import { advertise, type DiscoveredRobot, RobotBrowser } from "../discovery/index.js";
import { onCleanup } from "./lifecycle.js";

export interface DiscoveryFlagValues {
  /** false with --no-advertise. */
  advertise?: boolean;
  advertiseName?: string;
  discover?: boolean;
}

/** What a gateway config file may say (`advertise: false | { name }`, `discover: true`). */
export interface DiscoveryConfig {
  advertise?: boolean | { name?: string };
  discover?: boolean;
}

export function discoveryFlagOptions(): Option[] {
  return [
    new Option("--no-advertise", "do not advertise the gateway on the LAN (mDNS _naoqi._tcp)"),
    new Option("--advertise-name <name>", "the name the LAN sees (default: this machine's host name)"),
    new Option("--discover", "look for robots on the LAN and offer them at the console's login"),
  ];
}

function stderrOnce(): (line: string) => void {
  const said = new Set<string>();
  return (line) => {
    if (said.has(line)) return;
    said.add(line);
    process.stderr.write(`${line}\n`);
  };
}

/** Advertises `endpoints` unless turned off; never throws (problems become one stderr line). */
export function startAdvertising(
  endpoints: string[],
  flags: DiscoveryFlagValues,
  config: DiscoveryConfig = {},
): void {
  if (flags.advertise === false || config.advertise === false) return;
  const configured = typeof config.advertise === "object" ? config.advertise.name : undefined;
  const ad = advertise({
    name: flags.advertiseName ?? configured ?? hostname(),
    endpoints,
    warn: stderrOnce(),
  });
  if (ad) onCleanup(() => ad.stop());
}

/** The robots source of /robots.json, or undefined when discovery is off. */
export function startRobotBrowser(
  flags: DiscoveryFlagValues,
  config: DiscoveryConfig = {},
): (() => DiscoveredRobot[]) | undefined {
  if (!flags.discover && !config.discover) return undefined;
  const warn = stderrOnce();
  const browser = new RobotBrowser({
    onProblem: (e) =>
      warn(`mDNS: robot discovery has a problem (${(e as NodeJS.ErrnoException).code ?? e.message})`),
  });
  browser.start();
  onCleanup(() => browser.stop());
  return () => browser.robots();
}
