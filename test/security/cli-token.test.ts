/**
 * Issue 10 item 9 (CLI tokens) against a real gateway process: a token given through QI_TOKEN or
 * --token-file never appears in the client's /proc/PID/cmdline (what `ps` shows every local
 * user), while one given with --token does and is warned about; the gateway process itself
 * (started from a config file of hashed tokens) shows no token either. The canary keeps working.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { QiProcess } from "../cli/run-qi.js";
import { runCleanup, startCanary, startTarget, USERS } from "./harness.js";

afterEach(runCleanup);

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");

describe("tokens are not shown to other local users (real gateway)", () => {
  it("QI_TOKEN and --token-file keep the token out of /proc/PID/cmdline; --token puts it there, with a warning", async () => {
    const t = await startTarget();
    const canary = await startCanary(t.gateway.tcpUrl);
    const { user, token } = USERS.alice;
    const tokenFile = join(t.gateway.configFile, "..", "alice-token");
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    // Calc.slow keeps each client running while its command line is read.
    const call = ["call", "Calc.slow", "1500", "--url", t.gateway.tcpUrl, "--user", user];
    // One client at a time: the machine is shared, and the canary measures latency.
    const seen: string[] = [];
    const run = (args: string[], env?: Record<string, string>) => {
      const p = new QiProcess(args, { env });
      seen.push(cmdline(p.child.pid!));
      return p.exit();
    };
    const env = await run(call, { QI_TOKEN: token });
    const file = await run([...call, "--token-file", tokenFile]);
    const argv = await run([...call, "--token", token]);
    for (const r of [env, file, argv]) expect(r).toMatchObject({ code: 0, stdout: "1500\n" });
    expect(seen[0]).not.toContain(token);
    expect(seen[1]).not.toContain(token);
    expect(env.stderr).toBe("");
    expect(file.stderr).toBe("");
    // The threat the warning is about: anyone can read this one.
    expect(seen[2]).toContain(token);
    expect(argv.stderr).toMatch(/^warning: a token given with --token is visible to every local user/);
    // The gateway's own command line names a config file, never a token.
    const gatewayLine = cmdline(t.gateway.pid);
    for (const u of Object.values(USERS)) expect(gatewayLine).not.toContain(u.token);
    expect((await canary.stop()).failures).toEqual([]);
    expect(t.gateway.alive()).toBe(true);
  });
});
