/**
 * The IR: a Graph is a function of typed parameters, with constants, a list of nodes in
 * topological order, and results. Every value is defined once (SSA) and named (`%0`, `%arg0`,
 * `%c0`). Graphs are immutable plain data: passes produce new graphs (with immer's `produce`), so
 * every stage can be kept, printed and compared.
 *
 * Text form (see docs/ir.md):
 *
 *   func @predict(%arg0: f32[64,784]) -> (i32[64]) {
 *     const %c0: f32[784,10] = blob<"c0">
 *     %0 = matmul(%arg0, %c0) : f32[64,10]
 *     %1 = argmax(%0) {axis = 1, keepDims = false} : i32[64]
 *     return %1
 *   }
 */
import { freeze } from "immer";
import type { TypedArray } from "./dtype.js";
import type { Attrs } from "./registry.js";
import type { TensorType } from "./types.js";

/** A named, typed SSA value: a parameter, a constant, a node result or a region parameter. */
export interface Value {
  readonly name: string;
  readonly type: TensorType;
}

/** Where in the user's code the op that made a node was called. */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/**
 * A nested graph owned by a node: the body of a fused kernel or of a control-flow op. It sees its
 * own parameters and the enclosing graph's constants, nothing else (values reach it as operands).
 */
export interface Region {
  readonly params: readonly Value[];
  readonly nodes: readonly Node[];
  /** Names of the values the region yields, in order. */
  readonly results: readonly string[];
}

export interface Node {
  readonly op: string;
  /** Names of the values this node reads, in operand order. */
  readonly operands: readonly string[];
  readonly results: readonly Value[];
  readonly attrs: Attrs;
  readonly loc?: SourceLoc;
  readonly regions?: readonly Region[];
}

/** A constant's value, held by reference (a closed-over tensor's buffer is never copied). */
export interface Constant extends Value {
  readonly data: TypedArray;
}

export interface Graph {
  readonly name: string;
  readonly params: readonly Value[];
  readonly constants: readonly Constant[];
  readonly nodes: readonly Node[];
  /** Names of the values the function returns, in order. */
  readonly results: readonly string[];
}

/**
 * Deep-freezes a graph (constant data excepted: TypedArrays cannot be frozen, and are never
 * mutated), so a pass can only make a new graph, with immer's `produce`, never edit an old one.
 */
export function freezeGraph(g: Graph): Graph {
  return freeze(g, true);
}

/** The type of every value defined at the top level of a graph, by name. */
export function valueTypes(g: Graph): Map<string, TensorType> {
  const types = new Map<string, TensorType>();
  for (const p of g.params) types.set(p.name, p.type);
  for (const c of g.constants) types.set(c.name, c.type);
  for (const n of g.nodes) for (const r of n.results) types.set(r.name, r.type);
  return types;
}

/** The result types of a graph, in order. Throws if a result name is undefined. */
export function resultTypes(g: Graph): TensorType[] {
  const types = valueTypes(g);
  return g.results.map((r) => {
    const t = types.get(r);
    if (!t) throw new Error(`graph @${g.name} returns undefined value ${r}`);
    return t;
  });
}

/**
 * Builds a graph incrementally (the tracer and the parser use it). Names are handed out in order:
 * `%0, %1, ...` for node results, `%cN` for constants; parameters are named by the caller.
 */
export class GraphBuilder {
  readonly name: string;
  private readonly params: Value[] = [];
  private readonly constants: Constant[] = [];
  private readonly nodes: Node[] = [];
  private nextValue = 0;

  constructor(name: string) {
    this.name = name;
  }

  addParam(name: string, type: TensorType): Value {
    const v = { name, type };
    this.params.push(v);
    return v;
  }

  addConstant(type: TensorType, data: TypedArray): Value {
    const c: Constant = { name: `%c${this.constants.length}`, type, data };
    this.constants.push(c);
    return { name: c.name, type };
  }

  addNode(op: string, operands: readonly string[], attrs: Attrs, types: readonly TensorType[], loc?: SourceLoc, regions?: readonly Region[]): Value[] {
    const results = types.map((type) => ({ name: `%${this.nextValue++}`, type }));
    const node: Node = {
      op,
      operands: [...operands],
      results,
      attrs,
      ...(loc ? { loc } : {}),
      ...(regions && regions.length ? { regions } : {}),
    };
    this.nodes.push(node);
    return results;
  }

  build(results: readonly string[]): Graph {
    return freezeGraph({
      name: this.name,
      params: [...this.params],
      constants: [...this.constants],
      nodes: [...this.nodes],
      results: [...results],
    });
  }
}
