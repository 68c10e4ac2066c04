/**
 * The fuse pass: greedy producer-consumer fusion. Groups of nodes become one `fused` node each (a
 * kernel for the backend), so intermediates between them are never written to memory.
 *
 * ## The region format (what a code generator reads)
 *
 *   %5, %7 = fused(%x, %0, %b) {kind = "elementwise"} : f32[4,5], f32[4,5] {
 *     ^(%a0: f32[4,5], %a1: f32[4,1], %a2: f32[5]):
 *       %t0 = sub(%a0, %a1) : f32[4,5]
 *       %t1 = exp(%t0) : f32[4,5]
 *       %t2 = add(%t1, %a2) : f32[4,5]
 *       yield %t1, %t2
 *   }
 *
 * - One region. Its parameters are the node's operands one for one, same types (`%a0, %a1, ...`
 *   in first-use order: the order in which the body's nodes read them). Operands are distinct
 *   values; graph constants are passed as operands too, so a body reads ONLY its parameters and
 *   its own values (`%t0, %t1, ...`). Every body node has exactly one result.
 * - Body nodes are copies of the original nodes (same op, attributes and loc), in the original
 *   topological order. The node's results keep the original values' names, so the rest of the
 *   graph reads them unchanged; they are, in order, the region's yields.
 * - `kind = "elementwise"`: every body node is an elementwise op (kind "elementwise": including
 *   cast and where), operands broadcast as the ops do (NumPy rules). The iteration space is the
 *   broadcast of all parameter shapes; every yield has exactly that shape (dtypes may differ).
 *   Body values may be smaller (`%t0 = neg(%a2) : f32[5]` inside a [4,5] kernel): their element
 *   at an output index is the one at the broadcast index, so computing every body value per
 *   output element, reading each parameter at its broadcast index, is correct. One or more yields.
 * - `kind = "reduce"`: elementwise body nodes as above, then the LAST node is one reduction
 *   (reduceSum, reduceMax, reduceMin, reduceProd or reduceMean, with its usual `axes`/`keepDims`)
 *   whose result is the LAST yield. Every parameter broadcasts to the reduction's input shape
 *   (the elementwise part's iteration space). The yields before it, if any, are distinct
 *   elementwise body values of exactly the reduction's input shape (dtypes may differ): a code
 *   generator stores them in the same loop that accumulates, one element per iteration
 *   (a multi-output reduce: `yield %t1, %t2` with %t1 = exp(...) and %t2 = reduceSum(%t1)).
 * - `kind = "matmul"`: the FIRST node is `matmul(%a0, %a1)` of two parameters of rank >= 2
 *   (2-D, or batched with broadcast batch dims). The following nodes are elementwise, each reading
 *   at least one value computed from the matmul and otherwise parameters that broadcast to the
 *   matmul's result shape (bias [n], scale [], per-row [m,1]...), each with the matmul result's
 *   shape; the last node's result is the only yield (an epilogue: bias-add, activation, scaling).
 *
 * `fused` checks these rules in the verifier (src/ir/ops/fused.ts), and the interpreter runs a
 * fused node by interpreting its body with the same kernels, so results are bit-identical.
 *
 * ## The rule (docs/passes.md has examples)
 *
 * 1. Matmul epilogues. A `matmul` whose operands have rank >= 2 and whose result has one consumer
 *    node (and is not a graph result) absorbs that consumer when it is elementwise, has the
 *    matmul result's shape and its other operands broadcast to it; and so on down the chain.
 * 2. Materialized vs recomputed elementwise values. The result of an elementwise node (not in an
 *    epilogue) is materialized — written to memory by the kernel that computes it — when it is a
 *    graph result, is unused, or is read by anything other than an elementwise node or a fusible
 *    reduction (reduceSum/Max/Min/Prod/Mean): a non-fusible op, an effect (debugPrint), a matmul,
 *    a control-flow/fused node, or an epilogue node (as its bias/scale). Every other elementwise
 *    value is cheap and is recomputed inside each kernel that needs it: its own inputs are
 *    materialized values, parameters or constants, which every consumer can read.
 * 3. Expensive shared producers. An elementwise node whose op is expensive (EXPENSIVE_ELEMENTWISE:
 *    exp, log, tanh, sigmoid, pow... not sqrt) that rule 2 would recompute in two or more kernels,
 *    one of them a fusible reduction's whose input has the node's shape, is computed once instead
 *    by the first such reduction's kernel and written as an extra result (it is "hosted", and
 *    counts as materialized for everything else). Softmax's exp(x - max) is written by the sum's
 *    kernel and read by the div. Nodes are decided last to first, so a node read only through a
 *    hosted consumer is not written needlessly. Cheap producers (add, sub, mul, compare, cast,
 *    sqrt...) are still recomputed. If hosting closes a cycle among the kernels (a kernel reading the hosted
 *    value feeds its host reduction, e.g. through a cumsum), the hosts of the kernels left unordered
 *    are banned and the pass runs again.
 * 4. Kernels. A fusible reduction becomes a reduce fusion with the recomputed elementwise values
 *    it depends on, and its hosted values with theirs (none: it stays a plain node). Each
 *    materialized elementwise value becomes a kernel with the recomputed values it depends on; kernels of the same output shape that share
 *    a recomputed node, or where one reads the other's output, are merged into one elementwise
 *    fusion with several results, unless the merge would create a cycle through another kernel
 *    or would cross an effect node (a debugPrint between them keeps them apart, so effects stay
 *    in their order). A kernel of one elementwise node stays a plain node.
 * 5. Expensive producers (matmul, conv2d, reductions, gather, anything not elementwise) are never
 *    duplicated: they are nodes or kernels of their own, read through their materialized results.
 *
 * The kernels are emitted in a topological order that keeps the original order where it can (each
 * kernel sorted by its last output's original position), so effect nodes keep their order.
 */
