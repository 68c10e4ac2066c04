/**
 * Generated CPU kernels for fused nodes (and for single elementwise, reduction and matmul nodes,
 * which compile as one-op bodies). A kernel is one JavaScript function made with `new Function`,
 * specialized to static shapes: loops and strides are numeric literals, body ops are inlined from
 * the registry's scalar templates, and intermediates are local constants.
 *
 * Bit-identical to running the ops one by one: every body value is rounded to its dtype before the
 * next op reads it (Math.fround for float32, `| 0` for int32, `& 255` for uint8 and bool, exactly
 * what a store into that typed array does), and reductions accumulate in the same order and with
 * the same float64/int32 arithmetic as the library kernels in kernels/reduction.ts.
 *
 * Kernels are cached by a canonical description of the body (kinds, ops, attributes, types), so
 * equal nodes compile once across graphs. A kernel reads its arrays from the executor's value table:
 * `kernel(env, slots)` with `env[slots[k]]` the k-th input and `env[slots[inputs + o]]` output o.
 */
import { type DType, dtypeInfo, isFloat, type TypedArray } from "../../ir/dtype.js";
import { ValueError } from "../../ir/errors.js";
import type { FusedKind } from "../../ir/ops/fused.js";
import type { Attrs, AttrValue, OpDef } from "../../ir/registry.js";
import * as M from "../../ir/scalar-math.js";
import { broadcastStrides, sizeOf, stridesOf } from "../../ir/shape.js";
import { formatType, sameShape, sameType, type TensorType } from "../../ir/types.js";
import { collapse, groupLevel, loopNest, type OffsetGroup } from "./codegen-loops.js";
import { type MatmulInto, matmulInto } from "./codegen-matmul.js";
import { LruCache } from "../lru-cache.js";


/** A value inside a kernel body: one of the kernel's input arrays, or the result of body node `index`. */
export type Ref = { readonly input: number } | { readonly node: number };

export interface SpecNode {
  readonly op: OpDef;
  readonly operands: readonly Ref[];
  readonly attrs: Attrs;
  readonly type: TensorType;
}

/**
 * What a kernel computes, independent of value names: `inputs` are the arrays it reads (a fused
 * node's operands, then any graph constants its body names), `nodes` the body in order, `yields`
 * the values written to `outputs`.
 */
export interface KernelSpec {
  readonly kind: FusedKind;
  readonly inputs: readonly TensorType[];
  readonly nodes: readonly SpecNode[];
  readonly yields: readonly Ref[];
  readonly outputs: readonly TensorType[];
}

export type KernelFn = (env: readonly TypedArray[], slots: Int32Array) => void;

export interface CompiledKernel {
  /** The canonical description the cache is keyed by. */
  readonly key: string;
  /** A short hash of the key, for names and messages. */
  readonly hash: string;
  readonly source: string;
  readonly fn: KernelFn;
  /** Bytes of private scratch (accumulator rows, a matmul result) allocated once with the kernel. */
  readonly scratchBytes: number;
  /**
   * Per output, the inputs it may overwrite (same element size and count, read at the output's own
   * flat index, every read of an element before its write): the memory planner may give the output
   * such an input's buffer when this node is its last reader.
   */
  readonly inPlace: readonly (readonly number[])[];
}

const isInput = (r: Ref): r is { readonly input: number } => "input" in r;

// ---- reductions ---------------------------------------------------------------------------------

/**
 * How a reduction accumulates, as code: `init` and `final` are expressions, `update` a statement
 * on an accumulator lvalue. Matches kernels/reduction.ts: float sums and products in float64, int32
 * ones wrapping; max/min start at -/+Infinity, which the first element always replaces (NaN too),
 * exactly as starting from the first element does; the mean divides once at the end.
 */
interface Reducer {
  readonly init: string;
  update(acc: string, v: string): string;
  final(acc: string): string;
}

type ReducerRule = (out: DType, count: number) => Reducer;

const keep = (acc: string): string => acc;

