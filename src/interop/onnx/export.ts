/**
 * ONNX export: an IR Graph becomes a ModelProto (IR version 8, opset 17). Parameters become graph
 * inputs, constants initializers, results outputs (through Identity nodes, so every output has its
 * own name even when a result is a parameter or is returned twice). Each symtensor op maps to one
 * ONNX op or a short composite; fused nodes are inlined from their region. Ops with no ONNX form
 * are collected first and reported together in one UnsupportedOnnxOpError.
 */
import type { DType, TypedArray } from "../../ir/dtype.js";
import { isFloat } from "../../ir/dtype.js";
import { UnsupportedOnnxOpError, ValueError } from "../../ir/errors.js";
import type { Graph, Node, Region } from "../../ir/graph.js";
import type { Attrs } from "../../ir/registry.js";
import { convGeometry, poolGeometry } from "../../ir/ops/linalg.js";
import { sizeOf } from "../../ir/shape.js";
import { formatType, type TensorType } from "../../ir/types.js";
import { ATTR_TYPE, type AttributeProtoObj, encodeModelProto, type NodeProtoObj, ONNX_DTYPE, type TensorProtoObj, type ValueInfoProtoObj } from "./schema.js";

export const EXPORT_OPSET = 17;
export const EXPORT_IR_VERSION = 8;

export interface ExportOptions {
  /** ModelProto.producer_name (default "symtensor"). */
  readonly producerName?: string;
  readonly producerVersion?: string;
}

const DTYPE_CODE: Record<DType, number> = {
  bool: ONNX_DTYPE.BOOL,
  uint8: ONNX_DTYPE.UINT8,
  int32: ONNX_DTYPE.INT32,
  float32: ONNX_DTYPE.FLOAT,
  float64: ONNX_DTYPE.DOUBLE,
};

/** A value during export: its ONNX name and symtensor type. */
interface Ref {
  readonly name: string;
  readonly type: TensorType;
}

type OnnxAttrs = Readonly<Record<string, number | string | readonly number[] | { ints: readonly number[] } | { float: number } | { tensor: TensorProtoObj }>>;

/** Builds the ONNX node list and initializers, handing out unique value names. */
class Emitter {
  readonly nodes: NodeProtoObj[] = [];
  readonly initializers: TensorProtoObj[] = [];
  private readonly used = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private nodeCount = 0;

  fresh(base: string): string {
    const clean = base.replace(/^%/, "") || "v";
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  reserve(name: string): void {
    this.used.add(name);
  }

  /** Appends a node; returns its output names (fresh unless given). */
  node(opType: string, inputs: readonly string[], attrs: OnnxAttrs = {}, outputs: number | readonly string[] = 1): string[] {
    const outs = typeof outputs === "number" ? Array.from({ length: outputs }, () => this.fresh(`${opType.toLowerCase()}`)) : [...outputs];
    const attribute = Object.entries(attrs).map(([name, v]) => encodeAttr(name, v));
    this.nodes.push({ input: [...inputs], output: outs, name: `${opType}_${this.nodeCount++}`, op_type: opType, ...(attribute.length ? { attribute } : {}) });
    return outs;
  }

  node1(opType: string, inputs: readonly string[], attrs: OnnxAttrs = {}): string {
    return this.node(opType, inputs, attrs, 1)[0]!;
  }

  initializer(name: string, dtype: DType | "int64", shape: readonly number[], data: TypedArray | BigInt64Array): void {
    this.initializers.push(tensorProto(name, dtype, shape, data));
  }

  /** An int64 initializer (shapes, axes, pads...), shared between nodes that need the same values. */
  int64(values: readonly number[], shape: readonly number[] = [values.length]): string {
    const key = `i64:${shape.join(",")}:${values.join(",")}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.fresh(shape.length === 0 ? "scalar_i64" : "ints");
      this.initializer(name, "int64", shape, BigInt64Array.from(values.map((v) => BigInt(v))));
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A 0-d initializer of a symtensor dtype. */
  scalar(value: number, dtype: DType): string {
    const key = `s:${dtype}:${Object.is(value, -0) ? "-0" : String(value)}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.fresh(`const_${dtype}`);
      const data = new (arrayFor(dtype))(1);
      data[0] = value;
      this.initializer(name, dtype, [], data);
      this.constCache.set(key, name);
    }
    return name;
  }
}

