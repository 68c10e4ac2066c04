/**
 * Tracing state and symbolic tensors. While `fn()` traces a function, its tensor arguments are
 * SymbolicTensors: they have a shape and a dtype but no value, and every op on them is recorded
 * into the trace's graph instead of running. Anything that needs a value (numpy(), Number(t),
 * iteration) throws a SymbolicTensorError that says what to do instead.
 */
import { CODE_HINTS, SYMBOLIC_GUIDANCE } from "../guidance.js";
import type { DType } from "../ir/dtype.js";
import { type SymbolicTensorInfo, SymbolicTensorError } from "../ir/errors.js";
import { GraphBuilder, type SourceLoc, type Value } from "../ir/graph.js";
import { pinTensorData } from "../exec/wasm/executor.js";
import { formatType, type TensorType } from "../ir/types.js";
import type { NDArray } from "../interop/ndarray.js";
import { type Device, type EagerTensor, Tensor } from "./tensor.js";

/** What created a value of a trace: for error messages and IR locations. */
interface Provenance {
  readonly op: string;
  readonly operands: readonly string[];
  readonly loc: SourceLoc | undefined;
}

export class Trace {
  readonly functionName: string;
  #builder: GraphBuilder;
  /** Where recorded ops go: the function's graph, or the region being traced (withBuilder). */
  get builder(): GraphBuilder {
    return this.#builder;
  }
  /**
   * Records into `b` while `body` runs: how control-flow ops trace a branch or loop body into a
   * region, so dispatch keeps recording into `trace.builder` without knowing about regions.
   */
  withBuilder<T>(b: GraphBuilder, body: () => T): T {
    const saved = this.#builder;
    this.#builder = b;
    try {
      return body();
    } finally {
      this.#builder = saved;
    }
  }
  readonly device: Device;
  active = true;
  /** Closed-over eager tensors, captured once each as graph constants (by reference). */
  readonly constants = new Map<EagerTensor, Value>();
  readonly provenance = new Map<string, Provenance>();

  constructor(functionName: string, device: Device) {
    this.functionName = functionName;
    this.#builder = new GraphBuilder(functionName);
    this.device = device;
  }

  param(name: string, type: TensorType, loc: SourceLoc | undefined): SymbolicTensor {
    const v = this.builder.addParam(name, type);
    this.provenance.set(v.name, { op: "parameter", operands: [], loc });
    return new SymbolicTensor(this, v);
  }

  constant(t: EagerTensor): Value {
    let v = this.constants.get(t);
    if (!v) {
      const data = t.buffer();
      // The graph outlives this trace: disposing the tensor must not free the constant's memory.
      pinTensorData(data);
      v = this.builder.addConstant(t.type, data);
      this.constants.set(t, v);
      this.provenance.set(v.name, { op: "constant", operands: [], loc: undefined });
    }
    return v;
  }

  record(op: string, operands: readonly string[], attrs: Parameters<GraphBuilder["addNode"]>[2], types: readonly TensorType[], loc: SourceLoc | undefined): SymbolicTensor[] {
    const results = this.builder.addNode(op, operands, attrs, types, loc);
    for (const r of results) this.provenance.set(r.name, { op, operands, loc });
    return results.map((v) => new SymbolicTensor(this, v));
  }
}

const stack: Trace[] = [];

export function currentTrace(): Trace | undefined {
  return stack[stack.length - 1];
}

export function withTrace<T>(trace: Trace, body: () => T): T {
  stack.push(trace);
  try {
    return body();
  } finally {
    stack.pop();
    trace.active = false;
  }
}

// ---- source locations ---------------------------------------------------------------------------

/** The directory holding symtensor's own code (src/ when run from source, dist/ when bundled). */
const LIBRARY_ROOT = libraryRoot();

function libraryRoot(): string {
  try {
    const here = new URL(".", import.meta.url).href;
    // Source layout: .../src/trace/ -> .../src/ ; bundle: .../dist/ stays .../dist/.
    return here.endsWith("/src/trace/") ? here.slice(0, -"trace/".length) : here;
  } catch {
    return "\u0000";
  }
}

const FRAME = /\(?((?:file|https?):\/\/[^\s()]+|\/[^\s():]+|[A-Za-z]:\\[^\s():]+):(\d+):(\d+)\)?\s*$/;

function toUrl(file: string): string {
  return file.startsWith("/") ? `file://${file}` : file;
}

/** Shortens a file URL to a path relative to the working directory, as users type paths. */
function displayPath(file: string): string {
  let path = file.startsWith("file://") ? decodeURIComponent(file.slice("file://".length)) : file;
  const cwd = typeof process !== "undefined" && typeof process.cwd === "function" ? process.cwd() : "";
  if (cwd && path.startsWith(cwd + "/")) path = path.slice(cwd.length + 1);
  return path;
}

