/**
 * canonicalize: algebraic identities and constant folding, repeated until nothing changes.
 *
 * Every rewrite is exact: the rewritten graph computes bit-for-bit the same results (NaN payloads
 * aside) for every input, including NaN, infinities and -0; docs/passes.md says why for each rule.
 * An identity that would change a result's type (x + zeros that broadcast x to a bigger shape) does
 * not fire.
 *
 * Nodes whose results were replaced are dropped, and so are nodes and constants that were used
 * before the pass and are no longer used after it; dead code that was already in the input is
 * left to `dce`.
 */
import { dtypeInfo, type DType, isDType, isFloat, type TypedArray } from "../dtype.js";
import { type Constant, freezeGraph, type Graph, type Node, type Region } from "../graph.js";
import { type Attrs, getOp, hasOp } from "../registry.js";
import { sameShape, sameType, type TensorType } from "../types.js";
import { hasEffect, nodeReads, renameNode, useCounts } from "./dce.js";
import { withRegions } from "./regions.js";
import type { HostValue, Pass, PassContext } from "./pass.js";

/** Sweeps over the graph at most this many times; each sweep already follows chains forward. */
export const MAX_CANONICALIZE_ITERATIONS = 32;

/** A rule's verdict on a node. */
type Outcome =
  /** The node's results are these existing values (one per result). */
  | { readonly kind: "replace"; readonly values: readonly string[] }
  /** The node becomes this one (same result names and types). */
  | { readonly kind: "rewrite"; readonly node: Node };

/** What rules may ask about the graph being rewritten. */
interface RuleEnv {
  type(name: string): TensorType;
  /** The node that currently defines `name`, if a node does. */
  producer(name: string): Node | undefined;
  /** The one value all elements of constant `name` hold ("empty" for no elements), if it is such a constant. */
  splat(name: string): number | "empty" | undefined;
  /** A new constant of `type` filled with `value`, or undefined when it would exceed the fold limit. */
  filled(type: TensorType, value: number): string | undefined;
}

type Rule = (node: Node, env: RuleEnv) => Outcome | undefined;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x));

/** Splat test: an empty constant matches anything (it only ever meets empty results, checked by type). */
function splatIs(s: number | "empty" | undefined, test: (v: number) => boolean): boolean {
  return s === "empty" || (s !== undefined && test(s));
}

/** `node`'s single result is `x` when the types agree (broadcasting may make them differ). */
function replaceBy(node: Node, x: string, env: RuleEnv): Outcome | undefined {
  const r = node.results[0];
  if (node.results.length !== 1 || !r || !sameType(r.type, env.type(x))) return undefined;
  return { kind: "replace", values: [x] };
}

/**
 * `op(x, c)` is x when constant c is a splat of an identity element. `sides` says where the
 * constant may sit (commutative ops accept it on either side).
 */
function identityOperand(sides: "either" | "right", isIdentity: (value: number, dtype: DType) => boolean): Rule {
  return (node, env) => {
    const pairs: [number, number][] = sides === "either" ? [[0, 1], [1, 0]] : [[0, 1]];
    for (const [xi, ci] of pairs) {
      const x = node.operands[xi]!;
      const c = node.operands[ci]!;
      const dtype = env.type(x).dtype;
      if (!splatIs(env.splat(c), (v) => isIdentity(v, dtype))) continue;
      const out = replaceBy(node, x, env);
      if (out) return out;
    }
    return undefined;
  };
}

/** Integer (and bool) x * 0 is 0 for every x, with wrapping; floats are excluded (NaN, inf, -0). */
const mulByZero: Rule = (node, env) => {
  const r = node.results[0]!;
  if (isFloat(r.type.dtype)) return undefined;
  for (const c of node.operands) {
    if (!splatIs(env.splat(c), (v) => v === 0)) continue;
    if (sameType(env.type(c), r.type)) return { kind: "replace", values: [c] };
    const zeros = env.filled(r.type, 0);
    if (zeros) return { kind: "replace", values: [zeros] };
    // Too big to materialize: the zero constant broadcast to the result is still cheaper than mul.
    return { kind: "rewrite", node: { ...node, op: "broadcastTo", operands: [c], attrs: { shape: [...r.type.shape] } } };
  }
  return undefined;
};

