/**
 * Every error symtensor throws on purpose extends SymtensorError and carries a stable code.
 * Codes are documented in docs/errors.md (one heading per code, anchored by its lowercase code).
 *
 * Ranges: ST0xx tracing, ST1xx performance warnings, ST2xx devices and transfers, ST3xx IR text
 * and verification, ST4xx shapes, dtypes and argument values, ST5xx file formats and interop.
 */

export type ErrorCode =
  | "ST001"
  | "ST002"
  | "ST003"
  | "ST004"
  | "ST007"
  | "ST008"
  | "ST201"
  | "ST202"
  | "ST203"
  | "ST204"
  | "ST401"
  | "ST402"
  | "ST403"
  | "ST404"
  | "ST405"
  | "ST406"
  | "ST301"
  | "ST302"
  | "ST501"
  | "ST502";

export class SymtensorError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(`${message}\nSee docs/errors.md#${code.toLowerCase()}`);
    this.code = code;
    // The stack's first line (what Node prints for an uncaught error) carries the code,
    // `ShapeError [ST401]: ...`, while `name` stays the plain class name for programs.
    this.name = `${new.target.name} [${code}]`;
    void this.stack;
    this.name = new.target.name;
  }
  /** The message without the trailing documentation link. */
  get summary(): string {
    return this.message.split("\nSee docs/errors.md#")[0] ?? this.message;
  }
}

/**
 * ST008: differentiating through an op that has no derivative rule (its registry entry has no
 * `vjp`), on the path from a float parameter to a differentiated output.
 */
export class NonDifferentiableError extends SymtensorError {
  /** The op without a rule. */
  readonly op: string;
  constructor(op: string, message: string) {
    super("ST008", message);
    this.op = op;
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

/**
 * ST203: a synchronous read (numpy(), item(), tolist(), an op's CPU kernel) of a tensor whose data
 * lives on an asynchronous device (WebGPU): the host cannot wait for the GPU without blocking, so
 * the value is read with `await t.numpyAsync()` / `await t.data()` / `await t.to("cpu")`.
 */
export class DeviceSyncError extends SymtensorError {
  /** The device the tensor lives on. */
  readonly device: string;
  constructor(device: string, message: string) {
    super("ST203", message);
    this.device = device;
  }
}

export type WebGPUErrorKind = "validation" | "out-of-memory" | "device-lost" | "internal";

/**
 * ST204: the GPU reported an error (a validation error, out of memory, an internal error, or the
 * device was lost). GPU work runs asynchronously, so the error is reported at the next readback or
 * synchronization point after the work that caused it; `op` and `kernel` name that work.
 */
export class WebGPUError extends SymtensorError {
  readonly kind: WebGPUErrorKind;
  /** The op (or `@function` for a compiled run) whose GPU work failed, when known. */
  readonly op: string | undefined;
  /** The structural hash of the kernel that failed, when known. */
  readonly kernel: string | undefined;
  constructor(kind: WebGPUErrorKind, message: string, op?: string, kernel?: string) {
    super("ST204", message);
    this.kind = kind;
    this.op = op;
    this.kernel = kernel;
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

/**
 * ST502: ONNX export or import met ops it cannot translate. `ops` lists every one (each with its
 * count or the detail that rules it out), so one run reports them all.
 */
export class UnsupportedOnnxOpError extends SymtensorError {
  readonly direction: "export" | "import";
  readonly ops: readonly string[];
  constructor(direction: "export" | "import", ops: readonly string[], detail: string) {
    super("ST502", `${direction === "export" ? "exportOnnx: cannot export" : "importOnnx: cannot import"} ${ops.length === 1 ? "op" : `${ops.length} ops`} ${ops.join(", ")}: ${detail}`);
    this.direction = direction;
    this.ops = ops;
  }
}

/** Facts about a symbolic tensor that a SymbolicTensorError reports. */
export interface SymbolicTensorInfo {
  /** The traced function's name. */
  readonly functionName: string;
  /** IR name and type, e.g. `%3: f32[64,10]`. */
  readonly valueName: string;
  readonly tensorType: string;
  /** The op that produced the tensor (`parameter` for an argument of the traced function). */
  readonly op: string;
  /** `file:line:col` of the user's call that created it, when known. */
  readonly createdAt: string | undefined;
}

/**
 * ST001-ST004: a host conversion (or other use that needs a value) of a symbolic tensor, which
 * stands for a value the compiled graph computes later and has none while tracing.
 */
export class SymbolicTensorError extends SymtensorError implements SymbolicTensorInfo {
  readonly functionName: string;
  readonly valueName: string;
  readonly tensorType: string;
  readonly op: string;
  readonly createdAt: string | undefined;
  constructor(code: "ST001" | "ST002" | "ST003" | "ST004", message: string, info: SymbolicTensorInfo) {
    super(code, message);
    this.functionName = info.functionName;
    this.valueName = info.valueName;
    this.tensorType = info.tensorType;
    this.op = info.op;
    this.createdAt = info.createdAt;
  }
}

/** Where a problem sits in IR text. */
export interface TextPosition {
  readonly line: number;
  readonly col: number;
  /** The source file, when the text came from one. */
  readonly file?: string;
}

function caret(text: string | undefined, pos: TextPosition): string {
  if (text === undefined) return "";
  const line = text.split(/\r?\n/)[pos.line - 1];
  if (line === undefined) return "";
  return `\n  ${line}\n  ${" ".repeat(Math.max(0, pos.col - 1))}^`;
}

/** ST301: IR text that does not parse. The message is `file:line:col: error ST301: ...` plus a caret line. */
export class IRParseError extends SymtensorError {
  readonly line: number;
  readonly col: number;
  readonly file: string | undefined;
  readonly detail: string;
  constructor(detail: string, pos: TextPosition, text?: string) {
    super("ST301", `${pos.file ?? "<ir>"}:${pos.line}:${pos.col}: error ST301: ${detail}${caret(text, pos)}`);
    this.line = pos.line;
    this.col = pos.col;
    this.file = pos.file;
    this.detail = detail;
  }
}

/** ST302: a graph that breaks an IR rule (SSA, types, an op's shape rule, region signatures). */
export class IRVerifyError extends SymtensorError {
  /** The offending node's first result name (or the graph-level item), e.g. `%3`. */
  readonly where: string;
  readonly rule: string;
  constructor(where: string, rule: string, detail: string, pos?: TextPosition, text?: string) {
    const prefix = pos ? `${pos.file ?? "<ir>"}:${pos.line}:${pos.col}: ` : "";
    super("ST302", `${prefix}error ST302: ${where}: ${rule}: ${detail}${pos ? caret(text, pos) : ""}`);
    this.where = where;
    this.rule = rule;
  }
}
