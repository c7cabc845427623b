/**
 * The package's public faces, pinned: `qimessaging` (src/index.ts) and `qimessaging/wire`
 * (src/qimessaging-wire.ts) export exactly these names. Adding or removing one is an API
 * decision: change the list here in the same commit. A second test builds the package and
 * checks that every entry of package.json "exports" resolves, for Node and for TypeScript.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT, SRC } from "../../scripts/import-graph.js";

const ROOT_NAMES = `
  Action Application ApplicationOptions AuthContext AuthData AuthProvider AuthProviderFactory AuthProviderOption AuthResult AuthState
  ByteString CallContext ChallengeAuthenticator ChallengeAuthProvider ChallengeSecrets ClientAuthenticator
  ClientTlsOptions ConfigError connectSync DEFAULT_LIMITS DEFAULT_LOGIN_LIMITS DEFAULT_SYNC_TIMEOUT_MS
  DispatchError DispatchErrorCode DispatchMode Dispatcher DispatcherOptions Dynamic Gateway GatewayAuthProvider
  GatewayClientInfo GatewayConfig GatewayError GatewayErrorCode GatewayOptions gatewayOptionsFromConfig
  hashToken inferSignature InvokeOptions isConfigError isDispatchError isGatewayError isQiBaseError isQiError
  isTransportError isWireError loadGatewayConfig LoginLimitOptions MetaMethod MetaMethodParameter MetaObject
  MetaProperty MetaSignal MethodImpl MethodOptions ObjectRef Optional parseSignature PemInput
  PermissionsConfig printSignature QiBaseError QiError QiErrorCode QiErrorDetails QiObject QiObjectOptions Raw
  RemoteObject RemoteProperty RemoteSignal ReregisteredService RobotLogger RobotLoggerOptions RobotLogLevel
  robotLogger RouterLimits RuleSet RunOptions ServerTlsOptions
  ServiceDirectory ServiceDirectoryOptions ServiceInfo Session SessionEvents SessionOptions SignalCallback
  startGateway Strand Struct SyncConnectOptions SyncObject SyncProperty SyncSession TransportError
  TransportErrorCode UserPermissions UserTokenAuthenticator UserTokenAuthProvider validateGatewayConfig
  WireError WireErrorCode XmppConnectOptions xmppTransport fleetTransport FleetTransportOptions
`;
const WIRE_NAMES = `
  ByteString CodecContext convertValue DEFAULT_MAX_DEPTH DEFAULT_MAX_PAYLOAD DecodedHeader DecodeHeaderOptions
  decode decodeHeader decodeMetaObject defaultValue Dynamic emptyMetaObject encode encodeHeader encodeMessage
  encodeMetaObject Framer FramerOptions findMethod findProperty findSignal HEADER_SIZE inferSignature
  isWireError META_OBJECT_SIGNATURE Message MessageFlags MessageHeader MessageType MetaMethod
  MetaMethodParameter MetaObject MetaProperty MetaSignal ObjectRef Optional parseSignature printSignature Raw
  SigNode signatureEquals Struct WireError WireErrorCode
`;
const list = (s: string) => s.trim().split(/\s+/).sort();

/** Every name a module exports, types included, as the type checker sees it. */
function exportedNames(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    types: ["node"],
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const out = new Map<string, string[]>();
  for (const f of files) {
    const sf = program.getSourceFile(f);
    const sym = sf && checker.getSymbolAtLocation(sf);
    out.set(
      f,
      sym
        ? checker
            .getExportsOfModule(sym)
            .map((s) => s.name)
            .sort()
        : [],
    );
  }
  return out;
}

describe("public API", () => {
  it("qimessaging and qimessaging/wire export exactly the pinned names", () => {
    const rootFile = join(SRC, "index.ts");
    const wireFile = join(SRC, "qimessaging-wire.ts");
    const names = exportedNames([rootFile, wireFile]);
    expect(names.get(rootFile)).toEqual(list(ROOT_NAMES));
    expect(names.get(wireFile)).toEqual(list(WIRE_NAMES));
  }, 60_000);

  it("the built package's exports resolve, at run time and for a TypeScript consumer", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qi-package-"));
    try {
      const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
        exports: Record<string, { types: string; default: string }>;
      };
      // Build what the two Node entries need, as `npm run build` does, into a package of its own.
      const program = ts.createProgram([join(SRC, "index.ts"), join(SRC, "qimessaging-wire.ts")], {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        strict: true,
        skipLibCheck: true,
        types: ["node"],
        declaration: true,
        rootDir: SRC,
        outDir: join(dir, "dist"),
      });
      const emitted = program.emit();
      expect(emitted.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual(
        [],
      );
      const nodeEntries = Object.fromEntries(Object.entries(pkg.exports).filter(([k]) => k !== "./browser"));
      await writeFile(
        join(dir, "package.json"),
        JSON.stringify({ name: "qimessaging", type: "module", exports: nodeEntries }),
      );
      await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
      // Node: the package imports itself by name (self-reference through "exports").
      await writeFile(
        join(dir, "consumer.mjs"),
        `const root = await import("qimessaging");
const wire = await import("qimessaging/wire");
console.log(JSON.stringify({ root: Object.keys(root).length, wire: Object.keys(wire).length,
  session: typeof root.Session, encode: typeof wire.encode }));`,
      );
      const { stdout } = await promisify(execFile)(process.execPath, [join(dir, "consumer.mjs")], {
        cwd: dir,
        timeout: 30_000,
      });
      const seen = JSON.parse(stdout) as Record<string, unknown>;
      expect(seen).toMatchObject({ session: "function", encode: "function" });
      // TypeScript: a consumer compiles against the declared types of both entries.
      const consumer = join(dir, "consumer.ts");
      await writeFile(
        consumer,
        `import { QiError, Session, type SessionOptions } from "qimessaging";
import { encode, decode, type Message } from "qimessaging/wire";
const options: SessionOptions = {};
const s: Session = new Session(options);
const bytes: Uint8Array = encode("i", 1);
const back: unknown = decode("i", bytes);
const m: Message | undefined = undefined;
export { s, back, m, QiError };`,
      );
      const check = ts.createProgram([consumer], {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        strict: true,
        skipLibCheck: true,
        types: ["node"],
        noEmit: true,
      });
      const diags = ts
        .getPreEmitDiagnostics(check)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(diags).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it("package.json's browser entry names the browser client's sources", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      exports: Record<string, { types: string }>;
    };
    expect(pkg.exports["./browser"].types).toBe("./dist/web/client/index.d.ts");
    await expect(readFile(join(SRC, "web", "client", "index.ts"), "utf8")).resolves.toContain("export");
  });
});
