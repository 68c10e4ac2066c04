/**
 * The IR printer: Graph -> text. `parse(print(g))` gives back a graph equal to `g` (see equal.ts)
 * for every well-formed graph, and printing is deterministic, so printed IR can be diffed and used
 * as golden output.
 *
 *   func @predict(%arg0: f32[64,784], %arg1.w: f32[784,10]) -> (i32[64]) {
 *     const %c0: f32[3] = dense<[1, 2.5, -0]>
 *     const %c1: f32[784,10] = blob<"c1">
 *     %0 = matmul(%arg0, %c1) : f32[64,10] loc("examples/mlp.ts":14:38)
 *     %1 = argmax(%0) {axis = 1, keepDims = false} : i32[64]
 *     %2, %3 = split(%1) {axis = 0, sizes = [32, 32]} : i32[32], i32[32]
 *     %4 = fused(%0, %c0) : f32[64,10] {
 *       ^(%a: f32[64,10], %b: f32[10]):
 *         %t = add(%a, %b) : f32[64,10]
 *         yield %t
 *     }
 *     sink(%4) {label = "h"}                 (a node with no results: no `=`, no types)
 *     return %1
 *   }
 *   blobs {
 *     "c1": "<base64 of the raw little-endian bytes>"
 *   }
 *
 * Syntax decisions:
 * - A node with several regions prints them as a comma-separated list: `op(...) : t { ... }, { ... }`.
 *   Every region starts with its parameter header `^(...):` (even `^():`) and ends with `yield`.
 * - Names that do not fit the bare syntax are printed quoted: `%"a b"` for values, `@"my fn"` for
 *   the function, `"op name"(...)` for ops and `{"key with space" = 1}` for attribute keys. Words
 *   the grammar reserves (const, return, dense, true, inf, ...) are quoted too when used as an op
 *   name or attribute key. Value names always start with `%` (GraphBuilder and the tracer make them
 *   so); a name without it cannot round-trip, and `verify` rejects it anyway.
 * - Attribute numbers print in JavaScript's shortest round-trip form (`1e-7`, `-0`); NaN and
 *   infinities, which JSON-able attributes should not hold, print as `nan`, `inf`, `-inf`.
 * - Constants of at most 16 elements print inline as `dense<...>`; larger ones as `blob<"name">`
 *   with their bytes in the trailing `blobs { ... }` section. With `elideConstants: true` large
 *   constants print as `dense<...>` (literally three dots) and no blobs section is written: that
 *   output is for people and does not parse.
 */
import { type DType, dtypeInfo, dtypeOfTypedArray, type TypedArray } from "./dtype.js";
import { type Constant, type Graph, type Node, type Region, type SourceLoc, valueTypes } from "./graph.js";
import type { AttrValue, Attrs } from "./registry.js";
import { formatType, type TensorType } from "./types.js";

export interface PrintOptions {
  /** Print `loc("file":line:col)` annotations (default true). */
  readonly loc?: boolean;
  /** Print large constants as `dense<...>` without their data: readable, but it does not parse. */
  readonly elideConstants?: boolean;
}

/** Constants with at most this many elements are printed inline as `dense<...>`. */
export const INLINE_CONSTANT_LIMIT = 16;

/** Words with a meaning in the grammar: an op name or attribute key spelled like one is quoted. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  "func", "const", "return", "yield", "dense", "blob", "blobs", "loc", "true", "false", "null", "nan", "inf",
]);

/** A bare identifier: op names, attribute keys, dtype names. */
export const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$.]*$/;
const BARE_VALUE = /^%[A-Za-z0-9_.$]+$/;
const BARE_FUNC = /^[A-Za-z0-9_.$-]+$/;

/** Prints a graph as IR text. */
export function print(graph: Graph, options: PrintOptions = {}): string {
  return new Printer(graph, options).run();
}

