/** `SERVICE.MEMBER` arguments, and finding services and members with helpful errors. */
import { isQiError } from "../connection/index.js";
import type { RemoteObject } from "../object/index.js";
import type { Session } from "../session/index.js";
import type { MetaMethod, MetaProperty, MetaSignal } from "../wire/index.js";
import { serviceWaitOf } from "./connect.js";
import { CliError, ExitCode, failure, usageError } from "./errors.js";
import { startSpinner } from "./spinner.js";
import { closest } from "./suggest.js";

export interface Target {
  service: string;
  member: string;
}

/** An example of each kind of target, for the hint of a malformed one. */
const EXAMPLES: Record<string, string> = {
  "SERVICE.METHOD": "ALTextToSpeech.say",
  "SERVICE.PROPERTY": "ALBattery.charge",
  "SERVICE.SIGNAL": "ALMemory.dataChanged",
  "SERVICE.METHOD or SERVICE.SIGNAL": "ALTextToSpeech.say or ALMemory.dataChanged",
};

/**
 * Splits `ALMemory.getData` (or `ALMemory.getData::(s)`) at the last dot before the member
 * name; service names may contain dots, member names do not.
 */
export function parseTarget(text: string, what = "SERVICE.MEMBER"): Target {
  const overload = text.indexOf("::");
  const head = overload >= 0 ? text.slice(0, overload) : text;
  const dot = head.lastIndexOf(".");
  if (dot <= 0 || dot === head.length - 1) {
    throw usageError(`"${text}" is not ${what}`, `e.g. ${EXAMPLES[what] ?? "ALTextToSpeech.say"}`);
  }
  return { service: text.slice(0, dot), member: text.slice(dot + 1) };
}

/**
 * The proxy of a service; an unknown service is exit code 1 with a hint, unless `--wait MS`
 * was given: then it waits that long for the service to be registered (with a spinner on a
 * terminal), as a script starting beside the robot's services needs.
 */
export async function openService(session: Session, name: string): Promise<RemoteObject> {
  try {
    return await session.service(name);
  } catch (e) {
    if (!isUnknownService(e)) throw e;
    const wait = serviceWaitOf(session);
    if (wait === 0) {
      const guess = await session
        .services()
        .then((list) =>
          closest(
            name,
            list.map((s) => s.name),
          ),
        )
        .catch(() => undefined);
      throw new CliError(
        guess ? `unknown service "${name}"; did you mean ${guess}?` : `unknown service "${name}"`,
        ExitCode.Failure,
        "`qi services` for the registered services, or --wait MS to wait for it",
        { cause: e },
      );
    }
    const spinner = startSpinner(`waiting for ${name}`);
    try {
      await session.waitForService(name, wait);
    } catch (waitError) {
      if (isQiError(waitError, "QI_ERR_TIMEOUT")) {
        throw new CliError(
          `service "${name}" did not appear within ${wait} ms`,
          ExitCode.Failure,
          "`qi services` for the registered services",
          { cause: waitError },
        );
      }
      throw waitError;
    } finally {
      spinner.stop();
    }
    return session.service(name);
  }
}

function isUnknownService(e: unknown): boolean {
  return (
    isQiError(e) &&
    (e.code === "QI_ERR_NO_SUCH_SERVICE" || /Cannot find (service|ServiceInfo)/i.test(e.message))
  );
}

export function methodsNamed(obj: RemoteObject, name: string): MetaMethod[] {
  return [...obj.metaObject.methods.values()].filter((m) => m.name === name);
}

export function signalNamed(obj: RemoteObject, name: string): MetaSignal | undefined {
  return [...obj.metaObject.signals.values()].find((s) => s.name === name);
}

export function propertyNamed(obj: RemoteObject, name: string): MetaProperty | undefined {
  return [...obj.metaObject.properties.values()].find((p) => p.name === name);
}

/** "no method X on S" with what X is instead, if it is something else. */
export function noSuchMember(
  service: string,
  kind: "method" | "signal" | "property",
  name: string,
  obj: RemoteObject,
): CliError {
  const isProperty = propertyNamed(obj, name) !== undefined;
  const isSignal = !isProperty && signalNamed(obj, name) !== undefined;
  const isMethod = methodsNamed(obj, name).length > 0;
  let actually = "";
  if (isProperty && kind !== "property") actually = ` (it is a property: use qi get/set/watch)`;
  else if (isSignal && kind !== "signal") actually = ` (it is a signal: use qi watch/post)`;
  else if (isMethod && kind !== "method") actually = ` (it is a method: use qi call/post)`;
  else {
    const meta = obj.metaObject;
    const pool = kind === "method" ? meta.methods : kind === "signal" ? meta.signals : meta.properties;
    const guess = closest(
      name,
      [...pool.values()].map((m) => m.name),
    );
    if (guess) actually = `; did you mean ${guess}?`;
  }
  return failure(`${service} has no ${kind} "${name}"${actually}`, `\`qi info ${service}\` for its members`);
}
