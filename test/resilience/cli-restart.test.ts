/**
 * `qi watch`, `qi log`, `qi trace` and `qi top` (real processes) ride through a crash and
 * restart of a real `qi start` on the same port (issue 11): each says "reconnecting…" and then
 * "reconnected" on stderr instead of exiting, and prints what happens on the new robot.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Session } from "../../src/session/index.js";
import { Dynamic } from "../../src/wire/index.js";
import { QiProcess } from "../cli/run-qi.js";
import { freePort, type StartedQi, startQi, until } from "./helpers.js";

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

/** Calls that each command shows: a memory write (watch, trace, top) and a speech (log). */
async function poke(url: string, word: string): Promise<void> {
  const s = new Session({ reconnect: false });
  try {
    await s.connect(url);
    await (await s.service("ALMemory")).call("insertData", "restart-key", new Dynamic("s", word));
    await (await s.service("ALTextToSpeech")).call("say", word);
  } finally {
    await s.close();
  }
}

/** Pokes until every command printed `word` (top: a sample counting insertData), or fails. */
async function pokeUntilSeen(
  url: string,
  word: string,
  commands: Record<string, QiProcess>,
  from: Record<string, number>,
) {
  const seen = () =>
    Object.entries(commands).every(([name, p]) => {
      const fresh = p.stdout.slice(from[name]);
      return name === "top" ? /"name":"insertData","count":[1-9]/.test(fresh) : fresh.includes(word);
    });
  const t0 = Date.now();
  while (!seen()) {
    if (Date.now() - t0 > 60_000) {
      const state = Object.entries(commands).map(
        ([n, p]) => `${n}: ${p.stdout.slice(from[n])} | ${p.stderr}`,
      );
      throw new Error(`not every command printed ${word}:\n${state.join("\n")}`);
    }
    await poke(url, word).catch(() => {});
    await until(seen, word, 1_000).catch(() => {});
  }
}

describe("live commands through a `qi start` restart (real processes)", () => {
  it("watch, log, trace and top say reconnecting…, then reconnected, and carry on", async () => {
    const sdPort = await freePort();
    const url = `tcp://127.0.0.1:${sdPort}`;
    let qi: StartedQi = await startQi(sdPort, undefined, "");
    cleanup.push(() => qi.kill());
    const env = { QI_URL: url };
    const commands: Record<string, QiProcess> = {
      watch: new QiProcess(["watch", "ALMemory.dataChanged"], { env, timeoutMs: 170_000 }),
      log: new QiProcess(["log", "--category", "ALTextToSpeech"], { env, timeoutMs: 170_000 }),
      trace: new QiProcess(["trace", "ALMemory"], { env, timeoutMs: 170_000 }),
      top: new QiProcess(["top", "ALMemory", "--interval", "200", "--json"], { env, timeoutMs: 170_000 }),
    };
    for (const p of Object.values(commands))
      cleanup.push(async () => {
        if (p.child.exitCode === null && p.child.signalCode === null) p.kill("SIGKILL");
        await p.exit();
      });
    await commands.watch.waitFor(/watching/, "stderr", 60_000);
    await commands.log.waitFor(/listening to LogManager/, "stderr", 60_000);
    await commands.trace.waitFor(/tracing ALMemory/, "stderr", 60_000);
    const start = Object.fromEntries(Object.keys(commands).map((n) => [n, 0]));
    await pokeUntilSeen(url, "before-restart", commands, start);

    await qi.kill();
    for (const p of Object.values(commands)) await p.waitFor(/reconnecting…/, "stderr", 30_000);
    qi = await startQi(sdPort, undefined, "");
    for (const [name, p] of Object.entries(commands))
      await p.waitFor(/reconnected; .* again/, "stderr", 60_000).catch((e: Error) => {
        throw new Error(`${name}: ${e.message}`);
      });
    const after = Object.fromEntries(Object.entries(commands).map(([n, p]) => [n, p.stdout.length]));
    await pokeUntilSeen(url, "after-restart", commands, after);

    for (const [name, p] of Object.entries(commands)) {
      expect(p.child.exitCode, `${name} still running`).toBeNull();
      expect(p.stderr, name).toMatch(/connection lost \(.*\); reconnecting…\n/);
      p.kill("SIGINT");
      const r = await p.exit();
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    }
  }, 180_000);
});
