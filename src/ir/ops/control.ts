/**
 * Control flow as ops with regions: `cond` (2 regions: true branch, false branch), `while`
 * (2 regions: condition, body), `for` (1 region, static bounds) and `scan` (1 region). Values
 * reach a region only as operands (closures over outer values are captured as extra operands by
 * the tracer), so every region is a closed function of its parameters and the graph's constants.
 *
 * The operational meaning of each op lives here, once, in `evalRegions`: the interpreter and the
 * CPU compiler both call it with their own way of running a region.
 */
import { allocate, type TypedArray } from "../dtype.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { type Attrs, defineOp, type GradBuilder, type GradValue, type OpDef, type OpKind, type VjpRule } from "../registry.js";
import { sizeOf } from "../shape.js";
import { formatType, sameType, type TensorType } from "../types.js";

/** A dense buffer with its type (the exec layer's HostBuffer, structurally). */
export interface RegionBuffer {
  readonly data: TypedArray;
  readonly type: TensorType;
}

/** Runs region `index` of the node on `args` (its parameters) and returns what it yields. */
export type RegionRunner = (index: number, args: readonly RegionBuffer[]) => RegionBuffer[];

type RegionSig = { readonly params: readonly TensorType[]; readonly results: readonly TensorType[] };

interface RegionEval {
  /** Runs the op: operands and attributes, a way to run its regions, its result types. */
  evalRegions(operands: readonly RegionBuffer[], attrs: Attrs, run: RegionRunner, outTypes: readonly TensorType[]): TypedArray[];
}

/** The region evaluator of a control-flow op, or undefined for every other op. */
export function regionEvaluator(def: OpDef): RegionEval["evalRegions"] | undefined {
  const f = (def as OpDef & Partial<RegionEval>).evalRegions;
  return typeof f === "function" ? f.bind(def) : undefined;
}

/**
 * The GradBuilder that vjpGraph hands to the rule of a node with regions: a single-node builder
 * cannot build region VJPs, so the transform (src/ir/autodiff/transform.ts) supplies the rule
 * for this node, built from its regions' own VJP graphs.
 */
export interface RegionGradBuilder extends GradBuilder {
  regionVjp?(cotangents: readonly (GradValue | null)[], operands: readonly GradValue[]): (GradValue | null)[];
}

const regionVjp: VjpRule = (b, cotangents, operands, _results, attrs) => {
  const rule = (b as RegionGradBuilder).regionVjp;
  if (typeof rule !== "function") throw new ValueError(`control flow is differentiated by vjpGraph, which reads the node's regions; this builder has none (attrs ${JSON.stringify(attrs)})`);
  return rule(cotangents, operands);
};

// OpKind has no control-flow member yet; "control" sorts into its own docs section.
const CONTROL: OpKind = "control";

const list = (ts: readonly TensorType[]): string => `(${ts.map(formatType).join(", ")})`;
const I32_SCALAR: TensorType = { dtype: "int32", shape: [] };

function intAttr(attrs: Attrs, name: string, op: string, min: number): number {
  const v = attrs[name];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new ValueError(`${op}: attribute "${name}" must be an integer >= ${min}, got ${JSON.stringify(v ?? null)}`);
  }
  return v;
}

/** Throws the typed error for two type lists that must be equal: count, then dtype, then shape. */
export function checkSameTypes(op: string, what: string, a: readonly TensorType[], b: readonly TensorType[], aName: string, bName: string): void {
  if (a.length !== b.length) {
    throw new ValueError(`${op}: ${what}: ${aName} ${list(a)} has ${a.length} value${a.length === 1 ? "" : "s"} but ${bName} ${list(b)} has ${b.length}`);
  }
  a.forEach((t, k) => {
    const u = b[k]!;
    if (sameType(t, u)) return;
    const E = t.dtype === u.dtype ? ShapeError : DTypeError;
    throw new E(`${op}: ${what}: ${aName} is ${formatType(t)} but ${bName} is ${formatType(u)} at [${k}]`);
  });
}

function regionsOf(op: string, regions: readonly RegionSig[], n: number): RegionSig[] {
  if (regions.length !== n) throw new ValueError(`${op}: needs ${n} region${n === 1 ? "" : "s"}, got ${regions.length}`);
  return [...regions];
}

const copy = (ts: readonly TensorType[]): TensorType[] => ts.map((t) => ({ dtype: t.dtype, shape: [...t.shape] }));

function noDirectInfer(op: string): never {
  throw new ValueError(`${op}: the result types come from its regions; build ${op} with the tracer (cond/whileLoop/forLoop/scan) or parse it from IR text`);
}

// ---- cond ---------------------------------------------------------------------------------------

