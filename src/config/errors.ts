/** The error of a configuration file that cannot be read or does not validate. */
import { brandErrorClass, QiBaseError } from "../errors/index.js";

export type ConfigErrorCode = "QI_ERR_CONFIG";

export class ConfigError extends QiBaseError {
  static override readonly brand: symbol = Symbol.for("qimessaging.error.ConfigError");
  static readonly codes: readonly ConfigErrorCode[] = ["QI_ERR_CONFIG"];
  declare readonly code: ConfigErrorCode;

  constructor(
    message: string,
    /** The file at fault. */
    readonly file: string,
  ) {
    super("QI_ERR_CONFIG", message);
    this.name = "ConfigError";
  }
}
brandErrorClass(ConfigError);

export function isConfigError(e: unknown): e is ConfigError {
  return ConfigError.is(e);
}