/** The first stack frame outside symtensor: where the user's code called the op. */
export function userCallSite(): SourceLoc | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const text = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  for (const line of text.split("\n").slice(1)) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    const file = m[1]!;
    const url = toUrl(file);
    if (url.startsWith(LIBRARY_ROOT) || file.startsWith("node:") || url.includes("/node_modules/")) continue;
    return { file: displayPath(file), line: Number(m[2]), col: Number(m[3]) };
  }
  return undefined;
}

export function formatLoc(loc: SourceLoc | undefined): string | undefined {
  return loc ? `${loc.file}:${loc.line}:${loc.col}` : undefined;
}

// ---- symbolic tensors ---------------------------------------------------------------------------

const GUIDANCE = SYMBOLIC_GUIDANCE.join("\n");

export class SymbolicTensor extends Tensor {
  readonly trace: Trace;
  readonly value: Value;

  constructor(trace: Trace, value: Value) {
    super();
    this.trace = trace;
    this.value = value;
  }

  get shape(): readonly number[] {
    return this.value.type.shape;
  }
  get dtype(): DType {
    return this.value.type.dtype;
  }
  get device(): Device {
    return this.trace.device;
  }
  override get type(): TensorType {
    return this.value.type;
  }

  /** Facts for error messages: IR name, type, the op that made it and where. */
  info(): SymbolicTensorInfo {
    const p = this.trace.provenance.get(this.value.name);
    return {
      functionName: this.trace.functionName,
      valueName: this.value.name,
      tensorType: formatType(this.value.type),
      op: p?.op ?? "unknown",
      createdAt: formatLoc(p?.loc),
    };
  }

  /** `%3: f32[64,10] = add(%2, %c0)`, the line of IR that defines this tensor. */
  definition(): string {
    const p = this.trace.provenance.get(this.value.name);
    const rhs = p?.op === "parameter" ? "parameter" : p?.op === "constant" ? "constant" : `${p?.op ?? "?"}(${(p?.operands ?? []).join(", ")})`;
    return `${this.value.name}: ${formatType(this.value.type)} = ${rhs}`;
  }

  private fail(code: "ST001" | "ST002" | "ST003", attempted: string, instead?: string): never {
    const info = this.info();
    const where = info.createdAt ? `created at ${info.createdAt}` : "";
    const lines = [
      `${attempted} on a symbolic tensor while tracing \`${info.functionName}\`.`,
      `  ${this.definition().padEnd(40)} ${where}`.trimEnd(),
      instead ? `${GUIDANCE}\n  - ${instead}` : GUIDANCE,
    ];
    throw new SymbolicTensorError(code, lines.join("\n"), info);
  }

  numpy(): NDArray {
    return this.fail("ST001", ".numpy() was called");
  }
  override item(): number | boolean {
    return this.fail("ST001", ".item() was called");
  }
  override tolist(): never {
    return this.fail("ST001", ".tolist() was called");
  }
  dispose(): void {
    // Nothing to free: a symbolic tensor owns no buffer.
  }

  /** JS coercion: a description for strings, an error for numbers (`+t`, `t > 0`, `t * 2`). */
  override [Symbol.toPrimitive](hint: string): string | number {
    if (hint === "string") return this.toString();
    return this.fail("ST002", `JS coercion to a number (hint "${hint}", as in Number(t), +t, t > 0 or t * 2) was attempted`, CODE_HINTS.ST002);
  }
  override valueOf(): number {
    return this.fail("ST002", "valueOf() was called");
  }
  override [Symbol.iterator](): Iterator<Tensor> {
    return this.fail("ST003", "iteration (for...of, spread, Array.from) was attempted", CODE_HINTS.ST003);
  }

  override toString(): string {
    const p = this.trace.provenance.get(this.value.name);
    return `SymbolicTensor<${formatType(this.value.type)}> ${this.value.name} = ${p?.op ?? "?"}(...) in ${this.trace.functionName}`;
  }
}

/** ST004: a symbolic tensor from a finished trace (or another trace) was used. */
export function escapedTracerError(t: SymbolicTensor, usedIn: string): SymbolicTensorError {
  const info = t.info();
  const where = info.createdAt ? ` (created at ${info.createdAt})` : "";
  return new SymbolicTensorError(
    "ST004",
    [
      `a symbolic tensor from the trace of \`${info.functionName}\` was used ${usedIn}.`,
      `  ${t.definition()}${where}`,
      "It escaped its trace: it was kept (in a variable, a closure or an object) after `" + info.functionName + "` finished tracing, and it has no value outside that trace.",
      `  - ${CODE_HINTS.ST004}`,
    ].join("\n"),
    info,
  );
}
