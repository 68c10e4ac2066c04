/**
 * Dead code elimination: drops every node none of whose results is used (transitively) unless it
 * has an effect, and every constant nothing reads. Parameters always stay: they are the function's
 * signature.
 *
 * Also the small use/effect/renaming helpers the other passes share.
 */
import { freezeGraph, type Graph, type Node, type Region } from "../graph.js";
import { getOp, hasOp } from "../registry.js";
import { withRegions } from "./regions.js";
import type { Pass } from "./pass.js";

/**
 * Whether a node must stay even when its results are unused: its op has an effect, its op is
 * unknown (nothing is known about it, so nothing is assumed), or a region of it holds such a node.
 */
export function hasEffect(node: Node): boolean {
  if (!hasOp(node.op) || getOp(node.op).effect === true) return true;
  return (node.regions ?? []).some((r) => r.nodes.some(hasEffect));
}

/**
 * The names a region tree reads from outside itself: operands and yields not defined inside it.
 * A region sees only its parameters and the graph's constants, so for a valid graph these are
 * constants. Local names may repeat top-level ones (scopes are separate), hence the exclusion.
 */
function regionFreeNames(r: Region, out: Set<string>, outer: ReadonlySet<string> = new Set()): void {
  const local = new Set(outer);
  for (const p of r.params) local.add(p.name);
  for (const n of r.nodes) {
    for (const o of n.operands) if (!local.has(o)) out.add(o);
    for (const inner of n.regions ?? []) regionFreeNames(inner, out, local);
    for (const res of n.results) local.add(res.name);
  }
  for (const y of r.results) if (!local.has(y)) out.add(y);
}

/** The top-level values a node reads: its operands and the constants its regions use. */
export function nodeReads(node: Node): string[] {
  if (!node.regions || node.regions.length === 0) return [...node.operands];
  const free = new Set<string>();
  for (const r of node.regions) regionFreeNames(r, free);
  return [...node.operands, ...free];
}

/** How many times each top-level value is read by a node or returned by the graph. */
export function useCounts(graph: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  const add = (name: string): void => void uses.set(name, (uses.get(name) ?? 0) + 1);
  for (const n of graph.nodes) for (const name of nodeReads(n)) add(name);
  for (const r of graph.results) add(r);
  return uses;
}

export function renameRegion(r: Region, rename: (name: string) => string, outer: ReadonlySet<string>): Region {
  const local = new Set(outer);
  for (const p of r.params) local.add(p.name);
  const nodes = r.nodes.map((n) => {
    const operands = n.operands.map((o) => (local.has(o) ? o : rename(o)));
    const regions = n.regions?.map((inner) => renameRegion(inner, rename, local));
    for (const res of n.results) local.add(res.name);
    return { ...n, operands, ...(regions ? { regions } : {}) };
  });
  const results = r.results.map((y) => (local.has(y) ? y : rename(y)));
  return { params: r.params, nodes, results };
}

/**
 * A node with every top-level name it reads passed through `rename` (names its regions define
 * themselves are left alone). Returns the node itself when nothing changes.
 */
export function renameNode(node: Node, rename: (name: string) => string): Node {
  const operands = node.operands.map(rename);
  let changed = operands.some((o, i) => o !== node.operands[i]);
  let regions = node.regions;
  if (regions && regions.length > 0) {
    const free = new Set<string>();
    for (const r of regions) regionFreeNames(r, free);
    if ([...free].some((f) => rename(f) !== f)) {
      regions = regions.map((r) => renameRegion(r, rename, new Set()));
      changed = true;
    }
  }
  if (!changed) return node;
  return { ...node, operands, ...(regions ? { regions } : {}) };
}

/** Removes dead nodes and unused constants; returns `graph` itself when nothing is dead. */
export function dce(graph: Graph): Graph {
  const live = new Set(graph.results);
  const keep = new Array<boolean>(graph.nodes.length).fill(false);
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i]!;
    if (hasEffect(node) || node.results.some((r) => live.has(r.name))) {
      keep[i] = true;
      for (const name of nodeReads(node)) live.add(name);
    }
  }
  const nodes = graph.nodes.filter((_, i) => keep[i]);
  const constants = graph.constants.filter((c) => live.has(c.name));
  if (nodes.length === graph.nodes.length && constants.length === graph.constants.length) return graph;
  return freezeGraph({ ...graph, constants, nodes });
}

export const dcePass: Pass = {
  name: "dce",
  description: "remove nodes whose results are unused (unless they have an effect) and unused constants",
  run: (graph, ctx) => withRegions(graph, ctx, dce),
};
