import { describe, expect, it } from "vitest";
import * as st from "../src/index.js";

/** Public functions that are deliberately not methods: no natural `self` operand. */
const FUNCTION_ONLY = new Set([
  "tensor", "zeros", "ones", "full", "zerosLike", "onesLike", "arange", "linspace", "eye", "asarray",
  "where", "concat", "stack", "randomKey", "splitKey", "randomBits", "randomUniform", "randomNormal",
  "randomBernoulli", "randomInt", "setStrictDtypes", "getStrictDtypes", "fn", "isTracing", "debugPrint",
  "setDebugPrinter", "setWarningHandler", "print", "parse", "verify", "graphEqual", "graphDiff", "toDot", "interpret",
  "listOps", "dtypeInfo", "runPasses", "registerPass", "getPass", "hasPass", "listPasses", "parsePipeline", "canonicalize",
  "cse", "dce", "fuse", "compile", "exportOnnx", "importOnnx", "loadOnnx", "loadNpy", "loadNpyArray", "loadNpyWithInfo",
  "loadNpz", "loadNpzWithInfo", "loadSafetensors", "loadSafetensorsWithInfo", "saveNpy", "saveNpz", "saveSafetensors",
  "toNpyBytes", "toNpzBytes", "toSafetensorsBytes", "grad", "valueAndGrad", "vjp", "callGraph", "vjpGraph", "sgd",
  "momentum", "adam", "cond", "whileLoop", "forLoop", "scan", "backendInfo", "setNumThreads", "getNumThreads",
  "initWebGPU", "setDefaultDevice", "getDefaultDevice", "transferStats", "resetTransferStats", "gpuMemoryStats", "synchronize",
]);

describe("Tensor methods", () => {
  it("every op function with a self operand is also a method", () => {
    const fns = Object.entries(st).filter(([name, v]) => typeof v === "function" && /^[a-z]/.test(name)).map(([n]) => n);
    const missing = fns.filter((n) => !FUNCTION_ONLY.has(n) && !st.TENSOR_METHODS.includes(n));
    expect(missing).toEqual([]);
    const x = st.tensor([1]);
    for (const m of st.TENSOR_METHODS) expect(typeof (x as unknown as Record<string, unknown>)[m], m).toBe("function");
  });
  it("a method gives the same result as its function", () => {
    const x = st.tensor([[1, -2, 3], [4, 5, -6]]);
    expect(x.add(1).tolist()).toEqual(st.add(x, 1).tolist());
    expect(x.reduceSum(1).tolist()).toEqual([2, 3]);
    expect(x.reshape([3, 2]).shape).toEqual([3, 2]);
    expect(x.slice([0, 1], [2, 2]).tolist()).toEqual([[-2, 3], [5, -6]]);
    expect(x.slice([null, { start: 0, stop: 3, step: 2 }]).tolist()).toEqual([[1, 3], [4, -6]]);
    expect(x.matmul(st.ones([3, 1])).tolist()).toEqual([[2], [3]]);
    expect(x.relu().argmax(-1).tolist()).toEqual([2, 1]);
    expect(x.cast("int32").dtype).toBe("int32");
  });
});