/** op(op(x)) = x for an involution. */
function involution(op: string): Rule {
  return (node, env) => {
    const inner = env.producer(node.operands[0]!);
    if (!inner || inner.op !== op || inner.operands.length !== 1) return undefined;
    return replaceBy(node, inner.operands[0]!, env);
  };
}

const isIdentityPerm = (perm: readonly number[]): boolean => perm.every((p, i) => p === i);

const transposeRule: Rule = (node, env) => {
  const perm = node.attrs["perm"];
  if (!isIntList(perm)) return undefined;
  const x = node.operands[0]!;
  if (isIdentityPerm(perm)) return replaceBy(node, x, env);
  const inner = env.producer(x);
  const innerPerm = inner?.attrs["perm"];
  if (!inner || inner.op !== "transpose" || !isIntList(innerPerm) || innerPerm.length !== perm.length) return undefined;
  // Output axis i of the outer transpose is its input axis perm[i], which is x's axis innerPerm[perm[i]].
  const composed = perm.map((p) => innerPerm[p]!);
  if (isIdentityPerm(composed)) return replaceBy(node, inner.operands[0]!, env);
  return { kind: "rewrite", node: { ...node, operands: [inner.operands[0]!], attrs: { perm: composed } } };
};

/** reshape and broadcastTo: to the operand's own shape is the operand; a chain is one op from the start. */
function shapeChain(op: "reshape" | "broadcastTo"): Rule {
  return (node, env) => {
    const shape = node.attrs["shape"];
    if (!isIntList(shape)) return undefined;
    const x = node.operands[0]!;
    if (sameShape(env.type(x).shape, shape)) return replaceBy(node, x, env);
    const inner = env.producer(x);
    if (!inner || inner.op !== op || inner.operands.length !== 1) return undefined;
    const source = inner.operands[0]!;
    if (sameShape(env.type(source).shape, shape)) return replaceBy(node, source, env);
    return { kind: "rewrite", node: { ...node, operands: [source] } };
  };
}

const RANK: Record<DType, number> = { bool: 0, uint8: 1, int32: 2, float32: 3, float64: 4 };

/** Whether casting from `a` to `b` keeps every value exactly (and cast back would restore it). */
export function castIsLossless(a: DType, b: DType): boolean {
  if (a === b || a === "bool") return true;
  if (b === "bool") return false;
  if (a === "int32") return b === "float64"; // float32 has 24 significant bits
  return RANK[b] > RANK[a]; // uint8 -> int32/f32/f64, float32 -> float64
}

/**
 * Whether cast(cast(x: a, b), c) equals cast(x, c) for every x. The inner cast must be lossless,
 * and one more thing: an integer cast to a narrower integer wraps while a float cast saturates,
 * so int32 -> float64 -> uint8 differs from int32 -> uint8 (300 gives 255, not 44). That can only
 * happen when some value of `a` does not fit in `c`.
 */
export function castChainIsExact(a: DType, b: DType, c: DType): boolean {
  if (!castIsLossless(a, b)) return false;
  const narrowing = !isFloat(c) && c !== "bool" && !isFloat(a) && isFloat(b) && !castIsLossless(a, c);
  return !narrowing;
}

const castRule: Rule = (node, env) => {
  const to = node.attrs["dtype"];
  const x = node.operands[0]!;
  const from = env.type(x).dtype;
  if (to === from) return replaceBy(node, x, env);
  const inner = env.producer(x);
  if (!inner || inner.op !== "cast" || !isDType(to)) return undefined;
  const source = inner.operands[0]!;
  const origin = env.type(source).dtype;
  if (!castChainIsExact(origin, from, to)) return undefined;
  if (origin === to) return replaceBy(node, source, env);
  return { kind: "rewrite", node: { ...node, operands: [source] } };
};

/** The rewrite rules, by op. Each is exact under IEEE 754 and integer wrapping (see docs/passes.md). */
const RULES: Readonly<Record<string, readonly Rule[]>> = {
  // Integers and bool: x + 0 (or x | false). Floats: only x + (-0); x + (+0) turns -0 into +0.
  add: [identityOperand("either", (v, d) => (isFloat(d) ? Object.is(v, -0) : v === 0))],
  // Floats: x - (+0) is exact (-0 - 0 = -0); x - (-0) = x + 0 is not.
  sub: [identityOperand("right", (v, d) => (isFloat(d) ? Object.is(v, 0) : v === 0))],
  mul: [identityOperand("either", (v) => v === 1), mulByZero],
  div: [identityOperand("right", (v) => v === 1)],
  neg: [involution("neg")],
  transpose: [transposeRule],
  reshape: [shapeChain("reshape")],
  broadcastTo: [shapeChain("broadcastTo")],
  cast: [castRule],
};

