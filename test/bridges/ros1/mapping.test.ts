/**
 * The shared mapping module: default names, the signature → message type table, the JSON
 * fallback, the allow-list config's checks, and the service md5sums the ROS node announces.
 */
import { MessageReader } from "@foxglove/rosmsg-serialization";
import { describe, expect, it } from "vitest";
import {
  defaultTopic,
  demoMapping,
  mappingForSignature,
  mappingForType,
  mergeMappings,
  messageDefinitions,
  messageFromQi,
  messageWriter,
  parseMapping,
  rosTime,
} from "../../../src/bridges/mapping/index.js";
import { serviceType } from "../../../src/bridges/ros1/definitions.js";
import { parseRos1Settings } from "../../../src/bridges/ros1/index.js";
import { decodeHeader, encodeHeader, FrameReader } from "../../../src/bridges/ros1/tcpros-header.js";
import { Dynamic, Raw } from "../../../src/wire/index.js";

describe("mapping: names", () => {
  it("gives /qi/<Service>/<member>, keeping ALMemory levels and replacing what ROS names forbid", () => {
    expect(defaultTopic("ALBattery", "charge")).toBe("/qi/ALBattery/charge");
    expect(defaultTopic("ALMemory", "Device/Sub Device.1/2nd")).toBe("/qi/ALMemory/Device/Sub_Device_1/_2nd");
  });
});

describe("mapping: signature → message type", () => {
  it("maps numbers, bools and strings to std_msgs", () => {
    expect(mappingForSignature("f").type).toBe("std_msgs/Float32");
    expect(mappingForSignature("(i)").type).toBe("std_msgs/Int32");
    expect(mappingForSignature("(b)").toMessage([true])).toEqual({ data: true });
    expect(mappingForSignature("L").toMessage([5])).toEqual({ data: 5n });
    expect(mappingForSignature("(s)").toMessage(["hi"])).toEqual({ data: "hi" });
  });

  it("maps the camera's (iiIr) to sensor_msgs/Image rgb8 that a ROS reader decodes", () => {
    const m = mappingForSignature("(iiIr)");
    expect(m.type).toBe("sensor_msgs/Image");
    const msg = m.toMessage([2, 1, 7, new Raw(Uint8Array.of(1, 2, 3, 4, 5, 6))]);
    expect(msg).toMatchObject({ width: 2, height: 1, encoding: "rgb8", step: 6, header: { seq: 7 } });
    const defs = messageDefinitions("sensor_msgs/Image");
    expect(defs.map((d) => d.name)).toEqual(["sensor_msgs/Image", "std_msgs/Header"]);
  });

  it("falls back to JSON text in std_msgs/String for anything else", () => {
    const m = mappingForSignature("(sm)");
    expect(m.type).toBe("std_msgs/String");
    expect(m.toMessage(["key", new Dynamic("i", 3)])).toEqual({ data: '["key",3]' });
    expect(mappingForType("std_msgs/String", "(i)").toMessage([3])).toEqual({ data: "3" });
    expect(() => mappingForType("sensor_msgs/Image", "(i)")).toThrow(/no conversion/);
  });
});

describe("mapping: config (an allow-list)", () => {
  it("is empty unless given, and fills in default topic names", () => {
    expect(parseMapping(undefined)).toEqual({ out: [], in: [], services: [] });
    const m = parseMapping({ out: [{ service: "ALBattery", property: "charge" }] });
    expect(m.out[0]).toMatchObject({
      topic: "/qi/ALBattery/charge",
      source: { kind: "property", name: "charge" },
    });
  });

  it("rejects bad entries with the key that is wrong", () => {
    expect(() => parseMapping({ out: [{ service: "A", signal: "s", property: "p" }] })).toThrow(
      /mapping\.out\.0/,
    );
    expect(() =>
      parseMapping({ in: [{ topic: "no slash", type: "std_msgs/String", service: "A", method: "m" }] }),
    ).toThrow(/mapping\.in\.0\.topic/);
    expect(() => parseMapping({ out: [{ service: "A", signal: "s", extra: 1 }] })).toThrow(/mapping\.out\.0/);
    expect(() =>
      parseMapping({
        out: [
          { service: "A", signal: "s", topic: "/t" },
          { service: "B", signal: "s", topic: "/t" },
        ],
      }),
    ).toThrow(/mapped twice/);
  });

  it("the user's entries replace the demo's of the same name", () => {
    const user = parseMapping({
      out: [{ service: "ALBattery", property: "charge", type: "std_msgs/String" }],
    });
    const merged = mergeMappings(demoMapping(), user);
    const charge = merged.out.filter((o) => o.topic === "/qi/ALBattery/charge");
    expect(charge).toEqual([user.out[0]]);
  });

  it("the demo mapping names the camera, the battery, say and ALMemory", () => {
    const m = demoMapping();
    const topics = m.out.map((o) => o.topic);
    expect(topics).toContain("/qi/ALVideoDevice/image");
    expect(topics).toContain("/qi/ALBattery/charge");
    expect(topics).toContain("/qi/ALMemory/Demo/Greeting");
    expect(m.in.map((i) => i.topic)).toContain("/qi/ALTextToSpeech/say");
    expect(m.services.map((s) => s.name)).toContain("/qi/ALTextToSpeech/say_service");
  });
});