const REDUCERS: Readonly<Record<string, ReducerRule>> = {
  reduceSum: (out) =>
    isFloat(out)
      ? { init: "0", update: (a, v) => `${a} += ${v};`, final: keep }
      : { init: "0", update: (a, v) => `${a} = (${a} + ${v}) | 0;`, final: keep },
  reduceMean: (_out, count) => ({ init: "0", update: (a, v) => `${a} += ${v};`, final: (a) => `${a} / ${count}` }),
  reduceProd: (out) =>
    isFloat(out)
      ? { init: "1", update: (a, v) => `${a} *= ${v};`, final: keep }
      : { init: "1", update: (a, v) => `${a} = Math.imul(${a}, ${v});`, final: keep },
  reduceMax: () => ({ init: "-Infinity", update: (a, v) => `if (${v} > ${a} || ${v} !== ${v}) ${a} = ${v};`, final: keep }),
  reduceMin: () => ({ init: "Infinity", update: (a, v) => `if (${v} < ${a} || ${v} !== ${v}) ${a} = ${v};`, final: keep }),
  reduceAny: () => ({ init: "0", update: (a, v) => `if (${v} !== 0) ${a} = 1;`, final: keep }),
  reduceAll: () => ({ init: "1", update: (a, v) => `if (${v} === 0) ${a} = 0;`, final: keep }),
};

/** Reductions the code generator inlines (others, such as logSumExp, run their library kernel). */
export function isGeneratedReduction(op: string): boolean {
  return Object.hasOwn(REDUCERS, op);
}

// ---- checking a spec ------------------------------------------------------------------------------

function refType(spec: KernelSpec, r: Ref): TensorType {
  return isInput(r) ? spec.inputs[r.input]! : spec.nodes[r.node]!.type;
}

function showRef(r: Ref): string {
  return isInput(r) ? `input ${r.input}` : `body node ${r.node}`;
}

/** Rejects a body the generator cannot compile exactly, naming the node; `where` prefixes messages. */
function checkSpec(spec: KernelSpec, where: string): void {
  const fail = (msg: string): never => {
    throw new ValueError(`${where}: ${msg}`);
  };
  const validRef = (r: Ref, before: number): boolean =>
    isInput(r) ? Number.isInteger(r.input) && r.input >= 0 && r.input < spec.inputs.length : Number.isInteger(r.node) && r.node >= 0 && r.node < before;
  spec.nodes.forEach((n, i) => {
    const wantKind =
      spec.kind === "matmul" && i === 0 ? "matmul" : spec.kind === "reduce" && i === spec.nodes.length - 1 ? "reduction" : "elementwise";
    if (wantKind === "matmul" && n.op.name !== "matmul") fail(`a "matmul" body starts with a matmul node, got ${n.op.name}`);
    if (wantKind === "reduction" && !isGeneratedReduction(n.op.name)) {
      fail(`a "reduce" body ends with one of ${Object.keys(REDUCERS).join(", ")}, got ${n.op.name}`);
    }
    if (wantKind === "elementwise" && n.op.kind !== "elementwise") {
      fail(`body node ${i} (${n.op.name}) is a ${n.op.kind} op; a "${spec.kind}" body may only hold elementwise ops there`);
    }
    n.operands.forEach((r, k) => {
      if (!validRef(r, i)) fail(`body node ${i} (${n.op.name}) operand ${k} refers to an undefined value`);
      if (wantKind === "matmul" && !isInput(r)) fail(`the matmul of a "matmul" body must read two inputs of the node`);
    });
    const inferred = n.op.infer(n.operands.map((r) => refType(spec, r)), n.attrs);
    if (inferred.length !== 1 || !sameType(inferred[0]!, n.type)) {
      fail(`body node ${i} (${n.op.name}) is declared ${formatType(n.type)} but its operands give ${inferred.map(formatType).join(", ")}`);
    }
  });
  if (spec.kind !== "elementwise" && spec.nodes.length === 0) fail(`a "${spec.kind}" body needs at least one node`);
  if (spec.yields.length !== spec.outputs.length) fail(`the body yields ${spec.yields.length} values for ${spec.outputs.length} results`);
  spec.yields.forEach((r, o) => {
    if (!validRef(r, spec.nodes.length)) fail(`yield ${o} refers to an undefined value`);
    const t = refType(spec, r);
    if (!sameType(t, spec.outputs[o]!)) fail(`yield ${o} is ${formatType(t)} but result ${o} is ${formatType(spec.outputs[o]!)}`);
  });
  if (spec.kind === "reduce") {
    const last = spec.nodes.length - 1;
    const final = spec.yields[spec.yields.length - 1];
    if (final === undefined || isInput(final) || final.node !== last) fail(`a "reduce" body yields its final reduction last`);
    const space = spec.nodes[last]!.operands[0];
    const spaceShape = space === undefined ? [] : refType(spec, space).shape;
    const seen = new Set<number>();
    spec.yields.slice(0, -1).forEach((r, o) => {
      // Extra yields are stored once per element of the reduction's input, in the accumulating loop.
      if (isInput(r) || r.node === last || seen.has(r.node)) fail(`yield ${o} of a "reduce" body must be a distinct elementwise body value`);
      const t = refType(spec, r);
      if (!sameShape(t.shape, spaceShape)) fail(`yield ${o} is ${formatType(t)}; extra yields of a "reduce" body have the reduction's input shape [${spaceShape.join(",")}]`);
      seen.add((r as { node: number }).node);
    });
  }
}

