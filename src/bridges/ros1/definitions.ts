/**
 * Message and service definitions the ROS 1 node speaks: messages from the standard set (the
 * shared mapping's `messageDefinitions`), services from a small built-in table (std_srvs) or
 * from the definitions a mapping gives.
 */
import type { MessageDefinition } from "@foxglove/message-definition";
import { md5, parse } from "@foxglove/rosmsg";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg-serialization";
import { createHash } from "node:crypto";
import { messageDefinitions } from "../mapping/index.js";

export interface ServiceType {
  readonly type: string;
  readonly md5sum: string;
  readonly request: MessageReader;
  readonly response: MessageWriter;
  /** Field names of the response, to fill a reply (success / message / ...). */
  readonly responseFields: readonly string[];
}

/** std_srvs as ROS defines them (texts and md5sums are the published facts of those types). */
const BUILT_IN: Record<string, { request: string; response: string; md5sum: string }> = {
  "std_srvs/Empty": { request: "", response: "", md5sum: "d41d8cd98f00b204e9800998ecf8427e" },
  "std_srvs/Trigger": {
    request: "",
    response: "bool success\nstring message",
    md5sum: "937c9679a518e3a18d831e57125ea522",
  },
  "std_srvs/SetBool": {
    request: "bool data",
    response: "bool success\nstring message",
    md5sum: "09fb03525b03e7ea1fd3992bafd87e16",
  },
};

export function builtInServiceTypes(): string[] {
  return Object.keys(BUILT_IN);
}

/**
 * A service type: built in, or made from `request`/`response` texts (fields of primitive
 * and standard message types), its md5sum computed as genmsg does (md5 of the request's
 * md5 text followed by the response's).
 */
export function serviceType(type: string, request?: string, response?: string): ServiceType {
  const known = BUILT_IN[type];
  if (known && request === undefined && response === undefined)
    return make(type, known.request, known.response, known.md5sum);
  if (request === undefined || response === undefined)
    throw new Error(
      `service type ${type} is not built in (${builtInServiceTypes().join(", ")}): give its request and response definitions`,
    );
  return make(
    type,
    request,
    response,
    createHash("md5")
      .update(md5Text(request) + md5Text(response))
      .digest("hex"),
  );
}

function make(type: string, request: string, response: string, md5sum: string): ServiceType {
  const req = definitionsOf(request);
  const res = definitionsOf(response);
  return {
    type,
    md5sum,
    request: new MessageReader(req),
    response: new MessageWriter(res),
    responseFields: res[0].definitions.filter((f) => !f.isConstant).map((f) => f.name),
  };
}

/** A definition text with the standard types its fields use appended (what the serializers need). */
function definitionsOf(text: string): MessageDefinition[] {
  const [main] = parse(text);
  const defs: MessageDefinition[] = [main ?? { definitions: [] }];
  for (const f of defs[0].definitions)
    if (f.isComplex) for (const d of messageDefinitions(f.type)) if (!defs.includes(d)) defs.push(d);
  return defs;
}

/** genmsg's md5 text: constants, then fields with nested types replaced by their md5sum. */
function md5Text(text: string): string {
  const [main] = parse(text);
  if (!main) return "";
  const constants = main.definitions
    .filter((f) => f.isConstant)
    .map((f) => `${f.type} ${f.name}=${String(f.valueText ?? f.value)}`);
  const fields = main.definitions
    .filter((f) => !f.isConstant)
    .map((f) => {
      if (!f.isComplex) return `${f.type}${arraySuffix(f)} ${f.name}`;
      return `${md5(messageDefinitions(f.type))} ${f.name}`;
    });
  return [...constants, ...fields].join("\n");
}

function arraySuffix(f: { isArray?: boolean; arrayLength?: number }): string {
  if (!f.isArray) return "";
  return f.arrayLength === undefined ? "[]" : `[${f.arrayLength}]`;
}
