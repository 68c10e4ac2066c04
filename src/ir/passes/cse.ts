/**
 * Common subexpression elimination. Two nodes with the same op, the same operands (after earlier
 * merges), structurally equal attributes, the same result types and identical regions compute the
 * same values, so the later one is dropped and its results read the earlier one's. Ops with an
 * effect never merge (two debugPrints print twice). Constants of the same type and bit-identical
 * data merge first, so nodes that read equal constants merge too.
 *
 * Random ops merge like any other: their results are a function of the key operand and the attributes.
 */
import { type Constant, freezeGraph, type Graph, type Node, type Region } from "../graph.js";
import type { AttrValue } from "../registry.js";
import { formatType } from "../types.js";
import { hasEffect, renameNode } from "./dce.js";
import { withRegions } from "./regions.js";
import type { Pass } from "./pass.js";

function bytesOf(c: Constant): Uint8Array {
  return new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength);
}

/** FNV-1a over the bytes: a bucket key; equal buckets are then compared byte by byte. */
function hashBytes(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Attribute data as a canonical string: dict keys sorted, -0 distinct from 0 (they can mean
 * different things to an op), NaN and infinities spelled out (JSON would write null).
 */
export function attrKey(v: AttrValue): string {
  if (v === null) return "null";
  if (typeof v === "number") {
    if (Object.is(v, -0)) return "-0";
    return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  }
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map((x) => attrKey(x as AttrValue)).join(",")}]`;
  const d = v as { readonly [k: string]: AttrValue };
  return `{${Object.keys(d)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${attrKey(d[k]!)}`)
    .join(",")}}`;
}

function regionKey(r: Region): string {
  const params = r.params.map((p) => `${p.name}:${formatType(p.type)}`).join(",");
  // Inside a region the result names matter: later nodes and the yield refer to them.
  return `^(${params}){${r.nodes.map((n) => `${n.results.map((res) => res.name).join(",")}=${nodeKey(n)}`).join(";")}}yield(${r.results.join(",")})`;
}

/** Everything that determines a node's values: op, operands, attributes, result types, regions. */
function nodeKey(n: Node): string {
  const results = n.results.map((r) => formatType(r.type)).join(",");
  const regions = (n.regions ?? []).map(regionKey).join(",");
  return `${JSON.stringify(n.op)}(${n.operands.join(",")})${attrKey(n.attrs)}:${results}[${regions}]`;
}

/** Merges equal constants and equal nodes; returns `graph` itself when nothing merges. */
export function cse(graph: Graph): Graph {
  const rename = new Map<string, string>();
  const to = (name: string): string => rename.get(name) ?? name;

  const constants: Constant[] = [];
  const buckets = new Map<string, Constant[]>();
  for (const c of graph.constants) {
    const bytes = bytesOf(c);
    const key = `${formatType(c.type)}#${hashBytes(bytes)}`;
    const bucket = buckets.get(key) ?? [];
    const twin = bucket.find((k) => sameBytes(bytesOf(k), bytes));
    if (twin) {
      rename.set(c.name, twin.name);
      continue;
    }
    bucket.push(c);
    buckets.set(key, bucket);
    constants.push(c);
  }

  const nodes: Node[] = [];
  const seen = new Map<string, Node>();
  for (const original of graph.nodes) {
    const node = renameNode(original, to);
    // Effects must each run; a node without results is dead anyway (DCE's business).
    if (hasEffect(node) || node.results.length === 0) {
      nodes.push(node);
      continue;
    }
    const key = nodeKey(node);
    const twin = seen.get(key);
    if (twin) {
      node.results.forEach((r, k) => rename.set(r.name, twin.results[k]!.name));
      continue;
    }
    seen.set(key, node);
    nodes.push(node);
  }

  if (rename.size === 0) return graph;
  return freezeGraph({ ...graph, constants, nodes, results: graph.results.map(to) });
}

export const csePass: Pass = {
  name: "cse",
  description: "merge nodes that compute the same values (never effects) and bit-identical constants",
  run: (graph, ctx) => withRegions(graph, ctx, cse),
};
