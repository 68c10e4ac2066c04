/**
 * Control flow: `cond`, `whileLoop`, `forLoop`, `scan`. Eagerly they run as ordinary JS control
 * flow over eager tensors. While tracing they become IR ops with regions (src/ir/ops/control.ts):
 * each branch or body is traced once into a region whose parameters are its operands. A region
 * that reads a symbolic tensor of an enclosing trace (a closure) gets it as a captured operand:
 * an extra operand of the control-flow node and an extra region parameter.
 */
import { DTypeError, ShapeError, ValueError } from "../ir/errors.js";
import { GraphBuilder, type Node, type Region, type SourceLoc, type Value, valueTypes } from "../ir/graph.js";
import { checkSameTypes } from "../ir/ops/control.js";
import { type Attrs, getOp } from "../ir/registry.js";
import { sizeOf } from "../ir/shape.js";
import { formatType, type TensorType } from "../ir/types.js";
import type { TypedArray } from "../ir/dtype.js";
import { interpret } from "../exec/interpret.js";
import { flatten, type TreeDef, unflatten } from "./pytree.js";
import { type TensorLike, toTensor } from "./promote.js";
import { currentTrace, escapedTracerError, SymbolicTensor, type Trace, userCallSite } from "./symbolic.js";
import { EagerTensor, Tensor } from "./tensor.js";

// ---- pytrees of tensors -------------------------------------------------------------------------

interface Tree {
  readonly def: TreeDef;
  readonly leaves: Tensor[];
}

/** Flattens a pytree whose leaves are tensors or tensor-likes (JS numbers become tensors). */
function tensorTree(x: unknown, op: string, what: string): Tree {
  const flat = flatten(x);
  const leaves = flat.leaves.map((leaf, i) => {
    if (leaf instanceof Tensor) return leaf;
    if (typeof leaf === "number" || typeof leaf === "boolean" || ArrayBuffer.isView(leaf) || (typeof leaf === "object" && leaf !== null && "shape" in leaf)) {
      return toTensor(leaf as TensorLike, op);
    }
    throw new ValueError(`${op}: ${what} leaf ${flat.paths[i] || "(root)"} is ${leaf === null ? "null" : typeof leaf}, not a tensor`);
  });
  return { def: flat.def, leaves };
}

const types = (ts: readonly Tensor[]): TensorType[] => ts.map((t) => t.type);

function sameStructure(op: string, what: string, a: TreeDef, b: TreeDef, aName: string, bName: string): void {
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new ValueError(`${op}: ${what}: ${aName} and ${bName} have different tree structures`);
}

// ---- region tracing -----------------------------------------------------------------------------

/** Per trace, the next region number (names stay the same when a function is traced again). */
const regionCounters = new WeakMap<Trace, number>();

/**
 * Collects a region's nodes while the trace records into it. Names are unique in the whole graph
 * (`%r<k>_<n>`) so regions never shadow outer values; constants go to the enclosing graph (every
 * region sees the graph's constants).
 */
class RegionBuilder extends GraphBuilder {
  private readonly rParams: Value[] = [];
  private readonly rNodes: Node[] = [];
  private next = 0;
  readonly prefix: string;
  /** Types of the values this region defines. */
  readonly types = new Map<string, TensorType>();

  constructor(
    readonly outer: GraphBuilder,
    trace: Trace,
  ) {
    super(outer.name);
    const k = regionCounters.get(trace) ?? 0;
    regionCounters.set(trace, k + 1);
    this.prefix = `%r${k}_`;
  }

  override addParam(name: string, type: TensorType): Value {
    const v = { name, type };
    this.rParams.push(v);
    this.types.set(name, type);
    return v;
  }

  override addConstant(type: TensorType, data: TypedArray): Value {
    return this.outer.addConstant(type, data);
  }

  override addNode(op: string, operands: readonly string[], attrs: Attrs, ts: readonly TensorType[], loc?: SourceLoc, regions?: readonly Region[]): Value[] {
    const results = ts.map((type) => ({ name: `${this.prefix}${this.next++}`, type }));
    for (const r of results) this.types.set(r.name, r.type);
    this.rNodes.push({ op, operands: [...operands], results, attrs, ...(loc ? { loc } : {}), ...(regions && regions.length ? { regions } : {}) });
    return results;
  }

