/**
 * The one op registry. Every op is defined once here (name, attribute schema, shape/dtype rule,
 * scalar code template for elementwise ops); dispatch, backends, and later the IR verifier,
 * printer and passes all learn about ops from these entries and never switch on op names.
 */
import type { DType } from "./dtype.js";
import { ValueError } from "./errors.js";
import type { TensorType } from "./types.js";

export type AttrValue = number | string | boolean | null | readonly AttrValue[] | { readonly [k: string]: AttrValue };
export type Attrs = { readonly [k: string]: AttrValue };

export type OpKind =
  | "elementwise" // pointwise over broadcast operands: fusible, has a scalar template
  | "reduction" // reduces axes of one operand
  | "scan" // cumulative ops along one axis
  | "shape" // moves or copies elements without arithmetic
  | "index" // data-dependent addressing (gather, oneHot)
  | "matmul"
  | "conv"
  | "pool"
  | "control" // cond, while, for, scan: ops whose regions run conditionally or repeatedly
  | "debug" // observes values without changing them (debugPrint): marked as an effect
  | "creation" // makes new values from attributes (random ops take only their key as an operand)
  | "fused"; // a kernel made by the fuse pass: its one region is the body it computes

/**
 * One declared attribute of an op. `type` is documentation in a small notation (`int`, `int[]`,
 * `int[][]`, `number`, `bool`, `string`, `dtype`, `int | null`, `"valid" | "same" | int[][]`);
 * the op's `infer` checks the values. An optional attribute may be left out (its default is in `doc`).
 */
export interface AttrSpec {
  readonly type: string;
  readonly doc: string;
  readonly optional?: boolean;
}

/** The attributes an op accepts, by name; the verifier rejects any other name and any missing required one. */
export type AttrSchema = Readonly<Record<string, AttrSpec>>;

export interface ScalarContext {
  /** dtypes of the operands, after promotion */
  readonly inputs: readonly DType[];
  readonly output: DType;
}

/**
 * Builds gradient IR for VJP rules: each call appends one node (types from the op's own rule) to
 * the graph being differentiated and returns its result values. Rules are written with registry
 * ops only, so gradients are themselves differentiable (grad of grad) and optimizable.
 */
export interface GradBuilder {
  /** Appends `op(operands) {attrs}` and returns its results. */
  op(op: string, operands: readonly GradValue[], attrs?: Attrs): GradValue[];
  /** A 0-d constant of `dtype` (broadcasts against anything). */
  scalar(value: number, dtype: DType): GradValue;
}

/** A value of the graph being differentiated (name and type), as rules see it. */
export interface GradValue {
  readonly name: string;
  readonly type: TensorType;
}

/**
 * Reverse-mode rule: given the cotangent of each result (null where a result does not influence the
 * output), the op's operands, results and attributes, returns the cotangent of each operand
 * (null for operands that get no gradient: integer/bool inputs, indices, keys). Cotangents have
 * exactly their operand's type.
 */
export type VjpRule = (b: GradBuilder, cotangents: readonly (GradValue | null)[], operands: readonly GradValue[], results: readonly GradValue[], attrs: Attrs) => (GradValue | null)[];

