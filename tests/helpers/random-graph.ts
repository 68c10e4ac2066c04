/**
 * Random well-typed IR graphs for property tests (print/parse round trips, later pass pipelines).
 *
 * fast-check draws a "tape" of natural numbers and the graph is built from it deterministically:
 * every choice (how many params, which op, which operand, which axes...) reads the next number,
 * and an exhausted tape reads 0, the simplest choice. Shrinking the tape shrinks the graph.
 *
 * Result types always come from the op's own `infer`; a candidate whose rule throws is skipped, so
 * every node is well typed and `verify` accepts the graph. With `regions: true` the graph also gets
 * nodes of made-up ops ("fused" with one or two regions, "sink" with no results) and random
 * attribute data: such graphs exercise the printer and parser but do not verify.
 */
import fc from "fast-check";
import { DTYPES, type DType, dtypeInfo, type TypedArray } from "../../src/ir/dtype.js";
import type { Constant, Graph, Node, Region, SourceLoc, Value } from "../../src/ir/graph.js";
import "../../src/ir/ops/index.js";
import { type AttrValue, type Attrs, getOp } from "../../src/ir/registry.js";
import type { TensorType } from "../../src/ir/types.js";

export interface RandomGraphOptions {
  /** Most nodes in the graph (default 8). */
  readonly maxNodes?: number;
  /** Add made-up ops with regions, zero-result nodes and arbitrary attributes (does not verify). */
  readonly regions?: boolean;
}

/** An Arbitrary of random well-typed graphs built from registry ops. */
export function randomGraph(f: typeof fc = fc, options: RandomGraphOptions = {}): fc.Arbitrary<Graph> {
  return f
    .array(f.nat(), { maxLength: 400, size: "max" })
    .map((tape) => buildGraph(new Tape(tape), options));
}

/** Reads choices off the tape; past its end every choice is 0. */
export class Tape {
  private i = 0;
  constructor(private readonly xs: readonly number[]) {}
  nat(): number {
    return this.xs[this.i++] ?? 0;
  }
  /** 0..n-1 */
  int(n: number): number {
    return n <= 0 ? 0 : this.nat() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(percent: number): boolean {
    return this.int(100) < percent;
  }
}

const UNARY = ["neg", "abs", "sign", "square", "relu", "exp", "log", "sqrt", "tanh", "sigmoid", "floor", "round", "logicalNot", "isNaN", "isFinite", "gelu"];
const BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "mod", "floorDiv", "atan2", "equal", "less", "greaterEqual", "logicalAnd", "logicalXor"];
const REDUCE = ["reduceSum", "reduceProd", "reduceMean", "reduceMax", "reduceMin", "reduceAny", "reduceAll", "logSumExp"];
const FILES = ["model.ts", "examples/mlp.ts", "src/a b/c.ts", 'q"uote\\d.ts', "ünïcode.ts"];
const LABELS = ["h", "layer 1", 'say "hi"\n', "tab\there", ""];

const F32_SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 0.1, 1e-30, 3.4028234663852886e38, 1.401298464324817e-45, 1 / 3, 16777217, 2.5];
const F64_SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 0.1, 1e-300, 1.7976931348623157e308, 5e-324, 1 / 3, 2 ** 53 + 2, 123456.789];

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function randomShape(t: Tape, maxRank = 3): number[] {
  const rank = t.int(maxRank + 1);
  return Array.from({ length: rank }, () => t.pick([1, 2, 3, 4, 2, 3, 0, 1]));
}

function randomType(t: Tape): TensorType {
  if (t.chance(8)) return { dtype: "int32", shape: [2] }; // a random key, for randomSplit
  return { dtype: t.pick(DTYPES), shape: randomShape(t) };
}

function randomElement(t: Tape, dtype: DType): number {
  switch (dtype) {
    case "bool":
      return t.int(2);
    case "uint8":
      return t.int(256);
    case "int32":
      return t.chance(50) ? t.nat() : -t.nat() - 1;
    case "float32": {
      if (t.chance(40)) return t.pick(F32_SPECIAL);
      const bits = new Uint32Array([t.nat() * 2 + t.int(2)]);
      return new Float32Array(bits.buffer)[0]!;
    }
    case "float64": {
      if (t.chance(40)) return t.pick(F64_SPECIAL);
      const bits = new Uint32Array([t.nat() * 2 + t.int(2), t.nat() * 2 + t.int(2)]);
      return new Float64Array(bits.buffer)[0]!;
    }
  }
}

