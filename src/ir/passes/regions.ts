/**
 * Running a pass inside the regions of control-flow ops (kind "control": cond, while, for, scan).
 * Each region body is optimized as a graph of its own: its parameters are the region's
 * parameters, its constants the graph's, its results the region's yields. Bodies are done first
 * (innermost first), then the top level. Nothing moves across a region boundary, so nothing is
 * hoisted out of a loop, and effects stay in their body in their order. `fused` regions are
 * kernels, not scopes to optimize, and are left alone.
 */
import { type Constant, freezeGraph, type Graph, type Node, type Region } from "../graph.js";
import { getOp, hasOp } from "../registry.js";
import { renameRegion } from "./dce.js";
import type { PassContext } from "./pass.js";

type GraphPass = (graph: Graph, ctx: PassContext) => Graph;

function isControl(node: Node): boolean {
  return (node.regions?.length ?? 0) > 0 && hasOp(node.op) && getOp(node.op).kind === "control";
}

/** Every name defined anywhere in the graph, regions included. */
function allNames(g: Graph): Set<string> {
  const names = new Set<string>([...g.params.map((p) => p.name), ...g.constants.map((c) => c.name)]);
  const walk = (nodes: readonly Node[]): void => {
    for (const n of nodes) {
      for (const r of n.results) names.add(r.name);
      for (const region of n.regions ?? []) {
        for (const p of region.params) names.add(p.name);
        walk(region.nodes);
      }
    }
  };
  walk(g.nodes);
  return names;
}

/** Hands out `%cN` names that no value of the graph (nor an earlier handout) uses. */
class ConstantNamer {
  private next = 0;
  constructor(private readonly taken: Set<string>) {
    for (const name of taken) {
      const m = /^%c(\d+)$/.exec(name);
      if (m) this.next = Math.max(this.next, Number(m[1]) + 1);
    }
  }
  fresh(): string {
    let name: string;
    do name = `%c${this.next++}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }
  claim(name: string): boolean {
    if (this.taken.has(name)) return false;
    this.taken.add(name);
    return true;
  }
}

interface State {
  constants: Constant[];
  readonly namer: ConstantNamer;
}

/**
 * Optimizes one region with `pass` (recursively), reading and extending the graph's constant
 * table. A constant the pass creates keeps its name unless another value of the graph has it.
 */
function runInRegion(region: Region, pass: GraphPass, ctx: PassContext, state: State, name: string): Region {
  const sub: Graph = freezeGraph({ name, params: [...region.params], constants: [...state.constants], nodes: [...region.nodes], results: [...region.results] });
  const out = runWithRegions(sub, pass, ctx, state);
  // Constants nested regions added are in the table already; the rest are this body's folds.
  const known = new Set(state.constants.map((c) => c.name));
  const rename = new Map<string, string>();
  for (const c of out.constants) {
    if (known.has(c.name)) continue;
    const fresh = state.namer.claim(c.name) ? c.name : state.namer.fresh();
    if (fresh !== c.name) rename.set(c.name, fresh);
    state.constants.push(fresh === c.name ? c : { ...c, name: fresh });
  }
  if (out.nodes === sub.nodes && out.results === sub.results && rename.size === 0) return region;
  const optimized: Region = { params: region.params, nodes: out.nodes, results: out.results };
  return rename.size === 0 ? optimized : renameRegion(optimized, (n) => rename.get(n) ?? n, new Set());
}

function runWithRegions(graph: Graph, pass: GraphPass, ctx: PassContext, state: State): Graph {
  let changed = false;
  const nodes = graph.nodes.map((node) => {
    if (!isControl(node)) return node;
    const regions = node.regions!.map((r, k) => runInRegion(r, pass, ctx, state, `${graph.name}.${node.results[0]?.name ?? node.op}.region${k}`));
    if (regions.every((r, k) => r === node.regions![k])) return node;
    changed = true;
    return { ...node, regions };
  });
  // Constants the regions added are visible to the top level (and kept even if unused there).
  const added = state.constants.filter((c) => !graph.constants.some((g) => g.name === c.name));
  const withBodies = changed || added.length > 0 ? freezeGraph({ ...graph, constants: [...graph.constants, ...added], nodes }) : graph;
  // Constants this level merges or drops stay in the table: other bodies may still read them,
  // and the graph's own passes clean them up at the top level.
  return pass(withBodies, ctx);
}

/**
 * Runs `pass` inside every control-flow region (innermost first), then over the graph. Returns
 * `graph` itself when nothing changes anywhere.
 */
export function withRegions(graph: Graph, ctx: PassContext, pass: GraphPass): Graph {
  if (!graph.nodes.some(isControl)) return pass(graph, ctx);
  const state: State = { constants: [...graph.constants], namer: new ConstantNamer(allNames(graph)) };
  return runWithRegions(graph, pass, ctx, state);
}
