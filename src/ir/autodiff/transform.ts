/**
 * Reverse-mode automatic differentiation as an IR transform: `vjpGraph(g, { wrt })` returns a new
 * graph that computes g's results and, given a cotangent for each float result, the cotangents of
 * the chosen parameters. Gradient nodes come from each op's `vjp` rule in the registry and are
 * ordinary registry ops, so the result can be optimized, fused, compiled and differentiated again.
 */
import { allocate, type DType, isFloat } from "../dtype.js";
import { NonDifferentiableError, ValueError } from "../errors.js";
import { type Graph, GraphBuilder, type Node, type Region, type SourceLoc, type Value } from "../graph.js";
import { type Attrs, getOp, type GradBuilder, type GradValue } from "../registry.js";
import { formatType, type TensorType } from "../types.js";
import type { RegionGradBuilder } from "../ops/control.js";

export interface VjpGraphOptions {
  /** Indices of the parameters to differentiate with respect to. */
  readonly wrt: readonly number[];
  /** The new graph's name (default: `<name>_vjp`). */
  readonly name?: string;
}

/**
 * The transformed graph and how to read it. Its parameters are g's parameters followed by one
 * cotangent parameter per float result of g (`%ct0`, ...); its results are g's results followed by
 * one gradient per float `wrt` parameter, in `wrt` order.
 */
export interface VjpGraphResult {
  readonly graph: Graph;
  /** Per result of g: the index of its cotangent parameter in `graph.params`, or null (not float). */
  readonly cotangentParams: readonly (number | null)[];
  /** Per `wrt` entry: the index of its gradient in `graph.results`, or null (int/bool parameter). */
  readonly gradResults: readonly (number | null)[];
}

