/** The client flags for xmpp:// URLs: the account is required, the password never comes from argv. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sessionOptions } from "../../../src/cli/connect.js";
import { loadXmppEntryConfig } from "../../../src/config/index.js";

const saved = process.env.QI_XMPP_PASSWORD;
afterEach(() => {
  if (saved === undefined) delete process.env.QI_XMPP_PASSWORD;
  else process.env.QI_XMPP_PASSWORD = saved;
});

describe("xmpp flags of client commands", () => {
  it("need --xmpp-jid and a password from QI_XMPP_PASSWORD or a file", () => {
    delete process.env.QI_XMPP_PASSWORD;
    expect(() => sessionOptions({ url: "xmpp://robot@example.org" })).toThrow(/your own XMPP account/);
    expect(() => sessionOptions({ url: "xmpp://robot@example.org", xmppJid: "me@example.org" })).toThrow(
      /no XMPP password/,
    );
    process.env.QI_XMPP_PASSWORD = "pw";
    const o = sessionOptions({ url: "xmpp://robot@example.org", xmppJid: "me@example.org" });
    expect(o.transport?.canConnect("xmpp://robot@example.org")).toBe(true);
    expect(sessionOptions({ url: "tcp://127.0.0.1:9559" }).transport).toBeUndefined();
  });
});

describe("qi start --xmpp FILE", () => {
  it("reads the entry URL and the account, the password from its file", () => {
    const dir = mkdtempSync(join(tmpdir(), "qi-xmpp-cfg-"));
    writeFileSync(join(dir, "robot.pass"), "s3cret\n", { mode: 0o600 });
    const file = join(dir, "entry.yaml");
    writeFileSync(
      file,
      "listen: xmpp://robot@example.org\nxmpp:\n  passwordFile: robot.pass\n  allow: [alice@example.org]\n",
    );
    const { url, options } = loadXmppEntryConfig(file);
    expect(url).toBe("xmpp://robot@example.org");
    expect(options).toMatchObject({ password: "s3cret", allow: ["alice@example.org"] });
    writeFileSync(file, "listen: xmpp://robot@example.org\nxmpp:\n  allow: [alice]\n");
    expect(() => loadXmppEntryConfig(file)).toThrow(/allow\.0: a bare JID/);
  });
});