function randomConstant(t: Tape, index: number): Constant {
  const dtype = t.pick(DTYPES);
  let shape: number[];
  if (t.chance(35)) {
    // large enough to be printed as a blob
    shape = t.chance(50) ? [17 + t.int(20)] : [3 + t.int(4), 6 + t.int(4)];
  } else {
    shape = Array.from({ length: t.int(4) }, () => t.pick([1, 2, 0, 2, 1]));
  }
  const data: TypedArray = new (dtypeInfo(dtype).array)(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = randomElement(t, dtype);
  return { name: `%c${index}`, type: { dtype, shape }, data };
}

function randomLoc(t: Tape): SourceLoc | undefined {
  if (!t.chance(40)) return undefined;
  return { file: t.pick(FILES), line: 1 + t.int(500), col: 1 + t.int(80) };
}

function subset(t: Tape, rank: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < rank; d++) if (t.chance(50)) out.push(d);
  return out;
}

function permutation(t: Tape, rank: number): number[] {
  const p = Array.from({ length: rank }, (_, i) => i);
  for (let i = rank - 1; i > 0; i--) {
    const j = t.int(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** A shape with the same element count, for reshape. */
function reshapeTarget(t: Tape, shape: readonly number[]): number[] {
  const n = sizeOf(shape);
  const options: number[][] = [[n], [1, n], [n, 1]];
  if (n === 1) options.push([], [1, 1, 1]);
  if (n === 0) options.push([0, 3], [2, 0]);
  for (const d of [2, 3]) if (n > 0 && n % d === 0) options.push([d, n / d], [n / d, 1, d]);
  return t.pick(options);
}

/** Split sizes: a random partition of n into 1..3 parts (zeros allowed). */
function partition(t: Tape, n: number): number[] {
  const parts = 1 + t.int(3);
  const sizes: number[] = [];
  let left = n;
  for (let i = 0; i < parts - 1; i++) {
    const s = t.int(left + 1);
    sizes.push(s);
    left -= s;
  }
  sizes.push(left);
  return sizes;
}

function sliceAttrs(t: Tape, shape: readonly number[]): Attrs {
  const begin: number[] = [];
  const end: number[] = [];
  const strides: number[] = [];
  for (const n of shape) {
    const s = t.pick([1, 1, 2, -1]);
    if (n === 0) {
      begin.push(0);
      end.push(0);
    } else if (s > 0) {
      const b = t.int(n + 1);
      begin.push(b);
      end.push(b + t.int(n - b + 1));
    } else {
      const b = t.int(n);
      begin.push(b);
      end.push(-1 + t.int(b + 2));
    }
    strides.push(s);
  }
  return { begin, end, strides };
}

interface Candidate {
  readonly op: string;
  readonly operands: readonly Value[];
  readonly attrs: Attrs;
}

/** Proposes one node over the values in scope; `undefined` when the draw does not fit. */
function candidate(t: Tape, pool: readonly Value[]): Candidate | undefined {
  if (pool.length === 0) return undefined;
  const x = t.pick(pool);
  const rank = x.type.shape.length;
  const sameDType = pool.filter((v) => v.type.dtype === x.type.dtype);
  switch (t.int(17)) {
    case 0:
    case 1:
      return { op: t.pick(UNARY), operands: [x], attrs: {} };
    case 2:
    case 3:
      return { op: t.pick(BINARY), operands: [x, t.chance(30) ? x : t.pick(sameDType)], attrs: {} };
    case 4:
      return { op: "cast", operands: [x], attrs: { dtype: t.pick(DTYPES) } };
    case 5:
      return { op: t.pick(REDUCE), operands: [x], attrs: { axes: subset(t, rank), keepDims: t.chance(50) } };
    case 6: {
      const axis = rank > 0 && t.chance(70) ? t.int(rank) : null;
      return { op: t.pick(["argmax", "argmin"]), operands: [x], attrs: { axis, keepDims: t.chance(50) } };
    }
    case 7: {
      const axis = rank > 0 && t.chance(70) ? t.int(rank) : null;
      return { op: t.pick(["cumsum", "cumprod"]), operands: [x], attrs: { axis, exclusive: t.chance(50), reverse: t.chance(50) } };
    }
    case 8:
      return { op: "reshape", operands: [x], attrs: { shape: reshapeTarget(t, x.type.shape) } };
    case 9:
      return { op: "transpose", operands: [x], attrs: { perm: permutation(t, rank) } };
    case 10: {
      if (rank === 0) return undefined;
      const axis = t.int(rank);
      return { op: "split", operands: [x], attrs: { axis, sizes: partition(t, x.type.shape[axis]!) } };
    }
    case 11:
      return rank === 0 ? undefined : { op: "concat", operands: t.chance(50) ? [x, x] : [x, x, x], attrs: { axis: t.int(rank) } };
    case 12: {
      const conds = pool.filter((v) => v.type.dtype === "bool");
      return conds.length ? { op: "where", operands: [t.pick(conds), x, t.pick(sameDType)], attrs: {} } : undefined;
    }
    case 13:
      return { op: t.pick(["matmul", "dot"]), operands: [x, t.pick(sameDType)], attrs: {} };
    case 14:
      return t.chance(50)
        ? { op: "broadcastTo", operands: [x], attrs: { shape: [t.pick([1, 2, 3]), ...x.type.shape] } }
        : { op: "flip", operands: [x], attrs: { axes: subset(t, rank) } };
    case 15:
      return t.chance(50)
        ? { op: "slice", operands: [x], attrs: sliceAttrs(t, x.type.shape) }
        : { op: "debugPrint", operands: [x], attrs: { label: t.pick(LABELS) } };
    default: {
      const keys = pool.filter((v) => v.type.dtype === "int32" && v.type.shape.length === 1 && v.type.shape[0] === 2);
      if (keys.length) return { op: "randomSplit", operands: [t.pick(keys)], attrs: { n: t.int(4) } };
      const fills = sameDType.filter((v) => v.type.shape.length === 0);
      if (fills.length) {
        return { op: "pad", operands: [x, t.pick(fills)], attrs: { paddings: x.type.shape.map(() => [t.int(3), t.int(3)]) } };
      }
      return undefined;
    }
  }
}

/** Names results `%0, %1, ...` (or a region's own prefix), like GraphBuilder. */
class Namer {
  private next = 0;
  constructor(private readonly prefix: string) {}
  name(): string {
    return `${this.prefix}${this.next++}`;
  }
}

function typedNode(t: Tape, pool: Value[], namer: Namer): Node | undefined {
  for (let attempt = 0; attempt < 4; attempt++) {
    const c = candidate(t, pool);
    if (!c) continue;
    let types: TensorType[];
    try {
      types = getOp(c.op).infer(c.operands.map((v) => v.type), c.attrs);
    } catch {
      continue; // the draw does not fit the op's rule
    }
    if (types.some((ty) => sizeOf(ty.shape) > 4096)) continue;
    const results = types.map((type) => ({ name: namer.name(), type }));
    const loc = randomLoc(t);
    return { op: c.op, operands: c.operands.map((v) => v.name), results, attrs: c.attrs, ...(loc ? { loc } : {}) };
  }
  return undefined;
}

// ---- made-up ops for text-only tests ------------------------------------------------------------

const WEIRD_KEYS = ["a", "keepDims", "with space", "const", "inf", "__proto__", "x.y", "é", ""];
const WEIRD_STRINGS = ["", "plain", 'q"uote', "back\\slash", "new\nline", "\u0001", "emoji 🎉", "\u2028"];
const WEIRD_NUMBERS = [0, -0, 1, -1, 0.5, 1e-7, 1e21, -1.5e300, 5e-324, 123456789012, 0.1 + 0.2];

function randomAttr(t: Tape, depth: number): AttrValue {
  switch (t.int(depth > 2 ? 4 : 6)) {
    case 0:
      return t.pick(WEIRD_NUMBERS);
    case 1:
      return t.pick(WEIRD_STRINGS);
    case 2:
      return t.pick([true, false, null]);
    case 3:
      return t.int(100) - 50;
    case 4:
      return Array.from({ length: t.int(4) }, () => randomAttr(t, depth + 1));
    default:
      return randomAttrs(t, depth + 1);
  }
}

function randomAttrs(t: Tape, depth: number): Attrs {
  const out: { [k: string]: AttrValue } = {};
  const n = t.int(4);
  for (let i = 0; i < n; i++) {
    Object.defineProperty(out, t.pick(WEIRD_KEYS), { value: randomAttr(t, depth), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function randomRegion(t: Tape, operands: readonly Value[], constants: readonly Value[], id: number, k: number): Region {
  const params = operands.map((v, i) => ({ name: `%f${id}.${k}.p${i}`, type: v.type }));
  const pool: Value[] = [...params, ...constants];
  const namer = new Namer(`%f${id}.${k}.`);
  const nodes: Node[] = [];
  for (let i = t.int(4); i > 0; i--) {
    const n = typedNode(t, pool, namer);
    if (n) {
      nodes.push(n);
      pool.push(...n.results);
    }
  }
  const produced = nodes.flatMap((n) => n.results);
  const results = produced.length ? [produced[produced.length - 1]!.name] : params.slice(0, 1).map((p) => p.name);
  return { params, nodes, results };
}

function madeUpNode(t: Tape, pool: Value[], constants: readonly Value[], namer: Namer, id: number): Node {
  const operands = Array.from({ length: t.int(3) }, () => t.pick(pool));
  const loc = randomLoc(t);
  if (t.chance(30)) {
    // an op with no results: prints without `=` and types
    return { op: t.pick(["sink", "return", "weird op"]), operands: operands.map((v) => v.name), results: [], attrs: randomAttrs(t, 0), ...(loc ? { loc } : {}) };
  }
  const regions = Array.from({ length: 1 + t.int(2) }, (_, k) => randomRegion(t, operands, constants, id, k));
  const types = new Map<string, TensorType>([...pool, ...regions.flatMap((r) => [...r.params, ...r.nodes.flatMap((n) => n.results)])].map((v) => [v.name, v.type]));
  const results = regions[0]!.results.map((r) => ({ name: namer.name(), type: types.get(r) ?? { dtype: "float32" as DType, shape: [] } }));
  return { op: "fused", operands: operands.map((v) => v.name), results, attrs: randomAttrs(t, 0), regions, ...(loc ? { loc } : {}) };
}

// ---- the graph --------------------------------------------------------------------------------

const PARAM_NAMES = [(i: number) => `%arg${i}`, (i: number) => `%arg${i}.w`, (i: number) => `%arg${i}.layers.0.b`, (i: number) => `%arg${i}.$k_1`];

export function buildGraph(t: Tape, options: RandomGraphOptions = {}): Graph {
  const name = t.pick(["f", "predict", "main.step", "loss_fn-2", "$g"]);
  const params: Value[] = Array.from({ length: t.int(5) }, (_, i) => ({ name: t.pick(PARAM_NAMES)(i), type: randomType(t) }));
  const constants = Array.from({ length: t.int(4) }, (_, i) => randomConstant(t, i));
  const constValues: Value[] = constants.map((c) => ({ name: c.name, type: c.type }));
  const pool: Value[] = [...params, ...constValues];
  const namer = new Namer("%");
  const nodes: Node[] = [];
  const produced: Value[] = [];
  const count = t.int((options.maxNodes ?? 8) + 1);
  for (let i = 0; i < count; i++) {
    const node = options.regions && pool.length > 0 && t.chance(20) ? madeUpNode(t, pool, constValues, namer, i) : typedNode(t, pool, namer);
    if (!node) continue;
    nodes.push(node);
    pool.push(...node.results);
    produced.push(...node.results);
  }
  const candidates = produced.length ? produced : pool;
  const results: string[] = [];
  for (let i = t.int(4); i > 0 && candidates.length > 0; i--) {
    const v = t.pick(candidates).name;
    if (!results.includes(v)) results.push(v);
  }
  return { name, params, constants, nodes, results };
}
