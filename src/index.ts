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
export { exportOnnx, importOnnx, loadOnnx, type OnnxModel, type LoadOnnxOptions, type OnnxExportOptions, type OnnxImportOptions } from "./trace/onnx.js";
export * from "./trace/files.js";
export { TENSOR_METHODS } from "./trace/methods.js";
export { fn, isTracing, type FnOptions, type IrOptions, type TracedFunction } from "./trace/fn.js";
export { SymbolicTensor } from "./trace/symbolic.js";
export { grad, valueAndGrad, vjp, stopGradient, callGraph, type GradOptions, type GradFunction } from "./trace/autodiff.js";
export { sgd, momentum, adam, type Optimizer, type SgdOptions, type MomentumOptions, type AdamOptions } from "./trace/optimizers.js";
export { vjpGraph, type VjpGraphOptions, type VjpGraphResult } from "./ir/autodiff/transform.js";
export { debugPrint, setDebugPrinter, type DebugPrinter } from "./trace/debug.js";
export { setWarningHandler, type SymtensorWarning, type WarningHandler } from "./trace/warnings.js";
export type { Graph, Node, Value, Region, Constant, SourceLoc } from "./ir/graph.js";
export { print, type PrintOptions } from "./ir/print.js";
export { parse, type ParseOptions } from "./ir/parse.js";
export { verify } from "./ir/verify.js";
export { graphEqual, graphDiff } from "./ir/equal.js";
export { toDot } from "./ir/dot.js";
export { interpret } from "./exec/interpret.js";
export {
  runPasses, registerPass, getPass, hasPass, listPasses, parsePipeline, DEFAULT_PIPELINE, canonicalize, cse, dce, fuse,
  DEFAULT_FOLD_LIMIT, type Pass, type PassContext, type HostValue, type PassStage, type RunPassesOptions, type RunPassesResult,
} from "./ir/passes/index.js";
export { cpuBackend } from "./exec/cpu/backend.js";
export { compile, type CompileOptions, type Executable, type KernelInfo, type MemoryPlan } from "./exec/cpu/compile.js";
export { backendInfo, setNumThreads, getNumThreads, type BackendInfo } from "./exec/wasm/runtime.js";
export {
  initWebGPU,
  setDefaultDevice,
  getDefaultDevice,
  transferStats,
  resetTransferStats,
  gpuMemoryStats,
  synchronize,
  type InitWebGPUOptions,
  type WebGPUInfo,
  type WebGPULimits,
  type GpuMemoryStats,
  type TransferStats,
  type DeviceTransferStats,
} from "./trace/device.js";
export { listOps, type OpDef, type OpKind } from "./ir/registry.js";
export { dtypeInfo } from "./ir/dtype.js";
export { VERSION } from "./version.js";
export { cond, whileLoop, forLoop, scan } from "./trace/control.js";