function arrayFor(d: DType): new (n: number) => TypedArray {
  return d === "float32" ? Float32Array : d === "float64" ? Float64Array : d === "int32" ? Int32Array : Uint8Array;
}

const isIntList = (v: unknown): v is readonly number[] => Array.isArray(v);

function encodeAttr(name: string, v: OnnxAttrs[string]): AttributeProtoObj {
  if (typeof v === "number") return { name, type: ATTR_TYPE.INT, i: v };
  if (typeof v === "string") return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(v) };
  if (isIntList(v)) return { name, type: ATTR_TYPE.INTS, ints: [...v] };
  if ("ints" in v) return { name, type: ATTR_TYPE.INTS, ints: [...v.ints] };
  if ("float" in v) return { name, type: ATTR_TYPE.FLOAT, f: v.float };
  return { name, type: ATTR_TYPE.TENSOR, t: v.tensor };
}

function tensorProto(name: string, dtype: DType | "int64", shape: readonly number[], data: TypedArray | BigInt64Array): TensorProtoObj {
  // raw_data is little-endian, which typed arrays are on every platform Node and browsers run on.
  const raw = new Uint8Array(data.byteLength);
  raw.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return { name, dims: [...shape], data_type: dtype === "int64" ? ONNX_DTYPE.INT64 : DTYPE_CODE[dtype], raw_data: raw };
}

function valueInfo(name: string, t: TensorType): ValueInfoProtoObj {
  return { name, type: { tensor_type: { elem_type: DTYPE_CODE[t.dtype], shape: { dim: t.shape.map((d) => ({ dim_value: d })) } } } };
}

// ---------------------------------------------------------------------------------------------
// Op translation. Each rule gets the node's operands (ONNX names and symtensor types) and returns
// the ONNX names of the node's results.

type Rule = (e: Emitter, ins: readonly Ref[], node: Node) => string[];

const num = (attrs: Attrs, k: string): number => attrs[k] as number;
const nums = (attrs: Attrs, k: string): number[] => [...((attrs[k] as readonly number[] | undefined) ?? [])];
const flag = (attrs: Attrs, k: string): boolean => attrs[k] === true;

const out0 = (node: Node): TensorType => node.results[0]!.type;

function cast(e: Emitter, x: Ref, to: DType): Ref {
  if (x.type.dtype === to) return x;
  return { name: e.node1("Cast", [x.name], { to: DTYPE_CODE[to] }), type: { dtype: to, shape: x.type.shape } };
}

/** Truthiness as bool: nonzero (and NaN) is true, as symtensor's logical ops read it. */
const truthy = (e: Emitter, x: Ref): string => cast(e, x, "bool").name;

const simple =
  (opType: string, attrs: OnnxAttrs = {}): Rule =>
  (e, ins) => [e.node1(opType, ins.map((r) => r.name), attrs)];

/** ONNX comparison and min/max ops take no bool: compare bools as uint8 (false < true). */
function noBool(e: Emitter, ins: readonly Ref[]): string[] {
  return ins.map((r) => (r.type.dtype === "bool" ? cast(e, r, "uint8").name : r.name));
}

const compare =
  (opType: string): Rule =>
  (e, ins) => [e.node1(opType, noBool(e, ins))];

function floatRule(opType: string): Rule {
  return simple(opType);
}

/** r = fmod(x, y), moved to the divisor's sign (NumPy's mod); integer x % 0 gives 0 as in symtensor. */
function modParts(e: Emitter, x: Ref, y: Ref): { r: string; safeY: string } {
  const d = x.type.dtype;
  const zero = e.scalar(0, d);
  if (isFloat(d)) {
    const r = e.node1("Mod", [x.name, y.name], { fmod: 1 });
    // r and y of different signs (and r nonzero) move r by one divisor.
    const rNeg = e.node1("Less", [r, zero]);
    const yNeg = e.node1("Less", [y.name, zero]);
    const differ = e.node1("Xor", [rNeg, yNeg]);
    const nonzero = e.node1("Not", [e.node1("Equal", [r, zero])]);
    const fix = e.node1("And", [differ, nonzero]);
    return { r: e.node1("Where", [fix, e.node1("Add", [r, y.name]), r]), safeY: y.name };
  }
  // Integers: ONNX Mod (fmod=0) already takes the divisor's sign. Divisors 0 and -1 become 1
  // (x % 1 = 0 is the answer for both), which also keeps INT_MIN % -1 from trapping in C++.
  let special = e.node1("Equal", [y.name, zero]);
  if (d !== "uint8") special = e.node1("Or", [special, e.node1("Equal", [y.name, e.scalar(-1, d)])]);
  const safeY = e.node1("Where", [special, e.scalar(1, d), y.name]);
  return { r: e.node1("Mod", [x.name, safeY], { fmod: 0 }), safeY };
}

