/**
 * The one base of every qimessaging error, with a brand that survives two copies of the package
 * in one process (an application and a plug-in each bundling their own, as undici's errors do):
 * `instanceof` and the static `is` test a `Symbol.for` brand, never the class identity.
 */

/** Brand carried by every qimessaging error; `Symbol.for` makes it the same in every copy. */
const BASE_BRAND: unique symbol = Symbol.for("qimessaging.error");

/** Every code starts with this prefix, so a code names the package as well as the failure. */
export const QI_ERROR_CODE_PREFIX = "QI_ERR_";

export interface QiBaseErrorOptions {
  cause?: unknown;
}

type BrandedClass = { readonly brand: symbol };

export class QiBaseError extends Error {
  /** The class's brand; each subclass declares its own (`Symbol.for("qimessaging.error.<Name>")`). */
  static readonly brand: symbol = BASE_BRAND;
  /** A stable, package-unique code (`QI_ERR_...`) to switch on. */
  readonly code: string;

  constructor(code: string, message: string, options?: QiBaseErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = "QiBaseError";
  }

  /**
   * `value instanceof SomeQiError` checks the brand, so it also holds for another copy's errors.
   * A subclass without a brand of its own (a private helper class) keeps plain prototype checks.
   */
  static override [Symbol.hasInstance](this: BrandedClass, value: unknown): boolean {
    // `this` is the class on the right of instanceof: each class checks its own brand.
    // biome-ignore lint/complexity/noThisInStatic: the subclass, not QiBaseError, is meant
    if (!Object.hasOwn(this, "brand")) return Function.prototype[Symbol.hasInstance].call(this, value);
    // biome-ignore lint/complexity/noThisInStatic: the subclass, not QiBaseError, is meant
    return hasBrand(value, this.brand);
  }

  /** Is `value` an error of this class (from any copy of the package), with `code` when given? */
  static is<T extends QiBaseError>(
    this: (abstract new (...args: never[]) => T) & BrandedClass,
    value: unknown,
    code?: string,
  ): value is T {
    // biome-ignore lint/complexity/noThisInStatic: TransportError.is checks TransportError's brand
    return hasBrand(value, this.brand) && (code === undefined || (value as QiBaseError).code === code);
  }
}
Object.defineProperty(QiBaseError.prototype, BASE_BRAND, { value: true });

/** Registers `cls.brand` on its prototype; call once after each subclass declaration. */
export function brandErrorClass(cls: { readonly brand: symbol; readonly prototype: object }): void {
  Object.defineProperty(cls.prototype, cls.brand, { value: true });
}

/** Is `value` any qimessaging error (from any copy of the package)? */
export function isQiBaseError(value: unknown): value is QiBaseError {
  return hasBrand(value, BASE_BRAND);
}

function hasBrand(value: unknown, brand: symbol): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/**
 * The package-unique code for a class-local one: `ERR_CLOSED` of a TransportError becomes
 * `QI_ERR_TRANSPORT_CLOSED`. A code that already has the prefix is kept, so both spellings work
 * at call sites.
 */
export function prefixedCode<C extends string>(classPrefix: string, code: string): C {
  if (code.startsWith(QI_ERROR_CODE_PREFIX)) return code as C;
  const reason = code.startsWith("ERR_") ? code.slice(4) : code;
  return `${QI_ERROR_CODE_PREFIX}${classPrefix}${reason}` as C;
}