// ---- the rewriter ------------------------------------------------------------------------------

/** All names a graph defines, regions included, for picking fresh constant names. */
function allNames(g: Graph): string[] {
  const names: string[] = [...g.params.map((p) => p.name), ...g.constants.map((c) => c.name)];
  const walk = (nodes: readonly Node[]): void => {
    for (const n of nodes) {
      for (const r of n.results) names.push(r.name);
      for (const region of n.regions ?? []) walkRegion(region);
    }
  };
  const walkRegion = (r: Region): void => {
    for (const p of r.params) names.push(p.name);
    walk(r.nodes);
  };
  walk(g.nodes);
  return names;
}

function splatOf(data: TypedArray): number | "empty" | undefined {
  if (data.length === 0) return "empty";
  const first = data[0]!;
  // Object.is: a mix of 0 and -0 is not a splat of either.
  for (let i = 1; i < data.length; i++) if (!Object.is(data[i], first)) return undefined;
  return first;
}

class Canonicalizer implements RuleEnv {
  private readonly constants = new Map<string, Constant>();
  private readonly newConstants: Constant[] = [];
  private readonly types = new Map<string, TensorType>();
  private readonly producers = new Map<string, Node>();
  private readonly splats = new Map<string, number | "empty" | undefined>();
  /** Value -> the value that replaces it. */
  private readonly subst = new Map<string, string>();
  /** Current nodes; undefined where a node was removed. */
  private readonly nodes: (Node | undefined)[];
  private nextConstant: number;
  private changed = false;

  constructor(
    private readonly graph: Graph,
    private readonly ctx: PassContext,
  ) {
    for (const p of graph.params) this.types.set(p.name, p.type);
    for (const c of graph.constants) {
      this.constants.set(c.name, c);
      this.types.set(c.name, c.type);
    }
    for (const n of graph.nodes) for (const r of n.results) this.types.set(r.name, r.type);
    this.nodes = [...graph.nodes];
    let max = -1;
    for (const name of allNames(graph)) {
      const m = /^%c(\d+)$/.exec(name);
      if (m) max = Math.max(max, Number(m[1]));
    }
    this.nextConstant = max + 1;
  }

  // ---- RuleEnv ----
  type(name: string): TensorType {
    const t = this.types.get(name);
    if (!t) throw new Error(`canonicalize: ${name} has no type (verify the graph first)`);
    return t;
  }
  producer(name: string): Node | undefined {
    return this.producers.get(name);
  }
  splat(name: string): number | "empty" | undefined {
    const c = this.constants.get(name);
    if (!c) return undefined;
    if (!this.splats.has(name)) this.splats.set(name, splatOf(c.data));
    return this.splats.get(name);
  }
  filled(type: TensorType, value: number): string | undefined {
    const n = sizeOf(type.shape);
    if (n > this.ctx.foldLimit) return undefined;
    const data = new (dtypeInfo(type.dtype).array)(n);
    data.fill(value);
    return this.addConstant(type, data);
  }

  private addConstant(type: TensorType, data: TypedArray): string {
    const c: Constant = { name: `%c${this.nextConstant++}`, type: { dtype: type.dtype, shape: [...type.shape] }, data };
    this.constants.set(c.name, c);
    this.types.set(c.name, c.type);
    this.newConstants.push(c);
    return c.name;
  }

  private resolve = (name: string): string => {
    let cur = name;
    for (let next = this.subst.get(cur); next !== undefined; next = this.subst.get(cur)) cur = next;
    return cur;
  };

