/** `SERVICE.MEMBER` arguments: split at the last dot; a malformed one says what fits there. */
import { describe, expect, it } from "vitest";
import type { CliError } from "../../src/cli/errors.js";
import { parseTarget } from "../../src/cli/target.js";

function hintOf(text: string, what: string): string | undefined {
  try {
    parseTarget(text, what);
  } catch (e) {
    return (e as CliError).hint;
  }
  return undefined;
}

describe("parseTarget", () => {
  it("splits at the last dot, keeps an overload suffix", () => {
    expect(parseTarget("ALMemory.getData")).toEqual({ service: "ALMemory", member: "getData" });
    expect(parseTarget("my.robot.Service.say::(s)")).toEqual({
      service: "my.robot.Service",
      member: "say::(s)",
    });
  });

  it("hints with an example of the kind of member the command wants", () => {
    expect(hintOf("ALMemory", "SERVICE.PROPERTY")).toBe("e.g. ALBattery.charge");
    expect(hintOf("ALMemory", "SERVICE.SIGNAL")).toBe("e.g. ALMemory.dataChanged");
    expect(hintOf("ALMemory.", "SERVICE.METHOD")).toBe("e.g. ALTextToSpeech.say");
  });
});
