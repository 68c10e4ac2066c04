/**
 * Structural equality of graphs, for round-trip tests and for passes that want to know whether
 * they changed anything. Attributes compare structurally (key order does not matter, -0 and 0
 * differ); constants compare element by element in their bits, except that any NaN equals any NaN
 * (payloads aside); source locations are part of a node. An absent `regions` equals an empty list.
 */
import { dtypeOfTypedArray, type TypedArray } from "./dtype.js";
import type { Constant, Graph, Node, Region, SourceLoc, Value } from "./graph.js";
import type { AttrValue } from "./registry.js";
import { formatType, sameType } from "./types.js";

/** Whether two graphs are structurally identical. */
export function graphEqual(a: Graph, b: Graph): boolean {
  return graphDiff(a, b) === undefined;
}

/** The first difference between two graphs, as `path: a vs b`, or undefined when they are equal. */
export function graphDiff(a: Graph, b: Graph): string | undefined {
  if (a.name !== b.name) return `name: ${JSON.stringify(a.name)} vs ${JSON.stringify(b.name)}`;
  return (
    listDiff("params", a.params, b.params, valueDiff) ??
    listDiff("constants", a.constants, b.constants, constantDiff) ??
    listDiff("nodes", a.nodes, b.nodes, nodeDiff) ??
    namesDiff("results", a.results, b.results)
  );
}

function listDiff<T>(path: string, a: readonly T[], b: readonly T[], item: (path: string, x: T, y: T) => string | undefined): string | undefined {
  if (a.length !== b.length) return `${path}: ${a.length} vs ${b.length} entries`;
  for (let i = 0; i < a.length; i++) {
    const d = item(`${path}[${i}]`, a[i]!, b[i]!);
    if (d !== undefined) return d;
  }
  return undefined;
}

function namesDiff(path: string, a: readonly string[], b: readonly string[]): string | undefined {
  return listDiff(path, a, b, (p, x, y) => (x === y ? undefined : `${p}: ${x} vs ${y}`));
}

function valueDiff(path: string, a: Value, b: Value): string | undefined {
  if (a.name !== b.name) return `${path}.name: ${a.name} vs ${b.name}`;
  if (!sameType(a.type, b.type)) return `${path}.type: ${formatType(a.type)} vs ${formatType(b.type)}`;
  return undefined;
}

function constantDiff(path: string, a: Constant, b: Constant): string | undefined {
  const v = valueDiff(path, a, b);
  if (v !== undefined) return v;
  return dataDiff(`${path}.data`, a.data, b.data);
}

function dataDiff(path: string, a: TypedArray, b: TypedArray): string | undefined {
  const ka = dtypeOfTypedArray(a);
  const kb = dtypeOfTypedArray(b);
  if (ka !== kb) return `${path}: ${a.constructor.name} vs ${b.constructor.name}`;
  if (a.length !== b.length) return `${path}: ${a.length} vs ${b.length} elements`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    // Object.is tells -0 from 0 and holds NaN equal to NaN, which is the bit comparison we want
    // for typed-array elements (NaN payloads aside).
    if (!Object.is(x, y)) return `${path}[${i}]: ${Object.is(x, -0) ? "-0" : x} vs ${Object.is(y, -0) ? "-0" : y}`;
  }
  return undefined;
}

function nodeDiff(path: string, a: Node, b: Node): string | undefined {
  if (a.op !== b.op) return `${path}.op: ${a.op} vs ${b.op}`;
  return (
    namesDiff(`${path}.operands`, a.operands, b.operands) ??
    listDiff(`${path}.results`, a.results, b.results, valueDiff) ??
    attrDiff(`${path}.attrs`, a.attrs, b.attrs) ??
    locDiff(`${path}.loc`, a.loc, b.loc) ??
    listDiff(`${path}.regions`, a.regions ?? [], b.regions ?? [], regionDiff)
  );
}

function regionDiff(path: string, a: Region, b: Region): string | undefined {
  return (
    listDiff(`${path}.params`, a.params, b.params, valueDiff) ??
    listDiff(`${path}.nodes`, a.nodes, b.nodes, nodeDiff) ??
    namesDiff(`${path}.results`, a.results, b.results)
  );
}

function showLoc(l: SourceLoc | undefined): string {
  return l ? `${JSON.stringify(l.file)}:${l.line}:${l.col}` : "none";
}

function locDiff(path: string, a: SourceLoc | undefined, b: SourceLoc | undefined): string | undefined {
  if (a === undefined && b === undefined) return undefined;
  if (a === undefined || b === undefined || a.file !== b.file || !Object.is(a.line, b.line) || !Object.is(a.col, b.col)) {
    return `${path}: ${showLoc(a)} vs ${showLoc(b)}`;
  }
  return undefined;
}

function showAttr(v: AttrValue | undefined): string {
  if (v === undefined) return "absent";
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  return JSON.stringify(v) ?? String(v);
}

type Dict = { readonly [k: string]: AttrValue };

const isDict = (v: AttrValue | undefined): v is Dict => typeof v === "object" && v !== null && !Array.isArray(v);

/** Structural comparison of attribute data; dict key order is irrelevant. */
export function attrDiff(path: string, a: AttrValue | undefined, b: AttrValue | undefined): string | undefined {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: ${showAttr(a)} vs ${showAttr(b)}`;
    for (let i = 0; i < a.length; i++) {
      const d = attrDiff(`${path}[${i}]`, a[i] as AttrValue, b[i] as AttrValue);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (isDict(a) && isDict(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const has = (d: Dict): boolean => Object.prototype.hasOwnProperty.call(d, k);
      const d = attrDiff(`${path}.${k}`, has(a) ? a[k] : undefined, has(b) ? b[k] : undefined);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (Object.is(a, b)) return undefined;
  return `${path}: ${showAttr(a)} vs ${showAttr(b)}`;
}