// ---- emitting body code ---------------------------------------------------------------------------

/** Wraps `e` in the conversion a store into a `d` typed array performs. */
function roundTo(d: DType, e: string, exprDType: DType | undefined): string {
  if (exprDType === d) return e; // a local already rounded to d
  switch (d) {
    case "float64":
      return e;
    case "float32":
      return `Math.fround(${e})`;
    case "int32":
      return `(${e} | 0)`;
    default:
      return isZeroOne(e) ? e : `(${e} & 255)`;
  }
}

/** `(cond ? 1 : 0)` as a whole: already a valid bool/uint8 value. */
function isZeroOne(e: string): boolean {
  if (!e.startsWith("(") || !e.endsWith(" ? 1 : 0)")) return false;
  let depth = 0;
  for (let i = 0; i < e.length; i++) {
    if (e[i] === "(") depth++;
    else if (e[i] === ")" && --depth === 0) return i === e.length - 1;
  }
  return false;
}

const localName = (r: Ref): string => (isInput(r) ? `x${r.input}` : `v${r.node}`);
const refKey = (r: Ref): string => (isInput(r) ? `i${r.input}` : `n${r.node}`);

/** Body nodes needed to compute `roots`, in order; values in `loaded` are read from arrays, not computed. */
function needed(spec: KernelSpec, roots: readonly Ref[], loaded: ReadonlySet<string>): { nodes: number[]; reads: Ref[] } {
  const seen = new Set<string>();
  const nodes = new Set<number>();
  const reads: Ref[] = [];
  const visit = (r: Ref): void => {
    const k = refKey(r);
    if (seen.has(k)) return;
    seen.add(k);
    if (isInput(r) || loaded.has(k)) {
      reads.push(r);
      return;
    }
    nodes.add(r.node);
    for (const o of spec.nodes[r.node]!.operands) visit(o);
  };
  roots.forEach(visit);
  return { nodes: [...nodes].sort((a, b) => a - b), reads };
}

/** `const vJ = <template>;` for each body node, rounded to its dtype. */
function nodeLines(spec: KernelSpec, nodes: readonly number[], pad: string): string {
  const localDType = new Map<string, DType>();
  for (let k = 0; k < spec.inputs.length; k++) localDType.set(`x${k}`, spec.inputs[k]!.dtype);
  spec.nodes.forEach((n, j) => localDType.set(`v${j}`, n.type.dtype));
  let code = "";
  for (const j of nodes) {
    const n = spec.nodes[j]!;
    const args = n.operands.map(localName);
    const expr = n.op.scalar!(args, { inputs: n.operands.map((r) => refType(spec, r).dtype), output: n.type.dtype }, n.attrs);
    const exprDType = /^[xv]\d+$/.test(expr) ? localDType.get(expr) : undefined;
    code += `${pad}const v${j} = ${roundTo(n.type.dtype, expr, exprDType)};\n`;
  }
  return code;
}