describe("ros1 settings and protocol pieces", () => {
  it("has documented defaults and checks what it reads", () => {
    const s = parseRos1Settings({});
    expect(s).toMatchObject({
      master: "http://127.0.0.1:11311/",
      nodeName: "/qi_gateway",
      host: "127.0.0.1",
      queueSize: 10,
    });
    expect(() => parseRos1Settings({ queueSize: 0 })).toThrow(/bridges\.ros1\.queueSize/);
    expect(() => parseRos1Settings({ master: "ftp://x" })).toThrow(/bridges\.ros1\.master/);
    expect(() => parseRos1Settings({ typo: 1 })).toThrow(/bridges\.ros1/);
  });

  it("announces std_srvs md5sums and computes those of a given service type the way genmsg does", () => {
    expect(serviceType("std_srvs/Trigger").md5sum).toBe("937c9679a518e3a18d831e57125ea522");
    const custom = serviceType("x/SetBoolLike", "bool data", "bool success\nstring message");
    expect(custom.md5sum).toBe("09fb03525b03e7ea1fd3992bafd87e16");
    expect(() => serviceType("x/Unknown")).toThrow(/give its request and response/);
  });

  it("TCPROS headers round-trip and frames over the limit are refused", () => {
    const h = encodeHeader({ callerid: "/a", service: "/s" });
    expect(decodeHeader(h.subarray(4))).toEqual(
      new Map([
        ["callerid", "/a"],
        ["service", "/s"],
      ]),
    );
    const reader = new FrameReader(8);
    const big = Buffer.alloc(4);
    big.writeUInt32LE(9);
    expect(() => reader.push(big)).toThrow(/over the limit/);
    const r2 = new FrameReader(8);
    expect(r2.push(Buffer.from([2, 0, 0, 0, 7]))).toEqual([]);
    expect(r2.push(Buffer.from([8, 1, 0]))).toHaveLength(1);
  });

  it("a service request is read with its type's definition", () => {
    const t = serviceType("std_srvs/SetBool");
    expect(t.request).toBeInstanceOf(MessageReader);
    expect(t.request.readMessage(Uint8Array.of(1))).toEqual({ data: true });
  });
});

describe("mapping: no value, times", () => {
  it("maps a signature without a value to std_msgs/Empty, which serializes to nothing", () => {
    const m = mappingForSignature("()");
    expect(m.type).toBe("std_msgs/Empty");
    expect(m.toMessage([])).toEqual({});
    expect(messageWriter("std_msgs/Empty").writeMessage({}).byteLength).toBe(0);
  });

  it("spells a time {sec, nsec} for the serializer and {secs, nsecs} for rosbridge's JSON", () => {
    expect(rosTime(1_700_000_000_250)).toEqual({ sec: 1_700_000_000, nsec: 250_000_000 });
    expect(rosTime(1_700_000_000_250, "secs")).toEqual({ secs: 1_700_000_000, nsecs: 250_000_000 });
    const frame = [2, 1, 5, new Raw(new Uint8Array(6))];
    const ros1 = mappingForSignature("(iiIr)").toMessage(frame) as { header: { stamp: object } };
    expect(Object.keys(ros1.header.stamp)).toEqual(["sec", "nsec"]);
    const web = messageFromQi("(iiIr)", frame, false) as { header: { stamp: object }; data: unknown };
    expect(Object.keys(web.header.stamp)).toEqual(["secs", "nsecs"]);
    expect(web.data).toBe("AAAAAAAA");
    // The serializer takes the ROS 1 spelling: 1 header + 2 dims + encoding + 2 fields + 6 bytes.
    expect(messageWriter("sensor_msgs/Image").writeMessage(ros1).byteLength).toBeGreaterThan(6);
  });
});