const cond: OpDef & RegionEval = {
  name: "cond",
  kind: CONTROL,
  arity: "variadic",
  regions: 2,
  doc: "cond(pred, args...): runs region 0 (true branch) or region 1 (false branch) on args, by the bool scalar pred; both take args and yield the same types",
  attributes: {},
  vjp: regionVjp,
  infer: () => noDirectInfer("cond"),
  inferRegions(inputs, _attrs, regions) {
    const [t, f] = regionsOf("cond", regions, 2);
    const pred = inputs[0];
    if (!pred) throw new ValueError("cond: needs a predicate operand");
    if (pred.dtype !== "bool") throw new DTypeError(`cond: pred must be bool[], got ${formatType(pred)}`);
    if (pred.shape.length !== 0) throw new ShapeError(`cond: pred must be a scalar bool[], got ${formatType(pred)}`);
    const args = inputs.slice(1);
    checkSameTypes("cond", "the true branch's parameters must be the operands", t!.params, args, "the parameters", "the operands");
    checkSameTypes("cond", "the false branch's parameters must be the operands", f!.params, args, "the parameters", "the operands");
    checkSameTypes("cond", "the branches must return the same types", t!.results, f!.results, "the true branch", "the false branch");
    return copy(t!.results);
  },
  evalRegions(operands, _attrs, run) {
    const taken = operands[0]!.data[0] !== 0 ? 0 : 1;
    return run(taken, operands.slice(1)).map((b) => b.data);
  },
};

// ---- while --------------------------------------------------------------------------------------

const whileOp: OpDef & RegionEval = {
  name: "while",
  kind: CONTROL,
  arity: "variadic",
  regions: 2,
  doc: "while(carry..., captures...) {numCarry}: region 0 (condition) yields a bool scalar; while it is true, region 1 (body) maps the carry to a new carry of the same types; both take the carry then the captures",
  attributes: { numCarry: { type: "int", doc: "how many leading operands are the loop carry (the rest are read-only captures)" } },
  vjp: regionVjp,
  infer: () => noDirectInfer("while"),
  inferRegions(inputs, attrs, regions) {
    const [c, b] = regionsOf("while", regions, 2);
    const n = intAttr(attrs, "numCarry", "while", 0);
    if (n > inputs.length) throw new ValueError(`while: numCarry = ${n} but the node has ${inputs.length} operands`);
    checkSameTypes("while", "the condition's parameters must be the operands", c!.params, inputs, "the parameters", "the operands");
    checkSameTypes("while", "the body's parameters must be the operands", b!.params, inputs, "the parameters", "the operands");
    const ct = c!.results;
    if (ct.length !== 1 || ct[0]!.dtype !== "bool" || ct[0]!.shape.length !== 0) {
      throw new DTypeError(`while: the condition must return one bool[] scalar, got ${list(ct)}`);
    }
    const carry = inputs.slice(0, n);
    checkSameTypes("while", "the body must return the carry's types", b!.results, carry, "the body returns", "the carry");
    return copy(carry);
  },
  evalRegions(operands, attrs, run) {
    const n = attrs["numCarry"] as number;
    const captures = operands.slice(n);
    let carry = operands.slice(0, n);
    while (run(0, [...carry, ...captures])[0]!.data[0] !== 0) carry = run(1, [...carry, ...captures]);
    return carry.map((b) => b.data);
  },
};

// ---- for ----------------------------------------------------------------------------------------

const forOp: OpDef & RegionEval = {
  name: "for",
  kind: CONTROL,
  arity: "variadic",
  regions: 1,
  doc: "for(carry..., captures...) {lo, hi, numCarry}: for i in [lo, hi), the region maps (i: i32[], carry..., captures...) to the next carry",
  attributes: {
    lo: { type: "int", doc: "first index" },
    hi: { type: "int", doc: "end index (exclusive); no iteration when hi <= lo" },
    numCarry: { type: "int", doc: "how many leading operands are the loop carry (the rest are read-only captures)" },
  },
  vjp: regionVjp,
  infer: () => noDirectInfer("for"),
  inferRegions(inputs, attrs, regions) {
    const [b] = regionsOf("for", regions, 1);
    intAttr(attrs, "lo", "for", Number.MIN_SAFE_INTEGER);
    intAttr(attrs, "hi", "for", Number.MIN_SAFE_INTEGER);
    const n = intAttr(attrs, "numCarry", "for", 0);
    if (n > inputs.length) throw new ValueError(`for: numCarry = ${n} but the node has ${inputs.length} operands`);
    checkSameTypes("for", "the body's parameters must be the index (i32[]) then the operands", b!.params, [I32_SCALAR, ...inputs], "the parameters", "i32[] and the operands");
    const carry = inputs.slice(0, n);
    checkSameTypes("for", "the body must return the carry's types", b!.results, carry, "the body returns", "the carry");
    return copy(carry);
  },
  evalRegions(operands, attrs, run) {
    const n = attrs["numCarry"] as number;
    const captures = operands.slice(n);
    let carry = operands.slice(0, n);
    for (let i = attrs["lo"] as number; i < (attrs["hi"] as number); i++) {
      carry = run(0, [{ data: Int32Array.of(i), type: I32_SCALAR }, ...carry, ...captures]);
    }
    return carry.map((b) => b.data);
  },
};

