/** The interface every executor implements. Ops reach a backend only through `execute`. */
import type { TypedArray } from "../ir/dtype.js";
import type { Attrs, OpDef } from "../ir/registry.js";
import type { TensorType } from "../ir/types.js";

/** A tensor's data as the CPU sees it: a dense row-major typed array and its static type. */
export interface HostBuffer {
  readonly data: TypedArray;
  readonly type: TensorType;
}

export interface Backend {
  readonly name: string;
  /** Runs one op eagerly. `outTypes` comes from the op's own shape/dtype rule. */
  execute(op: OpDef, inputs: readonly HostBuffer[], attrs: Attrs, outTypes: readonly TensorType[]): TypedArray[];
}