  region(results: readonly string[]): Region {
    return { params: [...this.rParams], nodes: [...this.rNodes], results: [...results] };
  }
}

/**
 * Types of the values visible where `b` records: its own and, for a region, every enclosing
 * level's (the top level is read from a snapshot of its graph, taken only when needed).
 */
function scopeTypes(b: GraphBuilder): (name: string) => TensorType | undefined {
  let root: Map<string, TensorType> | undefined;
  return (name) => {
    let cur: GraphBuilder = b;
    while (cur instanceof RegionBuilder) {
      const t = cur.types.get(name);
      if (t) return t;
      cur = cur.outer;
    }
    root ??= valueTypes(cur.build([]));
    return root.get(name);
  };
}

function withBuilder<T>(trace: Trace, b: GraphBuilder, body: () => T): T {
  return trace.withBuilder(b, body);
}

interface TracedRegion {
  readonly builder: RegionBuilder;
  readonly region: Region;
  readonly out: Tree;
  /** Outer values the region reads (closures), in first-use order. */
  readonly free: string[];
}

/** Traces `f` on symbolic parameters of `paramTypes` into a region of the current trace. */
function traceRegion(trace: Trace, op: string, what: string, paramTypes: readonly TensorType[], f: (params: SymbolicTensor[]) => unknown): TracedRegion {
  const rb = new RegionBuilder(trace.builder, trace);
  const loc = userCallSite();
  const params = paramTypes.map((t, k) => {
    const v = rb.addParam(`${rb.prefix}a${k}`, t);
    trace.provenance.set(v.name, { op: "parameter", operands: [], loc });
    return new SymbolicTensor(trace, v);
  });
  const { out, results } = withBuilder(trace, rb, () => {
    const out = tensorTree(f(params), op, what);
    const results = out.leaves.map((x, i) => valueOfIn(trace, x, op, `${what} result [${i}]`).name);
    return { out, results };
  });
  const region = rb.region(results);
  const constants = new Set([...trace.constants.values()].map((v) => v.name));
  const local = new Set(rb.types.keys());
  const free: string[] = [];
  const note = (name: string): void => {
    if (!local.has(name) && !constants.has(name) && !free.includes(name)) free.push(name);
  };
  for (const n of region.nodes) n.operands.forEach(note);
  region.results.forEach(note);
  return { builder: rb, region, out, free };
}

/** The IR value of a tensor used by a control-flow op: its symbolic value or a constant. */
function valueOfIn(trace: Trace, t: Tensor, op: string, what: string): Value {
  if (t instanceof SymbolicTensor) {
    if (t.trace !== trace || !t.trace.active) throw escapedTracerError(t, `while tracing \`${trace.functionName}\` (as ${what} of ${op})`);
    return t.value;
  }
  if (t instanceof EagerTensor) return trace.constant(t);
  throw new ValueError(`${op}: ${what} is not a tensor`);
}

/** Adds one parameter per capture to a region and points its reads of the outer values at them. */
function closeRegion(r: TracedRegion, captures: readonly string[], captureTypes: readonly TensorType[]): Region {
  const rename = new Map<string, string>();
  const extra = captures.map((name, k) => {
    const p = { name: `${r.builder.prefix}cap${k}`, type: captureTypes[k]! };
    rename.set(name, p.name);
    return p;
  });
  const to = (n: string): string => rename.get(n) ?? n;
  return {
    params: [...r.region.params, ...extra],
    nodes: r.region.nodes.map((n) => (n.operands.some((o) => rename.has(o)) ? { ...n, operands: n.operands.map(to) } : n)),
    results: r.region.results.map(to),
  };
}

/**
 * Records a control-flow node: traces its regions, captures what they close over, checks the
 * node with the op's region rule and returns its results as symbolic tensors.
 */