import { freezeGraph, type Graph, type Node, type Region, valueTypes } from "../graph.js";
import { FUSIBLE_REDUCTIONS, type FusedKind, isFusibleElementwise } from "../ops/fused.js";
import { getOp, hasOp } from "../registry.js";
import { broadcastShapes } from "../shape.js";
import { sameShape, type TensorType } from "../types.js";
import { hasEffect } from "./dce.js";
import { withRegions } from "./regions.js";
import type { Pass } from "./pass.js";

type KernelKind = FusedKind | "plain";

/**
 * Elementwise ops worth computing once rather than in every kernel that needs them (rule 3): the
 * ones whose CPU code is a call into a math routine (transcendentals, pow, atan2, and gelu/sigmoid/
 * erf, which are built from them), an order of magnitude dearer than an add or a store. sqrt and
 * rsqrt stay cheap: V8 inlines Math.sqrt as one instruction, about the cost of a division.
 */
export const EXPENSIVE_ELEMENTWISE: ReadonlySet<string> = new Set([
  "exp", "expm1", "log", "log1p", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
  "sigmoid", "erf", "gelu", "pow", "atan2",
]);

interface Kernel {
  readonly id: number;
  readonly kind: KernelKind;
  /** Original node indices in the kernel (recomputed elementwise nodes may be in several). */
  readonly members: Set<number>;
  /** The nodes whose results the kernel writes, ascending. */
  roots: number[];
  /** Sort key for emission: the original index of its last root. */
  key: number;
  /** The largest original node index among the members. */
  lastMember: number;
  alive: boolean;
  /** Elementwise kernels: the output shape and the effect segment of the roots. */
  readonly shape?: readonly number[];
  readonly segment: number;
  /** Cached external inputs (value names), cleared when the kernel changes. */
  inputs?: string[];
}

/** Whether `t` broadcasts to `shape` without growing it. */
function broadcastsTo(t: readonly number[], shape: readonly number[]): boolean {
  try {
    return sameShape(broadcastShapes(t, shape), shape);
  } catch {
    return false;
  }
}

class Fuser {
  private readonly nodes: readonly Node[];
  private readonly types: Map<string, TensorType>;
  private readonly producer = new Map<string, number>();
  /** Distinct consumer node indices of each value. */
  private readonly consumers = new Map<string, number[]>();
  private readonly graphResults: ReadonlySet<string>;
  /**
   * Number of effect nodes (dce's hasEffect: effect ops, unknown ops, regions holding them) up to
   * and including each node: kernels of outputs in different segments are never merged.
   */
  private readonly segment: number[] = [];
  /** Node index -> the matmul chain (by matmul index) that owns it. */
  private readonly claimed = new Map<number, number>();
  private readonly chains = new Map<number, number[]>();
  private readonly materializedCache = new Map<number, boolean>();
  /** Expensive elementwise node index -> the fusible reduction whose kernel computes and writes it (rule 3). */
  private readonly hosted = new Map<number, number>();
  /** The hosted nodes of each hosting reduction, ascending. */
  private readonly hostedBy = new Map<number, number[]>();
  private readonly kernels: Kernel[] = [];
  /** Value name -> kernel id whose output it is. */
  private readonly producerKernel = new Map<string, number>();
  /** Node index -> ids of the elementwise kernels holding it. */
  private readonly owners = new Map<number, Set<number>>();

