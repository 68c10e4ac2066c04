/**
 * ONNX import: ModelProto bytes become an IR Graph built with GraphBuilder from registry ops, with
 * symtensor's semantics (composites such as Softmax, LayerNormalization and Gemm expand into
 * primitive ops; NCHW convolutions and pools run as NHWC between transposes). Values that only
 * describe shapes (Shape, Constant, and integer arithmetic on them) are folded while importing, so
 * Reshape, Slice and friends get static attributes. int64 becomes int32; a value that does not fit
 * is refused. Every op that cannot be imported is reported at once in UnsupportedOnnxOpError.
 */
import "../../ir/ops/index.js";
import { allocate, type DType, isFloat, type TypedArray } from "../../ir/dtype.js";
import { DTypeError, FormatError, SymtensorError, UnsupportedOnnxOpError, ValueError } from "../../ir/errors.js";
import { type Graph, GraphBuilder } from "../../ir/graph.js";
import { type Attrs, getOp } from "../../ir/registry.js";
import { broadcastShapes, sizeOf } from "../../ir/shape.js";
import { formatType, type TensorType } from "../../ir/types.js";
import { type AttributeProtoObj, decodeModelProto, type GraphProtoObj, type Int64, type NodeProtoObj, ONNX_DTYPE, type TensorProtoObj, type ValueInfoProtoObj } from "./schema.js";

export interface ImportOptions {
  /** Shapes for inputs whose dimensions are symbolic (dim_param) or missing, by ONNX input name. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** The graph's name (default: the ONNX graph's name, else "model"). */
  readonly name?: string;
}

/** A graph value, named in the builder. */
interface Val {
  readonly name: string;
  readonly type: TensorType;
}

/**
 * A value known while importing. Integer data is kept as JS numbers (int64 values beyond int32
 * stay usable as Slice bounds) and range-checked only when it becomes a graph tensor.
 */
interface Known {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray | readonly number[];
  /** The ONNX tensor or node it came from, for messages. */
  readonly origin: string;
}

type Entry = { readonly kind: "value"; readonly val: Val } | { readonly kind: "known"; readonly known: Known; materialized?: Val };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** ONNX element type -> symtensor dtype (int64 is narrowed to int32). */
function dtypeOf(code: number | undefined, what: string): DType {
  switch (code) {
    case ONNX_DTYPE.FLOAT:
      return "float32";
    case ONNX_DTYPE.DOUBLE:
      return "float64";
    case ONNX_DTYPE.INT32:
    case ONNX_DTYPE.INT64:
      return "int32";
    case ONNX_DTYPE.UINT8:
      return "uint8";
    case ONNX_DTYPE.BOOL:
      return "bool";
    default:
      throw new DTypeError(`importOnnx: ${what} has ONNX element type ${onnxTypeName(code)}; symtensor imports float, double, int32, int64 (as int32), uint8 and bool`);
  }
}

function onnxTypeName(code: number | undefined): string {
  const e = Object.entries(ONNX_DTYPE).find(([, v]) => v === code);
  return e ? e[0] : String(code);
}

const toNum = (v: Int64 | undefined): number => (v === undefined ? 0 : Number(v));

// ---------------------------------------------------------------------------------------------
// Tensors and attributes.

function readTensor(t: TensorProtoObj, what: string): Known {
  const code = t.data_type ?? 0;
  const dtype = dtypeOf(code, what);
  if (t.data_location === 1) throw new FormatError(`importOnnx: ${what} keeps its data in an external file; load models with embedded weights`);
  const shape = (t.dims ?? []).map((d) => toNum(d));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new FormatError(`importOnnx: ${what} has a bad shape [${shape.join(", ")}]`);
  const n = sizeOf(shape);
  const raw = t.raw_data;
  let values: ArrayLike<number | bigint>;
  if (raw && raw.length > 0) {
    const bytes = raw.slice(); // aligned, own copy
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const size = code === ONNX_DTYPE.INT64 || code === ONNX_DTYPE.DOUBLE ? 8 : code === ONNX_DTYPE.UINT8 || code === ONNX_DTYPE.BOOL ? 1 : 4;
    if (bytes.length !== n * size) throw new FormatError(`importOnnx: ${what}: raw_data holds ${bytes.length} bytes, but ${n} elements of ${onnxTypeName(code)} need ${n * size}`);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const o = i * size;
      out[i] =
        code === ONNX_DTYPE.FLOAT
          ? view.getFloat32(o, true)
          : code === ONNX_DTYPE.DOUBLE
            ? view.getFloat64(o, true)
            : code === ONNX_DTYPE.INT64
              ? Number(view.getBigInt64(o, true))
              : code === ONNX_DTYPE.INT32
                ? view.getInt32(o, true)
                : view.getUint8(o);
    }
    values = out;
  } else {
    const field =
      code === ONNX_DTYPE.FLOAT ? t.float_data : code === ONNX_DTYPE.DOUBLE ? t.double_data : code === ONNX_DTYPE.INT64 ? t.int64_data : t.int32_data; // int32, uint8 and bool live in int32_data
    const list = (field ?? []) as readonly (number | string)[];
    if (list.length !== n) throw new FormatError(`importOnnx: ${what} holds ${list.length} values, but its shape [${shape.join(", ")}] needs ${n}`);
    values = list.map((v) => Number(v));
  }
  if (dtype === "int32") return { dtype, shape, data: Array.from(values, (v) => Number(v)), origin: what };
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = dtype === "bool" ? (Number(values[i]) !== 0 ? 1 : 0) : Number(values[i]);
  return { dtype, shape, data, origin: what };
}

interface NodeInfo {
  readonly opType: string;
  readonly label: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: ReadonlyMap<string, AttributeProtoObj>;
}

function attrInt(n: NodeInfo, name: string, dflt: number): number {
  const a = n.attrs.get(name);
  return a?.i !== undefined ? toNum(a.i) : dflt;
}
function attrInts(n: NodeInfo, name: string): number[] | undefined {
  const a = n.attrs.get(name);
  return a ? (a.ints ?? []).map((v) => toNum(v)) : undefined;
}
function attrFloat(n: NodeInfo, name: string, dflt: number): number {
  const a = n.attrs.get(name);
  return a?.f !== undefined ? a.f : dflt;
}
function attrString(n: NodeInfo, name: string, dflt: string): string {
  const a = n.attrs.get(name);
  return a?.s !== undefined ? new TextDecoder().decode(a.s) : dflt;
}