/** Differentiates `g` with respect to the parameters `wrt` (reverse mode). */
export function vjpGraph(g: Graph, options: VjpGraphOptions): VjpGraphResult {
  const wrt = checkWrt(g, options.wrt);
  const b = new GraphBuilder(options.name ?? `${g.name}_vjp`);
  const env = new Map<string, Value>();
  for (const p of g.params) env.set(p.name, b.addParam(p.name, p.type));
  const cotangentParams: (number | null)[] = [];
  const seeds: (Value | null)[] = [];
  let nextParam = g.params.length;
  resultTypesOf(g).forEach((t, i) => {
    const float = isFloat(t.dtype);
    cotangentParams.push(float ? nextParam++ : null);
    seeds.push(float ? b.addParam(`%ct${i}`, t) : null);
  });
  for (const c of g.constants) env.set(c.name, b.addConstant(c.type, c.data));
  // Control-flow regions read constants by name; the new graph names them afresh.
  const constRename = new Map<string, string>(g.constants.map((c) => [c.name, env.get(c.name)!.name]));

  // Forward: the whole graph again, with fused regions inlined so every node has a rule to use.
  const forward: Node[] = [];
  const constants = new Set(g.constants.map((c) => c.name));
  const emit = (n: Node, local: Map<string, Value>): void => {
    if (n.regions && n.regions.length > 0 && getOp(n.op).kind === "fused") {
      inlineRegion(n, local, constants, emit);
      return;
    }
    const operands = n.operands.map((o) => lookup(local, o, n));
    // Control flow stays a node (its regions run a data-dependent number of times).
    const regions = n.regions?.map((r) => renameRegionConstants(r, constRename));
    const results = b.addNode(n.op, operands.map((v) => v.name), n.attrs, n.results.map((r) => r.type), n.loc, regions);
    n.results.forEach((r, i) => local.set(r.name, results[i]!));
    forward.push({ ...n, operands: operands.map((v) => v.name), results, ...(regions ? { regions } : {}) });
  };
  for (const n of g.nodes) emit(n, env);

  // Which values depend on a float wrt parameter: only those carry cotangents.
  const active = new Set<string>();
  for (const i of wrt) {
    const p = g.params[i]!;
    if (isFloat(p.type.dtype)) active.add(p.name);
  }
  for (const n of forward) {
    if (!n.operands.some((o) => active.has(o))) continue;
    for (const r of n.results) if (isFloat(r.type.dtype)) active.add(r.name);
  }

  const cts = new Map<string, Value>();
  let loc: SourceLoc | undefined;
  const gb = gradBuilder(b, () => loc);
  const accumulate = (name: string, ct: Value): void => {
    const prev = cts.get(name);
    cts.set(name, prev ? b.addNode("add", [prev.name, ct.name], {}, [prev.type], loc)[0]! : ct);
  };
  g.results.forEach((r, i) => {
    const name = lookup(env, r, undefined).name;
    const seed = seeds[i];
    if (seed && active.has(name)) accumulate(name, seed);
  });

  const types = new Map<string, TensorType>();
  for (const v of env.values()) types.set(v.name, v.type);
  for (const n of forward) for (const r of n.results) types.set(r.name, r.type);

  // Backward: nodes in reverse order; a node runs its rule only if a result has a cotangent and an
  // operand needs one (dead cotangents are never built).
  for (let k = forward.length - 1; k >= 0; k--) {
    const n = forward[k]!;
    const resultCts = n.results.map((r) => cts.get(r.name) ?? null);
    if (resultCts.every((c) => c === null)) continue;
    const needs = n.operands.map((o) => active.has(o));
    if (!needs.some(Boolean)) continue;
    const def = getOp(n.op);
    if (!def.vjp) throw nonDifferentiable(g, n, active);
    loc = n.loc;
    const operands = n.operands.map((o) => ({ name: o, type: types.get(o)! }));
    // A node with regions gets its rule from here (the op's vjp delegates to regionVjp).
    const regionRule = n.regions && n.regions.length > 0 ? REGION_VJPS[n.op] : undefined;
    const ctx: RegionVjpContext = { b, gb, graph: g, loc: n.loc };
    const builder: RegionGradBuilder = regionRule ? { ...gb, regionVjp: (c, o) => regionRule(ctx, n, c, o) } : gb;
    const opCts = def.vjp(builder, resultCts, operands, n.results, n.attrs);
    n.operands.forEach((o, i) => {
      const ct = opCts[i];
      if (!needs[i] || ct === null || ct === undefined) return;
      const want = operands[i]!.type;
      if (!sameType(ct.type, want)) {
        throw new ValueError(`vjp rule of ${n.op} returned a cotangent of type ${formatType(ct.type)} for operand ${i}, which has type ${formatType(want)}`);
      }
      accumulate(o, ct);
    });
    loc = undefined;
  }

  const results = g.results.map((r) => lookup(env, r, undefined).name);
  const gradResults: (number | null)[] = [];
  for (const i of wrt) {
    const p = g.params[i]!;
    if (!isFloat(p.type.dtype)) {
      gradResults.push(null);
      continue;
    }
    const ct = cts.get(p.name) ?? zeros(gb, p.type);
    gradResults.push(results.length);
    results.push(ct.name);
  }
  return { graph: b.build(results), cotangentParams, gradResults };
}

function checkWrt(g: Graph, wrt: readonly number[]): number[] {
  const seen = new Set<number>();
  for (const i of wrt) {
    if (!Number.isInteger(i) || i < 0 || i >= g.params.length) {
      throw new ValueError(`vjpGraph: wrt index ${i} is out of range for @${g.name}, which has ${g.params.length} parameters`);
    }
    if (seen.has(i)) throw new ValueError(`vjpGraph: wrt lists parameter ${i} twice`);
    seen.add(i);
  }
  return [...wrt];
}

function resultTypesOf(g: Graph): TensorType[] {
  const types = new Map<string, TensorType>();
  for (const p of g.params) types.set(p.name, p.type);
  for (const c of g.constants) types.set(c.name, c.type);
  for (const n of g.nodes) for (const r of n.results) types.set(r.name, r.type);
  return g.results.map((r) => {
    const t = types.get(r);
    if (!t) throw new ValueError(`vjpGraph: @${g.name} returns ${r}, which it does not define`);
    return t;
  });
}