function recordControl(
  trace: Trace,
  op: string,
  operands: readonly Value[],
  attrs: Attrs,
  regions: readonly TracedRegion[],
): SymbolicTensor[] {
  const captures: string[] = [];
  for (const r of regions) for (const f of r.free) if (!captures.includes(f)) captures.push(f);
  const typeOf = scopeTypes(trace.builder);
  const captureTypes = captures.map((name) => {
    const t = typeOf(name);
    if (!t) throw new ValueError(`${op}: a branch or body reads ${name}, which is not defined in the enclosing trace (a symbolic tensor escaped an inner region?)`);
    return t;
  });
  const closed = regions.map((r) => closeRegion(r, captures, captureTypes));
  const def = getOp(op);
  const inputs = [...operands.map((v) => v.type), ...captureTypes];
  const outTypes = def.inferRegions!(inputs, attrs, closed.map((r) => ({ params: r.params.map((p) => p.type), results: regionResultTypes(r, typeOf) })));
  const loc = userCallSite();
  const names = [...operands.map((v) => v.name), ...captures];
  const results = trace.builder.addNode(op, names, attrs, outTypes, loc, closed);
  for (const v of results) trace.provenance.set(v.name, { op, operands: names, loc });
  return results.map((v) => new SymbolicTensor(trace, v));
}

function regionResultTypes(r: Region, outer: (name: string) => TensorType | undefined): TensorType[] {
  const local = new Map<string, TensorType>();
  for (const p of r.params) local.set(p.name, p.type);
  for (const n of r.nodes) for (const v of n.results) local.set(v.name, v.type);
  return r.results.map((name) => local.get(name) ?? outer(name)!);
}

/** The active trace when control flow must be recorded (any trace is active), else undefined. */
function tracing(): Trace | undefined {
  const t = currentTrace();
  return t && t.active ? t : undefined;
}

// ---- cond ---------------------------------------------------------------------------------------

function checkPred(pred: Tensor): void {
  if (pred.dtype !== "bool") throw new DTypeError(`cond: pred must be a bool scalar tensor, got ${formatType(pred.type)}`);
  if (pred.shape.length !== 0) throw new ShapeError(`cond: pred must be a scalar (shape []), got ${formatType(pred.type)}`);
}

/**
 * `cond(pred, trueFn, falseFn, ...operands)`: `trueFn(...operands)` when the bool scalar `pred` is
 * true, else `falseFn(...operands)`. Traced, both branches are traced and must return the same
 * tree of the same types; eagerly only the taken branch runs.
 */
export function cond<A extends unknown[], R>(pred: TensorLike, trueFn: (...operands: A) => R, falseFn: (...operands: A) => R, ...operands: A): R {
  if (typeof trueFn !== "function" || typeof falseFn !== "function") throw new ValueError("cond: trueFn and falseFn must be functions");
  const p = toTensor(pred, "cond");
  checkPred(p);
  const trace = tracing();
  if (!trace) return p.item() ? trueFn(...operands) : falseFn(...operands);
  const args = tensorTree(operands, "cond", "operand");
  const argTypes = types(args.leaves);
  const call = (f: (...a: A) => R) => (params: SymbolicTensor[]) => f(...(unflatten(args.def, params) as A));
  const t = traceRegion(trace, "cond", "the true branch's", argTypes, call(trueFn));
  const f = traceRegion(trace, "cond", "the false branch's", argTypes, call(falseFn));
  sameStructure("cond", "the branches must return the same structure", t.out.def, f.out.def, "the true branch's result", "the false branch's");
  checkBranches(types(t.out.leaves), types(f.out.leaves));
  const operandValues = [valueOfIn(trace, p, "cond", "pred"), ...args.leaves.map((x, i) => valueOfIn(trace, x, "cond", `operand [${i}]`))];
  const outs = recordControl(trace, "cond", operandValues, {}, [t, f]);
  return unflatten(t.out.def, outs) as R;
}

function checkBranches(a: readonly TensorType[], b: readonly TensorType[]): void {
  if (a.length !== b.length) throw new ValueError(`cond: the branches return ${a.length} and ${b.length} tensors`);
  a.forEach((t, k) => {
    const u = b[k]!;
    if (t.dtype !== u.dtype) throw new DTypeError(`cond: the branches return ${formatType(t)} and ${formatType(u)} at result [${k}]`);
    if (t.shape.join() !== u.shape.join() || t.shape.length !== u.shape.length) throw new ShapeError(`cond: the branches return ${formatType(t)} and ${formatType(u)} at result [${k}]`);
  });
}

// ---- loops --------------------------------------------------------------------------------------