  /** Evaluates a node whose operands are all constants; undefined when it cannot or must not fold. */
  private fold(node: Node): string[] | undefined {
    const evaluate = this.ctx.evaluate;
    if (!evaluate || !hasOp(node.op) || hasEffect(node) || (node.regions?.length ?? 0) > 0) return undefined;
    const inputs: HostValue[] = [];
    for (const o of node.operands) {
      const c = this.constants.get(o);
      if (!c) return undefined;
      inputs.push({ data: c.data, type: c.type });
    }
    const outTypes = node.results.map((r) => r.type);
    if (outTypes.reduce((n, t) => n + sizeOf(t.shape), 0) > this.ctx.foldLimit) return undefined;
    let outs: TypedArray[];
    try {
      outs = evaluate(getOp(node.op), inputs, node.attrs as Attrs, outTypes);
    } catch {
      // The op fails on these values (an index out of range...): leave it to fail when it runs.
      return undefined;
    }
    if (!Array.isArray(outs) || outs.length !== outTypes.length) return undefined;
    for (let k = 0; k < outs.length; k++) {
      const t = outTypes[k]!;
      if (!(outs[k] instanceof dtypeInfo(t.dtype).array) || outs[k]!.length !== sizeOf(t.shape)) return undefined;
    }
    return outs.map((data, k) => this.addConstant(outTypes[k]!, data));
  }

  private rewrite(node: Node): Outcome | undefined {
    if (hasEffect(node)) return undefined;
    const folded = this.fold(node);
    if (folded) return { kind: "replace", values: folded };
    for (const rule of RULES[node.op] ?? []) {
      const out = rule(node, this);
      if (out) return out;
    }
    return undefined;
  }

  /** One pass over the nodes in order; returns whether a rule fired. */
  private sweep(): boolean {
    let fired = false;
    for (let i = 0; i < this.nodes.length; i++) {
      const original = this.nodes[i];
      if (!original) continue;
      let node = renameNode(original, this.resolve);
      // A rewritten node may rewrite again (a chain folding into one op), so try until it settles.
      for (let guard = 0; guard < 8; guard++) {
        const out = this.rewrite(node);
        if (!out) break;
        fired = true;
        if (out.kind === "replace") {
          node.results.forEach((r, k) => this.subst.set(r.name, out.values[k]!));
          this.nodes[i] = undefined;
          break;
        }
        node = out.node;
      }
      if (this.nodes[i] === undefined) continue;
      this.nodes[i] = node;
      for (const r of node.results) this.producers.set(r.name, node);
    }
    return fired;
  }

  run(): Graph {
    for (let i = 0; i < MAX_CANONICALIZE_ITERATIONS && this.sweep(); i++) this.changed = true;
    if (!this.changed) return this.graph;
    const results = this.graph.results.map(this.resolve);
    const before = useCounts(this.graph);
    const wasUsed = (name: string): boolean => (before.get(name) ?? 0) > 0;
    const kept: (Node | undefined)[] = this.nodes.map((n) => n && renameNode(n, this.resolve));
    const after = useCounts({ ...this.graph, nodes: kept.filter((n): n is Node => n !== undefined), results });
    // Backwards, so a node freed by removing its only reader is seen after that reader.
    for (let i = kept.length - 1; i >= 0; i--) {
      const n = kept[i];
      if (!n || hasEffect(n) || n.results.length === 0) continue;
      if (n.results.some((r) => (after.get(r.name) ?? 0) > 0) || !n.results.some((r) => wasUsed(r.name))) continue;
      kept[i] = undefined;
      for (const name of nodeReads(n)) after.set(name, (after.get(name) ?? 0) - 1);
    }
    const fresh = new Set(this.newConstants.map((c) => c.name));
    const constants = [...this.graph.constants, ...this.newConstants].filter(
      (c) => (after.get(c.name) ?? 0) > 0 || !(wasUsed(c.name) || fresh.has(c.name)),
    );
    return freezeGraph({ ...this.graph, constants, nodes: kept.filter((n): n is Node => n !== undefined), results });
  }
}

/** Applies the algebraic identities and constant folding until nothing changes. */
export function canonicalize(graph: Graph, ctx: PassContext): Graph {
  return new Canonicalizer(graph, ctx).run();
}

export const canonicalizePass: Pass = {
  name: "canonicalize",
  description: "exact algebraic simplifications (x*1, neg(neg(x)), transpose/reshape chains, no-op casts...) and constant folding",
  run: (graph, ctx) => withRegions(graph, ctx, canonicalize),
};
