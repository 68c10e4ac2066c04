/** symtensor: the public API. */
import "./ir/ops/index.js";
import "./exec/cpu/kernels/index.js";
import "./trace/methods.js";

export { type DType, DTYPES } from "./ir/dtype.js";
export * from "./ir/errors.js";
export type { TensorType } from "./ir/types.js";
export { NDArray, type NestedList } from "./interop/ndarray.js";
export { Tensor, EagerTensor, type Device } from "./trace/tensor.js";
export { setStrictDtypes, getStrictDtypes } from "./trace/config.js";
export { tensor, zeros, ones, full, zerosLike, onesLike, arange, linspace, eye, type TensorData, type TensorOptions, type NestedArray } from "./trace/create.js";
export type { TensorLike } from "./trace/promote.js";
export * from "./trace/ops/elementwise.js";
export * from "./trace/ops/reduction.js";
export * from "./trace/ops/shape.js";
export * from "./trace/ops/linalg.js";
export * from "./trace/ops/random.js";
export { asarray } from "./trace/asarray.js";
export { TENSOR_METHODS } from "./trace/methods.js";
export { fn, isTracing, type FnOptions, type IrOptions, type TracedFunction } from "./trace/fn.js";
export { SymbolicTensor } from "./trace/symbolic.js";
export { debugPrint, setDebugPrinter, type DebugPrinter } from "./trace/debug.js";
export { setWarningHandler, type SymtensorWarning, type WarningHandler } from "./trace/warnings.js";
export type { Graph, Node, Value, Region, Constant, SourceLoc } from "./ir/graph.js";