// ---------------------------------------------------------------------------------------------
// The import context: values by ONNX name, graph building with type inference from the registry.

class Importer {
  readonly b: GraphBuilder;
  readonly env = new Map<string, Entry>();
  private readonly scalars = new Map<string, Val>();
  constructor(
    name: string,
    readonly opset: number,
  ) {
    this.b = new GraphBuilder(name);
  }

  /** Adds a node of a registry op; the result types come from the op's own shape rule. */
  op(name: string, operands: readonly Val[], attrs: Attrs = {}): Val[] {
    const types = getOp(name).infer(
      operands.map((o) => o.type),
      attrs,
    );
    return this.b.addNode(name, operands.map((o) => o.name), attrs, types);
  }

  op1(name: string, operands: readonly Val[], attrs: Attrs = {}): Val {
    return this.op(name, operands, attrs)[0]!;
  }

  entry(name: string, n: NodeInfo): Entry {
    const e = this.env.get(name);
    if (!e) throw new FormatError(`importOnnx: ${n.label} reads "${name}", which no earlier node, input or initializer defines`);
    return e;
  }

  /** The input as a graph value (known data becomes a graph constant, once). */
  val(name: string, n: NodeInfo): Val {
    const e = this.entry(name, n);
    if (e.kind === "value") return e.val;
    e.materialized ??= this.constant(e.known);
    return e.materialized;
  }

  /** The input's data, which must be known while importing (a shape, axes, pads...). */
  known(name: string, n: NodeInfo, what: string): Known {
    const e = this.entry(name, n);
    if (e.kind !== "known") {
      throw new UnsupportedOnnxOpError("import", [`${n.opType} (${what} computed at run time)`], `${n.label}: ${what} must be a constant or folded from static shapes; symtensor graphs have static shapes`);
    }
    return e.known;
  }

  ints(name: string, n: NodeInfo, what: string): number[] {
    return Array.from(this.known(name, n, what).data as ArrayLike<number>);
  }

  typeOf(name: string, n: NodeInfo): TensorType {
    const e = this.entry(name, n);
    return e.kind === "value" ? e.val.type : { dtype: e.known.dtype, shape: e.known.shape };
  }

  constant(k: Known): Val {
    let data: TypedArray;
    if (k.dtype === "int32" && !(k.data instanceof Int32Array)) {
      const src = k.data as readonly number[];
      data = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) {
          throw new ValueError(`importOnnx: ${k.origin} holds ${v}, outside int32 (symtensor imports int64 as int32)`);
        }
        data[i] = v;
      }
    } else data = k.data as TypedArray;
    return this.b.addConstant({ dtype: k.dtype, shape: [...k.shape] }, data);
  }

  scalar(value: number, dtype: DType): Val {
    const key = `${dtype}:${value}`;
    let v = this.scalars.get(key);
    if (!v) {
      const data = allocate(dtype, 1);
      data[0] = value;
      v = this.b.addConstant({ dtype, shape: [] }, data);
      this.scalars.set(key, v);
    }
    return v;
  }

  castTo(x: Val, dtype: DType): Val {
    return x.type.dtype === dtype ? x : this.op1("cast", [x], { dtype });
  }

  reshape(x: Val, shape: readonly number[]): Val {
    return sameDims(x.type.shape, shape) ? x : this.op1("reshape", [x], { shape: [...shape] });
  }

  transpose(x: Val, perm: readonly number[]): Val {
    return perm.every((p, i) => p === i) ? x : this.op1("transpose", [x], { perm: [...perm] });
  }

  /** Promotes two operands to one dtype (ONNX ops that mix, like Pow, and weak constants). */
  binary(op: string, a: Val, b: Val): Val {
    if (a.type.dtype !== b.type.dtype) b = this.castTo(b, a.type.dtype);
    return this.op1(op, [a, b]);
  }
}

const sameDims = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

