/**
 * Pytrees: nested arrays and plain objects whose leaves are tensors or static values (numbers,
 * strings, booleans, null, undefined, and any other object, compared by identity). `fn()` flattens
 * arguments and results with these, and builds its cache key from the structure and the leaves.
 */
import { ValueError } from "../ir/errors.js";
import { NDArray } from "../interop/ndarray.js";
import { Tensor } from "./tensor.js";

export type TreeDef =
  | { readonly kind: "leaf" }
  | { readonly kind: "array"; readonly children: readonly TreeDef[] }
  | { readonly kind: "object"; readonly keys: readonly string[]; readonly children: readonly TreeDef[] };

export interface Flat {
  readonly def: TreeDef;
  readonly leaves: unknown[];
  /** A readable path per leaf: `[0]`, `.w1`, `.layers[2].b`. */
  readonly paths: string[];
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object") return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** Whether a leaf holds tensor data (Tensor, NDArray or TypedArray): those become graph inputs. */
export function isTensorLeaf(x: unknown): x is Tensor | NDArray | ArrayBufferView {
  return x instanceof Tensor || x instanceof NDArray || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

export function flatten(tree: unknown, rootPath = ""): Flat {
  const leaves: unknown[] = [];
  const paths: string[] = [];
  const seen = new Set<object>();
  const walk = (x: unknown, path: string): TreeDef => {
    if (Array.isArray(x) || isPlainObject(x)) {
      if (seen.has(x)) throw new ValueError(`argument ${path || "tree"} contains a cycle; fn() arguments and results must be trees of arrays and plain objects`);
      seen.add(x);
      try {
        if (Array.isArray(x)) return { kind: "array", children: x.map((c, i) => walk(c, `${path}[${i}]`)) };
        const keys = Object.keys(x).sort();
        return { kind: "object", keys, children: keys.map((k) => walk(x[k], `${path}.${k}`)) };
      } finally {
        seen.delete(x);
      }
    }
    leaves.push(x);
    paths.push(path);
    return { kind: "leaf" };
  };
  const def = walk(tree, rootPath);
  return { def, leaves, paths };
}

export function unflatten(def: TreeDef, leaves: readonly unknown[]): unknown {
  let i = 0;
  const build = (d: TreeDef): unknown => {
    switch (d.kind) {
      case "leaf":
        return leaves[i++];
      case "array":
        return d.children.map(build);
      case "object": {
        const out: Record<string, unknown> = {};
        d.children.forEach((c, k) => (out[d.keys[k]!] = build(c)));
        return out;
      }
    }
  };
  return build(def);
}

export function treeDefKey(def: TreeDef): string {
  switch (def.kind) {
    case "leaf":
      return "*";
    case "array":
      return `[${def.children.map(treeDefKey).join(",")}]`;
    case "object":
      return `{${def.keys.map((k, i) => `${JSON.stringify(k)}:${treeDefKey(def.children[i]!)}`).join(",")}}`;
  }
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

/** A stable identity for objects used as static leaves (compared by identity, like Python objects). */
export function identityOf(x: object): number {
  let id = objectIds.get(x);
  if (id === undefined) {
    id = nextObjectId++;
    objectIds.set(x, id);
  }
  return id;
}

/** The cache-key piece of a static (non-tensor) leaf: its value, with its type. */
export function staticKey(x: unknown): string {
  switch (typeof x) {
    case "number":
      return Object.is(x, -0) ? "n:-0" : `n:${x}`;
    case "string":
      return `s:${JSON.stringify(x)}`;
    case "boolean":
      return `b:${x}`;
    case "undefined":
      return "u";
    case "bigint":
      return `i:${x}`;
    case "symbol":
      return `y:${String(x)}`;
    default:
      return x === null ? "null" : `o:${identityOf(x as object)}`;
  }
}

/** A readable form of a static leaf for messages. */
export function describeStatic(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "function") return `function ${x.name || "(anonymous)"}`;
  if (x !== null && typeof x === "object") return `${x.constructor?.name ?? "object"} #${identityOf(x)}`;
  return String(x);
}
