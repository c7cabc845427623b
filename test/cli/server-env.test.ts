/**
 * A shell that followed the README (`export QI_URL=… QI_USER=… QI_TOKEN=…`) can still start a
 * directory: `qi sd` and `qi start` connect to nobody, so the client variables are not theirs
 * (they used to fail with "--user and a token go together" when only QI_TOKEN was set).
 */
import { expect, it } from "vitest";
import { QiProcess } from "./run-qi.js";

it("qi sd and qi start ignore the clients' QI_TOKEN", async () => {
  const env = { QI_TOKEN: "a-client-token", QI_URL: "tcp://127.0.0.1:1" };
  const sd = new QiProcess(["sd", "--listen", "tcp://127.0.0.1:0"], { env });
  const start = new QiProcess(["start", "--listen", "tcp://127.0.0.1:0", "--gateway", "tcp://127.0.0.1:0"], {
    env,
  });
  try {
    await Promise.all([
      sd.waitFor(/Service Directory listening on tcp:\/\/127\.0\.0\.1:\d+/, "stdout", 55_000),
      start.waitFor(/Ctrl-C to stop/, "stdout", 55_000),
    ]);
  } finally {
    sd.kill();
    start.kill();
  }
  expect((await sd.exit()).code).toBe(0);
  const stopped = await start.exit();
  expect(stopped, stopped.stderr).toMatchObject({ code: 0 });
}, 60_000);
