/** A Service Directory in the test process with the demo services and a test service. */
import { pino } from "pino";
import { UserTokenAuthenticator, UserTokenAuthProvider } from "../../src/connection/index.js";
import { type RunningDemo, startDemo } from "../../src/demo/index.js";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { Raw, Struct } from "../../src/wire/index.js";

export interface World {
  sd: Session;
  url: string;
  demo: RunningDemo;
  client: Session;
  close(): Promise<void>;
}

export function echoService(): QiObject {
  return new QiObject({ description: "test helpers" })
    .method("echo", "(m)", "m", (v: unknown) => v, {
      description: "returns its argument",
      parameters: [{ name: "value", description: "anything at all" }],
      returnDescription: "the same value",
    })
    .method("add", "(ii)", "i", (a: number, b: number) => a + b, {
      parameters: [{ name: "a" }, { name: "b" }],
    })
    .method("add", "(dd)", "d", (a: number, b: number) => a + b)
    .method("next", "(L)", "L", (n: bigint) => n + 1n)
    .method("rawLength", "(r)", "i", (r: Raw) => r.bytes.byteLength)
    .method("rawEcho", "(r)", "r", (r: Raw) => new Raw(Uint8Array.from(r.bytes)))
    .method(
      "norm1",
      "((ii)<Point,x,y>)",
      "i",
      (p: Struct) => Math.abs(p.fields.x as number) + Math.abs(p.fields.y as number),
    )
    .method("sum", "({si})", "i", (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0))
    .method("point", "(ii)", "(ii)<Point,x,y>", (x: number, y: number) => new Struct("Point", { x, y }))
    .method("makeCounter", "(i)", "o", (start: number) => {
      let value = start;
      return new QiObject({ description: "a counter" })
        .method("next", "()", "i", () => ++value)
        .signal("wrapped", "()")
        .property("step", "i", 1);
    })
    .method("fail", "()", "v", () => {
      throw new Error("failed on purpose");
    })
    .signal("ping", "(s)")
    .property("level", "i", 7);
}

export async function startWorld(options: { auth?: Record<string, string> } = {}): Promise<World> {
  const [user, token] = Object.entries(options.auth ?? {})[0] ?? [];
  const sd = new Session(
    options.auth
      ? {
          authProvider: UserTokenAuthProvider.fromTable(options.auth),
          enforceAuth: true,
          authenticator: new UserTokenAuthenticator(user!, token!),
        }
      : {},
  );
  const [url] = await sd.listenStandalone("tcp://127.0.0.1:0");
  const demo = await startDemo(sd, { logger: pino({ level: "silent" }) });
  await sd.registerService("Echo", echoService());
  await sd.registerService(
    "_Hidden",
    new QiObject().method("ping", "()", "s", () => "pong"),
  );
  const client = new Session(
    options.auth ? { authenticator: new UserTokenAuthenticator(user!, token!) } : {},
  );
  await client.connect(url);
  return {
    sd,
    url,
    demo,
    client,
    async close() {
      await demo.stop();
      await client.close();
      await sd.close();
    },
  };
}