const modRule: Rule = (e, [x, y]) => [modParts(e, x!, y!).r];

const floorDivRule: Rule = (e, [x, y]) => {
  const d = x!.type.dtype;
  if (isFloat(d)) return [e.node1("Floor", [e.node1("Div", [x!.name, y!.name])])];
  // (x - mod(x, y)) / y is exact, so truncating division gives the floor; then x // 0 is 0 and
  // x // -1 is -x (wrapping), as symtensor defines them.
  const { r, safeY } = modParts(e, x!, y!);
  const zero = e.scalar(0, d);
  let q = e.node1("Div", [e.node1("Sub", [x!.name, r]), safeY]);
  q = e.node1("Where", [e.node1("Equal", [y!.name, zero]), zero, q]);
  if (d !== "uint8") q = e.node1("Where", [e.node1("Equal", [y!.name, e.scalar(-1, d)]), e.node1("Neg", [x!.name]), q]);
  return [q];
};

/**
 * atan2(y, x) from Atan(y / x) and quadrant corrections (ONNX has no Atan2). Signed zeros are told
 * apart by the sign of their reciprocal; only both operands infinite differs from Math.atan2 (NaN).
 */
const atan2Rule: Rule = (e, [y, x]) => {
  const d = y!.type.dtype;
  const zero = e.scalar(0, d);
  const pi = e.scalar(Math.PI, d);
  const negative = (v: string): string => e.node1("Or", [e.node1("Less", [v, zero]), e.node1("Less", [e.node1("Reciprocal", [v]), zero])]);
  const yNeg = negative(y!.name);
  const xNeg = negative(x!.name);
  const signedPi = e.node1("Where", [yNeg, e.node1("Neg", [pi]), pi]);
  const base = e.node1("Atan", [e.node1("Div", [y!.name, x!.name])]);
  const general = e.node1("Where", [xNeg, e.node1("Add", [base, signedPi]), base]);
  const halfPi = e.scalar(Math.PI / 2, d);
  const vertical = e.node1("Where", [yNeg, e.node1("Neg", [halfPi]), halfPi]);
  const origin = e.node1("Where", [xNeg, signedPi, y!.name]);
  const xZero = e.node1("Equal", [x!.name, zero]);
  const yZero = e.node1("Equal", [y!.name, zero]);
  return [e.node1("Where", [xZero, e.node1("Where", [yZero, origin, vertical]), general])];
};

const geluRule: Rule = (e, [x], node) => {
  const d = x!.type.dtype;
  const half = e.scalar(0.5, d);
  const one = e.scalar(1, d);
  let inner: string;
  if (flag(node.attrs, "approximate")) {
    const x3 = e.node1("Mul", [e.node1("Mul", [x!.name, x!.name]), x!.name]);
    const poly = e.node1("Add", [x!.name, e.node1("Mul", [x3, e.scalar(0.044715, d)])]);
    inner = e.node1("Tanh", [e.node1("Mul", [poly, e.scalar(Math.sqrt(2 / Math.PI), d)])]);
  } else {
    inner = e.node1("Erf", [e.node1("Mul", [x!.name, e.scalar(Math.SQRT1_2, d)])]);
  }
  return [e.node1("Mul", [e.node1("Mul", [x!.name, half]), e.node1("Add", [inner, one])])];
};

/** Reductions whose axes are an attribute in opset 17 (all but ReduceSum). */
function reduceAttr(opType: string, inDtype: (d: DType) => DType): Rule {
  return (e, [x], node) => {
    const axes = nums(node.attrs, "axes");
    const keepdims = flag(node.attrs, "keepDims") ? 1 : 0;
    const xin = cast(e, x!, inDtype(x!.type.dtype));
    const outType = out0(node);
    // An empty axes list means "all axes" in ONNX but "none" in symtensor.
    const y = axes.length === 0 ? e.node1("Identity", [xin.name]) : e.node1(opType, [xin.name], { axes, keepdims });
    return [cast(e, { name: y, type: { dtype: xin.type.dtype, shape: outType.shape } }, outType.dtype).name];
  };
}

