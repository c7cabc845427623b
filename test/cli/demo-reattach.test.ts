/**
 * `qi demo --attach` outlives its Service Directory: `qi sd` killed and started again on the same
 * port, the demo logs the loss, retries, registers its services again, and `qi services` lists
 * them. All real processes on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DEMO_DIRECTORY } from "./demo-directory.js";
import { QiProcess, runQi } from "./run-qi.js";

const running: QiProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.kill("SIGKILL");
    await p.exit();
  }
});

function start(args: string[]): QiProcess {
  const p = new QiProcess(args, { timeoutMs: 120_000 });
  running.push(p);
  return p;
}

async function servicesAt(url: string): Promise<string[]> {
  const r = await runQi(["services", "--json", "--url", url]);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as Array<{ name: string }>).map((s) => s.name);
}

describe("qi demo --attach survives a restart of qi sd", () => {
  it("logs the loss, registers its services again, and qi services lists them", async () => {
    const sd = start(["sd", "--listen", "tcp://127.0.0.1:0"]);
    const [url] = await sd.waitFor(/tcp:\/\/127\.0\.0\.1:\d+/);
    const demo = start(["demo", "--attach", url]);
    await demo.waitFor(/registered with/);
    expect(await servicesAt(url)).toEqual(DEMO_DIRECTORY);

    sd.kill("SIGKILL");
    await sd.exit();
    await demo.waitFor(/Service Directory lost, retrying…/, "stderr");
    // The demo stays up (it used to exit here).
    expect(demo.child.exitCode).toBeNull();

    const again = start(["sd", "--listen", url]);
    await again.waitFor(/Service Directory listening/);
    await demo.waitFor(/services registered again/, "stderr");
    expect(await servicesAt(url)).toEqual(DEMO_DIRECTORY);
    const charge = await runQi(["call", "ALBattery.getBatteryCharge", "--url", url]);
    expect(charge.code).toBe(0);
    expect(Number(charge.stdout)).toBeGreaterThan(0);

    // Ctrl-C still unregisters everything (by the ids it was first given) and exits 0.
    demo.kill("SIGINT");
    expect((await demo.exit()).code).toBe(0);
    expect(await servicesAt(url)).toEqual(["ServiceDirectory"]);
  });
});