  constructor(
    private readonly graph: Graph,
    /** Expensive nodes not to host: hosting them made a cycle in an earlier try. */
    private readonly banned: ReadonlySet<number>,
  ) {
    this.nodes = graph.nodes;
    this.types = valueTypes(graph);
    this.graphResults = new Set(graph.results);
    let effects = 0;
    this.nodes.forEach((n, i) => {
      for (const r of n.results) this.producer.set(r.name, i);
      for (const o of new Set(n.operands)) {
        const list = this.consumers.get(o);
        if (list) list.push(i);
        else this.consumers.set(o, [i]);
      }
      if (hasEffect(n)) effects++;
      this.segment.push(effects);
    });
  }

  /**
   * The fused graph; or, when hosting made the kernel graph cyclic, the hosted nodes of the
   * kernels left unordered, for the caller to ban and try again.
   */
  run(): { graph: Graph } | { retry: number[] } {
    this.findMatmulChains();
    this.findHosts();
    this.buildKernels();
    if (!this.kernels.some((k) => k.alive && k.kind !== "plain" && k.members.size > 1)) return { graph: this.graph };
    const { out, stuck } = this.order();
    if (stuck.length > 0) {
      const retry = stuck.flatMap((k) => k.roots.filter((r) => this.hosted.has(r)));
      // Merges alone never create cycles (rule 4): a cycle always runs through a hosting kernel.
      if (retry.length === 0) throw new Error("fuse: the kernel graph has a cycle (a bug in the fuse pass)");
      return { retry };
    }
    return { graph: freezeGraph({ ...this.graph, nodes: out.map((k) => this.emit(k)) }) };
  }

  // ---- classification ----------------------------------------------------------------------------

  private plainNode(i: number): boolean {
    const n = this.nodes[i]!;
    return n.results.length === 1 && !(n.regions && n.regions.length > 0) && hasOp(n.op);
  }

  private isElementwise(i: number): boolean {
    return this.plainNode(i) && isFusibleElementwise(getOp(this.nodes[i]!.op));
  }

  private isFusibleReduction(i: number): boolean {
    const n = this.nodes[i]!;
    return this.plainNode(i) && FUSIBLE_REDUCTIONS.has(n.op) && getOp(n.op).kind === "reduction";
  }

  private isMatmul(i: number): boolean {
    const n = this.nodes[i]!;
    if (!this.plainNode(i) || n.op !== "matmul" || n.operands.length !== 2) return false;
    return n.operands.every((o) => (this.types.get(o)?.shape.length ?? 0) >= 2);
  }

  private consumersOf(name: string): readonly number[] {
    return this.consumers.get(name) ?? [];
  }

  // ---- rule 1: matmul epilogues ------------------------------------------------------------------

  private findMatmulChains(): void {
    this.nodes.forEach((_, i) => {
      if (!this.isMatmul(i)) return;
      const mmShape = this.nodes[i]!.results[0]!.type.shape;
      const chain = [i];
      let tip = this.nodes[i]!.results[0]!.name;
      for (;;) {
        const users = this.consumersOf(tip);
        if (this.graphResults.has(tip) || users.length !== 1) break;
        const c = users[0]!;
        const node = this.nodes[c]!;
        if (!this.isElementwise(c) || this.claimed.has(c) || !sameShape(node.results[0]!.type.shape, mmShape)) break;
        const sideOk = node.operands.every((o) => o === tip || broadcastsTo(this.types.get(o)?.shape ?? [-1], mmShape));
        if (!sideOk) break;
        chain.push(c);
        tip = node.results[0]!.name;
      }
      if (chain.length < 2) return;
      for (const c of chain) this.claimed.set(c, i);
      this.chains.set(i, chain);
    });
  }

  // ---- rule 2: which elementwise values are written -----------------------------------------------

  /** Whether an unclaimed elementwise node's result must be materialized by rule 2 (before hosting). */
  private baseMaterialized(i: number): boolean {
    let m = this.materializedCache.get(i);
    if (m !== undefined) return m;
    const name = this.nodes[i]!.results[0]!.name;
    const users = this.consumersOf(name);
    m =
      this.graphResults.has(name) ||
      users.length === 0 ||
      users.some((c) => !((this.isElementwise(c) && !this.claimed.has(c)) || this.isFusibleReduction(c)));
    this.materializedCache.set(i, m);
    return m;
  }