function lookup(env: Map<string, Value>, name: string, n: Node | undefined): Value {
  const v = env.get(name);
  if (!v) throw new ValueError(`vjpGraph: ${n ? `${n.op} reads ` : ""}undefined value ${name}`);
  return v;
}

/** Copies a region's body into the outer graph: its params are the node's operands. */
function inlineRegion(n: Node, outer: Map<string, Value>, constants: ReadonlySet<string>, emit: (n: Node, local: Map<string, Value>) => void): void {
  if (n.regions!.length !== 1) throw new ValueError(`vjpGraph: cannot differentiate through ${n.op}, which has ${n.regions!.length} regions`);
  const region = n.regions![0]!;
  // The region sees the graph's constants and its own parameters, nothing else.
  const local = new Map<string, Value>();
  for (const [k, v] of outer) if (constants.has(k)) local.set(k, v);
  region.params.forEach((p, i) => local.set(p.name, lookup(outer, n.operands[i]!, n)));
  for (const inner of region.nodes) emit(inner, local);
  region.results.forEach((r, i) => outer.set(n.results[i]!.name, lookup(local, r, n)));
}

function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

function gradBuilder(b: GraphBuilder, loc: () => SourceLoc | undefined): GradBuilder {
  return {
    op(op: string, operands: readonly GradValue[], attrs: Attrs = {}): GradValue[] {
      const types = getOp(op).infer(operands.map((o) => o.type), attrs);
      return b.addNode(op, operands.map((o) => o.name), attrs, types, loc());
    },
    scalar(value: number, dtype: DType): GradValue {
      const data = allocate(dtype, 1);
      data[0] = value;
      return b.addConstant({ dtype, shape: [] }, data);
    },
  };
}

function zeros(gb: GradBuilder, t: TensorType): GradValue {
  const z = gb.scalar(0, t.dtype);
  return t.shape.length === 0 ? z : gb.op("broadcastTo", [z], { shape: [...t.shape] })[0]!;
}

/** ST008, naming the op, the value and the parameter it depends on. */
function nonDifferentiable(g: Graph, n: Node, active: ReadonlySet<string>): NonDifferentiableError {
  const i = n.operands.findIndex((o) => active.has(o));
  const where = n.loc ? ` (at ${n.loc.file}:${n.loc.line}:${n.loc.col})` : "";
  return new NonDifferentiableError(
    n.op,
    `cannot differentiate @${g.name}: op ${n.op}${where} has no derivative rule (vjp), and its operand ${i} (${n.operands[i]}) depends on a float parameter being differentiated. ` +
      "Wrap the value in stopGradient(...) if no gradient should flow through it, or differentiate with respect to other arguments.",
  );
}

// ---- control flow -------------------------------------------------------------------------------
//
// Ops with regions (cond, for, scan) get their derivative from their regions' own VJP graphs
// (vjpGraph applied to each region as a graph), embedded as the regions of new control-flow
// nodes. The GradBuilder interface builds single nodes only, so these rules live here, keyed by
// op, with direct access to the graph builder; each op's registry `vjp` calls the one for its node
// through RegionGradBuilder.regionVjp.

interface RegionVjpContext {
  readonly b: GraphBuilder;
  readonly gb: GradBuilder;
  readonly graph: Graph;
  readonly loc: SourceLoc | undefined;
}

type RegionVjp = (ctx: RegionVjpContext, n: Node, cts: readonly (GradValue | null)[], operands: readonly GradValue[]) => (GradValue | null)[];

const REGION_VJPS: Readonly<Record<string, RegionVjp>> = {
  cond: condVjp,
  for: forVjp,
  scan: scanVjp,
  while: (ctx, n) => {
    const where = n.loc ? ` (at ${n.loc.file}:${n.loc.line}:${n.loc.col})` : "";
    throw new NonDifferentiableError(
      "while",
      `cannot differentiate @${ctx.graph.name}: whileLoop${where} runs a data-dependent number of iterations, so it has no reverse-mode derivative. ` +
        "Use forLoop(lo, hi, body, init) when the trip count is known (it is differentiable), or wrap the loop's result in stopGradient(...).",
    );
  },
};