/** Checks that a body's result has the carry's structure and types (eager and traced alike). */
function checkCarry(op: string, carry: Tree, out: Tree, who: string): void {
  sameStructure(op, `${who} must return the carry's structure`, out.def, carry.def, `${who}'s result`, "the initial carry");
  checkSameTypes(op, `${who} must return the carry's types`, types(out.leaves), types(carry.leaves), `${who} returns`, "the carry");
}

function readBool(op: string, t: unknown): boolean {
  const x = tensorTree(t, op, "condition");
  const c = x.leaves[0];
  if (x.leaves.length !== 1 || !c || c.dtype !== "bool" || c.shape.length !== 0) {
    throw new DTypeError(`${op}: the condition must return one bool scalar tensor, got ${x.leaves.map((l) => formatType(l.type)).join(", ") || "nothing"}`);
  }
  return c.item() as boolean;
}

/**
 * `whileLoop(condFn, bodyFn, init)`: `carry = bodyFn(carry)` while `condFn(carry)` (a bool scalar)
 * is true; returns the final carry. The carry is a pytree of tensors of fixed shapes and dtypes.
 * Not differentiable (the trip count depends on data): use forLoop for a static trip count.
 */
export function whileLoop<C>(condFn: (carry: C) => TensorLike, bodyFn: (carry: C) => C, init: C): C {
  if (typeof condFn !== "function" || typeof bodyFn !== "function") throw new ValueError("whileLoop: condFn and bodyFn must be functions");
  const carry = tensorTree(init, "whileLoop", "init");
  const trace = tracing();
  if (!trace) {
    let state = carry;
    while (readBool("whileLoop", condFn(unflatten(state.def, state.leaves) as C))) {
      const out = tensorTree(bodyFn(unflatten(state.def, state.leaves) as C), "whileLoop", "body result");
      checkCarry("whileLoop", carry, out, "the body");
      state = out;
    }
    return unflatten(state.def, state.leaves) as C;
  }
  const ts = types(carry.leaves);
  const asCarry = (params: SymbolicTensor[]): C => unflatten(carry.def, params) as C;
  const c = traceRegion(trace, "whileLoop", "the condition's", ts, (ps) => condFn(asCarry(ps)));
  const b = traceRegion(trace, "whileLoop", "the body's", ts, (ps) => bodyFn(asCarry(ps)));
  const ct = types(c.out.leaves);
  if (ct.length !== 1 || ct[0]!.dtype !== "bool" || ct[0]!.shape.length !== 0) {
    throw new DTypeError(`whileLoop: the condition must return one bool scalar tensor, got ${ct.map(formatType).join(", ") || "nothing"}`);
  }
  checkCarry("whileLoop", carry, b.out, "the body");
  const operands = carry.leaves.map((x, i) => valueOfIn(trace, x, "whileLoop", `init [${i}]`));
  const outs = recordControl(trace, "while", operands, { numCarry: operands.length }, [c, b]);
  return unflatten(carry.def, outs) as C;
}

function checkBound(op: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new ValueError(`${op}: ${name} must be a JS integer, got ${typeof v === "number" ? v : typeof v}`);
  return v;
}

/**
 * `forLoop(lo, hi, bodyFn, init)`: `carry = bodyFn(i, carry)` for i = lo, ..., hi - 1 (i an int32
 * scalar tensor); returns the final carry. The bounds are static JS integers.
 */
export function forLoop<C>(lo: number, hi: number, bodyFn: (i: Tensor, carry: C) => C, init: C): C {
  checkBound("forLoop", "lo", lo);
  checkBound("forLoop", "hi", hi);
  if (typeof bodyFn !== "function") throw new ValueError("forLoop: bodyFn must be a function");
  const carry = tensorTree(init, "forLoop", "init");
  const trace = tracing();
  if (!trace) {
    let state = carry;
    for (let i = lo; i < hi; i++) {
      const idx = new EagerTensor(Int32Array.of(i), { dtype: "int32", shape: [] });
      const out = tensorTree(bodyFn(idx, unflatten(state.def, state.leaves) as C), "forLoop", "body result");
      checkCarry("forLoop", carry, out, "the body");
      state = out;
    }
    return unflatten(state.def, state.leaves) as C;
  }
  const ts = types(carry.leaves);
  const b = traceRegion(trace, "forLoop", "the body's", [{ dtype: "int32", shape: [] }, ...ts], (ps) => bodyFn(ps[0]!, unflatten(carry.def, ps.slice(1)) as C));
  checkCarry("forLoop", carry, b.out, "the body");
  const operands = carry.leaves.map((x, i) => valueOfIn(trace, x, "forLoop", `init [${i}]`));
  const outs = recordControl(trace, "for", operands, { lo, hi, numCarry: operands.length }, [b]);
  return unflatten(carry.def, outs) as C;
}

