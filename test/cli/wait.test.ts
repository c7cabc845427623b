/** `--wait`: a command started before its service exists; and output into a closed pipe. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { runQi } from "./run-qi.js";
import { startWorld, type World } from "./world.js";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.close();
});

describe("qi --wait", () => {
  it("waits for a service registered after the command started, then calls it", async () => {
    const running = runQi(["call", "Late.ping", "--wait", "10000", "--url", world.url]);
    await new Promise((r) => setTimeout(r, 1_500));
    await world.sd.registerService(
      "Late",
      new QiObject().method("ping", "()", "s", () => "pong"),
    );
    const r = await running;
    expect({ code: r.code, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({
      code: 0,
      stdout: '"pong"',
      stderr: "",
    });
  });

  it("gives up after --wait ms with exit 1 and one line; without --wait it fails at once", async () => {
    const r = await runQi(["call", "Never.ping", "--wait", "300", "--url", world.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/service "Never" did not appear within 300 ms/);
    const now = await runQi(["call", "Never.ping", "--url", world.url]);
    expect(now.code).toBe(1);
    expect(now.stderr).toMatch(/unknown service "Never".*--wait MS/s);
  });
});

describe("output into a closed pipe", () => {
  it("exits quietly when the reader goes away (qi watch … | head -n 1)", async () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const result = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const sh = spawn(
        "bash",
        [
          "-c",
          // Frames keep coming after head has left: the next line written meets a closed pipe.
          `"${process.execPath}" --import tsx src/cli/main.ts watch ALVideoDevice.image --url ${world.url} | head -n 1; echo "qi=\${PIPESTATUS[0]}"`,
        ],
        { cwd: root, env: { ...process.env, NO_COLOR: "1" } },
      );
      let out = "";
      let err = "";
      sh.stdout.on("data", (d) => {
        out += d;
      });
      sh.stderr.on("data", (d) => {
        err += d;
      });
      sh.on("close", (code) => resolve({ code, out, err }));
    });
    expect(result.err).not.toMatch(/EPIPE|Error/);
    expect(result.out).toMatch(/qi=0/);
  });
});
