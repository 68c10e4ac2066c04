/**
 * Automatic differentiation, JAX style: `grad`, `valueAndGrad`, `vjp` and `stopGradient`.
 *
 * Each transform traces the user's function into an IR graph (once per argument signature, like
 * `fn`), differentiates the graph with `vjpGraph` (src/ir/autodiff/transform.ts), and runs the
 * result. Called eagerly, the gradient graph is optimized and compiled once per signature; called
 * inside another trace (`fn(valueAndGrad(loss))`, `grad(grad(f))`), its nodes are replayed through
 * `bind`, so the forward and backward computation land in the outer graph and are optimized there.
 */
import { type DType, isFloat } from "../ir/dtype.js";
import { DTypeError, ShapeError, ValueError } from "../ir/errors.js";
import type { Graph } from "../ir/graph.js";
import { vjpGraph, type VjpGraphResult } from "../ir/autodiff/transform.js";
import { DEFAULT_PIPELINE, runPasses } from "../ir/passes/index.js";
import { formatType, type TensorType } from "../ir/types.js";
import { cpuBackend } from "../exec/cpu/backend.js";
import { compile, type Executable } from "../exec/cpu/compile.js";
import { tensor } from "./create.js";
import { bind, bind1 } from "./dispatch.js";
import { replayRegionNode } from "./control.js";
import { toTensor, type TensorLike } from "./promote.js";
import { describeStatic, flatten, isTensorLeaf, staticKey, treeDefKey, type TreeDef, unflatten } from "./pytree.js";
import { escapedTracerError, SymbolicTensor, Trace, userCallSite, withTrace } from "./symbolic.js";
import { EagerTensor, Tensor } from "./tensor.js";

/** The value unchanged, but treated as a constant by differentiation: no gradient flows through it. */
export function stopGradient(x: TensorLike): Tensor {
  return bind1("stopGradient", [toTensor(x, "stopGradient")]);
}

export interface GradOptions {
  /** Which positional argument(s) to differentiate: a number (one gradient) or an array (an array of gradients). Default 0. */
  argnums?: number | readonly number[];
}

/** A gradient function, with the number of times it traced the differentiated function. */
export interface GradFunction<A extends unknown[], R> {
  (...args: A): R;
  /** How many times the function was traced (once per new argument signature). */
  readonly traceCount: number;
}

/**
 * Runs the nodes of `graph` in order through `bind`, with `inputs` as its parameters: eagerly when
 * every input is eager, recorded into the active trace when one is symbolic. Returns its results.
 */
export function callGraph(graph: Graph, inputs: readonly Tensor[]): Tensor[] {
  if (inputs.length !== graph.params.length) {
    throw new ValueError(`callGraph: @${graph.name} takes ${graph.params.length} inputs, got ${inputs.length}`);
  }
  const env = new Map<string, Tensor>();
  graph.params.forEach((p, i) => {
    const t = inputs[i]!;
    if (t.dtype !== p.type.dtype || !sameShape(t.shape, p.type.shape)) {
      throw new ValueError(`callGraph: input ${i} of @${graph.name} must be ${formatType(p.type)}, got ${formatType(t.type)}`);
    }
    env.set(p.name, t);
  });
  const constants = new Map<string, EagerTensor>();
  for (const c of graph.constants) {
    const t = new EagerTensor(c.data, c.type, "cpu");
    env.set(c.name, t);
    constants.set(c.name, t);
  }
  for (const n of graph.nodes) {
    const operands = n.operands.map((o) => env.get(o)!);
    if (n.regions && n.regions.length > 0) {
      // Control flow: the node is recorded (or run) whole, its regions reading these constants.
      const results = replayRegionNode(n, operands, constants);
      n.results.forEach((r, i) => env.set(r.name, results[i]!));
      continue;
    }
    const results = bind(n.op, operands, n.attrs);
    n.results.forEach((r, i) => env.set(r.name, results[i]!));
  }
  return graph.results.map((r) => env.get(r)!);
}

// ---- tracing ------------------------------------------------------------------------------------

interface TracedCall {
  readonly graph: Graph;
  readonly outDef: TreeDef;
  /** Per output leaf: the graph result it takes, or a static value. */
  readonly outLeaves: readonly ({ result: number } | { value: unknown })[];
  /** Per argument: its tree and the range of its leaves in the flattened argument list. */
  readonly argDefs: readonly { def: TreeDef; start: number; count: number }[];
  /** Per flattened leaf: the graph parameter it feeds, or null (a static leaf). */
  readonly leafParam: readonly (number | null)[];
}