const intAccum = (d: DType): DType => (isFloat(d) ? d : "int32");
const floatMean = (d: DType): DType => (isFloat(d) ? d : "float32");
/** ReduceMax/Min have no bool kernel in opset 17: reduce bools as uint8. */
const noBoolDtype = (d: DType): DType => (d === "bool" ? "uint8" : d);

const reduceSumRule: Rule = (e, [x], node) => {
  const axes = nums(node.attrs, "axes");
  const xin = cast(e, x!, intAccum(x!.type.dtype));
  if (axes.length === 0) return [e.node1("Identity", [xin.name])];
  return [e.node1("ReduceSum", [xin.name, e.int64(axes)], { keepdims: flag(node.attrs, "keepDims") ? 1 : 0 })];
};

/** reduceAny / reduceAll: truthiness as uint8, then ReduceMax / ReduceMin, back to bool. */
function reduceLogical(opType: "ReduceMax" | "ReduceMin"): Rule {
  return (e, [x], node) => {
    const axes = nums(node.attrs, "axes");
    const b = cast(e, { name: truthy(e, x!), type: { dtype: "bool", shape: x!.type.shape } }, "uint8");
    if (axes.length === 0) return [e.node1("Cast", [b.name], { to: ONNX_DTYPE.BOOL })];
    const r = e.node1(opType, [b.name], { axes, keepdims: flag(node.attrs, "keepDims") ? 1 : 0 });
    return [e.node1("Cast", [r], { to: ONNX_DTYPE.BOOL })];
  };
}

function argRule(opType: "ArgMax" | "ArgMin"): Rule {
  return (e, [x], node) => {
    const axis = node.attrs["axis"];
    const keepDims = flag(node.attrs, "keepDims");
    let xin = cast(e, x!, noBoolDtype(x!.type.dtype)).name;
    let ax = axis as number;
    if (axis === null) {
      xin = e.node1("Reshape", [xin, e.int64([-1])]);
      ax = 0;
    }
    let r = e.node1(opType, [xin], { axis: ax, keepdims: keepDims ? 1 : 0 });
    // ONNX gives int64 indices; symtensor's are int32.
    r = e.node1("Cast", [r], { to: ONNX_DTYPE.INT32 });
    // keepDims with a flattened search keeps every axis as size 1.
    if (axis === null && keepDims) r = e.node1("Reshape", [r, e.int64(out0(node).shape)]);
    return [r];
  };
}

const cumsumRule: Rule = (e, [x], node) => {
  const axis = node.attrs["axis"];
  let xin = cast(e, x!, intAccum(x!.type.dtype)).name;
  if (axis === null) xin = e.node1("Reshape", [xin, e.int64([-1])]);
  return [
    e.node1("CumSum", [xin, e.int64([axis === null ? 0 : (axis as number)], [])], {
      exclusive: flag(node.attrs, "exclusive") ? 1 : 0,
      reverse: flag(node.attrs, "reverse") ? 1 : 0,
    }),
  ];
};

/** ONNX MatMul has no bool or uint8 kernel: compute uint8 in int32 and wrap back. */
const matmulRule: Rule = (e, [a, b], node) => {
  const d = a!.type.dtype;
  if (d === "uint8") {
    const r = e.node1("MatMul", [cast(e, a!, "int32").name, cast(e, b!, "int32").name]);
    return [e.node1("Cast", [r], { to: ONNX_DTYPE.UINT8 })];
  }
  void node;
  return [e.node1("MatMul", [a!.name, b!.name])];
};

/** NumPy dot: for b of rank > 2, move b's contracted axis first and flatten the rest into one matrix. */
const dotRule: Rule = (e, [a, b], node) => {
  const bs = b!.type.shape;
  if (bs.length <= 2) return matmulRule(e, [a!, b!], node);
  const n = bs.length;
  const perm = [n - 2, ...Array.from({ length: n - 2 }, (_, i) => i), n - 1];
  const t = e.node1("Transpose", [b!.name], { perm });
  const rest = sizeOf(bs) / bs[n - 2]!;
  const flat = e.node1("Reshape", [t, e.int64([bs[n - 2]!, rest])]);
  const m = matmulRule(e, [a!, { name: flat, type: { dtype: b!.type.dtype, shape: [bs[n - 2]!, rest] } }], node)[0]!;
  return [e.node1("Reshape", [m, e.int64(out0(node).shape)])];
};

