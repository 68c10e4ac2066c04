/**
 * A pass is a pure Graph -> Graph function with a name and a one-line description. Passes never
 * know which backend will run the graph; what they need from outside the IR layer (evaluating an
 * op for constant folding) arrives through the PassContext.
 */
import type { TypedArray } from "../dtype.js";
import type { Graph } from "../graph.js";
import type { Attrs, OpDef } from "../registry.js";
import type { TensorType } from "../types.js";

/** A tensor value on the host: dense row-major data and its type. */
export interface HostValue {
  readonly data: TypedArray;
  readonly type: TensorType;
}

export interface PassContext {
  /**
   * Runs one op on constant inputs (the executor's kernels), for constant folding. Absent when no
   * executor is available: folding is then skipped, never approximated.
   */
  readonly evaluate?: (op: OpDef, inputs: readonly HostValue[], attrs: Attrs, outTypes: readonly TensorType[]) => TypedArray[];
  /** Largest result (in elements) constant folding may materialize; bigger ones stay as ops. */
  readonly foldLimit: number;
}

export interface Pass {
  readonly name: string;
  readonly description: string;
  run(graph: Graph, ctx: PassContext): Graph;
}

export const DEFAULT_FOLD_LIMIT = 1 << 16;
