/**
 * machineId (spec §6.5): libqi keeps it in ~/.config/qimessaging/machine_id (a uuid string
 * created when missing). We read and write the same file so that a TS node and a libqi node
 * on one machine agree they are local to each other (endpoint choice, spec §6.4).
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

let cached: string | undefined;

export function machineIdPath(home = homedir()): string {
  return join(home, ".config", "qimessaging", "machine_id");
}

export function machineId(): string {
  if (cached) return cached;
  const path = machineIdPath();
  try {
    const text = readFileSync(path, "utf8").trim();
    if (text) {
      cached = text;
      return text;
    }
  } catch {
    // missing: create it below
  }
  const id = randomUUID();
  try {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, id, { flag: "wx" });
  } catch {
    // Another process may have created it meanwhile, or home is read-only: re-read or use ours.
    try {
      const text = readFileSync(path, "utf8").trim();
      if (text) {
        cached = text;
        return text;
      }
    } catch {
      // keep the generated id for this process
    }
  }
  cached = id;
  return id;
}
