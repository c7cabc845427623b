/**
 * The simulated robot's properties refuse nonsense written from outside (`qi set
 * ALVideoDevice.fps -3`, a volume of 5, a language it cannot speak, the battery's charge),
 * with an error that says what is allowed. The services themselves still update read-only
 * properties (the battery drains) through `setOwn`.
 */
import { QiError } from "../connection/index.js";
import { QiObject, type QiObjectOptions } from "../object/index.js";

/** An error text for a value that is not allowed, or undefined when it is. */
export type PropertyCheck = (value: unknown) => string | undefined;

export class CheckedObject extends QiObject {
  private readonly checks = new Map<number, PropertyCheck>();
  private owning = false;

  constructor(options?: QiObjectOptions) {
    super(options);
  }

  /** Writes to `name` from outside must pass `check`. */
  checked(name: string, check: PropertyCheck): this {
    const meta = [...this.metaObject().properties.values()].find((p) => p.name === name);
    if (!meta) throw new Error(`no property ${name}`);
    this.checks.set(meta.uid, check);
    return this;
  }

  /** `name` is written only by the service itself. */
  readOnly(name: string): this {
    return this.checked(name, () => `${name} is read-only`);
  }

  /** A write by the service itself, past the checks. */
  setOwn(name: string, value: unknown): void {
    this.owning = true;
    try {
      this.setProperty(name, value);
    } finally {
      this.owning = false;
    }
  }

  override setPropertyById(uid: number, value: unknown): void {
    const problem = this.owning ? undefined : this.checks.get(uid)?.(value);
    if (problem !== undefined) throw new QiError("ERR_BAD_ARGUMENTS", problem);
    super.setPropertyById(uid, value);
  }
}

/** A number within [min, max] (integers only when `integer`). */
export function inRange(name: string, min: number, max: number, integer = false): PropertyCheck {
  return (value) => {
    const n = typeof value === "bigint" ? Number(value) : value;
    if (
      typeof n !== "number" ||
      !Number.isFinite(n) ||
      n < min ||
      n > max ||
      (integer && !Number.isInteger(n))
    )
      return `${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}, got ${String(value)}`;
    return undefined;
  };
}

/** One of a fixed list of strings. */
export function oneOf(name: string, allowed: readonly string[]): PropertyCheck {
  return (value) =>
    typeof value === "string" && allowed.includes(value)
      ? undefined
      : `${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`;
}