const normAxis = (axis: number, rank: number, n: NodeInfo): number => {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new ValueError(`importOnnx: ${n.label}: axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
};

const normAxes = (axes: readonly number[], rank: number, n: NodeInfo): number[] => [...new Set(axes.map((a) => normAxis(a, rank, n)))].sort((x, y) => x - y);

// ---------------------------------------------------------------------------------------------
// Handlers: each translates one ONNX node, returning one entry per ONNX output.

type Handler = (im: Importer, n: NodeInfo) => Entry[];

const V = (val: Val): Entry => ({ kind: "value", val });
const K = (known: Known): Entry => ({ kind: "known", known });

const input = (n: NodeInfo, i: number): string | undefined => (n.inputs[i] ? n.inputs[i] : undefined);

function unary(op: string): Handler {
  return (im, n) => [V(im.op1(op, [im.val(n.inputs[0]!, n)]))];
}

function binaryH(op: string): Handler {
  return (im, n) => [V(im.binary(op, im.val(n.inputs[0]!, n), im.val(n.inputs[1]!, n)))];
}

/** Integer arithmetic on known values (shape computations), folded while importing. */
function foldInts(im: Importer, n: NodeInfo, f: (a: number, b: number) => number): Entry[] | undefined {
  const [a, b] = [im.entry(n.inputs[0]!, n), im.entry(n.inputs[1]!, n)];
  if (a.kind !== "known" || b.kind !== "known" || a.known.dtype !== "int32" || b.known.dtype !== "int32") return undefined;
  const shape = broadcastShapes(a.known.shape, b.known.shape, `importOnnx: ${n.label}`);
  const total = sizeOf(shape);
  const ad = a.known.data as ArrayLike<number>;
  const bd = b.known.data as ArrayLike<number>;
  if (total > 64 || (ad.length !== total && ad.length !== 1) || (bd.length !== total && bd.length !== 1)) return undefined;
  const data = Array.from({ length: total }, (_, i) => f(ad[ad.length === 1 ? 0 : i]!, bd[bd.length === 1 ? 0 : i]!));
  return [K({ dtype: "int32", shape, data, origin: n.label })];
}

function arith(op: string, fold: (a: number, b: number) => number): Handler {
  return (im, n) => foldInts(im, n, fold) ?? binaryH(op)(im, n);
}

/** ONNX integer Div truncates toward zero: divide in float64 (exact for int32) and truncate. */
const divH: Handler = (im, n) => {
  const folded = foldInts(im, n, (a, b) => Math.trunc(a / b));
  if (folded) return folded;
  const a = im.val(n.inputs[0]!, n);
  const b = im.val(n.inputs[1]!, n);
  if (isFloat(a.type.dtype)) return [V(im.binary("div", a, b))];
  const q = im.op1("div", [im.castTo(a, "float64"), im.castTo(b, "float64")]);
  return [V(im.castTo(q, a.type.dtype))];
};

function variadic(op: string): Handler {
  return (im, n) => {
    let acc = im.val(n.inputs[0]!, n);
    for (const name of n.inputs.slice(1)) acc = im.binary(op, acc, im.val(name, n));
    return [V(acc)];
  };
}

const constantH: Handler = (im, n) => {
  const [name, a] = [...n.attrs][0] ?? [];
  const origin = `${n.label} value`;
  if (!a) throw new FormatError(`importOnnx: ${n.label} has no value attribute`);
  if (name === "value" && a.t) return [K(readTensor(a.t, origin))];
  if (name === "value_float") return [K({ dtype: "float32", shape: [], data: Float32Array.of(a.f ?? 0), origin })];
  if (name === "value_floats") return [K({ dtype: "float32", shape: [(a.floats ?? []).length], data: Float32Array.from(a.floats ?? []), origin })];
  if (name === "value_int") return [K({ dtype: "int32", shape: [], data: [toNum(a.i)], origin })];
  if (name === "value_ints") return [K({ dtype: "int32", shape: [(a.ints ?? []).length], data: (a.ints ?? []).map((v) => toNum(v)), origin })];
  throw new UnsupportedOnnxOpError("import", [`Constant (${name})`], `${n.label}: only value, value_float(s) and value_int(s) are supported`);
};

const identityH: Handler = (im, n) => [im.entry(n.inputs[0]!, n)];

const shapeH: Handler = (im, n) => {
  const shape = im.typeOf(n.inputs[0]!, n).shape;
  const r = shape.length;
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clamp(attrInt(n, "start", 0));
  const end = clamp(attrInt(n, "end", r));
  const dims = shape.slice(start, Math.max(start, end));
  return [K({ dtype: "int32", shape: [dims.length], data: dims, origin: n.label })];
};

const castH: Handler = (im, n) => {
  const to = dtypeOf(attrInt(n, "to", 0), `${n.label} (attribute to)`);
  const e = im.entry(n.inputs[0]!, n);
  if (e.kind === "known" && e.known.dtype === "int32" && (to === "int32" || isFloat(to))) {
    const src = e.known.data as ArrayLike<number>;
    const data = to === "int32" ? Array.from(src) : allocate(to, src.length);
    if (to !== "int32") for (let i = 0; i < src.length; i++) (data as TypedArray)[i] = src[i]!;
    return [K({ dtype: to, shape: e.known.shape, data, origin: n.label })];
  }
  const x = im.val(n.inputs[0]!, n);
  return [V(x.type.dtype === to ? x : im.op1("cast", [x], { dtype: to }))];
};

const reshapeH: Handler = (im, n) => {
  const x = im.entry(n.inputs[0]!, n);
  const xt = im.typeOf(n.inputs[0]!, n);
  const spec = im.ints(n.inputs[1]!, n, "the shape");
  const allowZero = attrInt(n, "allowzero", 0) === 1;
  const dims = spec.map((d, i) => (d === 0 && !allowZero ? xt.shape[i]! : d));
  const known = dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const total = sizeOf(xt.shape);
  if (dims.filter((d) => d === -1).length > 1) throw new ValueError(`importOnnx: ${n.label}: shape [${spec.join(", ")}] has more than one -1`);
  const shape = dims.map((d) => (d === -1 ? (known === 0 ? 0 : total / known) : d));
  if (sizeOf(shape) !== total || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ValueError(`importOnnx: ${n.label}: cannot reshape ${formatType(xt)} to [${spec.join(", ")}]`);
  }
  if (x.kind === "known") return [K({ ...x.known, shape, origin: n.label })];
  return [V(im.reshape(x.val, shape))];
};

function squeezeLike(kind: "Squeeze" | "Unsqueeze"): Handler {
  return (im, n) => {
    const xt = im.typeOf(n.inputs[0]!, n);
    const axesList = input(n, 1) ? im.ints(n.inputs[1]!, n, "the axes") : attrInts(n, "axes");
    let shape: number[];
    if (kind === "Squeeze") {
      const axes = axesList ? normAxes(axesList, xt.shape.length, n) : xt.shape.flatMap((d, i) => (d === 1 ? [i] : []));
      for (const a of axes) if (xt.shape[a] !== 1) throw new ValueError(`importOnnx: ${n.label}: cannot squeeze axis ${a} of ${formatType(xt)}`);
      shape = xt.shape.filter((_, i) => !axes.includes(i));
    } else {
      const rank = xt.shape.length + (axesList ?? []).length;
      const axes = normAxes(axesList ?? [], rank, n);
      shape = [];
      let k = 0;
      for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : xt.shape[k++]!);
    }
    const x = im.entry(n.inputs[0]!, n);
    if (x.kind === "known") return [K({ ...x.known, shape, origin: n.label })];
    return [V(im.reshape(x.val, shape))];
  };
}

const flattenH: Handler = (im, n) => {
  const x = im.val(n.inputs[0]!, n);
  const r = x.type.shape.length;
  let axis = attrInt(n, "axis", 1);
  if (axis < 0) axis += r;
  const outer = sizeOf(x.type.shape.slice(0, axis));
  return [V(im.reshape(x, [outer, sizeOf(x.type.shape.slice(axis))]))];
};

const transposeH: Handler = (im, n) => {
  const x = im.val(n.inputs[0]!, n);
  const r = x.type.shape.length;
  const perm = attrInts(n, "perm") ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  return [V(im.transpose(x, perm))];
};

const concatH: Handler = (im, n) => {
  const entries = n.inputs.map((name) => im.entry(name, n));
  const first = im.typeOf(n.inputs[0]!, n);
  const axis = normAxis(attrInt(n, "axis", 0), first.shape.length, n);
  if (first.shape.length === 1 && entries.every((e) => e.kind === "known" && e.known.dtype === "int32")) {
    const data = entries.flatMap((e) => Array.from((e as { known: Known }).known.data as ArrayLike<number>));
    return [K({ dtype: "int32", shape: [data.length], data, origin: n.label })];
  }
  return [V(im.op1("concat", n.inputs.map((name) => im.val(name, n)), { axis }))];
};

/** ONNX Slice bounds for one axis, clamped as the spec says, in the form symtensor's slice takes. */
function sliceBounds(dim: number, start: number, end: number, step: number): [number, number] {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, 0), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  return [s, e];
}

const sliceH: Handler = (im, n) => {
  const xt = im.typeOf(n.inputs[0]!, n);
  const rank = xt.shape.length;
  const newStyle = input(n, 1) !== undefined;
  const starts = newStyle ? im.ints(n.inputs[1]!, n, "starts") : (attrInts(n, "starts") ?? []);
  const ends = newStyle ? im.ints(n.inputs[2]!, n, "ends") : (attrInts(n, "ends") ?? []);
  const axesIn = newStyle ? (input(n, 3) ? im.ints(n.inputs[3]!, n, "axes") : undefined) : attrInts(n, "axes");
  const steps = newStyle && input(n, 4) ? im.ints(n.inputs[4]!, n, "steps") : starts.map(() => 1);
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => normAxis(a, rank, n));
  const begin = xt.shape.map(() => 0);
  const end = [...xt.shape];
  const strides = xt.shape.map(() => 1);
  axes.forEach((a, i) => {
    const step = steps[i]!;
    if (step === 0) throw new ValueError(`importOnnx: ${n.label}: steps must be nonzero`);
    const [s, e] = sliceBounds(xt.shape[a]!, starts[i]!, ends[i]!, step);
    begin[a] = s;
    end[a] = e;
    strides[a] = step;
  });
  const x = im.entry(n.inputs[0]!, n);
  if (x.kind === "known" && rank === 1 && x.known.dtype === "int32") {
    const src = Array.from(x.known.data as ArrayLike<number>);
    const out: number[] = [];
    for (let i = begin[0]!; strides[0]! > 0 ? i < end[0]! : i > end[0]!; i += strides[0]!) out.push(src[i]!);
    return [K({ dtype: "int32", shape: [out.length], data: out, origin: n.label })];
  }
  return [V(im.op1("slice", [im.val(n.inputs[0]!, n)], { begin, end, strides }))];
};

const gatherH: Handler = (im, n) => {
  const xt = im.typeOf(n.inputs[0]!, n);
  const axis = normAxis(attrInt(n, "axis", 0), xt.shape.length, n);
  const x = im.entry(n.inputs[0]!, n);
  const idx = im.entry(n.inputs[1]!, n);
  if (x.kind === "known" && idx.kind === "known" && xt.shape.length === 1 && x.known.dtype === "int32") {
    const src = Array.from(x.known.data as ArrayLike<number>);
    const data = Array.from(idx.known.data as ArrayLike<number>, (i) => src[i < 0 ? i + src.length : i]!);
    if (data.some((v) => v === undefined)) throw new ValueError(`importOnnx: ${n.label}: index out of range`);
    return [K({ dtype: "int32", shape: idx.known.shape, data, origin: n.label })];
  }
  return [V(im.op1("gather", [im.val(n.inputs[0]!, n), im.castTo(im.val(n.inputs[1]!, n), "int32")], { axis }))];
};

const expandH: Handler = (im, n) => {
  const x = im.val(n.inputs[0]!, n);
  const target = broadcastShapes(x.type.shape, im.ints(n.inputs[1]!, n, "the shape"), `importOnnx: ${n.label}`);
  return [V(sameDims(target, x.type.shape) ? x : im.op1("broadcastTo", [x], { shape: target }))];
};

const tileH: Handler = (im, n) => {
  const x = im.val(n.inputs[0]!, n);
  const reps = im.ints(n.inputs[1]!, n, "the repeats");
  const dims = x.type.shape;
  // Tiling is broadcasting a [1, d0, 1, d1, ...] view to [r0, d0, r1, d1, ...], then merging pairs.
  const wide = im.op1("broadcastTo", [im.reshape(x, dims.flatMap((d) => [1, d]))], { shape: dims.flatMap((d, i) => [reps[i]!, d]) });
  return [V(im.reshape(wide, dims.map((d, i) => d * reps[i]!)))];
};

const splitH: Handler = (im, n) => {
  const x = im.val(n.inputs[0]!, n);
  const axis = normAxis(attrInt(n, "axis", 0), x.type.shape.length, n);
  const dim = x.type.shape[axis]!;
  let sizes = input(n, 1) ? im.ints(n.inputs[1]!, n, "split") : attrInts(n, "split");
  if (!sizes) {
    const k = attrInt(n, "num_outputs", n.outputs.length);
    const piece = Math.ceil(dim / k);
    sizes = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(piece, dim - i * piece)));
  }
  return im.op("split", [x], { axis, sizes }).map(V);
};

const whereH: Handler = (im, n) => {
  const c = im.castTo(im.val(n.inputs[0]!, n), "bool");
  const a = im.val(n.inputs[1]!, n);
  const b = im.castTo(im.val(n.inputs[2]!, n), a.type.dtype);
  return [V(im.op1("where", [c, a, b]))];
};

/** Axes of a reduction: the axes input (ReduceSum from opset 13, all from 18) or attribute. */
function reduceAxes(im: Importer, n: NodeInfo, rank: number): number[] | "none" {
  const list = input(n, 1) ? im.ints(n.inputs[1]!, n, "the axes") : attrInts(n, "axes");
  if (!list || list.length === 0) return attrInt(n, "noop_with_empty_axes", 0) === 1 ? "none" : Array.from({ length: rank }, (_, i) => i);
  return normAxes(list, rank, n);
}

function reduceH(op: string): Handler {
  return (im, n) => {
    const x = im.val(n.inputs[0]!, n);
    const axes = reduceAxes(im, n, x.type.shape.length);
    if (axes === "none") return [V(x)];
    const y = im.op1(op, [x], { axes, keepDims: attrInt(n, "keepdims", 1) === 1 });
    // ONNX keeps the input dtype (an integer mean truncates).
    return [V(im.castTo(y, x.type.dtype))];
  };
}

function argH(op: "argmax" | "argmin"): Handler {
  return (im, n) => {
    const x = im.val(n.inputs[0]!, n);
    const axis = normAxis(attrInt(n, "axis", 0), x.type.shape.length, n);
    return [V(im.op1(op, [x], { axis, keepDims: attrInt(n, "keepdims", 1) === 1 }))];
  };
}

const cumsumH: Handler = (im, n) => {
  const x = im.val(n.inputs[0]!, n);
  const axis = normAxis(im.ints(n.inputs[1]!, n, "the axis")[0]!, x.type.shape.length, n);
  const y = im.op1("cumsum", [x], { axis, exclusive: attrInt(n, "exclusive", 0) === 1, reverse: attrInt(n, "reverse", 0) === 1 });
  return [V(im.castTo(y, x.type.dtype))];
};

/** Softmax / LogSoftmax; before opset 13 they work on the input flattened to 2-D at `axis` (default 1). */
function softmaxH(log: boolean): Handler {
  return (im, n) => {
    const x = im.val(n.inputs[0]!, n);
    const rank = x.type.shape.length;
    const legacy = im.opset < 13;
    const axis = normAxis(attrInt(n, "axis", legacy ? 1 : -1), rank, n);
    let t = x;
    let ax = axis;
    if (legacy && axis !== rank - 1) {
      t = im.reshape(x, [sizeOf(x.type.shape.slice(0, axis)), sizeOf(x.type.shape.slice(axis))]);
      ax = 1;
    }
    const shifted = im.op1("sub", [t, im.op1("reduceMax", [t], { axes: [ax], keepDims: true })]);
    let y: Val;
    if (log) y = im.op1("sub", [shifted, im.op1("log", [im.op1("reduceSum", [im.op1("exp", [shifted])], { axes: [ax], keepDims: true })])]);
    else {
      const e = im.op1("exp", [shifted]);
      y = im.op1("div", [e, im.op1("reduceSum", [e], { axes: [ax], keepDims: true })]);
    }
    return [V(im.reshape(y, x.type.shape))];
  };
}

const geluH: Handler = (im, n) => {
  const approx = attrString(n, "approximate", "none");
  return [V(im.op1("gelu", [im.val(n.inputs[0]!, n)], { approximate: approx === "tanh" }))];
};

const layerNormH: Handler = (im, n) => {
  const x = im.val(n.inputs[0]!, n);
  const rank = x.type.shape.length;
  const axis = normAxis(attrInt(n, "axis", -1), rank, n);
  const eps = attrFloat(n, "epsilon", 1e-5);
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  const mean = im.op1("reduceMean", [x], { axes, keepDims: true });
  const d = im.op1("sub", [x, mean]);
  const variance = im.op1("reduceMean", [im.op1("mul", [d, d])], { axes, keepDims: true });
  const invStd = im.op1("rsqrt", [im.op1("add", [variance, im.scalar(eps, x.type.dtype)])]);
  let y = im.op1("mul", [d, invStd]);
  y = im.binary("mul", y, im.val(n.inputs[1]!, n));
  if (input(n, 2)) y = im.binary("add", y, im.val(n.inputs[2]!, n));
  return [V(y), V(mean), V(invStd)];
};

const gemmH: Handler = (im, n) => {
  let a = im.val(n.inputs[0]!, n);
  let b = im.val(n.inputs[1]!, n);
  if (attrInt(n, "transA", 0)) a = im.transpose(a, [1, 0]);
  if (attrInt(n, "transB", 0)) b = im.transpose(b, [1, 0]);
  let y = im.op1("matmul", [a, b]);
  const alpha = attrFloat(n, "alpha", 1);
  const beta = attrFloat(n, "beta", 1);
  if (alpha !== 1) y = im.op1("mul", [y, im.scalar(alpha, y.type.dtype)]);
  if (input(n, 2)) {
    let c = im.castTo(im.val(n.inputs[2]!, n), y.type.dtype);
    if (beta !== 1) c = im.op1("mul", [c, im.scalar(beta, c.type.dtype)]);
    y = im.op1("add", [y, c]);
  }
  return [V(y)];
};

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];

interface Window {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pads: readonly [number, number, number, number];
}

/** TensorFlow "same" padding for one axis: [before, after] (the odd cell goes after, as SAME_UPPER). */
function samePads(size: number, k: number, s: number, d: number): [number, number] {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + (k - 1) * d + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function windowOf(n: NodeInfo, h: number, w: number, kernel: readonly number[]): Window {
  const pair = (v: number[] | undefined, d: number): [number, number] => [v?.[0] ?? d, v?.[1] ?? d];
  const strides = pair(attrInts(n, "strides"), 1);
  const dilations = pair(attrInts(n, "dilations"), 1);
  const k: [number, number] = [kernel[0]!, kernel[1]!];
  const autoPad = attrString(n, "auto_pad", "NOTSET");
  let pads: [number, number, number, number];
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    const ph = samePads(h, k[0], strides[0], dilations[0]);
    const pw = samePads(w, k[1], strides[1], dilations[1]);
    pads = autoPad === "SAME_UPPER" ? [ph[0], pw[0], ph[1], pw[1]] : [ph[1], pw[1], ph[0], pw[0]];
  } else if (autoPad === "VALID") pads = [0, 0, 0, 0];
  else {
    const p = attrInts(n, "pads") ?? [0, 0, 0, 0];
    pads = [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0, p[3] ?? 0];
  }
  return { kernel: k, strides, dilations, pads };
}

/** "valid" or "same" when the pads are exactly that rule's, else undefined. */
function namedPadding(win: Window, h: number, w: number): "valid" | "same" | undefined {
  if (win.pads.every((p) => p === 0)) return "valid";
  const ph = samePads(h, win.kernel[0], win.strides[0], win.dilations[0]);
  const pw = samePads(w, win.kernel[1], win.strides[1], win.dilations[1]);
  const [t, l, b, r] = win.pads;
  return t === ph[0] && b === ph[1] && l === pw[0] && r === pw[1] ? "same" : undefined;
}

function checkImage(im: Importer, n: NodeInfo, x: Val): void {
  if (x.type.shape.length !== 4) {
    throw new UnsupportedOnnxOpError("import", [`${n.opType} (rank ${x.type.shape.length} input)`], `${n.label}: symtensor imports 2-D windows over NCHW inputs only, got ${formatType(x.type)}`);
  }
  void im;
}

const convH: Handler = (im, n) => {
  const x = im.val(n.inputs[0]!, n);
  const f = im.val(n.inputs[1]!, n);
  checkImage(im, n, x);
  const [, , h, w] = x.type.shape as unknown as [number, number, number, number];
  const win = windowOf(n, h, w, attrInts(n, "kernel_shape") ?? f.type.shape.slice(2));
  const [t, l, b, r] = win.pads;
  const padding = namedPadding(win, h, w) ?? [
    [t, b],
    [l, r],
  ];
  const xn = im.transpose(x, NCHW_TO_NHWC);
  const filter = im.transpose(f, [2, 3, 1, 0]); // OIHW -> HWIO
  let y = im.op1("conv2d", [xn, filter], { strides: [...win.strides], dilations: [...win.dilations], padding });
  if (input(n, 2)) y = im.binary("add", y, im.val(n.inputs[2]!, n)); // bias on the channel axis, last in NHWC
  return [V(im.transpose(y, NHWC_TO_NCHW))];
};

function poolH(kind: "max" | "avg"): Handler {
  return (im, n) => {
    let x = im.val(n.inputs[0]!, n);
    checkImage(im, n, x);
    const [, c, h, w] = x.type.shape as unknown as [number, number, number, number];
    const win = windowOf(n, h, w, attrInts(n, "kernel_shape") ?? []);
    const op = kind === "max" ? "maxPool2d" : "avgPool2d";
    const attrsFor = (padding: "valid" | "same"): Attrs => ({ windowShape: [...win.kernel], strides: [...win.strides], padding });
    const [t, l, b, r] = win.pads;
    const paddings = [
      [0, 0],
      [t, b],
      [l, r],
      [0, 0],
    ];
    // ceil_mode only matters when it changes the output size.
    const outSize = (size: number, k: number, s: number, p0: number, p1: number, ceil: boolean): number => (ceil ? Math.ceil : Math.floor)((size + p0 + p1 - k) / s) + 1;
    if (attrInt(n, "ceil_mode", 0) === 1) {
      const differs = outSize(h, win.kernel[0], win.strides[0], t, b, true) !== outSize(h, win.kernel[0], win.strides[0], t, b, false) || outSize(w, win.kernel[1], win.strides[1], l, r, true) !== outSize(w, win.kernel[1], win.strides[1], l, r, false);
      if (differs) throw new UnsupportedOnnxOpError("import", [`${n.opType} (ceil_mode=1)`], `${n.label}: ceil_mode=1 changes the output size here; symtensor pools floor`);
    }
    x = im.transpose(x, NCHW_TO_NHWC);
    const named = namedPadding(win, h, w);
    const countPad = kind === "avg" && attrInt(n, "count_include_pad", 0) === 1 && named !== "valid";
    let y: Val;
    if (named && !countPad) y = im.op1(op, [x], attrsFor(named));
    else if (kind === "max") {
      const low = isFloat(x.type.dtype) ? -Infinity : x.type.dtype === "int32" ? INT32_MIN : 0;
      y = im.op1(op, [im.op1("pad", [x, im.scalar(low, x.type.dtype)], { paddings })], attrsFor("valid"));
    } else {
      const sum = im.op1(op, [im.op1("pad", [x, im.scalar(0, x.type.dtype)], { paddings })], attrsFor("valid"));
      if (countPad) y = sum;
      else {
        // The mean over real cells: divide by the share of each window that is not padding.
        const ones = im.constant({ dtype: x.type.dtype, shape: [1, h, w, 1], data: allocate(x.type.dtype, h * w).fill(1), origin: n.label });
        const share = im.op1(op, [im.op1("pad", [ones, im.scalar(0, x.type.dtype)], { paddings })], attrsFor("valid"));
        y = im.op1("div", [sum, share]);
      }
    }
    void c;
    return [V(im.transpose(y, NHWC_TO_NCHW))];
  };
}

function globalPoolH(op: "reduceMean" | "reduceMax"): Handler {
  return (im, n) => {
    const x = im.val(n.inputs[0]!, n);
    const axes = Array.from({ length: x.type.shape.length - 2 }, (_, i) => i + 2);
    return [V(im.op1(op, [x], { axes, keepDims: true }))];
  };
}

const batchNormH: Handler = (im, n) => {
  const x = im.val(n.inputs[0]!, n);
  const rank = x.type.shape.length;
  const c = x.type.shape[1] ?? 1;
  const pshape = [c, ...new Array<number>(Math.max(0, rank - 2)).fill(1)];
  const p = (i: number): Val => im.reshape(im.castTo(im.val(n.inputs[i]!, n), x.type.dtype), pshape);
  const eps = attrFloat(n, "epsilon", 1e-5);
  const [scale, bias, mean, variance] = [p(1), p(2), p(3), p(4)];
  // y = (x - mean) * scale / sqrt(var + eps) + bias; the parameter arithmetic folds to constants.
  const k = im.op1("mul", [scale, im.op1("rsqrt", [im.op1("add", [variance, im.scalar(eps, x.type.dtype)])])]);
  const y = im.op1("add", [im.op1("mul", [im.op1("sub", [x, mean]), k]), bias]);
  return [V(y)];
};

const clipH: Handler = (im, n) => {
  let x = im.val(n.inputs[0]!, n);
  const lo = input(n, 1) ? im.val(n.inputs[1]!, n) : n.attrs.has("min") ? im.scalar(attrFloat(n, "min", 0), x.type.dtype) : undefined;
  const hi = input(n, 2) ? im.val(n.inputs[2]!, n) : n.attrs.has("max") ? im.scalar(attrFloat(n, "max", 0), x.type.dtype) : undefined;
  if (lo) x = im.binary("maximum", x, lo);
  if (hi) x = im.binary("minimum", x, hi);
  return [V(x)];
};

const leakyReluH: Handler = (im, n) => {
  const x = im.val(n.inputs[0]!, n);
  const alpha = im.scalar(attrFloat(n, "alpha", 0.01), x.type.dtype);
  const neg = im.op1("less", [x, im.scalar(0, x.type.dtype)]);
  return [V(im.op1("where", [neg, im.op1("mul", [x, alpha]), x]))];
};

const isInfH: Handler = (im, n) => {
  const x = im.val(n.inputs[0]!, n);
  let inf = im.op1("logicalAnd", [im.op1("logicalNot", [im.op1("isFinite", [x])]), im.op1("logicalNot", [im.op1("isNaN", [x])])]);
  const zero = im.scalar(0, x.type.dtype);
  if (attrInt(n, "detect_negative", 1) === 0) inf = im.op1("logicalAnd", [inf, im.op1("greater", [x, zero])]);
  if (attrInt(n, "detect_positive", 1) === 0) inf = im.op1("logicalAnd", [inf, im.op1("less", [x, zero])]);
  return [V(inf)];
};

const rangeH: Handler = (im, n) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => im.known(n.inputs[i]!, n, "the range bounds").data[0] as number);
  const count = Math.max(Math.ceil((limit! - start!) / delta!), 0);
  const dtype = im.typeOf(n.inputs[0]!, n).dtype;
  const values = Array.from({ length: count }, (_, i) => start! + i * delta!);
  const data = dtype === "int32" ? values : allocate(dtype, count);
  if (dtype !== "int32") values.forEach((v, i) => ((data as TypedArray)[i] = v));
  return [K({ dtype, shape: [count], data, origin: n.label })];
};

const constantOfShapeH: Handler = (im, n) => {
  const shape = im.ints(n.inputs[0]!, n, "the shape");
  const t = n.attrs.get("value")?.t;
  const v = t ? readTensor(t, `${n.label} value`) : { dtype: "float32" as DType, data: [0] };
  const fill = Number((v.data as ArrayLike<number>)[0] ?? 0);
  const size = sizeOf(shape);
  if (v.dtype === "int32") return [K({ dtype: "int32", shape, data: new Array<number>(size).fill(fill), origin: n.label })];
  return [K({ dtype: v.dtype, shape, data: allocate(v.dtype, size).fill(fill), origin: n.label })];
};

const notH: Handler = (im, n) => [V(im.op1("logicalNot", [im.val(n.inputs[0]!, n)]))];

const HANDLERS: Record<string, Handler> = {
  Identity: identityH,
  Dropout: identityH,
  Constant: constantH,
  Shape: shapeH,
  Cast: castH,
  Add: arith("add", (a, b) => a + b),
  Sub: arith("sub", (a, b) => a - b),
  Mul: arith("mul", (a, b) => a * b),
  Div: divH,
  Pow: binaryH("pow"),
  Max: variadic("maximum"),
  Min: variadic("minimum"),
  Sum: variadic("add"),
  And: binaryH("logicalAnd"),
  Or: binaryH("logicalOr"),
  Xor: binaryH("logicalXor"),
  Not: notH,
  Equal: binaryH("equal"),
  Less: binaryH("less"),
  LessOrEqual: binaryH("lessEqual"),
  Greater: binaryH("greater"),
  GreaterOrEqual: binaryH("greaterEqual"),
  Where: whereH,
  Relu: unary("relu"),
  LeakyRelu: leakyReluH,
  Neg: unary("neg"),
  Abs: unary("abs"),
  Sign: unary("sign"),
  Exp: unary("exp"),
  Log: unary("log"),
  Sqrt: unary("sqrt"),
  Reciprocal: unary("reciprocal"),
  Sin: unary("sin"),
  Cos: unary("cos"),
  Tan: unary("tan"),
  Asin: unary("asin"),
  Acos: unary("acos"),
  Atan: unary("atan"),
  Sinh: unary("sinh"),
  Cosh: unary("cosh"),
  Tanh: unary("tanh"),
  Sigmoid: unary("sigmoid"),
  Erf: unary("erf"),
  Floor: unary("floor"),
  Ceil: unary("ceil"),
  Round: unary("round"),
  IsNaN: unary("isNaN"),
  IsInf: isInfH,
  Clip: clipH,
  Gelu: geluH,
  Softmax: softmaxH(false),
  LogSoftmax: softmaxH(true),
  LayerNormalization: layerNormH,
  Gemm: gemmH,
  MatMul: (im, n) => [V(im.op1("matmul", [im.val(n.inputs[0]!, n), im.val(n.inputs[1]!, n)]))],
  Conv: convH,
  MaxPool: poolH("max"),
  AveragePool: poolH("avg"),
  GlobalAveragePool: globalPoolH("reduceMean"),
  GlobalMaxPool: globalPoolH("reduceMax"),
  BatchNormalization: batchNormH,
  Reshape: reshapeH,
  Transpose: transposeH,
  Flatten: flattenH,
  Squeeze: squeezeLike("Squeeze"),
  Unsqueeze: squeezeLike("Unsqueeze"),
  Concat: concatH,
  Slice: sliceH,
  Gather: gatherH,
  Expand: expandH,
  Tile: tileH,
  Split: splitH,
  ReduceMean: reduceH("reduceMean"),
  ReduceSum: reduceH("reduceSum"),
  ReduceMax: reduceH("reduceMax"),
  ReduceMin: reduceH("reduceMin"),
  ReduceProd: reduceH("reduceProd"),
  ArgMax: argH("argmax"),
  ArgMin: argH("argmin"),
  CumSum: cumsumH,
  Range: rangeH,
  ConstantOfShape: constantOfShapeH,
};

/** The ONNX ops symtensor imports, for documentation and tests. */
export function importableOps(): string[] {
  return Object.keys(HANDLERS).sort();
}

/** Attribute values that rule a node out even though its op is known; checked before building. */
function attributeProblem(n: NodeInfo): string | undefined {
  switch (n.opType) {
    case "Conv":
      if (attrInt(n, "group", 1) !== 1) return `Conv (group=${attrInt(n, "group", 1)})`;
      if ((attrInts(n, "kernel_shape")?.length ?? 2) !== 2) return "Conv (non-2-D kernel)";
      return undefined;
    case "MaxPool":
    case "AveragePool":
      if ((attrInts(n, "dilations") ?? []).some((d) => d !== 1)) return `${n.opType} (dilations)`;
      if ((attrInts(n, "kernel_shape")?.length ?? 2) !== 2) return `${n.opType} (non-2-D kernel)`;
      if (n.outputs.length > 1 && n.outputs[1]) return `${n.opType} (Indices output)`;
      return undefined;
    case "ArgMax":
    case "ArgMin":
      return attrInt(n, "select_last_index", 0) === 1 ? `${n.opType} (select_last_index=1)` : undefined;
    case "BatchNormalization":
      return attrInt(n, "training_mode", 0) === 1 || n.outputs.filter(Boolean).length > 1 ? "BatchNormalization (training mode)" : undefined;
    case "Dropout":
      return n.outputs.length > 1 && n.outputs[1] ? "Dropout (mask output)" : undefined;
    case "Split":
      return undefined;
    default:
      return undefined;
  }
}

function nodeInfo(p: NodeProtoObj, i: number): NodeInfo {
  const opType = p.op_type ?? "";
  const attrs = new Map<string, AttributeProtoObj>();
  for (const a of p.attribute ?? []) if (a.name) attrs.set(a.name, a);
  return { opType, label: `node ${i} "${p.name || opType}" (${opType})`, inputs: p.input ?? [], outputs: p.output ?? [], attrs };
}

function inputType(vi: ValueInfoProtoObj, options: ImportOptions): TensorType {
  const name = vi.name ?? "";
  const tt = vi.type?.tensor_type;
  if (!tt) throw new DTypeError(`importOnnx: input "${name}" is not a tensor (sequences, maps and optionals are not supported)`);
  const dtype = dtypeOf(tt.elem_type, `input "${name}"`);
  const given = options.inputShapes?.[name];
  if (given) return { dtype, shape: [...given] };
  if (!tt.shape) throw new ValueError(`importOnnx: input "${name}" has no shape; pass it in options.inputShapes`);
  const shape = (tt.shape.dim ?? []).map((d) => {
    if (d.dim_value === undefined || d.dim_param) throw new ValueError(`importOnnx: input "${name}" has a symbolic dimension "${d.dim_param ?? "?"}"; symtensor graphs have static shapes: pass importOnnx(bytes, { inputShapes: { "${name}": [...] } })`);
    return toNum(d.dim_value);
  });
  return { dtype, shape };
}

/** Names that cannot collide with the builder's own (%0, %c0...). */
function paramName(onnxName: string): string {
  return /^c?\d+$/.test(onnxName) ? `%input_${onnxName}` : `%${onnxName}`;
}

/** Decodes ONNX bytes and builds the IR graph. */
export function importModel(bytes: Uint8Array, options: ImportOptions = {}): Graph {
  const model = decodeModelProto(bytes);
  const g: GraphProtoObj | undefined = model.graph;
  if (!g) throw new FormatError("importOnnx: the model has no graph");
  const opsetEntry = (model.opset_import ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  const opset = opsetEntry ? toNum(opsetEntry.version) : 1;
  const nodes = (g.node ?? []).map(nodeInfo);

  // Every unsupported op, reported at once before anything is built.
  const unsupported = new Map<string, number>();
  (g.node ?? []).forEach((p, i) => {
    const n = nodes[i]!;
    const domain = p.domain ?? "";
    const key = domain && domain !== "ai.onnx" ? `${domain}.${n.opType}` : !(n.opType in HANDLERS) ? n.opType : attributeProblem(n);
    if (key) unsupported.set(key, (unsupported.get(key) ?? 0) + 1);
  });
  if (unsupported.size > 0) {
    const ops = [...unsupported].map(([op, k]) => (k > 1 ? `${op} (${k} nodes)` : op));
    throw new UnsupportedOnnxOpError("import", ops, `symtensor imports ${importableOps().join(", ")} (see docs/interop.md#onnx)`);
  }

  const im = new Importer(options.name ?? (g.name || "model"), opset);
  const initNames = new Set<string>();
  for (const [i, t] of (g.initializer ?? []).entries()) {
    const name = t.name ?? `initializer ${i}`;
    initNames.add(name);
    im.env.set(name, K(readTensor(t, `initializer "${name}"`)));
  }
  // Inputs that are also initializers (IR < 4 models) are defaults, not real inputs.
  for (const vi of g.input ?? []) {
    const name = vi.name ?? "";
    if (initNames.has(name)) continue;
    const p = im.b.addParam(paramName(name), inputType(vi, options));
    im.env.set(name, V(p));
  }
  for (const n of nodes) {
    let outs: Entry[];
    try {
      outs = HANDLERS[n.opType]!(im, n);
    } catch (e) {
      if (e instanceof SymtensorError && !e.message.startsWith("importOnnx")) e.message = `importOnnx: ${n.label}: ${e.message}`;
      throw e;
    }
    n.outputs.forEach((name, i) => {
      if (name && outs[i]) im.env.set(name, outs[i]);
    });
  }
  const results = (g.output ?? []).map((vi) => {
    const name = vi.name ?? "";
    const e = im.env.get(name);
    if (!e) throw new FormatError(`importOnnx: output "${name}" is not computed by any node`);
    return e.kind === "value" ? e.val.name : (e.materialized ??= im.constant(e.known)).name;
  });
  return im.b.build(results);
}