export interface OpDef {
  readonly name: string;
  readonly kind: OpKind;
  /** Number of tensor operands, or "variadic" (concat). */
  readonly arity: number | "variadic";
  readonly doc: string;
  /** Every attribute the op reads, declared; `{}` for ops without attributes. */
  readonly attributes: AttrSchema;
  /**
   * Reverse-mode derivative rule (src/ir/autodiff). Absent: the op is not differentiable, and
   * differentiating through it with a float input is an error naming the op.
   */
  readonly vjp?: VjpRule;
  /** Has an effect beyond its results (debugPrint): passes must keep it and never reorder it. */
  readonly effect?: boolean;
  /**
   * How many regions (nested graphs: fusion bodies, control-flow branches) a node of this op
   * carries. Absent means none; the verifier rejects a node whose region count differs.
   */
  readonly regions?: number;
  /** Shape and dtype rule. Throws ShapeError/DTypeError/ValueError naming the op and argument. */
  infer(inputs: readonly TensorType[], attrs: Attrs): TensorType[];
  /**
   * For ops whose result types come from their regions (fused: the region's yield types), the
   * shape and dtype rule given the regions' parameter and result types too. When present, the
   * verifier uses it instead of `infer` (after checking the regions themselves).
   */
  inferRegions?(inputs: readonly TensorType[], attrs: Attrs, regions: readonly { readonly params: readonly TensorType[]; readonly results: readonly TensorType[] }[]): TensorType[];
  /**
   * Elementwise ops only: a JavaScript expression computing one output element from the operand
   * expressions `args`. Helpers from scalar-math are available as `M.name(...)`. The result is
   * stored into a typed array of the output dtype, which performs the final rounding.
   */
  scalar?(args: readonly string[], ctx: ScalarContext, attrs: Attrs): string;
}

const REGISTRY = new Map<string, OpDef>();

export function defineOp(def: OpDef): OpDef {
  if (REGISTRY.has(def.name)) throw new Error(`op ${def.name} is defined twice`);
  if (def.kind === "elementwise" && !def.scalar) throw new Error(`elementwise op ${def.name} needs a scalar template`);
  // Untyped callers (plain JS, casts in tests) may leave the schema out: that declares no attributes.
  const full: OpDef = (def as Partial<OpDef>).attributes === undefined ? { ...def, attributes: {} } : def;
  checkSchema(full);
  REGISTRY.set(full.name, full);
  return full;
}

/** A malformed schema is a bug in the op's definition, reported when the op is defined. */
function checkSchema(def: OpDef): void {
  const a: unknown = def.attributes;
  if (typeof a !== "object" || a === null || Array.isArray(a)) throw new Error(`op ${def.name}: attributes must be an object of {type, doc}`);
  for (const [name, spec] of Object.entries(a as Record<string, unknown>)) {
    const s = spec as Partial<AttrSpec> | null;
    if (typeof s !== "object" || s === null || typeof s.type !== "string" || typeof s.doc !== "string" || (s.optional !== undefined && typeof s.optional !== "boolean")) {
      throw new Error(`op ${def.name}: attribute "${name}" must be declared as {type: string, doc: string, optional?: boolean}`);
    }
  }
}

/** The names of the attributes an op declares, for messages: `axes, keepDims (optional)`. */
export function describeAttributes(def: OpDef): string {
  const names = Object.keys(def.attributes);
  if (names.length === 0) return "no attributes";
  return names.map((n) => (def.attributes[n]!.optional ? `${n} (optional)` : n)).join(", ");
}

export function getOp(name: string): OpDef {
  const def = REGISTRY.get(name);
  if (!def) throw new ValueError(`unknown op "${name}"`);
  return def;
}

export function hasOp(name: string): boolean {
  return REGISTRY.has(name);
}

export function listOps(): OpDef[] {
  return [...REGISTRY.values()];
}

/** Reads an attribute with a type check, so a malformed IR or call gets a clear error. */
export function attr<T extends AttrValue>(attrs: Attrs, name: string, op: string, check: (v: AttrValue) => v is T): T {
  const v = attrs[name];
  if (v === undefined || !check(v)) {
    throw new ValueError(`${op}: attribute "${name}" is missing or malformed (got ${JSON.stringify(v)})`);
  }
  return v;
}

export const isNum = (v: AttrValue): v is number => typeof v === "number";
export const isStr = (v: AttrValue): v is string => typeof v === "string";
export const isBoolAttr = (v: AttrValue): v is boolean => typeof v === "boolean";
export const isNumList = (v: AttrValue): v is readonly number[] => Array.isArray(v) && v.every((x) => typeof x === "number");