/** `%name`, or `%"..."` when the name has characters the bare form cannot hold. */
export function printValueName(name: string): string {
  if (BARE_VALUE.test(name)) return name;
  return `%${JSON.stringify(name.startsWith("%") ? name.slice(1) : name)}`;
}

function printFuncName(name: string): string {
  return `@${BARE_FUNC.test(name) ? name : JSON.stringify(name)}`;
}

/** An op name or attribute key: bare when it is an identifier and not a reserved word. */
function printWord(s: string): string {
  return IDENTIFIER.test(s) && !RESERVED_WORDS.has(s) ? s : JSON.stringify(s);
}

/** A float64 (or attribute number) in its shortest round-trip form. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Object.is(x, -0)) return "-0";
  return String(x);
}

/** The shortest decimal that Math.fround maps back to the float32 value `x`. */
export function formatFloat32(x: number): string {
  if (!Number.isFinite(x) || x === 0) return formatNumber(x);
  for (let digits = 1; digits <= 9; digits++) {
    const y = Number(x.toPrecision(digits));
    if (Math.fround(y) === x) return String(y);
  }
  return String(x); // not a float32 value at all (a malformed constant): print it exactly
}

/** One element of a constant, in the literal syntax of its dtype. */
export function formatElement(x: number, dtype: DType): string {
  switch (dtype) {
    case "bool":
      return x !== 0 ? "true" : "false";
    case "float32":
      return formatFloat32(x);
    case "float64":
      return formatNumber(x);
    default:
      return String(x);
  }
}