/** Renames graph-constant references anywhere inside a region (regions are closed otherwise). */
function renameRegionConstants(r: Region, rename: ReadonlyMap<string, string>): Region {
  const to = (x: string): string => rename.get(x) ?? x;
  return {
    params: r.params,
    nodes: r.nodes.map((n) => ({
      ...n,
      operands: n.operands.map(to),
      ...(n.regions ? { regions: n.regions.map((inner) => renameRegionConstants(inner, rename)) } : {}),
    })),
    results: r.results.map(to),
  };
}

/** The constants the builder holds so far (a region graph sees them all). */
function builderConstants(b: GraphBuilder): Graph["constants"] {
  return b.build([]).constants;
}

function regionGraph(name: string, r: Region, constants: Graph["constants"]): Graph {
  return { name, params: r.params, constants, nodes: r.nodes, results: r.results };
}

let embedCounter = 0;

/**
 * Makes a region of `inner` (a graph over the same first constants as `b`): new constants move
 * to `b`, and every top-level name gets a fresh prefix so the region shadows nothing.
 */
function embed(b: GraphBuilder, inner: Graph, known: number): { name: (old: string) => string; nodes: Node[]; prefix: string } {
  const prefix = `%g${embedCounter++}_`;
  const consts = new Map<string, string>();
  inner.constants.forEach((c, i) => {
    if (i >= known) consts.set(c.name, b.addConstant(c.type, c.data).name);
  });
  const local = new Map<string, string>();
  for (const p of inner.params) local.set(p.name, prefix + p.name.slice(1));
  for (const n of inner.nodes) for (const r of n.results) local.set(r.name, prefix + r.name.slice(1));
  const name = (x: string): string => local.get(x) ?? consts.get(x) ?? x;
  const nodes = inner.nodes.map((n) => ({
    ...n,
    operands: n.operands.map(name),
    results: n.results.map((r) => ({ name: name(r.name), type: r.type })),
    ...(n.regions ? { regions: n.regions.map((r) => renameRegionConstants(r, consts)) } : {}),
  }));
  return { name, nodes, prefix };
}

function zerosOf(gb: GradBuilder, t: TensorType): GradValue {
  return zeros(gb, t);
}

function typesOf(r: Region, constants: Graph["constants"]): TensorType[] {
  const t = new Map<string, TensorType>();
  for (const c of constants) t.set(c.name, c.type);
  for (const p of r.params) t.set(p.name, p.type);
  for (const n of r.nodes) for (const v of n.results) t.set(v.name, v.type);
  return r.results.map((x) => t.get(x)!);
}

/** The gradient of the taken branch: a cond over the two branches' VJP graphs. */
function condVjp(ctx: RegionVjpContext, n: Node, cts: readonly (GradValue | null)[], operands: readonly GradValue[]): (GradValue | null)[] {
  const { b, gb } = ctx;
  const args = operands.slice(1);
  const floatArgs = args.map((a) => isFloat(a.type.dtype));
  const resultTypes = n.results.map((r) => r.type);
  const ctValues = resultTypes.flatMap((t, i) => (isFloat(t.dtype) ? [cts[i] ?? zerosOf(gb, t)] : []));
  const regions = n.regions!.map((r, k) => {
    const constants = builderConstants(b);
    const G = vjpGraph(regionGraph(`${ctx.graph.name}_cond${k}`, r, constants), { wrt: args.map((_, i) => i) });
    const { name, nodes } = embed(b, G.graph, constants.length);
    const results = G.gradResults.flatMap((gi, i) => (floatArgs[i] && gi !== null ? [name(G.graph.results[gi]!)] : []));
    return { params: G.graph.params.map((p) => ({ name: name(p.name), type: p.type })), nodes, results };
  });
  const outTypes = args.filter((_, i) => floatArgs[i]).map((a) => a.type);
  const grads = b.addNode("cond", [operands[0]!.name, ...args.map((a) => a.name), ...ctValues.map((c) => c.name)], {}, outTypes, ctx.loc, regions);
  let k = 0;
  return [null, ...args.map((_, i) => (floatArgs[i] ? grads[k++]! : null))];
}

