/** The rules docs-runs.test.ts reads a page by (docs/README.md states them for writers). */
import { describe, expect, it } from "vitest";
import { badFences, commandsOf, freePorts, looseLine, parseBlocks, watches } from "./doc-blocks.js";

const page = [
  "# A page",
  "<!-- not run: needs a real robot -->",
  "```ts",
  "await robot();",
  "```",
  "<!-- file: gateway.yaml -->",
  "```yaml",
  "attach: tcp://127.0.0.1:9559",
  "```",
  "```sh",
  "qi services                      # prose: no $ npx",
  "$ npx qi watch 'ALMemory.*' --count 1 &   # it's a watcher",
  '2025-01-01T10:00:00.912Z ALMemory.dataChanged "greeting" "hello"',
  "$ npx qi hash-token < nao.token",
  "scrypt$16384$…",
  "",
  "after a blank line: prose",
  "```",
].join("\n");

describe("a page's blocks", () => {
  const blocks = parseBlocks(page);

  it("carry the comment directly above them", () => {
    expect(blocks.map((b) => [b.line, b.lang, b.notRun, b.file])).toEqual([
      [3, "ts", "needs a real robot", undefined],
      [7, "yaml", undefined, "gateway.yaml"],
      [10, "sh", undefined, undefined],
    ]);
  });

  it("run only the $ npx qi lines, with comments, stdin and & read, and the output under each", () => {
    const commands = commandsOf(blocks[2]);
    expect(commands).toEqual([
      {
        line: 12,
        args: ["watch", "ALMemory.*", "--count", "1", "&"],
        stdin: undefined,
        expected: ['2025-01-01T10:00:00.912Z ALMemory.dataChanged "greeting" "hello"'],
      },
      { line: 14, args: ["hash-token"], stdin: "nao.token", expected: ["scrypt$16384$…"] },
    ]);
    expect(watches(blocks[2])).toBe(true);
  });

  it("find a fence that is not closed by a bare ```", () => {
    expect(badFences(page)).toEqual([]);
    expect(badFences("```sh\nqi\n```ts\n")).toEqual([3]);
    expect(badFences("```sh\nqi\n")).toEqual([-1]);
  });
});

describe("expected output", () => {
  it("matches loosely: digits, spaces and ellipses", () => {
    expect(
      looseLine("2025-01-01T10:00:00.101Z ALVideoDevice.image 640 480 17 ...")!.test(
        '2026-12-03T18:54:58.788Z ALVideoDevice.image 640 480 0 "<raw 921600 bytes>"',
      ),
    ).toBe(true);
    expect(
      looseLine("gateway listening on tcp://0.0.0.0:9513")!.test(
        "gateway listening on tcp://127.0.0.1:41231",
      ),
    ).toBe(true);
    expect(looseLine("ALBattery.charge 86.7")!.test("ALBattery.getBatteryCharge")).toBe(false);
    expect(looseLine("…")).toBeUndefined();
  });
});

describe("servers", () => {
  it("listen on free ports wherever the page wrote an address or relied on a default", () => {
    expect(
      freePorts(["gateway", "--attach", "tcp://127.0.0.1:9559", "--listen", "tcp://0.0.0.0:9503"]),
    ).toEqual(["gateway", "--attach", "tcp://127.0.0.1:9559", "--listen", "tcp://127.0.0.1:0"]);
    expect(freePorts(["start", "--gateway", "tcp://0.0.0.0:9503", "ws://127.0.0.1:8002/qi"])).toEqual([
      "start",
      "--gateway",
      "tcp://127.0.0.1:0",
      "ws://127.0.0.1:0/qi",
      "--listen",
      "tcp://127.0.0.1:0",
    ]);
  });
});