function formatAttrValue(v: AttrValue): string {
  if (v === null) return "null";
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(formatAttrValue).join(", ")}]`;
  return formatDict(v as Attrs);
}

function formatDict(d: Attrs): string {
  const keys = Object.keys(d).sort();
  return `{${keys.map((k) => `${printWord(k)} = ${formatAttrValue(d[k]!)}`).join(", ")}}`;
}

/** ` {k = v, ...}` with sorted keys, or nothing when there are no attributes. */
export function formatAttrs(attrs: Attrs | undefined): string {
  if (!attrs || Object.keys(attrs).length === 0) return "";
  return ` ${formatDict(attrs)}`;
}

export function formatLoc(loc: SourceLoc): string {
  return `loc(${JSON.stringify(loc.file)}:${formatNumber(loc.line)}:${formatNumber(loc.col)})`;
}

/** The nested `dense<...>` literal of a constant's data, laid out by its shape. */
export function formatDense(data: TypedArray, type: TensorType): string {
  const shape = type.shape;
  let next = 0;
  const walk = (axis: number): string => {
    if (axis === shape.length) return formatElement(data[next++] ?? 0, type.dtype);
    const parts: string[] = [];
    for (let i = 0; i < shape[axis]!; i++) parts.push(walk(axis + 1));
    return `[${parts.join(", ")}]`;
  };
  return walk(0);
}

function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---- base64 (no Buffer: the printer runs in browsers too) --------------------------------------

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function base64Encode(bytes: Uint8Array): string {
  const out: string[] = [];
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out.push(B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out.push(`${B64[n >> 18]!}${B64[(n >> 12) & 63]!}==`);
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out.push(`${B64[n >> 18]!}${B64[(n >> 12) & 63]!}${B64[(n >> 6) & 63]!}=`);
  }
  return out.join("");
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The raw little-endian bytes of a constant's data in its declared dtype. */
export function constantBytes(data: TypedArray, dtype: DType): Uint8Array {
  const info = dtypeInfo(dtype);
  // Copying the buffer keeps NaN payloads, which a DataView write may canonicalize.
  if (LITTLE_ENDIAN && dtypeOfTypedArray(data) === (dtype === "bool" ? "uint8" : dtype)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  const out = new Uint8Array(data.length * info.itemsize);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    switch (dtype) {
      case "float32":
        view.setFloat32(i * 4, x, true);
        break;
      case "float64":
        view.setFloat64(i * 8, x, true);
        break;
      case "int32":
        view.setInt32(i * 4, x, true);
        break;
      default:
        view.setUint8(i, x);
    }
  }
  return out;
}

// ---- the printer ------------------------------------------------------------------------------

class Printer {
  private readonly lines: string[] = [];
  private readonly blobs: [string, string][] = [];
  private readonly blobNames = new Set<string>();
  private readonly withLoc: boolean;
  private readonly elide: boolean;

  constructor(
    private readonly graph: Graph,
    options: PrintOptions,
  ) {
    this.withLoc = options.loc ?? true;
    this.elide = options.elideConstants ?? false;
  }

  run(): string {
    const g = this.graph;
    const types = valueTypes(g);
    const params = g.params.map((p) => `${printValueName(p.name)}: ${formatType(p.type)}`).join(", ");
    // A result with no definition (a malformed graph) still prints, with `?` for its type.
    const results = g.results.map((r) => {
      const t = types.get(r);
      return t ? formatType(t) : "?";
    });
    this.lines.push(`func ${printFuncName(g.name)}(${params}) -> (${results.join(", ")}) {`);
    for (const c of g.constants) this.constant(c);
    for (const n of g.nodes) this.node(n, "  ");
    this.lines.push(`  return${this.valueList(g.results)}`);
    this.lines.push("}");
    if (this.blobs.length > 0) {
      this.lines.push("blobs {");
      this.blobs.forEach(([name, b64], i) => {
        this.lines.push(`  ${JSON.stringify(name)}: "${b64}"${i < this.blobs.length - 1 ? "," : ""}`);
      });
      this.lines.push("}");
    }
    return `${this.lines.join("\n")}\n`;
  }

  private valueList(names: readonly string[]): string {
    return names.length ? ` ${names.map(printValueName).join(", ")}` : "";
  }

  private constant(c: Constant): void {
    const head = `  const ${printValueName(c.name)}: ${formatType(c.type)} = `;
    const size = sizeOfShape(c.type.shape);
    if (size <= INLINE_CONSTANT_LIMIT) {
      this.lines.push(`${head}dense<${formatDense(c.data, c.type)}>`);
    } else if (this.elide) {
      this.lines.push(`${head}dense<...>`);
    } else {
      const name = this.blobName(c.name);
      this.blobs.push([name, base64Encode(constantBytes(c.data, c.type.dtype))]);
      this.lines.push(`${head}blob<${JSON.stringify(name)}>`);
    }
  }

  /** The constant's name without `%`, made unique if two constants share a name. */
  private blobName(valueName: string): string {
    const base = valueName.startsWith("%") ? valueName.slice(1) : valueName;
    let name = base;
    for (let k = 2; this.blobNames.has(name); k++) name = `${base}_${k}`;
    this.blobNames.add(name);
    return name;
  }

  private node(n: Node, indent: string): void {
    const results = n.results.length ? `${n.results.map((r) => printValueName(r.name)).join(", ")} = ` : "";
    const types = n.results.length ? ` : ${n.results.map((r) => formatType(r.type)).join(", ")}` : "";
    const loc = this.withLoc && n.loc ? ` ${formatLoc(n.loc)}` : "";
    const head = `${indent}${results}${printWord(n.op)}(${n.operands.map(printValueName).join(", ")})${formatAttrs(n.attrs)}${types}${loc}`;
    const regions = n.regions ?? [];
    if (regions.length === 0) {
      this.lines.push(head);
      return;
    }
    this.lines.push(`${head} {`);
    regions.forEach((r, i) => {
      this.region(r, indent);
      this.lines.push(i < regions.length - 1 ? `${indent}}, {` : `${indent}}`);
    });
  }

  private region(r: Region, indent: string): void {
    const params = r.params.map((p) => `${printValueName(p.name)}: ${formatType(p.type)}`).join(", ");
    this.lines.push(`${indent}  ^(${params}):`);
    for (const n of r.nodes) this.node(n, `${indent}    `);
    this.lines.push(`${indent}    yield${this.valueList(r.results)}`);
  }
}