/** Row `t` of an eager tensor along axis 0. */
function row(x: Tensor, t: number): EagerTensor {
  const shape = x.shape.slice(1);
  const n = sizeOf(shape);
  return new EagerTensor((x as EagerTensor).buffer().slice(t * n, (t + 1) * n), { dtype: x.dtype, shape }, x.device);
}

/** Stacks eager tensors of one type along a new axis 0. */
function stack(rows: readonly Tensor[], type: TensorType, length: number): EagerTensor {
  const n = sizeOf(type.shape);
  const out = new (typedCtor(type))(n * length);
  rows.forEach((r, t) => out.set((r as EagerTensor).buffer(), t * n));
  return new EagerTensor(out, { dtype: type.dtype, shape: [length, ...type.shape] });
}

/**
 * `scan(fn, init, xs)`: for each t along axis 0 of the tensors in the pytree `xs`,
 * `[carry, y] = fn(carry, xs[t])`; returns `[finalCarry, ys]` with each y leaf stacked on a new
 * axis 0. Options: `length` (needed when xs has no tensors), `reverse` (scan from the end; ys keep
 * index order).
 */
export function scan<C, X, Y>(f: (carry: C, x: X) => [C, Y], init: C, xs: X, options: { length?: number; reverse?: boolean } = {}): [C, Y] {
  if (typeof f !== "function") throw new ValueError("scan: fn must be a function");
  const carry = tensorTree(init, "scan", "init");
  const xsTree = tensorTree(xs, "scan", "xs");
  for (const [k, x] of xsTree.leaves.entries()) if (x.shape.length === 0) throw new ShapeError(`scan: xs leaf [${k}] is ${formatType(x.type)}; scanned tensors need an axis 0`);
  const lengths = new Set(xsTree.leaves.map((x) => x.shape[0]!));
  if (options.length !== undefined) lengths.add(checkBound("scan", "length", options.length));
  if (lengths.size > 1) throw new ShapeError(`scan: the xs (and length option) disagree on the length: ${[...lengths].join(" vs ")}`);
  const length = lengths.values().next().value;
  if (length === undefined || length < 0) throw new ValueError("scan: xs holds no tensors; pass { length }");
  const reverse = options.reverse ?? false;
  if (typeof reverse !== "boolean") throw new ValueError("scan: reverse must be a boolean");
  const split = (out: unknown): { c: Tree; y: Tree } => {
    if (!Array.isArray(out) || out.length !== 2) throw new ValueError("scan: fn must return a pair [carry, y]");
    return { c: tensorTree(out[0], "scan", "carry"), y: tensorTree(out[1], "scan", "y") };
  };
  const sliceTypes = xsTree.leaves.map((x) => ({ dtype: x.dtype, shape: x.shape.slice(1) }));
  const trace = tracing();
  if (!trace) {
    let state = carry;
    const ys: Tensor[][] = [];
    let yDef: TreeDef | undefined;
    let yTypes: TensorType[] | undefined;
    for (let s = 0; s < length; s++) {
      const t = reverse ? length - 1 - s : s;
      const x = unflatten(xsTree.def, xsTree.leaves.map((l) => row(l, t))) as X;
      const { c, y } = split(f(unflatten(state.def, state.leaves) as C, x));
      checkCarry("scan", carry, c, "fn");
      if (yDef && yTypes) {
        sameStructure("scan", "fn must return the same y structure every step", y.def, yDef, "this step's y", "the first step's");
        checkSameTypes("scan", "fn must return the same y types every step", types(y.leaves), yTypes, "this step's y", "the first step's");
      }
      yDef = y.def;
      yTypes = types(y.leaves);
      ys[t] = y.leaves;
      state = c;
    }
    if (!yDef || !yTypes) {
      // No step ran, so no y was seen: run fn once on zeros only to learn the y types.
      const zero = (tt: TensorType): EagerTensor => new EagerTensor(new (typedCtor(tt))(sizeOf(tt.shape)), tt);
      const { y } = split(f(unflatten(carry.def, carry.leaves) as C, unflatten(xsTree.def, sliceTypes.map(zero)) as X));
      return [unflatten(carry.def, carry.leaves) as C, unflatten(y.def, y.leaves.map((l) => stack([], l.type, 0))) as Y];
    }
    const stacked = yTypes.map((tt, k) => stack(ys.map((r) => r[k]!), tt, length));
    return [unflatten(state.def, state.leaves) as C, unflatten(yDef, stacked) as Y];
  }
  const nc = carry.leaves.length;
  let yDefOut: TreeDef | undefined;
  const body = traceRegion(trace, "scan", "fn's", [...types(carry.leaves), ...sliceTypes], (ps) => {
    const { c, y } = split(f(unflatten(carry.def, ps.slice(0, nc)) as C, unflatten(xsTree.def, ps.slice(nc)) as X));
    checkCarry("scan", carry, c, "fn");
    yDefOut = y.def;
    return [...c.leaves, ...y.leaves];
  });
  const operands = [...carry.leaves, ...xsTree.leaves].map((x, i) => valueOfIn(trace, x, "scan", `operand [${i}]`));
  const outs = recordControl(trace, "scan", operands, { length, numCarry: nc, numXs: xsTree.leaves.length, reverse }, [body]);
  return [unflatten(carry.def, outs.slice(0, nc)) as C, unflatten(yDefOut!, outs.slice(nc)) as Y];
}

