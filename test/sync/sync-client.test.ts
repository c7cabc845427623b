import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QiError } from "../../src/connection/errors.js";
import type { RemoteObject } from "../../src/object/remote-object.js";
import { Session } from "../../src/session/index.js";
import { TransportError } from "../../src/transport/errors.js";
import { connectSync, SyncObject, type SyncSession } from "../../src/sync/index.js";
import { Dynamic, Raw, Struct } from "../../src/wire/index.js";

const HOST = fileURLToPath(new URL("./fixtures/host.ts", import.meta.url));

let host: ChildProcess;
let url: string;
/** The async API on the same service, to compare values and errors with. */
let ref: Session;
let refService: RemoteObject;
let sd: SyncSession;

async function startHost(): Promise<string> {
  host = spawn(process.execPath, ["--import", "tsx", HOST], {
    stdio: ["pipe", "pipe", "pipe"],
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
  });
  let stderr = "";
  host.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  const line = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`host did not start: ${stderr}`)), 15_000);
    createInterface({ input: host.stdout! }).once("line", (l) => {
      clearTimeout(t);
      resolve(l);
    });
    host.once("exit", (code) => reject(new Error(`host exited (${code}): ${stderr}`)));
  });
  return (JSON.parse(line) as { url: string }).url;
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

function sameError(syncError: unknown, asyncError: unknown): void {
  expect(syncError).toBeInstanceOf(QiError);
  expect(asyncError).toBeInstanceOf(QiError);
  const s = syncError as QiError;
  const a = asyncError as QiError;
  expect({ code: s.code, message: s.message, remote: s.remote }).toEqual({
    code: a.code,
    message: a.message,
    remote: a.remote,
  });
}

beforeAll(async () => {
  url = await startHost();
  ref = new Session();
  await ref.connect(url);
  refService = await ref.service("SyncTest");
  sd = connectSync(url);
});

afterAll(async () => {
  sd?.close();
  await ref?.close();
  if (host && host.exitCode === null) {
    const exited = new Promise((r) => host.once("exit", r));
    host.kill("SIGTERM");
    await exited;
  }
});

describe("connectSync", () => {
  it("lists services and calls methods without await", () => {
    const names = sd.services().map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["ServiceDirectory", "SyncTest"]));
    const info = sd.services().find((s) => s.name === "SyncTest");
    expect(info?.serviceId).toBeGreaterThan(1);
    expect(info?.endpoints.length).toBeGreaterThan(0);

    const svc = sd.service("SyncTest");
    expect(svc).toBeInstanceOf(SyncObject);
    const five: number = svc.call<number>("add", 2, 3);
    expect(five).toBe(5);
    expect(svc.methods()).toEqual(["add", "echo", "raw", "fail", "slow", "big", "pair", "child"]);
    expect([...svc.metaObject.methods.values()].find((m) => m.name === "add")?.parametersSignature).toBe(
      "(ii)",
    );
  });

  it("returns values as the same classes as the async API", async () => {
    const svc = sd.service("SyncTest");
    const point = new Struct("Point", { x: 1.5, y: -2, label: "p" });
    for (const v of ["hello", 42, point, [1, 2, 3], new Map([["k", 1n]])]) {
      const got = svc.call("echo", v);
      expect(got).toBeInstanceOf(Dynamic);
      expect(got).toEqual(await refService.call("echo", v));
    }
    expect((svc.call("echo", point) as Dynamic).value).toBeInstanceOf(Struct);

    const raw = svc.call<Raw>("raw", 5);
    expect(raw).toBeInstanceOf(Raw);
    expect(raw.bytes).toBeInstanceOf(Uint8Array);
    expect([...raw.bytes]).toEqual([0, 1, 2, 3, 4]);

    expect(svc.call("big")).toBe(1n << 40n);
    expect(svc.call("pair")).toEqual([7, "seven"]);
    expect(svc.call("pair")).toEqual(await refService.call("pair"));
  });

  it("hands out objects returned by methods as SyncObjects", () => {
    const child = sd.service("SyncTest").call<SyncObject>("child", "Ann");
    expect(child).toBeInstanceOf(SyncObject);
    expect(child.methods()).toEqual(["hello"]);
    expect(child.call("hello")).toBe("hello from Ann");
    child.release();
    expect((thrown(() => child.call("hello")) as QiError).code).toBe("QI_ERR_CLOSED");
  });

  it("reads and writes properties", () => {
    const volume = sd.service("SyncTest").property<number>("volume");
    expect(volume.get()).toBe(10);
    volume.set(33);
    expect(volume.get()).toBe(33);
    expect((thrown(() => sd.service("SyncTest").property("nope")) as QiError).code).toBe(
      "QI_ERR_NO_SUCH_MEMBER",
    );
  });

  it("throws the same QiErrors as the async API", async () => {
    const svc = sd.service("SyncTest");
    const remote = thrown(() => svc.call("fail", "boom")) as QiError;
    sameError(remote, await caught(refService.call("fail", "boom")));
    expect(remote.code).toBe("QI_ERR_REMOTE");
    expect(remote.remote).toBe(true);
    expect(remote.message).toContain("boom");

    sameError(
      thrown(() => sd.service("NoSuchService")),
      await caught(ref.service("NoSuchService")),
    );
    sameError(
      thrown(() => svc.call("nope")),
      await caught(refService.call("nope")),
    );
    sameError(
      thrown(() => svc.call("add", 1)),
      await caught(refService.call("add", 1)),
    );
    // The session is still usable after errors.
    expect(svc.call("add", 20, 22)).toBe(42);
  });

  it("times out a blocking call with ERR_TIMEOUT and stays usable", () => {
    const quick = connectSync(url, { timeoutMs: 300 });
    try {
      const svc = quick.service("SyncTest");
      const t0 = Date.now();
      const e = thrown(() => svc.call("slow", 5_000)) as QiError;
      expect(e).toBeInstanceOf(QiError);
      expect(e.code).toBe("QI_ERR_TIMEOUT");
      expect(Date.now() - t0).toBeLessThan(2_500);
      expect(svc.call("slow", 10)).toBe(10);
    } finally {
      quick.close();
    }
  });

  it("fails to connect like the async API", async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const bad = `tcp://127.0.0.1:${port}`;
    const syncError = thrown(() => connectSync(bad, { timeoutMs: 2_000 })) as Error & { code?: string };
    const s = new Session({ timeoutMs: 2_000 });
    const asyncError = (await caught(s.connect(bad))) as Error & { code?: string };
    await s.close();
    expect(syncError).toBeInstanceOf(TransportError);
    expect({ name: syncError.name, code: syncError.code, message: syncError.message }).toEqual({
      name: asyncError.name,
      code: asyncError.code,
      message: asyncError.message,
    });
  });

  it("closes: later calls throw ERR_CLOSED, close is idempotent", () => {
    const other = connectSync(url);
    const svc = other.service("SyncTest");
    expect(svc.call("add", 1, 1)).toBe(2);
    other.close();
    other.close();
    expect(other.isClosed).toBe(true);
    expect((thrown(() => svc.call("add", 1, 1)) as QiError).code).toBe("QI_ERR_CLOSED");
    expect((thrown(() => other.services()) as QiError).code).toBe("QI_ERR_CLOSED");
  });
});
