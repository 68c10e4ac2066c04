/**
 * `symtensor ir <module> --fn <export> --args <types>`: trace an exported function and print its IR.
 * `symtensor ir model.onnx`: import an ONNX model and print its IR (as imported, or optimized).
 */
import { CliError, type CliIO, readInputFile } from "./common.js";
import { fn, type IrOptions, loadOnnx, print, Tensor, toDot, type TracedFunction, zeros } from "./lib.js";
import { loadModule } from "./load-module.js";
import { parseTypesArg } from "./types-arg.js";

export interface IrCommandOptions {
  /** Required for modules; not used for .onnx models. */
  fn?: string;
  args: string;
  format: "text" | "json" | "dot";
  stage?: "traced" | "optimized";
  /** `--no-elide` sets false: large constants print in full, so the text parses back. */
  elide: boolean;
  /** `--no-loc` sets false. */
  loc: boolean;
}

type AnyTraced = TracedFunction<unknown[], unknown>;

/** A function made by `fn()` (of any copy of the library): it has `.lower` and `.ir`. */
function isTraced(f: (...args: never[]) => unknown): f is AnyTraced & typeof f {
  const t = f as unknown as Partial<Record<"lower" | "ir", unknown>>;
  return typeof t.lower === "function" && typeof t.ir === "function";
}

function describeExport(v: unknown): string {
  if (typeof v === "function") return isTraced(v as (...args: never[]) => unknown) ? "fn" : "function";
  if (v instanceof Tensor) return "Tensor";
  if (v === null) return "null";
  if (typeof v === "object") return (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name || "object";
  return typeof v;
}

function listExports(mod: Record<string, unknown>): string {
  const names = Object.keys(mod);
  if (names.length === 0) return "it has no exports";
  return `its exports: ${names.map((n) => `${n} (${describeExport(mod[n])})`).join(", ")}`;
}

/** The export to trace: a traced function as is, a plain function wrapped with this library's `fn`. */
function pickFunction(mod: Record<string, unknown>, name: string, file: string, argCount: number): AnyTraced {
  if (!Object.prototype.hasOwnProperty.call(mod, name)) {
    throw new CliError(`${file} has no export ${JSON.stringify(name)}; ${listExports(mod)}`);
  }
  const value = mod[name];
  if (typeof value !== "function") {
    throw new CliError(`export ${JSON.stringify(name)} of ${file} is ${describeExport(value)}, not a function; ${listExports(mod)}`);
  }
  const f = value as (...args: never[]) => unknown;
  if (isTraced(f)) return f;
  // A plain function's declared parameter count is a cheap, clear check; fn() wrappers hide theirs.
  if (f.length > argCount) {
    throw new CliError(`${name} takes ${f.length} argument${f.length === 1 ? "" : "s"}, but --args gives ${argCount}`);
  }
  const fnName = name === "default" ? f.name || "default" : name;
  return fn(f as (...args: unknown[]) => unknown, { name: fnName });
}

/** An ONNX model's IR: "traced" is the graph as imported, "optimized" after the default passes. */
function onnxIr(file: string, opts: IrCommandOptions): string {
  const model = loadOnnx(new Uint8Array(readInputFile(file, "ONNX model")));
  const graph = opts.stage === "optimized" ? model.optimized : model.graph;
  if (opts.format === "json") return JSON.stringify(graph, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v), 2);
  if (opts.format === "dot") return toDot(graph, { elideConstants: opts.elide });
  return print(graph, { elideConstants: opts.elide, loc: opts.loc });
}

export async function irCommand(file: string, opts: IrCommandOptions, io: CliIO): Promise<void> {
  if (file.toLowerCase().endsWith(".onnx")) {
    const text = onnxIr(file, opts);
    io.out(text.endsWith("\n") ? text : `${text}\n`);
    return;
  }
  if (!opts.fn) throw new CliError(`symtensor ir ${file}: --fn <export> names the function to trace`);
  // The types first: a typo in --args should not wait for the module to bundle.
  const types = parseTypesArg(opts.args);
  const mod = await loadModule(file);
  const traced = pickFunction(mod, opts.fn, file, types.length);
  const args = types.map((t) => zeros(t.shape, { dtype: t.dtype }));
  const irOpts: IrOptions = { format: opts.format, elideConstants: opts.elide, loc: opts.loc };
  // The command line shows what was traced unless asked for a later stage (like mlir-opt shows its input).
  irOpts.stage = opts.stage ?? "traced";
  const text = traced.ir(...args, irOpts);
  io.out(text.endsWith("\n") ? text : `${text}\n`);
}