  /** Whether an unclaimed elementwise node's result is written to memory (rule 2, or hosted by rule 3). */
  private materialized(i: number): boolean {
    return this.baseMaterialized(i) || this.hosted.has(i);
  }

  /** Whether node i is an elementwise node recomputed in its consumers' kernels. */
  private recomputed(i: number): boolean {
    return this.isElementwise(i) && !this.claimed.has(i) && !this.materialized(i);
  }

  // ---- rule 3: expensive shared producers are written by a reduce kernel --------------------------

  /**
   * For each expensive elementwise node that rule 2 would recompute in two or more kernels, one of
   * them a fusible reduction reading it at the reduction's input shape: that reduction's kernel
   * computes it once and writes it as an extra result, which the other kernels read. Nodes are
   * decided last to first, so a node whose every reader now reads a hosted consumer instead (exp
   * of a hosted exp) is not written needlessly.
   */
  private findHosts(): void {
    for (let j = this.nodes.length - 1; j >= 0; j--) {
      if (!EXPENSIVE_ELEMENTWISE.has(this.nodes[j]!.op) || this.banned.has(j) || !this.isElementwise(j) || this.claimed.has(j) || this.baseMaterialized(j)) continue;
      const readers = this.kernelsComputing(j);
      if (readers.size < 2) continue;
      const shape = this.nodes[j]!.results[0]!.type.shape;
      let host: number | undefined;
      for (const r of readers) {
        if (!this.isFusibleReduction(r) || (host !== undefined && host < r)) continue;
        if (sameShape(this.types.get(this.nodes[r]!.operands[0]!)?.shape ?? [-1], shape)) host = r;
      }
      if (host === undefined) continue;
      this.hosted.set(j, host);
      const list = this.hostedBy.get(host);
      if (list) list.unshift(j);
      else this.hostedBy.set(host, [j]);
    }
  }

  /**
   * The kernel roots (fusible reductions, materialized elementwise nodes; a hosted node counts as
   * its host) that would recompute the recomputed node j, given the hosts decided so far.
   */
  private kernelsComputing(j: number): Set<number> {
    const readers = new Set<number>();
    const seen = new Set<number>();
    const stack = [j];
    while (stack.length > 0) {
      const n = stack.pop()!;
      for (const c of this.consumersOf(this.nodes[n]!.results[0]!.name)) {
        if (seen.has(c)) continue;
        seen.add(c);
        const host = this.hosted.get(c);
        if (host !== undefined) readers.add(host);
        else if (this.isFusibleReduction(c) || this.baseMaterialized(c)) readers.add(c);
        else stack.push(c); // recomputed too: its readers compute j with it
      }
    }
    return readers;
  }

  /** The recomputed elementwise nodes that node i depends on, through recomputed nodes only. */
  private cone(i: number): number[] {
    const out: number[] = [];
    const seen = new Set<number>();
    const stack = [i];
    while (stack.length > 0) {
      const j = stack.pop()!;
      for (const o of this.nodes[j]!.operands) {
        const p = this.producer.get(o);
        if (p === undefined || seen.has(p) || !this.recomputed(p)) continue;
        seen.add(p);
        out.push(p);
        stack.push(p);
      }
    }
    return out;
  }

  // ---- rule 4: kernels ---------------------------------------------------------------------------

  private newKernel(kind: KernelKind, members: Iterable<number>, roots: number[], shape?: readonly number[]): Kernel {
    const last = roots[roots.length - 1]!;
    const set = new Set(members);
    const k: Kernel = { id: this.kernels.length, kind, members: set, roots, key: last, lastMember: Math.max(...set), alive: true, segment: this.segment[last]!, ...(shape ? { shape } : {}) };
    this.kernels.push(k);
    for (const r of roots) for (const v of this.nodes[r]!.results) this.producerKernel.set(v.name, k.id);
    if (kind === "elementwise") for (const m of k.members) this.ownersOf(m).add(k.id);
    return k;
  }

  private ownersOf(i: number): Set<number> {
    let s = this.owners.get(i);
    if (!s) this.owners.set(i, (s = new Set()));
    return s;
  }