interface Flattened {
  readonly leaves: unknown[];
  readonly argDefs: { def: TreeDef; start: number; count: number }[];
  readonly paths: string[];
  readonly key: string;
}

/** Flattens every argument (tensor-like leaves become tensors) and builds the signature key. */
function flattenArgs(args: readonly unknown[]): Flattened {
  const leaves: unknown[] = [];
  const paths: string[] = [];
  const argDefs: { def: TreeDef; start: number; count: number }[] = [];
  const keys: string[] = [];
  args.forEach((a, i) => {
    const flat = flatten(a, `[${i}]`);
    argDefs.push({ def: flat.def, start: leaves.length, count: flat.leaves.length });
    keys.push(treeDefKey(flat.def));
    flat.leaves.forEach((x, k) => {
      const t = isTensorLeaf(x) && !(x instanceof Tensor) ? tensor(x as never) : x;
      leaves.push(t);
      paths.push(flat.paths[k]!);
      keys.push(t instanceof Tensor ? `T:${t.dtype}[${t.shape.join(",")}]` : staticKey(t));
    });
  });
  return { leaves, argDefs, paths, key: keys.join("|") };
}

function paramName(path: string): string {
  const cleaned = path.replace(/^\[(\d+)\]/, "arg$1").replace(/\[(\d+)\]/g, ".$1").replace(/[^A-Za-z0-9_.$]/g, "_");
  return `%${cleaned || "arg"}`;
}

/** Traces `f` on symbolic stand-ins for the tensor leaves of `args` into a graph. */
function traceToGraph(f: (...args: unknown[]) => unknown, name: string, flat: Flattened): TracedCall {
  const trace = new Trace(name, "cpu");
  const loc = userCallSite();
  const leafParam: (number | null)[] = [];
  let nextParam = 0;
  const symbolic = flat.leaves.map((x, i) => {
    if (!(x instanceof Tensor)) {
      leafParam.push(null);
      return x;
    }
    leafParam.push(nextParam++);
    return trace.param(paramName(flat.paths[i]!), x.type, loc);
  });
  const args = flat.argDefs.map((a) => unflatten(a.def, symbolic.slice(a.start, a.start + a.count)));
  const out = withTrace(trace, () => f(...args));
  const flatOut = flatten(out);
  const results: string[] = [];
  const outLeaves = flatOut.leaves.map((x, i): { result: number } | { value: unknown } => {
    if (x instanceof SymbolicTensor) {
      if (x.trace !== trace) throw escapedTracerError(x, `as result ${flatOut.paths[i] || ""} of \`${name}\``);
      results.push(x.value.name);
      return { result: results.length - 1 };
    }
    if (x instanceof EagerTensor) {
      results.push(trace.constant(x).name);
      return { result: results.length - 1 };
    }
    return { value: x };
  });
  return { graph: trace.builder.build(results), outDef: flatOut.def, outLeaves, argDefs: flat.argDefs, leafParam };
}

/** Compiled executables for eager calls, built once per graph. */
const executables = new WeakMap<Graph, Executable>();

/** Runs a graph: replayed into the active trace when an input is symbolic, else compiled and run. */
function runGraph(graph: Graph, inputs: readonly Tensor[]): Tensor[] {
  if (inputs.some((t) => t instanceof SymbolicTensor)) return callGraph(graph, inputs);
  let exe = executables.get(graph);
  if (!exe) {
    const { graph: optimized } = runPasses(graph, DEFAULT_PIPELINE, {
      verifyEach: false,
      evaluate: (op, ins, attrs, outTypes) => cpuBackend.execute(op, ins, attrs, outTypes),
    });
    exe = compile(optimized);
    executables.set(graph, exe);
  }
  const outs = exe.run(inputs.map((t) => ({ data: (t as EagerTensor).buffer(), type: t.type })));
  return outs.map((b) => new EagerTensor(b.data, b.type, "cpu"));
}

function tensorInputs(flat: Flattened): Tensor[] {
  return flat.leaves.filter((x): x is Tensor => x instanceof Tensor);
}

/** Rebuilds one argument's tree with `leafValue(leafIndex)` at each leaf. */
function argTree(call: TracedCall, arg: number, leafValue: (leaf: number) => unknown): unknown {
  const a = call.argDefs[arg]!;
  const values: unknown[] = [];
  for (let k = a.start; k < a.start + a.count; k++) values.push(leafValue(k));
  return unflatten(a.def, values);
}