function typedCtor(t: TensorType): new (n: number) => TypedArray {
  return { bool: Uint8Array, uint8: Uint8Array, int32: Int32Array, float32: Float32Array, float64: Float64Array }[t.dtype];
}

// ---- replaying a node with regions (callGraph: gradients inside fn, grad of grad) --------------

function renameConstants(r: Region, rename: ReadonlyMap<string, string>): Region {
  const to = (x: string): string => rename.get(x) ?? x;
  return {
    params: r.params,
    nodes: r.nodes.map((n) => ({ ...n, operands: n.operands.map(to), ...(n.regions ? { regions: n.regions.map((i) => renameConstants(i, rename)) } : {}) })),
    results: r.results.map(to),
  };
}

/**
 * Runs one control-flow node of another graph on `inputs`: recorded (regions and all) into the
 * active trace, or run now with the interpreter. `constants` are that graph's constants by name.
 */
export function replayRegionNode(node: Node, inputs: readonly Tensor[], constants: ReadonlyMap<string, EagerTensor>): Tensor[] {
  const trace = tracing();
  if (!trace) {
    const params = inputs.map((t, k) => ({ name: `%in${k}`, type: t.type }));
    const used = [...constants.entries()].map(([name, t]) => ({ name, type: t.type, data: t.buffer() }));
    const graph = { name: "replay", params, constants: used, nodes: [{ ...node, operands: params.map((p) => p.name) }], results: node.results.map((r) => r.name) };
    return interpret(graph, inputs.map((t) => ({ data: (t as EagerTensor).buffer(), type: t.type }))).map((b) => new EagerTensor(b.data, b.type));
  }
  const operands = inputs.map((t, k) => valueOfIn(trace, t, node.op, `operand [${k}]`));
  const rename = new Map<string, string>();
  for (const [name, t] of constants) rename.set(name, trace.constant(t).name);
  const regions = (node.regions ?? []).map((r) => renameConstants(r, rename));
  const typeOf = scopeTypes(trace.builder);
  const def = getOp(node.op);
  const outTypes = def.inferRegions!(operands.map((v) => v.type), node.attrs, regions.map((r) => ({ params: r.params.map((p) => p.type), results: regionResultTypes(r, typeOf) })));
  const loc = userCallSite();
  const results = trace.builder.addNode(node.op, operands.map((v) => v.name), node.attrs, outTypes, loc, regions);
  for (const v of results) trace.provenance.set(v.name, { op: node.op, operands: operands.map((v) => v.name), loc });
  return results.map((v) => new SymbolicTensor(trace, v));
}