  private buildKernels(): void {
    this.nodes.forEach((node, i) => {
      const chainOf = this.claimed.get(i);
      if (chainOf !== undefined) {
        if (chainOf === i) {
          const chain = this.chains.get(i)!;
          this.newKernel("matmul", chain, [chain[chain.length - 1]!]);
        }
        return;
      }
      if (this.isElementwise(i)) {
        // Recomputed inside its consumers' kernels, or written by its host reduction's kernel.
        if (!this.materialized(i) || this.hosted.has(i)) return;
        const k = this.newKernel("elementwise", [i, ...this.cone(i)], [i], node.results[0]!.type.shape);
        this.mergeElementwise(k);
        return;
      }
      if (this.isFusibleReduction(i)) {
        const hosts = this.hostedBy.get(i) ?? [];
        const members = [i, ...this.cone(i), ...hosts.flatMap((h) => [h, ...this.cone(h)])];
        this.newKernel(members.length > 1 ? "reduce" : "plain", members, [...hosts, i]);
        return;
      }
      this.newKernel("plain", [i], [i]);
    });
  }

  /** Values the kernel reads from outside itself, in first-use order (members in node order). */
  private inputsOf(k: Kernel): string[] {
    if (k.inputs) return k.inputs;
    const members = [...k.members].sort((a, b) => a - b);
    const inside = new Set<string>();
    for (const m of members) for (const r of this.nodes[m]!.results) inside.add(r.name);
    const seen = new Set<string>();
    const inputs: string[] = [];
    for (const m of members) {
      for (const o of this.nodes[m]!.operands) {
        if (inside.has(o) || seen.has(o)) continue;
        seen.add(o);
        inputs.push(o);
      }
    }
    k.inputs = inputs;
    return inputs;
  }

  /** The kernels whose outputs k reads. */
  private deps(k: Kernel): Set<number> {
    const out = new Set<number>();
    for (const v of this.inputsOf(k)) {
      const p = this.producerKernel.get(v);
      if (p !== undefined && p !== k.id) out.add(p);
    }
    return out;
  }

  /** Whether `from` depends on `to` through at least one other kernel. */
  private dependsIndirectly(from: Kernel, to: Kernel): boolean {
    // A kernel that reads `to`'s outputs, even transitively, has a member after `to`'s first
    // root; kernels entirely before it are not searched.
    const floor = to.roots[0]!;
    const seen = new Set<number>([from.id]);
    const stack = [...this.deps(from)].filter((d) => d !== to.id);
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (id === to.id) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      const k = this.kernels[id]!;
      if (k.lastMember <= floor) continue;
      for (const d of this.deps(k)) if (!seen.has(d)) stack.push(d);
    }
    return false;
  }

  /** Merges a new elementwise kernel into the connected ones it may join (rule 4). */
  private mergeElementwise(start: Kernel): void {
    let k = start;
    const candidates = new Set<number>();
    for (const m of k.members) for (const o of this.ownersOf(m)) candidates.add(o);
    for (const v of this.inputsOf(k)) {
      const p = this.producerKernel.get(v);
      if (p !== undefined) candidates.add(p);
    }
    candidates.delete(k.id);
    // Later (closer) kernels first: they are the likeliest to share work with the new one.
    for (const id of [...candidates].sort((a, b) => b - a)) {
      const g = this.kernels[id]!;
      if (!g.alive || g.kind !== "elementwise" || g.segment !== k.segment || !sameShape(g.shape!, k.shape!)) continue;
      if (this.dependsIndirectly(k, g) || this.dependsIndirectly(g, k)) continue;
      k = this.merge(g, k);
    }
  }

  /** Moves `b` into `a` (both elementwise); returns `a`. */
  private merge(a: Kernel, b: Kernel): Kernel {
    for (const m of b.members) {
      a.members.add(m);
      const owners = this.ownersOf(m);
      owners.delete(b.id);
      owners.add(a.id);
    }
    a.roots = [...new Set([...a.roots, ...b.roots])].sort((x, y) => x - y);
    a.key = a.roots[a.roots.length - 1]!;
    a.lastMember = Math.max(a.lastMember, b.lastMember);
    for (const r of b.roots) for (const v of this.nodes[r]!.results) this.producerKernel.set(v.name, a.id);
    delete a.inputs;
    b.alive = false;
    return a;
  }

  // ---- emission ----------------------------------------------------------------------------------

  /**
   * A topological order of the live kernels; among ready kernels the one with the smallest key
   * first. `stuck` holds the kernels that a cycle keeps out of it (empty when there is none).
   */
  private order(): { out: Kernel[]; stuck: Kernel[] } {
    const live = this.kernels.filter((k) => k.alive);
    const indegree = new Map<number, number>();
    const dependents = new Map<number, number[]>();
    for (const k of live) {
      const ds = this.deps(k);
      indegree.set(k.id, ds.size);
      for (const d of ds) {
        const list = dependents.get(d);
        if (list) list.push(k.id);
        else dependents.set(d, [k.id]);
      }
    }
    const heap = new MinHeap((id) => this.kernels[id]!.key);
    for (const k of live) if (indegree.get(k.id) === 0) heap.push(k.id);
    const out: Kernel[] = [];
    while (heap.size > 0) {
      const id = heap.pop();
      out.push(this.kernels[id]!);
      for (const d of dependents.get(id) ?? []) {
        const left = indegree.get(d)! - 1;
        indegree.set(d, left);
        if (left === 0) heap.push(d);
      }
    }
    // Merges never create cycles (rule 4); a hosted value can, when a kernel that reads it also
    // feeds its host reduction.
    const emitted = new Set(out.map((k) => k.id));
    return { out, stuck: live.filter((k) => !emitted.has(k.id)) };
  }

  private emit(k: Kernel): Node {
    if (k.kind === "plain" || k.members.size === 1) return this.nodes[k.roots[0]!]!;
    const members = [...k.members].sort((a, b) => a - b);
    const inputs = this.inputsOf(k);
    const taken = new Set(this.graph.constants.map((c) => c.name));
    const fresh = (prefix: string, counter: { n: number }): string => {
      let name: string;
      do name = `%${prefix}${counter.n++}`;
      while (taken.has(name));
      return name;
    };
    const local = new Map<string, string>();
    const paramCount = { n: 0 };
    const params = inputs.map((v) => {
      const name = fresh("a", paramCount);
      local.set(v, name);
      return { name, type: this.types.get(v)! };
    });
    const bodyCount = { n: 0 };
    const body: Node[] = members.map((m) => {
      const n = this.nodes[m]!;
      const operands = n.operands.map((o) => local.get(o)!);
      const results = n.results.map((r) => {
        const name = fresh("t", bodyCount);
        local.set(r.name, name);
        return { name, type: r.type };
      });
      return { op: n.op, operands, results, attrs: n.attrs, ...(n.loc ? { loc: n.loc } : {}) };
    });
    const outs = k.roots.flatMap((r) => this.nodes[r]!.results);
    const region: Region = { params, nodes: body, results: outs.map((r) => local.get(r.name)!) };
    const loc = this.nodes[k.roots[k.roots.length - 1]!]!.loc;
    return {
      op: "fused",
      operands: inputs,
      results: outs.map((r) => ({ name: r.name, type: r.type })),
      attrs: { kind: k.kind },
      ...(loc ? { loc } : {}),
      regions: [region],
    };
  }
}

