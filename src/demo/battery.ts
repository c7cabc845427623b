/**
 * An ALBattery-like service: `charge` (percent, float) drains slowly and, below 20 %,
 * "docks" and charges back to 100 %.
 */
import { CheckedObject } from "./checked-properties.js";
import type { LogFn } from "./log-manager.js";
import type { DemoService } from "./types.js";

const TICK_MS = 1_000;
const DRAIN_PER_TICK = 0.05;
const CHARGE_PER_TICK = 0.5;

/** `log`, when given, gets a warning (category "ALBattery") when the charge gets low. */
export function createBattery(initialCharge = 87, log?: LogFn): DemoService {
  let charging = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  const object = new CheckedObject({ description: "Simulated ALBattery: a slowly drifting charge" });
  object
    .method("getBatteryCharge", "()", "i", () => Math.round(object.getProperty("charge") as number), {
      description: "Charge in percent, rounded",
    })
    .property("charge", "f", initialCharge)
    .readOnly("charge");

  const tick = () => {
    let charge = object.getProperty("charge") as number;
    if (charging) {
      charge = Math.min(100, charge + CHARGE_PER_TICK);
      if (charge >= 100) charging = false;
    } else {
      charge = Math.max(0, charge - DRAIN_PER_TICK);
      if (charge <= 20) {
        charging = true;
        log?.("warning", "ALBattery", `battery low (${Math.round(charge)} %): docking to charge`);
      }
    }
    object.setOwn("charge", Math.round(charge * 100) / 100);
  };

  return {
    name: "ALBattery",
    object,
    start() {
      if (timer) return;
      timer = setInterval(tick, TICK_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