// ---- scan ---------------------------------------------------------------------------------------

function scanCounts(inputs: readonly TensorType[], attrs: Attrs): { length: number; nc: number; nx: number } {
  const length = intAttr(attrs, "length", "scan", 0);
  const nc = intAttr(attrs, "numCarry", "scan", 0);
  const nx = intAttr(attrs, "numXs", "scan", 0);
  const r = attrs["reverse"];
  if (r !== undefined && typeof r !== "boolean") throw new ValueError(`scan: attribute "reverse" must be a boolean, got ${JSON.stringify(r)}`);
  if (nc + nx > inputs.length) throw new ValueError(`scan: numCarry + numXs = ${nc + nx} but the node has ${inputs.length} operands`);
  return { length, nc, nx };
}

const scanOp: OpDef & RegionEval = {
  name: "scan",
  kind: CONTROL,
  arity: "variadic",
  regions: 1,
  doc: "scan(carry..., xs..., captures...) {length, numCarry, numXs, reverse}: for t in [0, length) the region maps (carry..., xs[t]..., captures...) to (carry..., ys...); returns the final carry and the ys stacked on a new axis 0",
  attributes: {
    length: { type: "int", doc: "the number of steps (every xs has this leading dimension)" },
    numCarry: { type: "int", doc: "how many leading operands are the carry" },
    numXs: { type: "int", doc: "how many operands after the carry are scanned over axis 0 (the rest are captures)" },
    reverse: { type: "bool", doc: "scan from the last step to the first (ys stay in index order); default false", optional: true },
  },
  vjp: regionVjp,
  infer: () => noDirectInfer("scan"),
  inferRegions(inputs, attrs, regions) {
    const [b] = regionsOf("scan", regions, 1);
    const { length, nc, nx } = scanCounts(inputs, attrs);
    const xs = inputs.slice(nc, nc + nx);
    xs.forEach((t, k) => {
      if (t.shape.length === 0 || t.shape[0] !== length) {
        throw new ShapeError(`scan: xs[${k}] is ${formatType(t)}, but every xs must have a leading dimension of length ${length}`);
      }
    });
    const slices = xs.map((t) => ({ dtype: t.dtype, shape: t.shape.slice(1) }));
    const want = [...inputs.slice(0, nc), ...slices, ...inputs.slice(nc + nx)];
    checkSameTypes("scan", "the body's parameters must be the carry, one slice of each xs, then the captures", b!.params, want, "the parameters", "the expected");
    const carry = inputs.slice(0, nc);
    if (b!.results.length < nc) throw new ValueError(`scan: the body returns ${b!.results.length} values, fewer than the carry's ${nc}`);
    checkSameTypes("scan", "the body must return the carry's types first", b!.results.slice(0, nc), carry, "the body returns", "the carry");
    const ys = b!.results.slice(nc).map((t) => ({ dtype: t.dtype, shape: [length, ...t.shape] }));
    return [...copy(carry), ...ys];
  },
  evalRegions(operands, attrs, run, outTypes) {
    const { length, nc, nx } = scanCounts(operands.map((o) => o.type), attrs);
    const reverse = attrs["reverse"] === true;
    const xs = operands.slice(nc, nc + nx);
    const captures = operands.slice(nc + nx);
    const ysTypes = outTypes.slice(nc);
    const ys = ysTypes.map((t) => allocate(t.dtype, sizeOf(t.shape)));
    const xSizes = xs.map((x) => sizeOf(x.type.shape.slice(1)));
    const ySizes = ysTypes.map((t) => sizeOf(t.shape.slice(1)));
    let carry = operands.slice(0, nc);
    for (let s = 0; s < length; s++) {
      const t = reverse ? length - 1 - s : s;
      // Copies, not subarray views: the body may return a slice as the carry, and a result that
      // aliased part of xs would outlive xs's buffer (dispose() frees a tensor's block at once).
      const slices = xs.map((x, k): RegionBuffer => {
        const data = allocate(x.type.dtype, xSizes[k]!);
        data.set(x.data.subarray(t * xSizes[k]!, (t + 1) * xSizes[k]!) as never);
        return { data, type: { dtype: x.type.dtype, shape: x.type.shape.slice(1) } };
      });
      const out = run(0, [...carry, ...slices, ...captures]);
      carry = out.slice(0, nc);
      for (let k = 0; k < ys.length; k++) ys[k]!.set(out[nc + k]!.data, t * ySizes[k]!);
    }
    return [...carry.map((b) => b.data), ...ys];
  },
};

for (const def of [cond, whileOp, forOp, scanOp]) defineOp(def);
