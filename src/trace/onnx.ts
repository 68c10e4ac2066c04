/**
 * ONNX at the Tensor level: export a traced function (or a Graph) to ONNX bytes, import ONNX bytes
 * as a Graph, or load them as a callable compiled for the CPU. The protobuf work lives in
 * src/interop/onnx (which sees only the IR); this module adds tracing, passes and execution.
 */
import { DTypeError, ShapeError, ValueError } from "../ir/errors.js";
import type { Graph } from "../ir/graph.js";
import { print } from "../ir/print.js";
import { verify } from "../ir/verify.js";
import { formatType } from "../ir/types.js";
import { DEFAULT_PIPELINE, type Pass, runPasses } from "../ir/passes/index.js";
import { cpuBackend } from "../exec/cpu/backend.js";
import { compile, type Executable } from "../exec/cpu/compile.js";
import { exportGraph, type ExportOptions } from "../interop/onnx/export.js";
import { importModel, type ImportOptions } from "../interop/onnx/import.js";
import { fn } from "./fn.js";
import type { TensorLike } from "./promote.js";
import { tensor } from "./create.js";
import { EagerTensor, Tensor } from "./tensor.js";

export type { ExportOptions as OnnxExportOptions, ImportOptions as OnnxImportOptions };

function isGraph(x: unknown): x is Graph {
  const g = x as Partial<Graph> | null;
  return typeof g === "object" && g !== null && Array.isArray(g.nodes) && Array.isArray(g.params) && Array.isArray(g.results);
}

/**
 * Serializes a function as an ONNX model (opset 17): a function made by `fn` (or a plain one) is
 * traced on the example arguments; a `Graph` is exported as is. Throws UnsupportedOnnxOpError
 * naming every op ONNX cannot express.
 */
export function exportOnnx(f: ((...args: never[]) => unknown) | Graph, ...exampleArgs: unknown[]): Uint8Array {
  if (isGraph(f)) return exportGraph(f);
  if (typeof f !== "function") throw new ValueError(`exportOnnx: expected a function or an IR graph, got ${f === null ? "null" : typeof f}`);
  const lower = (f as unknown as { lower?: unknown }).lower;
  const traced = typeof lower === "function" ? (f as unknown as { lower(...a: unknown[]): Graph }) : fn(f as (...args: unknown[]) => unknown, { name: f.name || "model" });
  return exportGraph(traced.lower(...exampleArgs));
}

/** Reads ONNX model bytes into an IR graph (parameters = the model's inputs, results = its outputs). */
export function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): Graph {
  const g = importModel(bytes, options);
  verify(g);
  return g;
}

export interface LoadOnnxOptions extends ImportOptions {
  /** The optimization pipeline (default: the default pipeline). */
  readonly passes?: readonly (string | Pass)[];
}

export interface OnnxModel {
  /** Runs the model on inputs in the model's input order; one output gives a Tensor, several an array. */
  (...inputs: TensorLike[]): Tensor | Tensor[];
  /** The graph as imported. */
  readonly graph: Graph;
  /** The graph after the pass pipeline: what runs. */
  readonly optimized: Graph;
  /** The model's input names and types, in order. */
  readonly inputs: readonly { readonly name: string; readonly type: Graph["params"][number]["type"] }[];
  /** The IR as text: `stage` "optimized" (default) or "traced" (as imported). */
  ir(options?: { stage?: "traced" | "optimized"; elideConstants?: boolean }): string;
}

/** Imports an ONNX model, optimizes it and compiles it for the CPU: a callable taking the model's inputs. */
export function loadOnnx(bytes: Uint8Array, options: LoadOnnxOptions = {}): OnnxModel {
  const graph = importOnnx(bytes, options);
  const { graph: optimized } = runPasses(graph, options.passes ?? DEFAULT_PIPELINE, {
    evaluate: (op, inputs, attrs, outTypes) => cpuBackend.execute(op, inputs, attrs, outTypes),
  });
  verify(optimized);
  const executable: Executable = compile(optimized);
  const single = graph.results.length === 1;
  const call = (...inputs: TensorLike[]): Tensor | Tensor[] => {
    if (inputs.length !== graph.params.length) {
      const sig = graph.params.map((p) => `${p.name.replace(/^%/, "")}: ${formatType(p.type)}`).join(", ");
      throw new ValueError(`loadOnnx: the model takes ${graph.params.length} input${graph.params.length === 1 ? "" : "s"} (${sig}), got ${inputs.length}`);
    }
    const buffers = inputs.map((x, i) => {
      const p = graph.params[i]!;
      const t = x instanceof Tensor ? x : tensor(x as never, { dtype: p.type.dtype });
      if (!(t instanceof EagerTensor)) throw new ValueError(`loadOnnx: input ${p.name} is a symbolic tensor; call the model outside fn() (it is compiled already)`);
      if (t.dtype !== p.type.dtype) throw new DTypeError(`loadOnnx: input ${i} (${p.name}) must be ${formatType(p.type)}, got ${formatType(t.type)}`);
      if (t.shape.length !== p.type.shape.length || t.shape.some((d, k) => d !== p.type.shape[k])) {
        throw new ShapeError(`loadOnnx: input ${i} (${p.name}) must be ${formatType(p.type)}, got ${formatType(t.type)}`);
      }
      return { data: t.buffer(), type: t.type };
    });
    const outs = executable.run(buffers).map((b) => new EagerTensor(b.data, b.type));
    return single ? outs[0]! : outs;
  };
  return Object.assign(call, {
    graph,
    optimized,
    inputs: graph.params.map((p) => ({ name: p.name.replace(/^%/, ""), type: p.type })),
    ir: (o: { stage?: "traced" | "optimized"; elideConstants?: boolean } = {}) => print(o.stage === "traced" ? graph : optimized, { elideConstants: o.elideConstants ?? true }),
  });
}