/** Graph parameter indices of the tensor leaves of the given arguments. */
function paramsOf(call: TracedCall, argnums: readonly number[]): number[] {
  const wrt: number[] = [];
  for (const i of argnums) {
    const a = call.argDefs[i]!;
    for (let k = a.start; k < a.start + a.count; k++) {
      const p = call.leafParam[k];
      if (p !== null && p !== undefined) wrt.push(p);
    }
  }
  return wrt;
}

function normalizeArgnums(where: string, argnums: GradOptions["argnums"]): { list: number[]; single: boolean } {
  const raw = argnums ?? 0;
  const list = typeof raw === "number" ? [raw] : Array.isArray(raw) ? [...(raw as readonly number[])] : undefined;
  if (!list || list.some((i) => typeof i !== "number" || !Number.isInteger(i) || i < 0)) {
    throw new ValueError(`${where}: argnums must be a non-negative integer or an array of them, got ${describeStatic(argnums)}`);
  }
  if (new Set(list).size !== list.length) throw new ValueError(`${where}: argnums lists an argument twice: [${list.join(", ")}]`);
  return { list, single: typeof raw === "number" };
}

const seeds = new Map<DType, Tensor>();
function one(dtype: DType): Tensor {
  let t = seeds.get(dtype);
  if (!t) {
    t = tensor(1, { dtype });
    seeds.set(dtype, t);
  }
  return t;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// ---- grad / valueAndGrad ------------------------------------------------------------------------

interface GradEntry {
  readonly call: TracedCall;
  readonly vjp: VjpGraphResult;
  /** Per argument in argnums, per its leaves: the gradient's index in vjp.graph.results, or null. */
  readonly wrt: readonly number[];
}

/**
 * `f`'s value and its gradient with respect to argument(s) `argnums`. `f` must return a 0-d float
 * tensor. Each gradient has its argument's tree structure; int/bool and non-tensor leaves get null.
 */
export function valueAndGrad<A extends unknown[]>(f: (...args: A) => unknown, options: GradOptions = {}): GradFunction<A, [Tensor, unknown]> {
  if (typeof f !== "function") throw new ValueError(`valueAndGrad: expected a function, got ${describeStatic(f)}`);
  const where = "valueAndGrad";
  const { list: argnums, single } = normalizeArgnums(where, options.argnums);
  const name = f.name || "f";
  const cache = new Map<string, GradEntry>();
  let traceCount = 0;
  const call = (...args: A): [Tensor, unknown] => {
    for (const i of argnums) {
      if (i >= args.length) throw new ValueError(`${where}: argnums names argument ${i}, but \`${name}\` was called with ${args.length} argument(s)`);
    }
    const flat = flattenArgs(args);
    let entry = cache.get(flat.key);
    if (!entry) {
      const traced = traceToGraph(f as (...a: unknown[]) => unknown, name, flat);
      traceCount++;
      checkScalarOutput(where, name, traced);
      const wrt = paramsOf(traced, argnums);
      entry = { call: traced, vjp: vjpGraph(traced.graph, { wrt, name: `${name}_grad` }), wrt };
      cache.set(flat.key, entry);
    }
    const { call: traced, vjp } = entry;
    const outType = resultType(traced.graph, 0);
    const outs = runGraph(vjp.graph, [...tensorInputs(flat), one(outType.dtype)]);
    const gradOfParam = new Map<number, Tensor | null>();
    entry.wrt.forEach((p, j) => {
      const r = vjp.gradResults[j];
      gradOfParam.set(p, r === null || r === undefined ? null : outs[r]!);
    });
    const grads = argnums.map((i) =>
      argTree(traced, i, (k) => {
        const p = traced.leafParam[k];
        return p === null || p === undefined ? null : (gradOfParam.get(p) ?? null);
      }),
    );
    return [outs[0]!, single ? grads[0] : grads];
  };
  Object.defineProperty(call, "traceCount", { get: () => traceCount });
  return call as GradFunction<A, [Tensor, unknown]>;
}

/** The gradient of `f` (which returns a 0-d float tensor) with respect to argument(s) `argnums`. */
export function grad<A extends unknown[]>(f: (...args: A) => unknown, options: GradOptions = {}): GradFunction<A, unknown> {
  const vg = valueAndGrad(f, options);
  const call = (...args: A): unknown => vg(...args)[1];
  Object.defineProperty(call, "traceCount", { get: () => vg.traceCount });
  return call as GradFunction<A, unknown>;
}

function resultType(g: Graph, i: number): TensorType {
  const name = g.results[i]!;
  for (const p of g.params) if (p.name === name) return p.type;
  for (const c of g.constants) if (c.name === name) return c.type;
  for (const n of g.nodes) for (const r of n.results) if (r.name === name) return r.type;
  throw new ValueError(`@${g.name} returns undefined value ${name}`);
}

function checkScalarOutput(where: string, name: string, call: TracedCall): void {
  const only = call.outLeaves.length === 1 && call.outDef.kind === "leaf" ? call.outLeaves[0]! : undefined;
  if (!only || !("result" in only)) {
    throw new ValueError(`${where}: \`${name}\` must return one scalar float tensor (shape []), but it returned ${call.outLeaves.length === 1 ? "a non-tensor value" : `a tree of ${call.outLeaves.length} leaves`}`);
  }
  const t = resultType(call.graph, only.result);
  if (t.shape.length !== 0 || !isFloat(t.dtype)) {
    throw new ValueError(`${where}: \`${name}\` must return a scalar float tensor (shape []), got ${formatType(t)}; reduce it first (e.g. reduceSum or reduceMean)`);
  }
}

// ---- vjp ----------------------------------------------------------------------------------------

/**
 * Evaluates `f(...primals)` and returns `[outputs, vjpFn]`: `vjpFn(cotangents)`, given cotangents
 * with the outputs' structure, returns the cotangent of every primal (an array, one tree each).
 */
export function vjp<A extends unknown[]>(f: (...args: A) => unknown, ...primals: A): [unknown, (cotangents: unknown) => unknown[]] {
  if (typeof f !== "function") throw new ValueError(`vjp: expected a function, got ${describeStatic(f)}`);
  const name = f.name || "f";
  const flat = flattenArgs(primals);
  const traced = traceToGraph(f as (...a: unknown[]) => unknown, name, flat);
  const inputs = tensorInputs(flat);
  const forward = runGraph(traced.graph, inputs);
  const outValues = traced.outLeaves.map((o) => ("result" in o ? forward[o.result]! : o.value));
  const outputs = traced.outDef.kind === "leaf" ? outValues[0] : unflatten(traced.outDef, outValues);
  const allParams = traced.leafParam.filter((p): p is number => p !== null);
  let vjpResult: VjpGraphResult | undefined;
  const vjpFn = (cotangents: unknown): unknown[] => {
    vjpResult ??= vjpGraph(traced.graph, { wrt: allParams, name: `${name}_vjp` });
    const ctFlat = flatten(cotangents);
    if (treeDefKey(ctFlat.def) !== treeDefKey(traced.outDef)) {
      throw new ValueError(`vjp: the cotangents must have the structure of \`${name}\`'s outputs (${treeDefKey(traced.outDef)}), got ${treeDefKey(ctFlat.def)}`);
    }
    const cts: Tensor[] = [];
    traced.outLeaves.forEach((o, i) => {
      if (!("result" in o)) return;
      const want = resultType(traced.graph, o.result);
      if (vjpResult!.cotangentParams[o.result] === null) return;
      cts[o.result] = checkCotangent(ctFlat.leaves[i], want, ctFlat.paths[i] ?? "");
    });
    const ctInputs = vjpResult.cotangentParams.flatMap((p, r) => (p === null ? [] : [cts[r]!]));
    const outs = runGraph(vjpResult.graph, [...inputs, ...ctInputs]);
    const gradOfParam = new Map<number, Tensor | null>();
    allParams.forEach((p, j) => {
      const r = vjpResult!.gradResults[j];
      gradOfParam.set(p, r === null || r === undefined ? null : outs[r]!);
    });
    return traced.argDefs.map((_a, i) =>
      argTree(traced, i, (k) => {
        const p = traced.leafParam[k];
        return p === null || p === undefined ? null : (gradOfParam.get(p) ?? null);
      }),
    );
  };
  return [outputs, vjpFn];
}

function checkCotangent(x: unknown, want: TensorType, path: string): Tensor {
  if (!(x instanceof Tensor) && !isTensorLeaf(x) && typeof x !== "number" && !Array.isArray(x)) {
    throw new ValueError(`vjp: cotangent ${path || "(root)"} must be a tensor of type ${formatType(want)}, got ${describeStatic(x)}`);
  }
  const t = x instanceof Tensor ? x : tensor(x as never, { dtype: want.dtype });
  if (t.dtype !== want.dtype) throw new DTypeError(`vjp: cotangent ${path || "(root)"} must be ${formatType(want)}, got ${formatType(t.type)}`);
  if (!sameShape(t.shape, want.shape)) throw new ShapeError(`vjp: cotangent ${path || "(root)"} must be ${formatType(want)}, got ${formatType(t.type)}`);
  return t;
}
