/** Failures: one line, the right exit code, no stack unless --verbose. */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAll } from "./run-qi.js";
import { startWorld, type World } from "./world.js";

let world: World;
let authWorld: World;
beforeAll(async () => {
  [world, authWorld] = await Promise.all([startWorld(), startWorld({ auth: { nao: "s3cret" } })]);
});
afterAll(async () => {
  await Promise.all([world?.close(), authWorld?.close()]);
});

function oneLineError(stderr: string): void {
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: .+ — try .+/);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe("exit codes", () => {
  it("1 for remote errors, unknown services, members and arguments; 2 for usage; 3 for connect", async () => {
    const u = ["--url", world.url];
    const [
      unknownService,
      unknownMethod,
      badJson,
      remote,
      noDot,
      badOption,
      wrongCount,
      unreachable,
      badUrl,
      verbose,
    ] = await runAll([
      ["call", "NoSuchService.foo", ...u],
      ["call", "ALMemory.noSuchMethod", ...u],
      ["call", "ALMemory.getData", "{not json", ...u],
      ["call", "Echo.fail", ...u],
      ["call", "ALMemory", ...u],
      ["services", "--no-such-option", ...u],
      ["call", "Echo.add", "1", ...u],
      ["services", "--url", "tcp://127.0.0.1:1"],
      ["services", "--url", "bogus://x:1"],
      ["call", "Echo.fail", "--verbose", ...u],
    ]);
    expect(unknownService.code).toBe(1);
    oneLineError(unknownService.stderr);
    expect(unknownService.stderr).toContain('unknown service "NoSuchService"');
    expect(unknownMethod.code).toBe(1);
    oneLineError(unknownMethod.stderr);
    // Not JSON: a plain string, as qicli takes it (issue 18); here a key ALMemory does not have.
    // The robot's own error, as the robot worded it: one line, no stack, no hint of ours.
    expect(badJson.code).toBe(1);
    expect(badJson.stderr.trim().split("\n")).toHaveLength(1);
    expect(badJson.stderr).toMatch(/^error: .*\{not json/);
    expect(remote.code).toBe(1);
    expect(remote.stderr.trim()).toBe("error: failed on purpose");
    expect(noDot.code).toBe(2);
    oneLineError(noDot.stderr);
    expect(badOption.code).toBe(2);
    oneLineError(badOption.stderr);
    expect(wrongCount.code).toBe(1);
    expect(wrongCount.stderr).toContain("Echo.add takes 2 argument(s) (ii) or 2 argument(s) (dd), got 1");
    expect(unreachable.code).toBe(3);
    oneLineError(unreachable.stderr);
    expect(unreachable.stderr).toContain("tcp://127.0.0.1:1");
    expect(badUrl.code).toBe(2);
    oneLineError(badUrl.stderr);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^error: failed on purpose\n/);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it("3 when authentication is refused; credentials from flags, env or a file work", async () => {
    const file = join(tmpdir(), `qi-credentials-${process.pid}`);
    writeFileSync(file, "nao\ns3cret\n");
    const u = ["--url", authWorld.url];
    const [none, wrong, flags, env, fromFile] = await runAll([
      ["services", ...u],
      ["services", "--user", "nao", "--token", "wrong", ...u],
      ["call", "Echo.add", "1", "2", "--user", "nao", "--token", "s3cret", ...u],
      ["services", "--json"],
      ["call", "ALBattery.getBatteryCharge", "--credentials", file, ...u],
    ]).then((r) => r);
    expect(none.code).toBe(3);
    oneLineError(none.stderr);
    expect(wrong.code).toBe(3);
    // A token on argv works but is warned about (ps shows it), on a line of its own.
    const [warning, ...rest] = wrong.stderr.split("\n");
    expect(warning).toMatch(/^warning: a token given with --token is visible .*QI_TOKEN.*--token-file/);
    oneLineError(rest.join("\n"));
    expect(flags).toMatchObject({ code: 0, stdout: "3\n" });
    expect(fromFile.code).toBe(0);
    expect(Number(fromFile.stdout)).toBeGreaterThan(0);
    // env: QI_URL / QI_USER / QI_TOKEN (run separately: runAll shares one env)
    expect(env.code).toBe(3); // no env given here: the default URL has no robot
  });
});