/** Broadcast strides of `shape` within `space`, or a ValueError when it does not broadcast there. */
function stridesIn(shape: readonly number[], space: readonly number[], what: string, where: string): number[] {
  const off = space.length - shape.length;
  const fits = off >= 0 && shape.every((d, i) => d === 1 || d === space[off + i]);
  if (!fits) throw new ValueError(`${where}: ${what} has shape [${shape.join(",")}], which does not broadcast to the kernel's iteration space [${space.join(",")}]`);
  return broadcastStrides(shape, space);
}

/** Groups arrays by stride vector; returns each array's group index. */
function groupArrays(strides: readonly (readonly number[])[], prefix: string): { groups: OffsetGroup[]; of: number[] } {
  const groups: OffsetGroup[] = [];
  const byKey = new Map<string, number>();
  const of = strides.map((s) => {
    const key = s.join(",");
    let g = byKey.get(key);
    if (g === undefined) {
      g = groups.length;
      byKey.set(key, g);
      groups.push({ strides: s, prefix: `${prefix}${g}_` });
    }
    return g;
  });
  return { groups, of };
}

interface Load {
  readonly ref: Ref;
  readonly array: string;
  readonly shape: readonly number[];
}

interface Store {
  readonly array: string;
  readonly ref: Ref;
  readonly shape: readonly number[];
}

/** The loop level (see loopNest) of each loaded and computed value: where its inputs stop changing. */
function valueLevels(spec: KernelSpec, used: readonly Load[], loadGroups: readonly OffsetGroup[], nodes: readonly number[]): Map<string, number> {
  const level = new Map<string, number>();
  used.forEach((l, k) => level.set(refKey(l.ref), groupLevel(loadGroups[k]!)));
  for (const j of nodes) level.set(`n${j}`, Math.max(0, ...spec.nodes[j]!.operands.map((o) => level.get(refKey(o)) ?? 0)));
  return level;
}

/** Loads and body nodes placed at loop level `at`: each value is computed once per change of its inputs. */
function levelCode(spec: KernelSpec, used: readonly Load[], of: readonly number[], nodes: readonly number[], level: ReadonlyMap<string, number>) {
  return (at: number, offs: readonly string[], pad: string): string => {
    let code = "";
    used.forEach((l, k) => {
      if (level.get(refKey(l.ref)) === at) code += `${pad}const ${localName(l.ref)} = ${l.array}[${offs[of[k]!]}];\n`;
    });
    return code + nodeLines(spec, nodes.filter((j) => level.get(`n${j}`) === at), pad);
  };
}

/**
 * One pass over `space` computing `stores` from `loads` through the body. Within an iteration every
 * load comes before the stores, and a load of an array laid out like the output is never hoisted,
 * which is what makes in-place outputs safe.
 */
function pointwise(spec: KernelSpec, space: readonly number[], loads: readonly Load[], stores: readonly Store[], where: string): string {
  if (stores.length === 0 || sizeOf(space) === 0) return "";
  const loaded = new Set(loads.map((l) => refKey(l.ref)));
  const { nodes, reads } = needed(spec, stores.map((s) => s.ref), loaded);
  const used = loads.filter((l) => reads.some((r) => refKey(r) === refKey(l.ref)));
  for (const j of nodes) stridesIn(spec.nodes[j]!.type.shape, space, `body node ${j} (${spec.nodes[j]!.op.name})`, where);
  const strides = [
    ...used.map((l) => stridesIn(l.shape, space, `the array of ${showRef(l.ref)}`, where)),
    ...stores.map((s, o) => stridesIn(s.shape, space, `result ${o}`, where)),
  ];
  const c = collapse(space, strides);
  const { groups, of } = groupArrays(c.strides, "p");
  const rank = c.dims.length;
  const level = valueLevels(spec, used, used.map((_, k) => groups[of[k]!]!), nodes);
  const values = levelCode(spec, used, of, nodes, level);
  const at = (L: number, offs: readonly string[], pad: string): string => {
    let code = values(L, offs, pad);
    if (L !== rank) return code;
    stores.forEach((s, o) => {
      const off = offs[of[used.length + o]!]!;
      // A matmul result computed straight into this output is already in place.
      const self = used.findIndex((l) => l.array === s.array && refKey(l.ref) === refKey(s.ref));
      if (self >= 0 && offs[of[self]!] === off) return;
      code += `${pad}${s.array}[${off}] = ${localName(s.ref)};\n`;
    });
    return code;
  };
  const bases = groups.map(() => "0");
  return at(0, bases, "  ") + loopNest(c.dims, groups, 0, rank, bases, at);
}

