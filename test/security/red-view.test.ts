/**
 * Red team: the Service Directory view every client gets (src/gateway/sd-view.ts, served by
 * PeerObjects on the client's own connection, not by the router).
 */
import { afterEach, describe, expect } from "vitest";
import { QiObject } from "../../src/object/index.js";
import { Session } from "../../src/session/index.js";
import { encode } from "../../src/wire/codec.js";
import { MessageType } from "../../src/wire/message-types.js";
import { decodeMetaObject, findSignal } from "../../src/wire/metaobject.js";
import { cleanup, runCleanup, startTarget, USERS } from "./harness.js";
import { rawLogin, sleep, openHole } from "./red-helpers.js";

afterEach(runCleanup);

describe("red: the directory view", () => {
  // Expected: subscriptions to the directory view's signals are capped per client like those
  // the router forwards (issue 10 item 6 limits router.ts subscribe only). Today
  // object/invoke.ts serveNetworkMember → subscribe() accepts any number of link ids on the view
  // (peer.subscriptions, one listener each on the client's view), and one serviceAdded then
  // makes the gateway send one Event per link: a 44-byte message buys a permanent listener and
  // an event for every future service change.
  openHole(
    "caps subscriptions to serviceAdded on the view (10,000 link ids)",
    async () => {
      const t = await startTarget();
      const raw = await rawLogin(t.gateway.tcpUrl, USERS.alice);
      const metaReply = await raw.call(1, 1, 2, encode("(I)", [1]));
      const added = findSignal(decodeMetaObject(metaReply.payload), "serviceAdded")!.uid;
      const before = t.gateway.rss();
      const N = 10_000;
      let refused = 0;
      for (let i = 0; i < N; i += 1_000) {
        const answers = await Promise.all(
          Array.from({ length: 1_000 }, (_, j) =>
            raw.call(1, 1, 0, encode("(IIL)", [1, added, BigInt(i + j + 1)])),
          ),
        );
        refused += answers.filter((m) => m.type !== MessageType.Reply).length;
      }
      // Something happens on the robot: a service appears that alice may see.
      const robotSide = new Session();
      cleanup.push(() => robotSide.close());
      await robotSide.connect(t.robot.url);
      await robotSide.registerService(
        "ALNewThing",
        new QiObject().method("f", "()", "i", () => 1),
      );
      await sleep(1_500);
      console.info(
        `${N - refused} subscriptions accepted, ${raw.events} events for one serviceAdded, ` +
          `gateway RSS +${((t.gateway.rss() - before) / 1e6).toFixed(0)} MB`,
      );
      expect(refused).toBeGreaterThan(0);
      expect(raw.events).toBeLessThan(N);
    },
    60_000,
  );
});
