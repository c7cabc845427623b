// Paired measurement: CPU time of the middle process (gateway + relay) per 1 MiB echo and per pipelined call.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
const root = process.argv[2];
const { Session } = await import(`${root}/src/session/index.ts`);
const { Raw } = await import(`${root}/src/wire/values.ts`);
function start(script: string, args: string[]) {
  const proc = spawn(process.execPath, ["--import", "tsx", `${root}/bench/${script}`, ...args], { stdio: ["ignore", "pipe", "inherit", "ipc"], cwd: root });
  return new Promise<{ proc: any; info: any }>((res) => createInterface({ input: proc.stdout! }).once("line", (l) => res({ proc, info: JSON.parse(l) })));
}
let nid = 1;
const ask = (c: any, cmd: string) => new Promise<any>((res) => { const id = nid++; const on = (m: any) => { if (m.id === id) { c.off("message", on); res(m); } }; c.on("message", on); c.send({ id, cmd }); });
const server = await start("gateway-server.ts", []);
const middle = await start("gateway-middle.ts", [server.info.url]);
const out: Record<string, number> = {};
for (const path of ["relay", "gateway", "relay", "gateway"]) {
  const s = new Session(); await s.connect(middle.info[path]); const svc = await s.service("Bench");
  const arg = new Raw(Buffer.alloc(1 << 20, 7));
  for (let i = 0; i < 5; i++) await svc.call("echo", arg);
  let c0 = await ask(middle.proc, "cpu"); let t0 = performance.now();
  for (let i = 0; i < 60; i++) await svc.call("echo", arg);
  let c1 = await ask(middle.proc, "cpu");
  out[`${path} echo cpu µs/MiB`] = (out[`${path} echo cpu µs/MiB`] ?? 0) + (c1.user + c1.system - c0.user - c0.system) / 120 / 2;
  out[`${path} echo wall ms/rt`] = (out[`${path} echo wall ms/rt`] ?? 0) + (performance.now() - t0) / 60 / 2;
  const add = svc.method("add");
  c0 = await ask(middle.proc, "cpu"); t0 = performance.now();
  let done = 0;
  await Promise.all(Array.from({ length: 64 }, async (_, k) => { for (let i = 0; i < 300; i++) { await add(k, i); done++; } }));
  c1 = await ask(middle.proc, "cpu");
  out[`${path} pipelined cpu µs/call`] = (out[`${path} pipelined cpu µs/call`] ?? 0) + (c1.user + c1.system - c0.user - c0.system) / done / 2;
  out[`${path} pipelined wall calls/s`] = (out[`${path} pipelined wall calls/s`] ?? 0) + done / ((performance.now() - t0) / 1000) / 2;
  await s.close();
}
for (const [k, v] of Object.entries(out)) console.log(k.padEnd(32), v.toFixed(2));
middle.proc.send({ id: 0, cmd: "exit" }); server.proc.disconnect();
setTimeout(() => process.exit(0), 500);
