/**
 * The CPU backend: a table of kernels keyed by op name (the backend's rule table, like JAX's
 * per-platform lowering rules). Elementwise ops need no entry: their kernels are generated from
 * the registry's scalar templates.
 */
import type { TypedArray } from "../../ir/dtype.js";
import type { Attrs, OpDef } from "../../ir/registry.js";
import type { TensorType } from "../../ir/types.js";
import type { Backend, HostBuffer } from "../backend.js";
import { runElementwise } from "./elementwise.js";

export type CpuKernel = (inputs: readonly HostBuffer[], attrs: Attrs, outTypes: readonly TensorType[]) => TypedArray[];

const KERNELS = new Map<string, CpuKernel>();

export function registerCpuKernel(op: string, kernel: CpuKernel): void {
  if (KERNELS.has(op)) throw new Error(`cpu kernel for ${op} is registered twice`);
  KERNELS.set(op, kernel);
}

/** The kernel registered for an op name, for executors that bind kernels once at compile time. */
export function getCpuKernel(name: string): CpuKernel | undefined {
  return KERNELS.get(name);
}

export function hasCpuKernel(op: OpDef): boolean {
  return op.kind === "elementwise" || KERNELS.has(op.name);
}

export const cpuBackend: Backend = {
  name: "cpu",
  execute(op, inputs, attrs, outTypes) {
    const kernel = KERNELS.get(op.name);
    if (kernel) return kernel(inputs, attrs, outTypes);
    if (op.kind === "elementwise") return [runElementwise(op, inputs, attrs, outTypes[0]!)];
    throw new Error(`cpu backend has no kernel for op ${op.name}`);
  },
};