/** The iteration space of a pointwise kernel: the broadcast of its result shapes. */
export function resultSpace(spec: KernelSpec, where: string): number[] {
  let space: number[] = [];
  for (const t of spec.outputs) {
    const rank = Math.max(space.length, t.shape.length);
    const next: number[] = [];
    for (let i = 0; i < rank; i++) {
      const a = space[space.length - rank + i] ?? 1;
      const b = t.shape[t.shape.length - rank + i] ?? 1;
      if (a !== b && a !== 1 && b !== 1) throw new ValueError(`${where}: results of shapes [${space.join(",")}] and [${t.shape.join(",")}] do not broadcast together`);
      next.push(a === 1 ? b : a);
    }
    space = next;
  }
  return space;
}

const inputLoads = (spec: KernelSpec): Load[] => spec.inputs.map((t, k) => ({ ref: { input: k }, array: `a${k}`, shape: t.shape }));
const outputStores = (spec: KernelSpec): Store[] => spec.yields.map((r, o) => ({ array: `o${o}`, ref: r, shape: spec.outputs[o]!.shape }));

interface Generated {
  /** Statements run once when the kernel is created (scratch allocation). */
  readonly prelude: string;
  /** The kernel body, after its arrays are bound. */
  readonly body: string;
  readonly scratchBytes: number;
  readonly inPlace: number[][];
  readonly matmul?: MatmulInto;
}

function genElementwise(spec: KernelSpec, where: string): Generated {
  const space = resultSpace(spec, where);
  const body = pointwise(spec, space, inputLoads(spec), outputStores(spec), where);
  const same = (s: readonly number[]) => s.length === space.length && s.every((d, i) => d === space[i]);
  const inPlace = spec.outputs.map((out) =>
    same(out.shape)
      ? spec.inputs.flatMap((t, k) => (same(t.shape) && dtypeInfo(t.dtype).itemsize === dtypeInfo(out.dtype).itemsize ? [k] : []))
      : [],
  );
  return { prelude: "", body, scratchBytes: 0, inPlace };
}

/**
 * A reduction over `space` (its input's shape), with the elementwise body computed per element in
 * the accumulating loop. Yields before the final reduction are body values of the space's shape,
 * stored in that same loop (a multi-output reduce: softmax's exp(x - max) is written once here
 * instead of being recomputed by its other consumers).
 */
