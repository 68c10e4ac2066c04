/**
 * Every error symtensor throws on purpose extends SymtensorError and carries a stable code.
 * Codes are documented in docs/errors.md (one heading per code, anchored by its lowercase code).
 *
 * Ranges: ST0xx tracing, ST1xx performance warnings, ST2xx devices and transfers, ST3xx IR text
 * and verification, ST4xx shapes, dtypes and argument values, ST5xx file formats and interop.
 */

export type ErrorCode =
  | "ST201"
  | "ST202"
  | "ST401"
  | "ST402"
  | "ST403"
  | "ST404"
  | "ST405"
  | "ST406"
  | "ST501";

export class SymtensorError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(`${message}\nSee docs/errors.md#${code.toLowerCase()}`);
    this.code = code;
    this.name = new.target.name;
  }
  /** The message without the trailing documentation link. */
  get summary(): string {
    return this.message.split("\nSee docs/errors.md#")[0] ?? this.message;
  }
}

/** ST201: a device name that does not exist or is not available in this build. */
export class DeviceError extends SymtensorError {
  constructor(message: string) {
    super("ST201", message);
  }
}

/** ST202: a tensor was used after dispose(). */
export class DisposedTensorError extends SymtensorError {
  constructor(message: string) {
    super("ST202", message);
  }
}

/** ST401: shapes that an op cannot combine (broadcasting, matmul inner dims, concat...). */
export class ShapeError extends SymtensorError {
  constructor(message: string) {
    super("ST401", message);
  }
}

/** ST402 (unsupported dtype) and ST403 (implicit promotion under strict dtypes). */
export class DTypeError extends SymtensorError {
  constructor(message: string, code: "ST402" | "ST403" = "ST402") {
    super(code, message);
  }
}

/** ST404: an argument with a bad value (axis out of range, negative size, non-integer...). */
export class ValueError extends SymtensorError {
  constructor(message: string, code: "ST404" | "ST405" = "ST404") {
    super(code, message);
  }
}

/** ST406: an index outside the bounds of the axis it indexes. */
export class IndexError extends SymtensorError {
  constructor(message: string) {
    super("ST406", message);
  }
}

/** ST501: bytes that are not a valid file of the expected format (.npy). */
export class FormatError extends SymtensorError {
  constructor(message: string) {
    super("ST501", message);
  }
}