/** A static-trip-count loop is a scan over its index with no ys: its gradient is scanVjp's. */
function forVjp(ctx: RegionVjpContext, n: Node, cts: readonly (GradValue | null)[], operands: readonly GradValue[]): (GradValue | null)[] {
  const lo = n.attrs["lo"] as number;
  const hi = n.attrs["hi"] as number;
  const nc = n.attrs["numCarry"] as number;
  const length = Math.max(0, hi - lo);
  const idx = new Int32Array(length);
  for (let i = 0; i < length; i++) idx[i] = lo + i;
  const iv = ctx.b.addConstant({ dtype: "int32", shape: [length] }, idx);
  const body = n.regions![0]!;
  // for's body takes (i, carry..., captures...); a scan body takes (carry..., x..., captures...).
  const region: Region = { params: [...body.params.slice(1, 1 + nc), body.params[0]!, ...body.params.slice(1 + nc)], nodes: body.nodes, results: body.results };
  const r = scanCore(ctx, { carry: operands.slice(0, nc), xs: [iv], caps: operands.slice(nc), region, length, reverse: false, cts });
  return [...r.carry, ...r.caps];
}

function scanVjp(ctx: RegionVjpContext, n: Node, cts: readonly (GradValue | null)[], operands: readonly GradValue[]): (GradValue | null)[] {
  const nc = n.attrs["numCarry"] as number;
  const nx = n.attrs["numXs"] as number;
  const r = scanCore(ctx, {
    carry: operands.slice(0, nc),
    xs: operands.slice(nc, nc + nx),
    caps: operands.slice(nc + nx),
    region: n.regions![0]!,
    length: n.attrs["length"] as number,
    reverse: n.attrs["reverse"] === true,
    cts,
  });
  return [...r.carry, ...r.xs, ...r.caps];
}

interface ScanSpec {
  readonly carry: readonly GradValue[];
  readonly xs: readonly GradValue[];
  readonly caps: readonly GradValue[];
  /** params (carry..., x..., caps...), results (carry..., y...) */
  readonly region: Region;
  readonly length: number;
  readonly reverse: boolean;
  /** cotangents of the node's results: final carry, then stacked ys */
  readonly cts: readonly (GradValue | null)[];
}

/**
 * Reverse-mode scan: (1) a forward scan recomputes the loop, stacking each step's incoming carry
 * (memory: one carry per step); (2) a scan in the opposite direction runs the body's VJP graph on
 * each step's stored carry and slice, carrying the carry's cotangent and the captures' summed
 * cotangents, and stacking the slices' cotangents.
 */
