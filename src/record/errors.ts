/** The error of a recording that cannot be read: truncated, corrupt, or not an MCAP file. */
import { brandErrorClass, QiBaseError } from "../errors/index.js";

export type RecordingFileErrorCode = "QI_ERR_RECORDING_FILE";

export class RecordingFileError extends QiBaseError {
  static override readonly brand: symbol = Symbol.for("qimessaging.error.RecordingFileError");
  static readonly codes: readonly RecordingFileErrorCode[] = ["QI_ERR_RECORDING_FILE"];
  declare readonly code: RecordingFileErrorCode;

  constructor(
    message: string,
    /** The file at fault. */
    readonly file: string,
    /** Where in the file the problem is, when known. */
    readonly offset?: bigint,
    options?: { cause?: unknown },
  ) {
    super("QI_ERR_RECORDING_FILE", message, options);
    this.name = "RecordingFileError";
  }
}
brandErrorClass(RecordingFileError);