/** Adds a batch axis to an HWC image so that ONNX sees NCHW after the transpose. */
function toNchw(e: Emitter, x: Ref): string {
  const batched = x.type.shape.length === 3 ? e.node1("Unsqueeze", [x.name, e.int64([0])]) : x.name;
  return e.node1("Transpose", [batched], { perm: [0, 3, 1, 2] });
}

function fromNchw(e: Emitter, y: string, out: TensorType): string {
  const t = e.node1("Transpose", [y], { perm: [0, 2, 3, 1] });
  return out.shape.length === 3 ? e.node1("Squeeze", [t, e.int64([0])]) : t;
}

/** [top, left, bottom, right] pads for a window op, as symtensor's geometry resolved them. */
function windowPads(
  g: { h: number; w: number; kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; padTop: number; padLeft: number; oh: number; ow: number },
  explicit: readonly (readonly number[])[] | undefined,
): number[] {
  if (explicit) return [explicit[0]![0]!, explicit[1]![0]!, explicit[0]![1]!, explicit[1]![1]!];
  const bottom = Math.max(0, (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1 - g.h - g.padTop);
  const right = Math.max(0, (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1 - g.w - g.padLeft);
  return [g.padTop, g.padLeft, bottom, right];
}

const convRule: Rule = (e, [x, f], node) => {
  const g = convGeometry(x!.type, f!.type, node.attrs);
  const padding = node.attrs["padding"];
  const pads = windowPads(g, Array.isArray(padding) ? (padding as number[][]) : undefined);
  const w = e.node1("Transpose", [f!.name], { perm: [3, 2, 0, 1] }); // HWIO -> OIHW
  const y = e.node1("Conv", [toNchw(e, x!), w], { kernel_shape: [g.kh, g.kw], strides: [g.sh, g.sw], dilations: [g.dh, g.dw], pads, group: 1 });
  return [fromNchw(e, y, out0(node))];
};

function poolRule(opType: "MaxPool" | "AveragePool"): Rule {
  return (e, [x], node) => {
    const g = poolGeometry(node.op, x!.type, node.attrs);
    const pads = windowPads(g, undefined);
    const attrs: Record<string, number | number[]> = { kernel_shape: [g.kh, g.kw], strides: [g.sh, g.sw], pads };
    // symtensor's mean is over the real cells of a window, never the padding.
    if (opType === "AveragePool") attrs["count_include_pad"] = 0;
    // MaxPool has no int32 kernel: float64 holds every int32 exactly.
    const xin = x!.type.dtype === "int32" ? cast(e, x!, "float64") : x!;
    const y = fromNchw(e, e.node1(opType, [toNchw(e, xin)], attrs), out0(node));
    return [cast(e, { name: y, type: { dtype: xin.type.dtype, shape: out0(node).shape } }, x!.type.dtype).name];
  };
}

/** ONNX Slice for one resolved symtensor window: empty axes become [0, 0), a stop of -1 walking backwards is "past the start". */
function sliceRule(e: Emitter, x: Ref, begin: readonly number[], end: readonly number[], strides: readonly number[], out: TensorType): string {
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  for (let i = 0; i < x.type.shape.length; i++) {
    const dim = x.type.shape[i]!;
    if (out.shape[i] === 0) {
      starts.push(0);
      ends.push(0);
      steps.push(1);
      continue;
    }
    const s = strides[i]!;
    starts.push(begin[i]!);
    // ONNX adds dim to a negative end: -(dim + 1) lands on -1, "before index 0".
    ends.push(s < 0 && end[i]! < 0 ? -(dim + 1) : end[i]!);
    steps.push(s);
  }
  const axes = starts.map((_, i) => i);
  return e.node1("Slice", [x.name, e.int64(starts), e.int64(ends), e.int64(axes), e.int64(steps)]);
}

const flipRule: Rule = (e, [x], node) => {
  const axes = nums(node.attrs, "axes");
  const shape = x!.type.shape;
  const begin = shape.map((d, i) => (axes.includes(i) ? d - 1 : 0));
  const end = shape.map((d, i) => (axes.includes(i) ? -1 : d));
  const strides = shape.map((_, i) => (axes.includes(i) ? -1 : 1));
  return [sliceRule(e, x!, begin, end, strides, out0(node))];
};

/** tf.one_hot: Equal(indices[..., None, ...], arange(depth)) selects on/off (out-of-range and negative indices give all off). */
const oneHotRule: Rule = (e, [indices, on, off], node) => {
  const depth = num(node.attrs, "depth");
  const axis = num(node.attrs, "axis");
  const rank = indices!.type.shape.length;
  const rangeShape = Array.from({ length: rank + 1 }, (_, i) => (i === axis ? depth : 1));
  const range = e.fresh("onehot_range");
  e.initializer(range, "int32", rangeShape, Int32Array.from({ length: depth }, (_, i) => i));
  const idx = e.node1("Unsqueeze", [indices!.name, e.int64([axis])]);
  const hit = e.node1("Equal", [idx, range]);
  return [e.node1("Where", [hit, on!.name, off!.name])];
};

const ELEMENTWISE: Record<string, Rule> = {
  add: (e, ins) => [e.node1(ins[0]!.type.dtype === "bool" ? "Or" : "Add", ins.map((r) => r.name))],
  sub: simple("Sub"),
  mul: (e, ins) => [e.node1(ins[0]!.type.dtype === "bool" ? "And" : "Mul", ins.map((r) => r.name))],
  div: simple("Div"),
  pow: simple("Pow"),
  maximum: (e, ins) => (ins[0]!.type.dtype === "bool" ? [e.node1("Or", ins.map((r) => r.name))] : [e.node1("Max", ins.map((r) => r.name))]),
  minimum: (e, ins) => (ins[0]!.type.dtype === "bool" ? [e.node1("And", ins.map((r) => r.name))] : [e.node1("Min", ins.map((r) => r.name))]),
  mod: modRule,
  floorDiv: floorDivRule,
  atan2: atan2Rule,
  neg: (e, [x]) => [x!.type.dtype === "uint8" ? e.node1("Sub", [e.scalar(0, "uint8"), x!.name]) : e.node1("Neg", [x!.name])],
  abs: (e, [x]) => [e.node1(x!.type.dtype === "bool" || x!.type.dtype === "uint8" ? "Identity" : "Abs", [x!.name])],
  sign: (e, [x]) => [x!.type.dtype === "uint8" ? cast(e, { name: e.node1("Greater", [x!.name, e.scalar(0, "uint8")]), type: { dtype: "bool", shape: x!.type.shape } }, "uint8").name : e.node1("Sign", [x!.name])],
  square: (e, [x]) => [e.node1("Mul", [x!.name, x!.name])],
  relu: (e, [x]) => [e.node1(x!.type.dtype === "uint8" ? "Identity" : "Relu", [x!.name])],
  exp: floatRule("Exp"),
  log: floatRule("Log"),
  sqrt: floatRule("Sqrt"),
  reciprocal: floatRule("Reciprocal"),
  sin: floatRule("Sin"),
  cos: floatRule("Cos"),
  tan: floatRule("Tan"),
  asin: floatRule("Asin"),
  acos: floatRule("Acos"),
  atan: floatRule("Atan"),
  sinh: floatRule("Sinh"),
  cosh: floatRule("Cosh"),
  tanh: floatRule("Tanh"),
  sigmoid: floatRule("Sigmoid"),
  erf: floatRule("Erf"),
  floor: floatRule("Floor"),
  ceil: floatRule("Ceil"),
  round: floatRule("Round"),
  rsqrt: (e, [x]) => [e.node1("Reciprocal", [e.node1("Sqrt", [x!.name])])],
  expm1: (e, [x]) => [e.node1("Sub", [e.node1("Exp", [x!.name]), e.scalar(1, x!.type.dtype)])],
  log1p: (e, [x]) => [e.node1("Log", [e.node1("Add", [x!.name, e.scalar(1, x!.type.dtype)])])],
  gelu: geluRule,
  logicalNot: (e, [x]) => [e.node1("Not", [truthy(e, x!)])],
  isNaN: (e, [x]) => [isFloat(x!.type.dtype) ? e.node1("IsNaN", [x!.name]) : e.node1("Not", [e.node1("Equal", [x!.name, x!.name])])],
  isFinite: (e, [x]) => [
    isFloat(x!.type.dtype) ? e.node1("Not", [e.node1("Or", [e.node1("IsNaN", [x!.name]), e.node1("IsInf", [x!.name])])]) : e.node1("Equal", [x!.name, x!.name]),
  ],
  equal: simple("Equal"),
  notEqual: (e, ins) => [e.node1("Not", [e.node1("Equal", ins.map((r) => r.name))])],
  less: compare("Less"),
  lessEqual: compare("LessOrEqual"),
  greater: compare("Greater"),
  greaterEqual: compare("GreaterOrEqual"),
  logicalAnd: (e, ins) => [e.node1("And", ins.map((r) => truthy(e, r)))],
  logicalOr: (e, ins) => [e.node1("Or", ins.map((r) => truthy(e, r)))],
  logicalXor: (e, ins) => [e.node1("Xor", ins.map((r) => truthy(e, r)))],
  where: simple("Where"),
  cast: (e, [x], node) => {
    const c = cast(e, x!, node.attrs["dtype"] as DType);
    return [c.name === x!.name ? e.node1("Identity", [x!.name]) : c.name];
  },
};

const RULES: Record<string, Rule> = {
  ...ELEMENTWISE,
  reduceSum: reduceSumRule,
  reduceMean: reduceAttr("ReduceMean", floatMean),
  reduceProd: reduceAttr("ReduceProd", intAccum),
  reduceMax: reduceAttr("ReduceMax", noBoolDtype),
  reduceMin: reduceAttr("ReduceMin", noBoolDtype),
  logSumExp: reduceAttr("ReduceLogSumExp", floatMean),
  reduceAny: reduceLogical("ReduceMax"),
  reduceAll: reduceLogical("ReduceMin"),
  argmax: argRule("ArgMax"),
  argmin: argRule("ArgMin"),
  cumsum: cumsumRule,
  matmul: matmulRule,
  dot: dotRule,
  conv2d: convRule,
  maxPool2d: poolRule("MaxPool"),
  avgPool2d: poolRule("AveragePool"),
  reshape: (e, [x], node) => [e.node1("Reshape", [x!.name, e.int64(nums(node.attrs, "shape"))])],
  transpose: (e, [x], node) => [e.node1("Transpose", [x!.name], { perm: nums(node.attrs, "perm") })],
  broadcastTo: (e, [x], node) => [e.node1("Expand", [x!.name, e.int64(nums(node.attrs, "shape"))])],
  concat: (e, ins, node) => [e.node1("Concat", ins.map((r) => r.name), { axis: num(node.attrs, "axis") })],
  split: (e, [x], node) => e.node("Split", [x!.name, e.int64(nums(node.attrs, "sizes"))], { axis: num(node.attrs, "axis") }, node.results.length),
  slice: (e, [x], node) => [sliceRule(e, x!, nums(node.attrs, "begin"), nums(node.attrs, "end"), nums(node.attrs, "strides"), out0(node))],
  flip: flipRule,
  gather: (e, [x, i], node) => [e.node1("Gather", [x!.name, i!.name], { axis: num(node.attrs, "axis") })],
  pad: (e, [x, v], node) => {
    const p = (node.attrs["paddings"] as readonly (readonly number[])[]).map((q) => [q[0]!, q[1]!] as const);
    return [e.node1("Pad", [x!.name, e.int64([...p.map((q) => q[0]), ...p.map((q) => q[1])]), v!.name], { mode: "constant" })];
  },
  oneHot: oneHotRule,
};

/** Why an op has no export, for the error message. */
const NO_ONNX: Record<string, string> = {
  cumprod: "ONNX has no cumulative product",
  debugPrint: "printing is a side effect ONNX cannot express",
  randomBits: "symtensor's counter-based random streams have no ONNX equivalent",
  randomUniform: "symtensor's counter-based random streams have no ONNX equivalent",
  randomNormal: "symtensor's counter-based random streams have no ONNX equivalent",
  randomBernoulli: "symtensor's counter-based random streams have no ONNX equivalent",
  randomInt: "symtensor's counter-based random streams have no ONNX equivalent",
  randomSplit: "symtensor's counter-based random streams have no ONNX equivalent",
};

/** The ops symtensor can export, for documentation and tests. */
export function exportableOps(): string[] {
  return [...Object.keys(RULES), "fused"].sort();
}

/** Every node that cannot be exported (recursing into regions), with counts, in first-seen order. */
function findUnsupported(nodes: readonly Node[], found: Map<string, number>): void {
  for (const n of nodes) {
    if (n.op === "fused") {
      for (const r of n.regions ?? []) findUnsupported(r.nodes, found);
      continue;
    }
    const d = n.results[0]?.type.dtype;
    const bad = !(n.op in RULES) || ((n.op === "matmul" || n.op === "dot") && d === "bool");
    if (bad) found.set(n.op, (found.get(n.op) ?? 0) + 1);
  }
}

function unsupportedDetail(ops: readonly string[]): string {
  const reasons = new Set(ops.map((op) => (op === "matmul" || op === "dot" ? "ONNX MatMul has no bool form (cast to int32 first)" : (NO_ONNX[op] ?? "no ONNX translation"))));
  return `${[...reasons].join("; ")}. Keep these ops out of the exported function (run them in symtensor before or after the ONNX model).`;
}

function emitNodes(e: Emitter, nodes: readonly Node[], scope: Map<string, Ref>): void {
  for (const node of nodes) {
    const ins = node.operands.map((o) => {
      const r = scope.get(o);
      if (!r) throw new ValueError(`exportOnnx: ${node.results[0]?.name ?? node.op} = ${node.op}(...) reads undefined value ${o} (verify the graph first)`);
      return r;
    });
    let outs: string[];
    if (node.op === "fused") outs = inlineRegion(e, node.regions![0]!, ins, scope);
    else outs = RULES[node.op]!(e, ins, node);
    node.results.forEach((r, i) => scope.set(r.name, { name: outs[i]!, type: r.type }));
  }
}

/** A fused node's body, inlined: region parameters take the operands, constants stay visible. */
function inlineRegion(e: Emitter, region: Region, ins: readonly Ref[], outer: Map<string, Ref>): string[] {
  const scope = new Map(outer);
  region.params.forEach((p, i) => scope.set(p.name, ins[i]!));
  emitNodes(e, region.nodes, scope);
  return region.results.map((r) => scope.get(r)!.name);
}

/** Serializes a graph as an ONNX model. Throws UnsupportedOnnxOpError listing every op that has no ONNX form. */
export function exportGraph(graph: Graph, options: ExportOptions = {}): Uint8Array {
  if (typeof graph !== "object" || graph === null || !Array.isArray(graph.nodes)) throw new ValueError("exportOnnx: expected an IR graph");
  const found = new Map<string, number>();
  findUnsupported(graph.nodes, found);
  if (found.size > 0) {
    const ops = [...found].map(([op, n]) => (n > 1 ? `${op} (${n} nodes)` : op));
    throw new UnsupportedOnnxOpError("export", ops, unsupportedDetail([...found.keys()]));
  }
  const e = new Emitter();
  const scope = new Map<string, Ref>();
  const inputs: ValueInfoProtoObj[] = [];
  for (const p of graph.params) {
    const name = e.fresh(p.name);
    scope.set(p.name, { name, type: p.type });
    inputs.push(valueInfo(name, p.type));
  }
  for (const c of graph.constants) {
    const name = e.fresh(c.name);
    if (c.data.length !== sizeOf(c.type.shape)) throw new ValueError(`exportOnnx: constant ${c.name}: ${formatType(c.type)} holds ${c.data.length} elements`);
    e.initializer(name, c.type.dtype, c.type.shape, c.data);
    scope.set(c.name, { name, type: c.type });
  }
  emitNodes(e, graph.nodes, scope);
  const outputs: ValueInfoProtoObj[] = graph.results.map((r, i) => {
    const ref = scope.get(r);
    if (!ref) throw new ValueError(`exportOnnx: result ${r} is not defined`);
    const name = e.fresh(`output${i}`);
    e.node("Identity", [ref.name], {}, [name]);
    return valueInfo(name, ref.type);
  });
  return encodeModelProto({
    ir_version: EXPORT_IR_VERSION,
    producer_name: options.producerName ?? "symtensor",
    ...(options.producerVersion !== undefined ? { producer_version: options.producerVersion } : {}),
    opset_import: [{ domain: "", version: EXPORT_OPSET }],
    graph: { name: graph.name || "main", node: e.nodes, initializer: e.initializers, input: inputs, output: outputs },
  });
}
