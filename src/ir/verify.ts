/**
 * The IR verifier: checks that a graph is well formed before a pass, a backend or the interpreter
 * trusts it. `verify` reports the FIRST problem as an IRVerifyError (ST302) with a stable rule name:
 *
 *   malformed       the object is not a graph (missing fields, wrong field types, non-JSON attrs)
 *   ssa             a value name is invalid or defined twice in its scope
 *   use-before-def  an operand or a graph result names a value not defined before it
 *   unknown-op      the op is not in the registry
 *   arity           the operand count does not match the op's arity
 *   attributes      an attribute the op does not declare, or a required one missing (values are the
 *                   op's rule's business: type-rule)
 *   type            a declared type is not a known dtype with a shape of non-negative integers
 *   type-rule       the op's rule rejects the operands/attributes, or infers other result types
 *                   (for an op with `inferRegions`, checked after its regions, from their types)
 *   constant        constant data does not match its declared type
 *   region          region count, parameters, results or isolation are wrong
 *
 * It never throws anything else, whatever it is given: the graph may come from a file, a pass under
 * development or a fuzzer, so every field is checked before it is used.
 */
import { dtypeInfo, isDType } from "./dtype.js";
import { IRVerifyError, SymtensorError } from "./errors.js";
import type { Graph, Node } from "./graph.js";
import "./ops/index.js";
import { type Attrs, describeAttributes, getOp, hasOp, type OpDef } from "./registry.js";
import { formatType, sameType, type TensorType } from "./types.js";

const VALUE_NAME = /^%[A-Za-z0-9_.$]+$/;
/** Attributes nest at most this deep; deeper (or cyclic) data is reported instead of overflowing. */
const MAX_ATTR_DEPTH = 32;

/** The types a region declares, as handed to an op's optional `verifyRegions` hook. */
export interface RegionTypes {
  readonly params: readonly TensorType[];
  readonly results: readonly TensorType[];
}

/**
 * An op that takes regions may check their signatures against its operands and results. The hook
 * is looked up dynamically so OpDef needs no dependency on the graph module.
 */
interface RegionHook {
  verifyRegions?(node: Node, regions: readonly RegionTypes[]): void;
}

type Obj = { readonly [k: string]: unknown };

const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** A short, bounded, never-throwing description of arbitrary data for messages. */
function show(x: unknown, depth = 0): string {
  if (typeof x === "string") return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x);
  if (typeof x === "number" || typeof x === "boolean" || typeof x === "bigint") return String(x);
  if (x === null || x === undefined) return String(x);
  if (typeof x === "symbol" || typeof x === "function") return typeof x;
  if (Array.isArray(x)) {
    if (depth > 2) return "[...]";
    const items = x.slice(0, 8).map((v: unknown) => show(v, depth + 1));
    return `[${items.join(", ")}${x.length > 8 ? ", ..." : ""}]`;
  }
  if (ArrayBuffer.isView(x)) return x.constructor.name;
  const proto: unknown = Object.getPrototypeOf(x);
  if (proto === null || proto === Object.prototype) return "object";
  const ctor = isObj(proto) ? proto["constructor"] : undefined;
  return typeof ctor === "function" && typeof ctor.name === "string" && ctor.name ? ctor.name : "object";
}

/** A value name for messages: as is when valid, quoted and bounded otherwise. */
function nameText(x: unknown): string {
  return typeof x === "string" && VALUE_NAME.test(x) && x.length <= 40 ? x : show(x);
}

function allStrings(xs: readonly unknown[]): boolean {
  for (let i = 0; i < xs.length; i++) if (typeof xs[i] !== "string") return false;
  return true;
}

/** Why `t` is not a well-formed TensorType, or undefined when it is. */
function typeProblem(t: unknown): string | undefined {
  if (!isObj(t)) return `type is ${show(t)}, not {dtype, shape}`;
  const { dtype, shape } = t;
  if (!isDType(dtype)) return `unknown dtype ${show(dtype)}`;
  if (!Array.isArray(shape)) return `shape is ${show(shape)}, not an array`;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) return `shape[${i}] is ${show(d)}, not a non-negative integer`;
  }
  return undefined;
}

/** formatType for types that may be malformed (messages about broken graphs must not throw). */
function fmt(t: unknown): string {
  return typeProblem(t) === undefined ? formatType(t as TensorType) : "<bad type>";
}

