/**
 * The XMPP entry against a real Prosody: a remote client reaches the gateway's services through
 * `xmpp://robot@localhost`, with the gateway's allow-list, qi authentication and permissions.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayAuthProvider, hashToken } from "../../../src/gateway/index.js";
import { UserTokenAuthenticator } from "../../../src/connection/index.js";
import { Session } from "../../../src/session/index.js";
import { xmppTransport } from "../../../src/transport/index.js";
import { cleanup, runCleanup, world } from "../../gateway/world.js";
import { type Prosody, prosodyFound, startProsody } from "./prosody.js";

if (!prosodyFound) console.log("xmpp peer tests skipped: prosody is not installed (apt-get install prosody)");

const ACCOUNTS = { robot: "robot-pw", alice: "alice-pw", mallory: "mallory-pw" };

describe.skipIf(!prosodyFound)("XMPP entry through prosody", () => {
  let prosody: Prosody;
  beforeAll(async () => {
    prosody = await startProsody(ACCOUNTS);
  }, 30_000);
  afterAll(async () => prosody?.stop());
  afterEach(runCleanup);

  function account(user: keyof typeof ACCOUNTS) {
    return {
      jid: `${user}@localhost`,
      password: ACCOUNTS[user],
      service: prosody.service,
      tls: { ca: prosody.caCert },
    };
  }

  async function xmppWorld() {
    const w = await world({
      allowAnonymous: false,
      authProvider: new GatewayAuthProvider({ nao: { token: hashToken("secret") } }),
      listen: ["xmpp://robot@localhost"],
      xmpp: { ...account("robot"), allow: ["alice@localhost"] },
    });
    return w;
  }

  async function remote(user: keyof typeof ACCOUNTS, token = "secret"): Promise<Session> {
    const s = new Session({
      transport: xmppTransport(account(user)),
      authenticator: new UserTokenAuthenticator("nao", token),
    });
    cleanup.push(() => s.close());
    await s.connect("xmpp://robot@localhost");
    return s;
  }

  it("serves a call to an allow-listed JID", async () => {
    await xmppWorld();
    const s = await remote("alice");
    const calc = await s.service("Calc");
    expect(await calc.call("add", 2, 3)).toBe(5);
  });
});
