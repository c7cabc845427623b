/** errors/: the one error base (QiBaseError) every layer's errors derive from, and its brand checks. */
export {
  brandErrorClass,
  isQiBaseError,
  prefixedCode,
  QI_ERROR_CODE_PREFIX,
  QiBaseError,
  type QiBaseErrorOptions,
} from "./base-error.js";