function scanCore(ctx: RegionVjpContext, s: ScanSpec): { carry: (GradValue | null)[]; xs: (GradValue | null)[]; caps: (GradValue | null)[] } {
  const { b, gb } = ctx;
  const nc = s.carry.length;
  const nx = s.xs.length;
  const constants = builderConstants(b);
  const bodyTypes = typesOf(s.region, constants);
  const yTypes = bodyTypes.slice(nc);
  const carryTypes = s.carry.map((c) => c.type);
  const operands = [...s.carry, ...s.xs, ...s.caps].map((v) => v.name);

  // (1) Forward again, with the incoming carries as extra ys.
  const fwdRegion: Region = { params: s.region.params, nodes: s.region.nodes, results: [...s.region.results, ...s.region.params.slice(0, nc).map((p) => p.name)] };
  const stackedT = (t: TensorType): TensorType => ({ dtype: t.dtype, shape: [s.length, ...t.shape] });
  const fwdTypes = [...carryTypes, ...yTypes.map(stackedT), ...carryTypes.map(stackedT)];
  const attrs = { length: s.length, numCarry: nc, numXs: nx, reverse: s.reverse };
  const fwd = b.addNode("scan", operands, attrs, fwdTypes, ctx.loc, [fwdRegion]);
  const carryStack = fwd.slice(nc + yTypes.length);

  // (2) The body's VJP graph as the reverse scan's body.
  const G = vjpGraph(regionGraph(`${ctx.graph.name}_scan`, s.region, constants), { wrt: s.region.params.map((_, i) => i) });
  const { name, nodes, prefix } = embed(b, G.graph, constants.length);
  const paramOf = (i: number): Value => ({ name: name(G.graph.params[i]!.name), type: G.graph.params[i]!.type });
  const gradOf = (i: number): string => name(G.graph.results[G.gradResults[i]!]!);
  const floatCarry = carryTypes.map((t, i) => (isFloat(t.dtype) ? i : -1)).filter((i) => i >= 0);
  const floatY = yTypes.map((t, i) => (isFloat(t.dtype) ? i : -1)).filter((i) => i >= 0);
  const floatX = s.xs.map((x, i) => (isFloat(x.type.dtype) ? i : -1)).filter((i) => i >= 0);
  const floatCap = s.caps.map((c, i) => (isFloat(c.type.dtype) ? i : -1)).filter((i) => i >= 0);
  const ctParam = (result: number): Value => paramOf(G.cotangentParams[result]!);
  const accParams = floatCap.map((k, j) => ({ name: `${prefix}acc${j}`, type: s.caps[k]!.type }));
  const sums: Node[] = floatCap.map((k, j) => ({
    op: "add",
    operands: [accParams[j]!.name, gradOf(nc + nx + k)],
    results: [{ name: `${prefix}accsum${j}`, type: s.caps[k]!.type }],
    attrs: {},
  }));
  const region: Region = {
    params: [
      ...floatCarry.map(ctParam),
      ...accParams,
      ...s.carry.map((_, i) => paramOf(i)),
      ...s.xs.map((_, i) => paramOf(nc + i)),
      ...floatY.map((k) => ctParam(nc + k)),
      ...s.caps.map((_, i) => paramOf(nc + nx + i)),
    ],
    nodes: [...nodes, ...sums],
    results: [...floatCarry.map((i) => gradOf(i)), ...sums.map((n) => n.results[0]!.name), ...floatX.map((i) => gradOf(nc + i))],
  };
  const ctCarry = floatCarry.map((i) => s.cts[i] ?? zerosOf(gb, carryTypes[i]!));
  const ctYs = floatY.map((k) => s.cts[nc + k] ?? zerosOf(gb, stackedT(yTypes[k]!)));
  const acc0 = floatCap.map((k) => zerosOf(gb, s.caps[k]!.type));
  const bwdCarry = [...ctCarry, ...acc0];
  const bwdXs = [...carryStack, ...s.xs, ...ctYs];
  const bwdTypes = [...bwdCarry.map((v) => v.type), ...floatX.map((i) => stackedT({ dtype: s.xs[i]!.type.dtype, shape: s.xs[i]!.type.shape.slice(1) }))];
  const bwd = b.addNode(
    "scan",
    [...bwdCarry, ...bwdXs, ...s.caps].map((v) => v.name),
    { length: s.length, numCarry: bwdCarry.length, numXs: bwdXs.length, reverse: !s.reverse },
    bwdTypes,
    ctx.loc,
    [region],
  );
  const out = { carry: s.carry.map((): GradValue | null => null), xs: s.xs.map((): GradValue | null => null), caps: s.caps.map((): GradValue | null => null) };
  floatCarry.forEach((i, j) => (out.carry[i] = bwd[j]!));
  floatCap.forEach((k, j) => (out.caps[k] = bwd[floatCarry.length + j]!));
  floatX.forEach((i, j) => (out.xs[i] = bwd[bwdCarry.length + j]!));
  return out;
}