/** Why `v` is not plain JSON-able attribute data, or undefined when it is. */
function attrProblem(v: unknown, path: string, depth: number): string | undefined {
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean" || v === null) return undefined;
  if (depth > MAX_ATTR_DEPTH) return `${path} nests more than ${MAX_ATTR_DEPTH} levels deep`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = attrProblem(v[i], `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  if (isObj(v)) {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === null || proto === Object.prototype) {
      for (const k of Object.keys(v)) {
        const p = attrProblem(v[k], `${path}.${k}`, depth + 1);
        if (p) return p;
      }
      return undefined;
    }
  }
  return `${path} is ${show(v)}, not JSON-able data (number, string, boolean, null, array or plain object)`;
}

function formatAttrValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(formatAttrValue).join(", ")}]`;
  if (isObj(v)) return `{${Object.keys(v).map((k) => `${k} = ${formatAttrValue(v[k])}`).join(", ")}}`;
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

/** A node in IR notation, for messages: `%3 = add(%1, %2) {axis = 1} : f32[2,3]`. Only for checked nodes. */
function formatNode(n: CheckedNode): string {
  const results = n.results.map((r) => r.name).join(", ");
  const keys = Object.keys(n.attrs);
  let attrs = keys.length ? ` {${keys.map((k) => `${k} = ${formatAttrValue(n.attrs[k])}`).join(", ")}}` : "";
  if (attrs.length > 160) attrs = `${attrs.slice(0, 157)}...}`;
  const types = n.results.map((r) => fmt(r.type)).join(", ");
  return `${results ? `${results} = ` : ""}${n.op}(${n.operands.join(", ")})${attrs} : ${n.results.length === 1 ? types : `(${types})`}`;
}

/** A node whose fields have the right JS types (names and types inside are not yet validated). */
interface CheckedNode {
  readonly op: string;
  readonly operands: readonly string[];
  readonly results: readonly { readonly name: string; readonly type: unknown }[];
  readonly attrs: Obj;
  readonly regions: readonly unknown[];
  readonly raw: Obj;
}

/** The values visible at one level: the graph's top level, or one region (which sees the constants). */
class Scope {
  readonly defined = new Map<string, TensorType>();
  constructor(
    /** The enclosing scope, whose values a region may NOT use (only to explain the error). */
    readonly parent: Scope | undefined,
    /** Appended to messages about nodes in this scope, e.g. `in region 0 of %3`. */
    readonly context: string,
  ) {}

  definedOutside(name: string): boolean {
    for (let s = this.parent; s; s = s.parent) if (s.defined.has(name)) return true;
    return false;
  }
}

class Verifier {
  private graphWhere = "@graph";
  /** The graph's constants: visible in every region. */
  private readonly constants = new Map<string, TensorType>();

  private fail(where: string, rule: string, detail: string): never {
    throw new IRVerifyError(where, rule, detail);
  }

  run(g: unknown): void {
    if (!isObj(g)) this.fail("@graph", "malformed", `a graph must be an object, got ${show(g)}`);
    if (typeof g["name"] !== "string") this.fail("@graph", "malformed", `graph name must be a string, got ${show(g["name"])}`);
    this.graphWhere = `@${g["name"]}`;
    for (const field of ["params", "constants", "nodes", "results"] as const) {
      if (!Array.isArray(g[field])) this.fail(this.graphWhere, "malformed", `graph field "${field}" must be an array, got ${show(g[field])}`);
    }
    const params = g["params"] as readonly unknown[];
    const constants = g["constants"] as readonly unknown[];
    const nodes = g["nodes"] as readonly unknown[];
    const top = new Scope(undefined, "");

    for (let i = 0; i < params.length; i++) {
      const { name, type } = this.value(params[i], `parameter ${i}`, this.graphWhere, "type");
      this.define(top, name, type, name, `parameter ${i}`);
    }
    for (let i = 0; i < constants.length; i++) {
      const c = constants[i];
      const { name, type } = this.value(c, `constant ${i}`, this.graphWhere, "type");
      this.define(top, name, type, name, `constant ${i}`);
      this.constantData(name, type, (c as Obj)["data"]);
      this.constants.set(name, type);
    }
    this.nodes(nodes, top);
    this.results(g["results"] as readonly unknown[], top, this.graphWhere, "graph", "use-before-def");
  }

  /** A Value ({name, type}): a parameter, constant, node result or region parameter. */
  private value(v: unknown, what: string, where: string, typeRule: string): { name: string; type: TensorType } {
    if (!isObj(v)) this.fail(where, "malformed", `${what} must be an object {name, type}, got ${show(v)}`);
    const name = v["name"];
    if (typeof name !== "string") this.fail(where, "malformed", `${what} has name ${show(name)}, not a string`);
    if (!VALUE_NAME.test(name)) {
      this.fail(where, "ssa", `${what} has the invalid value name ${show(name)} (expected % followed by letters, digits, _ . $)`);
    }
    const problem = typeProblem(v["type"]);
    if (problem) this.fail(VALUE_NAME.test(name) ? name : where, typeRule, `${what} (${name}): ${problem}`);
    return { name, type: v["type"] as TensorType };
  }

  private define(scope: Scope, name: string, type: TensorType, where: string, what: string, rule = "ssa"): void {
    if (scope.defined.has(name)) this.fail(where, rule, `${what} redefines ${name}, which is already defined${scope.context ? ` ${scope.context}` : ""}`);
    scope.defined.set(name, type);
  }

  private constantData(name: string, type: TensorType, data: unknown): void {
    const info = dtypeInfo(type.dtype);
    if (!(data instanceof info.array)) {
      this.fail(name, "constant", `constant ${name}: ${formatType(type)} needs its data in a ${info.array.name}, got ${show(data)}`);
    }
    let size = 1;
    for (const d of type.shape) size *= d;
    if (data.length !== size) {
      this.fail(name, "constant", `constant ${name}: ${formatType(type)} has ${size} elements, but its data holds ${data.length}`);
    }
    if (type.dtype === "bool") {
      for (let i = 0; i < data.length; i++) {
        const x = data[i]!;
        if (x !== 0 && x !== 1) this.fail(name, "constant", `constant ${name}: bool data must be 0 or 1, got ${x} at index ${i}`);
      }
    }
  }

  private nodes(nodes: readonly unknown[], scope: Scope): void {
    for (let i = 0; i < nodes.length; i++) this.node(this.nodeShape(nodes[i], i, scope), scope);
  }

  /** Checks the JS shape of a node (field presence and types), before anything reads its contents. */
  private nodeShape(n: unknown, index: number, scope: Scope): CheckedNode & { where: string } {
    const ctx = scope.context ? ` ${scope.context}` : "";
    let where = `${this.graphWhere}#node${index}`;
    if (!isObj(n)) this.fail(where, "malformed", `node ${index}${ctx} must be an object, got ${show(n)}`);
    const results = n["results"];
    if (!Array.isArray(results)) this.fail(where, "malformed", `node ${index}${ctx} has results ${show(results)}, not an array`);
    const first: unknown = results[0];
    if (isObj(first) && typeof first["name"] === "string" && VALUE_NAME.test(first["name"])) where = first["name"];
    for (const [k, r] of results.entries()) {
      if (!isObj(r) || typeof r["name"] !== "string") this.fail(where, "malformed", `node ${index}${ctx}: result ${k} must be an object {name, type}, got ${show(r)}`);
    }
    const op = n["op"];
    if (typeof op !== "string") this.fail(where, "malformed", `node ${index}${ctx} has op ${show(op)}, not a string`);
    const operands = n["operands"];
    // A for loop, not every(): every() skips the holes of a sparse array.
    if (!Array.isArray(operands) || !allStrings(operands)) {
      this.fail(where, "malformed", `node ${index}${ctx} (${op}) has operands ${show(operands)}, not an array of value names`);
    }
    const attrs = n["attrs"];
    const attrIssue = isObj(attrs) ? attrProblem(attrs, "attrs", 0) : `attrs is ${show(attrs)}, not an object`;
    if (attrIssue) this.fail(where, "malformed", `node ${index}${ctx} (${op}): ${attrIssue}`);
    const loc = n["loc"];
    if (loc !== undefined && !(isObj(loc) && typeof loc["file"] === "string" && typeof loc["line"] === "number" && typeof loc["col"] === "number")) {
      this.fail(where, "malformed", `node ${index}${ctx} (${op}) has loc ${show(loc)}, not {file, line, col}`);
    }
    const regions = n["regions"];
    if (regions !== undefined && !Array.isArray(regions)) this.fail(where, "malformed", `node ${index}${ctx} (${op}) has regions ${show(regions)}, not an array`);
    return {
      op,
      operands: operands as string[],
      results: results as CheckedNode["results"],
      attrs: attrs as Obj,
      regions: (regions ?? []) as unknown[],
      raw: n,
      where,
    };
  }

  private node(n: CheckedNode & { where: string }, scope: Scope): void {
    const { where } = n;
    const inIR = (detail: string): string => `${detail}\n  ${scope.context ? `${scope.context}: ` : ""}${formatNode(n)}`;
    const fail = (rule: string, detail: string): never => this.fail(where, rule, inIR(detail));

    if (!hasOp(n.op)) fail("unknown-op", `op ${show(n.op)} is not in the op registry`);
    const def = getOp(n.op);
    const arity = def.arity;
    if (arity === "variadic" ? n.operands.length < 1 : n.operands.length !== arity) {
      const want = arity === "variadic" ? "at least 1 operand" : `${arity} operand${arity === 1 ? "" : "s"}`;
      fail("arity", `${n.op} takes ${want}, got ${n.operands.length}`);
    }

    const operandTypes: TensorType[] = [];
    for (const [k, name] of n.operands.entries()) {
      const t = scope.defined.get(name);
      if (t) {
        operandTypes.push(t);
        continue;
      }
      if (scope.definedOutside(name)) {
        fail("region", `operand ${k} (${name}) is a value of the enclosing graph; a region sees only its own parameters and values and the graph's constants (pass it as an operand of the region's node instead)`);
      }
      fail("use-before-def", `operand ${k} (${nameText(name)}) is not defined before this node`);
    }

    const declared: TensorType[] = [];
    for (const [k, r] of n.results.entries()) {
      const { type } = this.valueIn(r, `result ${k}`, where, inIR);
      declared.push(type);
    }
    // Names of the results must be distinct and new; checked before the rule so a bad SSA graph is
    // reported as such, whatever the op thinks of its operands.
    const seen = new Set<string>();
    for (const r of n.results) {
      if (seen.has(r.name) || scope.defined.has(r.name)) fail("ssa", `${r.name} is already defined${scope.context ? ` ${scope.context}` : ""}`);
      seen.add(r.name);
    }

    this.attributes(def, n, fail);
    // An op typed by its regions (inferRegions) is checked once its regions are: see regions().
    if (!def.inferRegions) this.typeRule(n, () => def.infer(operandTypes, n.attrs as Attrs), declared, fail);
    this.regions(def, n, scope, fail, operandTypes, declared);
    for (const [k, r] of n.results.entries()) scope.defined.set(r.name, declared[k]!);
  }

  /** A node result: like `value`, with the node shown in the message. */
  private valueIn(r: { name: string; type: unknown }, what: string, where: string, inIR: (d: string) => string): { type: TensorType } {
    if (!VALUE_NAME.test(r.name)) this.fail(where, "ssa", inIR(`${what} has the invalid value name ${show(r.name)} (expected % followed by letters, digits, _ . $)`));
    const problem = typeProblem(r.type);
    if (problem) this.fail(where, "type", inIR(`${what} (${r.name}): ${problem}`));
    return { type: r.type as TensorType };
  }

  /** Attribute names against the op's declaration; their values are checked by the op's rule. */
  private attributes(def: OpDef, n: CheckedNode, fail: (rule: string, detail: string) => never): void {
    const schema = def.attributes;
    // Own properties only: "toString" or "__proto__" must not count as declared.
    for (const name of Object.keys(n.attrs)) {
      if (!Object.hasOwn(schema, name)) {
        fail("attributes", `${n.op} has no attribute ${show(name)}; it declares ${describeAttributes(def)}`);
      }
    }
    for (const [name, spec] of Object.entries(schema)) {
      if (!spec.optional && !Object.hasOwn(n.attrs, name)) {
        fail("attributes", `${n.op} needs attribute "${name}" (${spec.type}: ${spec.doc}); it declares ${describeAttributes(def)}`);
      }
    }
  }

  private typeRule(n: CheckedNode, infer: () => unknown, declared: readonly TensorType[], fail: (rule: string, detail: string) => never): void {
    let inferred: unknown;
    try {
      inferred = infer();
    } catch (err) {
      fail("type-rule", err instanceof SymtensorError ? err.summary : `${n.op}: the op's shape rule failed (${errorText(err)})`);
    }
    if (!Array.isArray(inferred) || inferred.some((t: unknown) => typeProblem(t) !== undefined)) {
      fail("type-rule", `${n.op}: the op's shape rule returned ${show(inferred)}, not a list of types`);
    }
    const want = inferred as TensorType[];
    const list = (ts: readonly TensorType[]): string => ts.map(formatType).join(", ");
    if (want.length !== declared.length) {
      fail("type-rule", `${n.op} gives ${want.length} result${want.length === 1 ? "" : "s"} (${list(want)}), but the node declares ${declared.length} (${list(declared)})`);
    }
    for (let k = 0; k < want.length; k++) {
      if (!sameType(want[k]!, declared[k]!)) {
        const name = n.results[k]!.name;
        fail("type-rule", `${n.op} gives result ${k} (${name}) the type ${formatType(want[k]!)}, but the node declares ${formatType(declared[k]!)}`);
      }
    }
  }

  private regions(
    def: OpDef,
    n: CheckedNode & { where: string },
    scope: Scope,
    fail: (rule: string, detail: string) => never,
    operandTypes: readonly TensorType[],
    declared: readonly TensorType[],
  ): void {
    const expected = def.regions ?? 0;
    if (n.regions.length !== expected) {
      const takes = expected === 0 ? "takes no regions" : `takes ${expected} region${expected === 1 ? "" : "s"}`;
      fail("region", `${n.op} ${takes}, but the node has ${n.regions.length}`);
    }
    const types: RegionTypes[] = [];
    for (let i = 0; i < n.regions.length; i++) types.push(this.region(n.regions[i], i, n.where, scope, fail));
    const { inferRegions } = def;
    if (inferRegions) this.typeRule(n, () => inferRegions.call(def, operandTypes, n.attrs as Attrs, types), declared, fail);
    const hook = (def as OpDef & RegionHook).verifyRegions;
    if (typeof hook === "function" && n.regions.length > 0) {
      try {
        hook.call(def, n.raw as unknown as Node, types);
      } catch (err) {
        fail("region", err instanceof SymtensorError ? err.summary : `${n.op}: the op's region rule failed (${errorText(err)})`);
      }
    }
  }

  private region(r: unknown, index: number, owner: string, parent: Scope, fail: (rule: string, detail: string) => never): RegionTypes {
    const label = `region ${index} of ${owner}`;
    if (!isObj(r)) fail("malformed", `${label} must be an object {params, nodes, results}, got ${show(r)}`);
    for (const field of ["params", "nodes", "results"] as const) {
      if (!Array.isArray(r[field])) fail("malformed", `${label} has ${field} ${show(r[field])}, not an array`);
    }
    const scope = new Scope(parent, `in ${label}`);
    for (const [name, t] of this.constants) scope.defined.set(name, t);
    const params: TensorType[] = [];
    for (const [k, p] of (r["params"] as unknown[]).entries()) {
      const { name, type } = this.value(p, `parameter ${k} of ${label}`, owner, "type");
      if (scope.defined.has(name)) {
        const clash = this.constants.has(name) ? "the graph constant of that name" : "an earlier parameter";
        this.fail(owner, "region", `parameter ${k} of ${label} is named ${name}, like ${clash}; region parameters must be unique`);
      }
      scope.defined.set(name, type);
      params.push(type);
    }
    this.nodes(r["nodes"] as unknown[], scope);
    const results = this.results(r["results"] as unknown[], scope, owner, label, "region");
    return { params, results };
  }

  /** The names a graph or region returns: strings naming values visible in `scope`. */
  private results(names: readonly unknown[], scope: Scope, where: string, label: string, undefinedRule: string): TensorType[] {
    const types: TensorType[] = [];
    for (let k = 0; k < names.length; k++) {
      const name = names[k];
      if (typeof name !== "string") this.fail(where, "malformed", `${label} result ${k} is ${show(name)}, not a value name`);
      const t = scope.defined.get(name);
      if (!t) {
        const outside = scope.definedOutside(name) ? " (it belongs to the enclosing graph; a region can only yield its own values)" : "";
        this.fail(where, outside ? "region" : undefinedRule, `${label} returns ${nameText(name)}, which is not defined${outside}`);
      }
      types.push(t);
    }
    return types;
  }
}

function errorText(err: unknown): string {
  try {
    return err instanceof Error ? `${err.name}: ${err.message}` : show(err);
  } catch {
    return "an unreadable error";
  }
}

/**
 * Checks every IR rule (SSA, types, each op's shape rule, constants, regions) and throws the first
 * violation as an IRVerifyError (ST302); returns normally for a valid graph. Never throws anything else.
 */
export function verify(graph: unknown): asserts graph is Graph {
  try {
    new Verifier().run(graph);
  } catch (err) {
    if (err instanceof IRVerifyError) throw err;
    // Only exotic inputs get here (throwing getters, proxies, stack-deep nesting).
    throw new IRVerifyError("@graph", "malformed", `the graph could not be read (${errorText(err)})`);
  }
}