function genReduce(spec: KernelSpec, where: string): Generated {
  const last = spec.nodes.length - 1;
  const red = spec.nodes[last]!;
  const src = red.operands[0]!;
  const space = refType(spec, src).shape;
  const axes = red.attrs["axes"] as readonly number[];
  const isReduced = space.map((_, d) => axes.includes(d));
  const count = sizeOf(axes.map((a) => space[a]!));
  const ro = spec.outputs.length - 1;
  const out = spec.outputs[ro]!;
  const oR = `o${ro}`;
  const extras = spec.yields.slice(0, -1).map((ref, o) => ({ array: `o${o}`, ref }));
  const r = REDUCERS[red.op.name]!(out.dtype, count);
  const none = { prelude: "", scratchBytes: 0, inPlace: spec.outputs.map(() => []) };
  // An empty result or an empty reduced axis means an empty space: the extra yields are empty too.
  if (sizeOf(out.shape) === 0) return { ...none, body: "" };
  if (count === 0) {
    if (red.op.name === "reduceMax" || red.op.name === "reduceMin") throw new ValueError(`${where}: ${red.op.name} over an empty axis has no identity`);
    return { ...none, body: `  let acc = ${r.init};\n  ${oR}.fill(${r.final("acc")});\n` };
  }
  // The output is row-major over the kept axes: its stride on a reduced axis is 0.
  const keptShape = space.filter((_, d) => !isReduced[d]);
  const keptStrides = stridesOf(keptShape);
  let kd = 0;
  const outStrides = space.map((_, d) => (isReduced[d] ? 0 : keptStrides[kd++]!));

  const loaded = new Set<string>();
  for (let k = 0; k < spec.inputs.length; k++) loaded.add(`i${k}`);
  const { nodes, reads } = needed(spec, [src, ...extras.map((e) => e.ref)], loaded);
  const bodyNodes = nodes.filter((j) => j !== last);
  for (const j of bodyNodes) stridesIn(spec.nodes[j]!.type.shape, space, `body node ${j} (${spec.nodes[j]!.op.name})`, where);
  const used = inputLoads(spec).filter((l) => reads.some((x) => refKey(x) === refKey(l.ref)));
  const spaceStrides = stridesOf(space);
  const strides = [...used.map((l) => stridesIn(l.shape, space, `the array of ${showRef(l.ref)}`, where)), ...extras.map(() => spaceStrides), outStrides];
  const c = collapse(space, strides, isReduced);
  const arrays = used.length + extras.length;
  const { groups, of } = groupArrays(c.strides.slice(0, arrays), "p");
  // The output keeps its own group: the row scheme restarts it at 0 as the accumulator index.
  const outGroup = groups.length;
  groups.push({ strides: c.strides[arrays]!, prefix: "q_" });
  const rank = c.dims.length;
  let f = c.tags.indexOf(true);
  if (f < 0) f = rank;
  const rowScheme = c.tags.slice(f).some((t) => !t);
  const rowLen = c.dims.reduce((acc, n, d) => (d >= f && !c.tags[d] ? acc * n : acc), 1);
  const v = localName(src);

  const level = valueLevels(spec, used, used.map((_, k) => groups[of[k]!]!), bodyNodes);
  const values = levelCode(spec, used, of, bodyNodes, level);
  // Every element of the space is visited once, at the innermost level: the extra yields are stored there.
  const stores = (offs: readonly string[], pad: string): string =>
    extras.map((e, k) => `${pad}${e.array}[${offs[of[used.length + k]!]}] = ${localName(e.ref)};\n`).join("");
  // The accumulation runs at the innermost level; values that do not vary there are computed outside.
  const accumulate = (acc: (offs: readonly string[]) => string) => (L: number, offs: readonly string[], pad: string): string =>
    values(L, offs, pad) + (L === rank ? stores(offs, pad) + `${pad}${r.update(acc(offs), v)}\n` : "");
  const block = (offs: readonly string[], pad: string): string => {
    if (!rowScheme) {
      const inner = f === rank ? stores(offs, pad) + `${pad}${r.update("acc", v)}\n` : loopNest(c.dims, groups, f, rank, offs, accumulate(() => "acc"), pad);
      return `${pad}let acc = ${r.init};\n${inner}${pad}${oR}[${offs[outGroup]}] = ${r.final("acc")};\n`;
    }
    const bases = offs.map((o, g) => (g === outGroup ? "0" : o));
    const base = offs[outGroup] === "0" ? "" : `${offs[outGroup]} + `;
    return `${pad}ACC.fill(${r.init});\n` +
      loopNest(c.dims, groups, f, rank, bases, accumulate((o) => `ACC[${o[outGroup]}]`), pad) +
      `${pad}for (let j = 0; j < ${rowLen}; j++) ${oR}[${base}j] = ${r.final("ACC[j]")};\n`;
  };
  const outer = (L: number, offs: readonly string[], pad: string): string => values(L, offs, pad) + (L === f ? block(offs, pad) : "");
  const bases = groups.map(() => "0");
  const body = outer(0, bases, "  ") + loopNest(c.dims, groups, 0, f, bases, outer);
  const prelude = rowScheme ? `const ACC = new Float64Array(${rowLen});\n` : "";
  return { prelude, body, scratchBytes: rowScheme ? rowLen * 8 : 0, inPlace: none.inPlace };
}