/** A binary min-heap of ids by a numeric key (ties: smaller id first). */
class MinHeap {
  private readonly items: number[] = [];
  constructor(private readonly keyOf: (id: number) => number) {}
  get size(): number {
    return this.items.length;
  }
  private less(a: number, b: number): boolean {
    const ka = this.keyOf(a);
    const kb = this.keyOf(b);
    return ka < kb || (ka === kb && a < b);
  }
  push(id: number): void {
    const xs = this.items;
    xs.push(id);
    let i = xs.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(xs[i]!, xs[p]!)) break;
      [xs[i], xs[p]] = [xs[p]!, xs[i]!];
      i = p;
    }
  }
  pop(): number {
    const xs = this.items;
    const top = xs[0]!;
    const last = xs.pop()!;
    if (xs.length > 0) {
      xs[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < xs.length && this.less(xs[l]!, xs[m]!)) m = l;
        if (r < xs.length && this.less(xs[r]!, xs[m]!)) m = r;
        if (m === i) break;
        [xs[i], xs[m]] = [xs[m]!, xs[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Fuses elementwise chains, elementwise producers into reductions, and bias/activation epilogues
 * into matmuls (see the rule above); returns `graph` itself when nothing fuses.
 */
export function fuse(graph: Graph): Graph {
  // Each retry bans at least one more hosted node, so this ends (at worst with no hosting at all).
  const banned = new Set<number>();
  for (;;) {
    const r = new Fuser(graph, banned).run();
    if ("graph" in r) return r.graph;
    for (const j of r.retry) banned.add(j);
  }
}

export const fusePass: Pass = {
  name: "fuse",
  description: "fuse elementwise chains, elementwise producers into reductions and bias/activation epilogues into matmuls",
  run: (graph, ctx) => withRegions(graph, ctx, fuse),
};
