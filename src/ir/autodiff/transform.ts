/**
 * Reverse-mode automatic differentiation as an IR transform: `vjpGraph(g, { wrt })` returns a new
 * graph that computes g's results and, given a cotangent for each float result, the cotangents of
 * the chosen parameters. Gradient nodes come from each op's `vjp` rule in the registry and are
 * ordinary registry ops, so the result can be optimized, fused, compiled and differentiated again.
 */
import { allocate, type DType, isFloat } from "../dtype.js";
import { NonDifferentiableError, ValueError } from "../errors.js";
import { type Graph, GraphBuilder, type Node, type SourceLoc, type Value } from "../graph.js";
import { type Attrs, getOp, type GradBuilder, type GradValue } from "../registry.js";
import { formatType, type TensorType } from "../types.js";

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

  // Forward: the whole graph again, with fused regions inlined so every node has a rule to use.
  const forward: Node[] = [];
  const constants = new Set(g.constants.map((c) => c.name));
  const emit = (n: Node, local: Map<string, Value>): void => {
    if (n.regions && n.regions.length > 0) {
      inlineRegion(n, local, constants, emit);
      return;
    }
    const operands = n.operands.map((o) => lookup(local, o, n));
    const results = b.addNode(n.op, operands.map((v) => v.name), n.attrs, n.results.map((r) => r.type), n.loc);
    n.results.forEach((r, i) => local.set(r.name, results[i]!));
    forward.push({ ...n, operands: operands.map((v) => v.name), results });
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
    const opCts = def.vjp(gb, resultCts, operands, n.results, n.attrs);
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