function genMatmul(spec: KernelSpec, where: string): Generated {
  const mm = spec.nodes[0]!;
  const [ra, rb] = mm.operands as [{ input: number }, { input: number }];
  const space = resultSpace(spec, where);
  const same = (s: readonly number[]) => s.length === space.length && s.every((d, i) => d === space[i]);
  // gemm writes straight into a result laid out like the matmul value; else into private scratch.
  const target = same(mm.type.shape) ? spec.outputs.findIndex((t) => sameType(t, mm.type)) : -1;
  const size = sizeOf(mm.type.shape);
  const info = dtypeInfo(mm.type.dtype);
  const t = target >= 0 ? `o${target}` : "T";
  const prelude = target >= 0 ? "" : `const T = new ${info.array.name}(${size});\n`;
  const loads: Load[] = [...inputLoads(spec), { ref: { node: 0 }, array: t, shape: mm.type.shape }];
  const body = `  MM(a${ra.input}, a${rb.input}, ${t});\n` + pointwise(spec, space, loads, outputStores(spec), where);
  return {
    prelude,
    body,
    scratchBytes: target >= 0 ? 0 : size * info.itemsize,
    inPlace: spec.outputs.map(() => []),
    matmul: matmulInto(spec.inputs[ra.input]!, spec.inputs[rb.input]!, mm.type.dtype),
  };
}

// ---- the cache ------------------------------------------------------------------------------------

function canonicalAttr(v: AttrValue): unknown {
  if (Array.isArray(v)) return v.map(canonicalAttr);
  if (v !== null && typeof v === "object") {
    const o = v as { readonly [k: string]: AttrValue };
    return Object.keys(o).sort().map((k) => [k, canonicalAttr(o[k]!)]);
  }
  return v;
}

/** The structural key: everything the generated code depends on, nothing it does not (names). */
export function specKey(spec: KernelSpec): string {
  const ref = (r: Ref) => refKey(r);
  return JSON.stringify([
    spec.kind,
    spec.inputs.map(formatType),
    spec.nodes.map((n) => [n.op.name, n.operands.map(ref), canonicalAttr(n.attrs as AttrValue), formatType(n.type)]),
    spec.yields.map(ref),
    spec.outputs.map(formatType),
  ]);
}

/** cyrb53: a fast 53-bit string hash, printed in hex. */
export function hash53(s: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}

/** Most kernels kept; past it the least recently used is dropped (a retraced shape is a new kernel). */
export const KERNEL_CACHE_LIMIT = 2048;
const CACHE = new LruCache<CompiledKernel>(KERNEL_CACHE_LIMIT);

/** Kernel cache counters, for tests and benchmarks. */
export function kernelCacheStats(): { readonly size: number; readonly hits: number; readonly misses: number } {
  return CACHE.stats();
}

export function clearKernelCache(): void {
  CACHE.clear();
}

/** The kernel for `spec`, generated and compiled on first use; `where` prefixes error messages. */
export function compileKernel(spec: KernelSpec, where: string): CompiledKernel {
  const key = specKey(spec);
  return CACHE.getOrCreate(key, () => generateKernel(spec, key, where));
}

function generateKernel(spec: KernelSpec, key: string, where: string): CompiledKernel {
  checkSpec(spec, where);
  const gen = spec.kind === "elementwise" ? genElementwise(spec, where) : spec.kind === "reduce" ? genReduce(spec, where) : genMatmul(spec, where);
  const hash = hash53(key);
  const name = `${spec.kind}_${hash}`;
  const bind = [
    ...spec.inputs.map((_, k) => `a${k} = env[s[${k}]]`),
    ...spec.outputs.map((_, o) => `o${o} = env[s[${spec.inputs.length + o}]]`),
  ];
  const signature = `// ${spec.kind}: ${spec.outputs.map(formatType).join(", ")} <- (${spec.inputs.map(formatType).join(", ")})`;
  const source =
    `${signature}\n"use strict";\n${gen.prelude}return function ${name}(env, s) {\n` +
    (bind.length ? `  const ${bind.join(", ")};\n` : "") +
    `${gen.body}};\n`;
  let fn: KernelFn;
  try {
    fn = new Function("M", "MM", source)(M, gen.matmul) as KernelFn;
  } catch (err) {
    // A template that does not parse is a bug in an op definition, reported with the source.
    throw new ValueError(`${where}: generated kernel does not compile (${err instanceof Error ? err.message : String(err)}):\n${source}`);
  }
  return { key, hash, source, fn, scratchBytes: gen.scratchBytes, inPlace: gen.inPlace };
}
