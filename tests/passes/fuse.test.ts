/**
 * The fuse pass and the `fused` op: the verifier's rules for fused bodies, the pass on traced code,
 * and properties on random graphs (fused graphs verify, round-trip as text and interpret to the
 * same bits as the original). The IR-text cases are in tests/passes/fuse-*.stir (FileCheck).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HostBuffer } from "../../src/exec/backend.js";
import { setDebugSink } from "../../src/exec/cpu/kernels/debug.js";
import { interpret } from "../../src/exec/interpret.js";
import { fn, layerNorm, logSoftmax, matmul, relu, add, div, reduceSum, softmax, tensor, debugPrint, mul, type Tensor } from "../../src/index.js";
import { dtypeInfo, type DType, type TypedArray } from "../../src/ir/dtype.js";
import { graphDiff } from "../../src/ir/equal.js";
import { IRVerifyError, ValueError } from "../../src/ir/errors.js";
import type { Graph, Node, Value } from "../../src/ir/graph.js";
import { parse } from "../../src/ir/parse.js";
import { fuse, fusePass } from "../../src/ir/passes/fuse.js";
import { DEFAULT_PIPELINE, getPass, runPasses } from "../../src/ir/passes/index.js";
import { print } from "../../src/ir/print.js";
import { type Attrs, getOp } from "../../src/ir/registry.js";
import type { TensorType } from "../../src/ir/types.js";
import { verify } from "../../src/ir/verify.js";
import { randomGraph } from "../helpers/random-graph.js";

// ---- helpers -----------------------------------------------------------------------------------

function verifyError(text: string): IRVerifyError {
  const g = parse(text);
  try {
    verify(g);
  } catch (err) {
    expect(err).toBeInstanceOf(IRVerifyError);
    expect((err as IRVerifyError).code).toBe("ST302");
    return err as IRVerifyError;
  }
  throw new Error(`verify accepted:\n${text}`);
}

function expectRule(text: string, rule: string, ...fragments: string[]): void {
  const e = verifyError(text);
  expect(e.rule, e.message).toBe(rule);
  for (const f of fragments) expect(e.message).toContain(f);
}

/** A function whose only node is `node` (a fused node, region included), returning %0. */
const fusedFn = (sig: string, ret: string, node: string): string => `func @f(${sig}) -> (${ret}) {\n${node}\n  return %0\n}`;

function data(dtype: DType, n: number, seed: number): TypedArray {
  const a = new (dtypeInfo(dtype).array)(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    if (dtype === "bool") a[i] = u < 0.5 ? 0 : 1;
    else if (dtype === "uint8") a[i] = Math.floor(u * 256);
    else if (dtype === "int32") a[i] = Math.floor((u - 0.5) * 64);
    else a[i] = i % 13 === 5 ? [NaN, Infinity, -Infinity, -0][i % 4]! : (u - 0.5) * 6;
  }
  return a;
}

const inputsFor = (g: Graph, seed: number): HostBuffer[] =>
  g.params.map((p, i) => ({ type: p.type, data: data(p.type.dtype, p.type.shape.reduce((a, b) => a * b, 1), seed + i * 7919) }));

/**
 * Runs `g`, with what debugPrint prints appended to `printed` as one line per print. An error is
 * returned as its class name, so two graphs that fail alike compare equal.
 */
function run(g: Graph, inputs: readonly HostBuffer[], printed: string[]): HostBuffer[] | string {
  const prev = setDebugSink((label, d) => void printed.push(`${label}: ${Array.from(d).join(" ")}`));
  try {
    return interpret(g, inputs);
  } catch (err) {
    return err instanceof Error ? err.constructor.name : "unknown";
  } finally {
    setDebugSink(prev);
  }
}

function sameBits(a: HostBuffer[] | string, b: HostBuffer[] | string): string | undefined {
  if (typeof a === "string" || typeof b === "string") return a === b ? undefined : `outcomes differ: ${String(typeof a === "string" ? a : "ok")} vs ${String(typeof b === "string" ? b : "ok")}`;
  if (a.length !== b.length) return `${a.length} results vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.type.dtype !== y.type.dtype || x.type.shape.join() !== y.type.shape.join() || x.data.length !== y.data.length) return `result ${i}: types differ`;
    for (let k = 0; k < x.data.length; k++) {
      const p = x.data[k]!;
      const q = y.data[k]!;
      if (!(Object.is(p, q) || (Number.isNaN(p) && Number.isNaN(q)))) return `result ${i}[${k}]: ${p} vs ${q}`;
    }
  }
  return undefined;
}

/** The effect nodes of a graph, in order, as text. */
const effects = (g: Graph): string[] => g.nodes.filter((n) => n.op === "debugPrint").map((n) => `${n.operands.join()}:${JSON.stringify(n.attrs)}`);

/** The checks every fused graph must pass, against its original. */
function checkFusion(g: Graph, seed: number): Graph {
  const f = fuse(g);
  verify(f);
  const back = parse(print(f));
  const diff = graphDiff(back, f);
  if (diff) throw new Error(`print/parse round trip differs: ${diff}\n${print(f)}`);
  expect(effects(f)).toEqual(effects(g));
  const inputs = inputsFor(g, seed);
  const printedF: string[] = [];
  const printedG: string[] = [];
  const why = sameBits(run(f, inputs, printedF), run(g, inputs, printedG));
  if (why) throw new Error(`fused graph differs from the original: ${why}\n${print(g)}\n${print(f)}`);
  expect(printedF).toEqual(printedG);
  return f;
}

const kernels = (g: Graph): string[] => g.nodes.map((n) => (n.op === "fused" ? `fused:${String(n.attrs["kind"])}` : n.op));

// ---- the fused op's rules ----------------------------------------------------------------------

const OK_ELEMENTWISE = fusedFn(
  "%x: f32[2,3], %b: f32[3]",
  "f32[2,3]",
  `  %0 = fused(%x, %b) {kind = "elementwise"} : f32[2,3] {
    ^(%a0: f32[2,3], %a1: f32[3]):
      %t0 = add(%a0, %a1) : f32[2,3]
      yield %t0
  }`,
);

describe("fused: verifier rules", () => {
  it("accepts the three kinds", () => {
    verify(parse(OK_ELEMENTWISE));
    verify(
      parse(
        fusedFn("%x: f32[2,3]", "f32[2]", `  %0 = fused(%x) {kind = "reduce"} : f32[2] {
    ^(%a0: f32[2,3]):
      %t0 = exp(%a0) : f32[2,3]
      %t1 = reduceMax(%t0) {axes = [1], keepDims = false} : f32[2]
      yield %t1
  }`),
      ),
    );
    verify(
      parse(
        fusedFn("%x: f32[5,2,3], %w: f32[3,4], %s: f32[5,1,1]", "f32[5,2,4]", `  %0 = fused(%x, %w, %s) {kind = "matmul"} : f32[5,2,4] {
    ^(%a0: f32[5,2,3], %a1: f32[3,4], %a2: f32[5,1,1]):
      %t0 = matmul(%a0, %a1) : f32[5,2,4]
      %t1 = mul(%t0, %a2) : f32[5,2,4]
      %t2 = add(%t1, %t0) : f32[5,2,4]
      yield %t2
  }`),
      ),
    );
  });

  it("type-rule: parameters must equal the operands, results the yields", () => {
    expectRule(OK_ELEMENTWISE.replace("%a1: f32[3]", "%a1: f32[1,3]"), "type-rule", "fused: operand 1 is f32[3], but region parameter 1 is f32[1,3]");
    expectRule(OK_ELEMENTWISE.replace("%a1: f32[3]):", "%a1: f32[3], %a2: f32[3]):"), "type-rule", "the region takes 3 parameters", "the node has 2 operands");
    expectRule(OK_ELEMENTWISE.replace(": f32[2,3] {", ": f64[2,3] {").replace("-> (f32[2,3])", "-> (f64[2,3])"), "type-rule", "gives result 0 (%0) the type f32[2,3], but the node declares f64[2,3]");
    const dtype = OK_ELEMENTWISE.replace("%x: f32[2,3], %b", "%x: f64[2,3], %b");
    expectRule(dtype, "type-rule", "operand 0 is f64[2,3], but region parameter 0 is f32[2,3]");
  });

  it("attributes: kind is required and must be one of three", () => {
    expectRule(OK_ELEMENTWISE.replace(' {kind = "elementwise"}', ""), "attributes", 'fused needs attribute "kind"');
    expectRule(OK_ELEMENTWISE.replace('"elementwise"', '"loop"'), "type-rule", 'attribute "kind" must be one of "elementwise", "reduce", "matmul", got "loop"');
    expectRule(OK_ELEMENTWISE.replace('{kind = "elementwise"}', '{kind = "elementwise", fast = true}'), "attributes", 'fused has no attribute "fast"');
  });

  it("region: exactly one region", () => {
    expectRule(fusedFn("%x: f32[2]", "f32[2]", `  %0 = fused(%x) {kind = "elementwise"} : f32[2]`), "region", "fused takes 1 region, but the node has 0");
  });

  it("region: an elementwise body holds elementwise ops over its parameters, yielding the broadcast shape", () => {
    const body = (nodes: string, yields: string, ret = "f32[2,3]", sig = "%x: f32[2,3], %b: f32[3]", params = "%a0: f32[2,3], %a1: f32[3]", operands = "%x, %b"): string =>
      fusedFn(sig, ret, `  %0 = fused(${operands}) {kind = "elementwise"} : ${ret} {\n    ^(${params}):\n${nodes}\n      yield ${yields}\n  }`);
    expectRule(body("      %t0 = reduceSum(%a0) {axes = [0], keepDims = false} : f32[3]", "%t0", "f32[3]"), "region", 'fused {kind = "elementwise"}: body node 0 (%t0 = reduceSum(%a0)) is not allowed here', "only elementwise ops");
    expectRule(body("      %t0 = neg(%a1) : f32[3]", "%t0", "f32[3]"), "region", "yield 0 (%t0) is f32[3], but every yield must have the broadcast output shape [2,3]");
    expectRule(body("      %t0 = debugPrint(%a0) {label = \"h\"} : f32[2,3]", "%t0"), "region", "body node 0 (%t0 = debugPrint(%a0)) is not allowed here");
    const withConst = `func @f(%x: f32[2,3], %b: f32[3]) -> (f32[2,3]) {
  const %c0: f32[] = dense<2>
  %0 = fused(%x, %b) {kind = "elementwise"} : f32[2,3] {
    ^(%a0: f32[2,3], %a1: f32[3]):
      %t0 = mul(%a0, %c0) : f32[2,3]
      yield %t0
  }
  return %0
}`;
    expectRule(withConst, "region", "reads %c0 (operand 1), which is neither a region parameter nor an earlier body value");
    expectRule(body("      %t0 = add(%a0, %a1) : f32[2,3]", "%t0", "f32[2,3]", "%x: f32[2,3], %b: f32[4]", "%a0: f32[2,3], %a1: f32[4]"), "type-rule", "add: ");
    const noBroadcast = body("      %t0 = neg(%a0) : f32[2,3]", "%t0", "f32[2,3]", "%x: f32[2,3], %b: f32[4]", "%a0: f32[2,3], %a1: f32[4]");
    expectRule(noBroadcast, "region", "the parameters do not broadcast together (f32[2,3], f32[4])");
    // Yielding a parameter of the output shape is allowed (the pass never does it, a kernel can copy).
    verify(parse(body("", "%a0")));
  });

  it("region: a reduce body ends with one fusible reduction, its last yield", () => {
    const reduce = (nodes: string, yields: string, ret = "f32[2]"): string =>
      fusedFn("%x: f32[2,3]", ret, `  %0 = fused(%x) {kind = "reduce"} : ${ret} {\n    ^(%a0: f32[2,3]):\n${nodes}\n      yield ${yields}\n  }`);
    const sum = "      %t1 = reduceSum(%t0) {axes = [1], keepDims = false} : f32[2]";
    expectRule(reduce("      %t0 = exp(%a0) : f32[2,3]", "%t0", "f32[2,3]"), "region", 'fused {kind = "reduce"}: the last body node is %t0 = exp(%a0), not one of reduceSum');
    expectRule(reduce(`      %t0 = exp(%a0) : f32[2,3]\n${sum}\n      %t2 = neg(%t1) : f32[2]`, "%t2"), "region", "body node 1 (%t1 = reduceSum(%t0)) is not allowed here");
    const twoYields = `func @f(%x: f32[2,3]) -> (f32[2]) {
  %0, %1 = fused(%x) {kind = "reduce"} : f32[2], f32[2] {
    ^(%a0: f32[2,3]):
      %t0 = exp(%a0) : f32[2,3]
${sum}
      yield %t1, %t1
  }
  return %1
}`;
    expectRule(twoYields, "region", "yield 0 (%t1) is the reduction's result, yielded twice");
    expectRule(reduce("      %t0 = exp(%a0) : f32[2,3]\n      %t1 = argmax(%t0) {axis = 1, keepDims = false} : i32[2]", "%t1", "i32[2]"), "region", "body node 1 (%t1 = argmax(%t0)) is not allowed here");
    expectRule(reduce("", "%a0", "f32[2,3]"), "region", "the body is empty");
    const wide = fusedFn("%x: f32[2,3], %y: f32[4,1,1]", "f32[2]", `  %0 = fused(%x, %y) {kind = "reduce"} : f32[2] {
    ^(%a0: f32[2,3], %a1: f32[4,1,1]):
      %t0 = exp(%a0) : f32[2,3]
      %t1 = reduceSum(%t0) {axes = [1], keepDims = false} : f32[2]
      yield %t1
  }`);
    expectRule(wide, "region", "parameter f32[4,1,1] does not broadcast to the reduction's input f32[2,3]");
  });

  it("region: a reduce body may also yield elementwise values of the reduction's input shape, before the reduction", () => {
    const multi = (nodes: string, yields: string, rets: string): string =>
      `func @f(%x: f32[2,3]) -> (${rets}) {\n  %0, %1 = fused(%x) {kind = "reduce"} : ${rets} {\n    ^(%a0: f32[2,3]):\n${nodes}\n      yield ${yields}\n  }\n  return %0, %1\n}`;
    const body = "      %t0 = exp(%a0) : f32[2,3]\n      %t1 = neg(%t0) : f32[2,3]\n      %t2 = reduceSum(%t1) {axes = [1], keepDims = true} : f32[2,1]";
    verify(parse(multi(body, "%t0, %t2", "f32[2,3], f32[2,1]")));
    verify(parse(multi(body.replace("%t1 = neg(%t0) : f32[2,3]", "%t1 = cast(%t0) {dtype = \"float64\"} : f64[2,3]").replace("reduceSum(%t1) {axes = [1], keepDims = true} : f32[2,1]", "reduceSum(%t1) {axes = [1], keepDims = true} : f64[2,1]"), "%t1, %t2", "f64[2,3], f64[2,1]")));
    expectRule(multi(body, "%t2, %t0", "f32[2,1], f32[2,3]"), "region", "the body's last yield must be the reduction's result (%t2), got [%t2, %t0]");
    expectRule(multi(body, "%a0, %t2", "f32[2,3], f32[2,1]"), "region", "yield 0 (%a0) is a region parameter");
    const small = "      %t0 = exp(%a0) : f32[2,3]\n      %t1 = reduceMax(%t0) {axes = [1], keepDims = true} : f32[2,1]\n      %t2 = neg(%t1) : f32[2,1]";
    expectRule(multi(small, "%t2, %t1", "f32[2,1], f32[2,1]"), "region", "body node 1 (%t1 = reduceMax(%t0)) is not allowed here");
    const narrow = `func @f(%x: f32[2,3], %y: f32[3]) -> (f32[3], f32[2,1]) {
  %0, %1 = fused(%x, %y) {kind = "reduce"} : f32[3], f32[2,1] {
    ^(%a0: f32[2,3], %a1: f32[3]):
      %t0 = exp(%a1) : f32[3]
      %t1 = mul(%a0, %t0) : f32[2,3]
      %t2 = reduceSum(%t1) {axes = [1], keepDims = true} : f32[2,1]
      yield %t0, %t2
  }
  return %0, %1
}`;
    expectRule(narrow, "region", "yield 0 (%t0) is f32[3], but an extra yield of a reduce body must have the reduction's input shape [2,3]");
    const twice = multi(body, "%t0, %t0, %t2", "f32[2,3], f32[2,3], f32[2,1]").replace("%0, %1 = fused", "%0, %1, %2 = fused").replace("return %0, %1", "return %0, %1, %2");
    expectRule(twice, "region", "yield 1 (%t0) is yielded twice");
  });

  it("region: a matmul body starts with a matmul of two parameters, then an epilogue", () => {
    const mm = (nodes: string, sig = "%x: f32[2,3], %w: f32[3,4], %b: f32[4]", params = "%a0: f32[2,3], %a1: f32[3,4], %a2: f32[4]", yields = "%t1"): string =>
      fusedFn(sig, "f32[2,4]", `  %0 = fused(%x, %w, %b) {kind = "matmul"} : f32[2,4] {\n    ^(${params}):\n${nodes}\n      yield ${yields}\n  }`);
    const head = "      %t0 = matmul(%a0, %a1) : f32[2,4]";
    verify(parse(mm(`${head}\n      %t1 = add(%t0, %a2) : f32[2,4]`)));
    expectRule(mm(`      %t0 = exp(%a0) : f32[2,3]\n      %t1 = matmul(%t0, %a1) : f32[2,4]`), "region", 'fused {kind = "matmul"}: the first body node must be a matmul, got %t0 = exp(%a0)');
    expectRule(mm(`${head}\n      %t1 = mul(%a2, %a2) : f32[4]\n      %t2 = add(%t0, %t1) : f32[2,4]`, undefined, undefined, "%t2"), "region", "epilogue node %t1 = mul(%a2, %a2) reads no value computed from the matmul");
    expectRule(
      mm(`${head}\n      %t1 = add(%t0, %a2) : f32[3,2,4]`, "%x: f32[2,3], %w: f32[3,4], %b: f32[3,1,1]", "%a0: f32[2,3], %a1: f32[3,4], %a2: f32[3,1,1]").replace(/f32\[2,4\] \{/, "f32[3,2,4] {").replace("-> (f32[2,4])", "-> (f32[3,2,4])"),
      "region",
      "epilogue operand %a2 is f32[3,1,1], which does not broadcast to the matmul result f32[2,4]",
    );
    const vec = fusedFn("%x: f32[3], %w: f32[3,4]", "f32[4]", `  %0 = fused(%x, %w) {kind = "matmul"} : f32[4] {
    ^(%a0: f32[3], %a1: f32[3,4]):
      %t0 = matmul(%a0, %a1) : f32[4]
      yield %t0
  }`);
    expectRule(vec, "region", "matmul operand 0 (%a0) is f32[3]; a matmul fusion takes 2-D or batched operands");
    expectRule(mm(`${head}\n      %t1 = add(%t0, %a2) : f32[2,4]`, undefined, undefined, "%t0"), "region", "must yield exactly one value, the last node's result (%t1)");
  });

  it("infer alone cannot type a fused node: a ValueError that says why", () => {
    const infer = (): unknown => getOp("fused").infer([{ dtype: "float32", shape: [2] }], { kind: "elementwise" });
    expect(infer).toThrow(ValueError);
    try {
      infer();
    } catch (err) {
      expect((err as ValueError).code).toBe("ST404");
      expect((err as Error).message).toContain("the result types are the types its region yields");
    }
    expect(() => getOp("fused").infer([], { kind: 3 })).toThrow(/attribute "kind" must be one of/);
  });
});

// ---- the pass ----------------------------------------------------------------------------------

describe("fuse pass", () => {
  it("is registered under its name and runs in the default pipeline", () => {
    expect(getPass("fuse")).toBe(fusePass);
    expect(DEFAULT_PIPELINE).toContain("fuse");
    const x = tensor([[1, 2, 3], [3, 2, 1]], { dtype: "float32" });
    const g = fn((t: Tensor) => softmax(t)).lower(x);
    const { graph } = runPasses(g, DEFAULT_PIPELINE, { verifyEach: true });
    expect(kernels(graph)).toEqual(["reduceMax", "fused:reduce", "div"]);
  });

  it("returns the graph itself when nothing fuses, and is idempotent", () => {
    const g = parse(`func @f(%x: f32[3], %w: f32[3,3]) -> (f32[3], f32[]) {
  %0 = relu(%x) : f32[3]
  %1 = matmul(%x, %w) : f32[3]
  %2 = reduceSum(%1) {axes = [0], keepDims = false} : f32[]
  return %0, %2
}`);
    expect(fuse(g)).toBe(g);
    const x = tensor(Array.from({ length: 20 }, (_, i) => i / 3), { dtype: "float32" }).reshape([4, 5]);
    const ln = fn((t: Tensor) => layerNorm(t)).lower(x);
    const once = fuse(ln);
    expect(print(fuse(once))).toBe(print(once));
  });

  it("leaves the input graph untouched (graphs are frozen data)", () => {
    const x = tensor([[1, 2], [3, 4]], { dtype: "float32" });
    const g = fn((t: Tensor) => relu(add(matmul(t, t), 1))).lower(x);
    const before = print(g);
    const f = fuse(g);
    expect(print(g)).toBe(before);
    expect(Object.isFrozen(f.nodes)).toBe(true);
    expect(kernels(f)).toEqual(["fused:matmul"]);
  });

  it("traced code: an MLP with debugPrint, softmax and layerNorm", () => {
    const x = tensor(Array.from({ length: 24 }, (_, i) => Math.sin(i)), { dtype: "float32" }).reshape([4, 6]);
    const w = tensor(Array.from({ length: 18 }, (_, i) => Math.cos(i)), { dtype: "float32" }).reshape([6, 3]);
    const b = tensor([0.5, -0.5, 0], { dtype: "float32" });
    const model = fn((a: Tensor, p: { w: Tensor; b: Tensor }) => {
      const h = relu(add(matmul(layerNorm(a), p.w), p.b));
      const shown = debugPrint("h", mul(h, 2));
      return softmax(shown, -1);
    });
    const g = model.lower(x, { w, b });
    const f = checkFusion(g, 11);
    expect(kernels(f)).toEqual(["reduceMean", "fused:reduce", "fused:elementwise", "fused:matmul", "debugPrint", "reduceMax", "fused:reduce", "div"]);
  });

  it("a host whose extra result would close a cycle is banned and the pass tries again", () => {
    // exp would be written by the sum's kernel, but neg(exp) feeds cumsum, which feeds the sum.
    const g = parse(`func @f(%x: f32[2,5], %y: f32[2,5]) -> (f32[2], f32[2,5]) {
  %0 = exp(%x) : f32[2,5]
  %1 = neg(%0) : f32[2,5]
  %2 = cumsum(%1) {axis = 1, exclusive = false, reverse = false} : f32[2,5]
  %3 = mul(%0, %2) : f32[2,5]
  %4 = reduceSum(%3) {axes = [1], keepDims = false} : f32[2]
  %5 = tanh(%y) : f32[2,5]
  %6 = reduceMax(%5) {axes = [1], keepDims = true} : f32[2,1]
  %7 = sub(%5, %6) : f32[2,5]
  return %4, %7
}`);
    const f = checkFusion(g, 5);
    expect(kernels(f)).toEqual(["fused:elementwise", "cumsum", "fused:reduce", "fused:reduce", "sub"]);
    // Only the cyclic host is banned: tanh is still written once by its reduction's kernel.
    expect(f.nodes.map((n) => n.results.length)).toEqual([1, 1, 1, 2, 1]);
  });

  it("traced softmax computes exp once; logSoftmax and layerNorm keep their kernels", () => {
    const x = tensor(Array.from({ length: 24 }, (_, i) => Math.sin(i) * 4), { dtype: "float32" }).reshape([4, 6]);
    const optimized = (f: (t: Tensor) => Tensor): Graph => runPasses(fn(f).lower(x), DEFAULT_PIPELINE, { verifyEach: true }).graph;
    const count = (g: Graph, op: string): number => {
      let n = 0;
      const walk = (nodes: readonly Node[]): void => {
        for (const node of nodes) {
          if (node.op === op) n++;
          for (const r of node.regions ?? []) walk(r.nodes);
        }
      };
      walk(g.nodes);
      return n;
    };
    const sm = optimized((t) => softmax(t, -1));
    checkFusion(fn((t: Tensor) => softmax(t, -1)).lower(x), 3);
    expect(kernels(sm)).toEqual(["reduceMax", "fused:reduce", "div"]);
    expect(count(sm, "exp")).toBe(1);
    // The reduce kernel writes exp(x - max) and its sum; div reads both.
    const reduce = sm.nodes[1]!;
    expect(reduce.results.map((r) => r.type.shape)).toEqual([[4, 6], [4, 1]]);
    expect(sm.nodes[2]!.operands).toEqual(reduce.results.map((r) => r.name));
    // logSoftmax reads exp only in the sum: nothing to share, the cheap sub is recomputed.
    const lsm = optimized((t) => logSoftmax(t, -1));
    expect(kernels(lsm)).toEqual(["reduceMax", "fused:reduce", "fused:elementwise"]);
    expect(count(lsm, "exp")).toBe(1);
    expect(count(lsm, "sub")).toBe(3);
    const ln = optimized((t) => layerNorm(t));
    expect(kernels(ln)).toEqual(["reduceMean", "fused:reduce", "fused:elementwise"]);
    expect(ln.nodes.every((n) => n.results.length === 1)).toBe(true);
    // A cheap producer shared by a reduction and an elementwise consumer is still duplicated.
    const cheap = optimized((t) => div(mul(t, 3), reduceSum(mul(t, 3), -1, true)));
    expect(kernels(cheap)).toEqual(["fused:reduce", "fused:elementwise"]);
    expect(count(cheap, "mul")).toBe(2);
  });
});

// ---- properties --------------------------------------------------------------------------------

/**
 * Graphs made mostly of fusible structure: elementwise ops with broadcasting, casts and where,
 * reductions, matmuls with biases, and the odd non-fusible op (argmax) or effect (debugPrint).
 */
const fusibleGraph = fc
  .record({
    dtype: fc.constantFrom<DType>("float32", "float64", "int32"),
    steps: fc.array(fc.record({ kind: fc.nat(21), a: fc.nat(), b: fc.nat(), c: fc.nat() }), { minLength: 1, maxLength: 16 }),
    results: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  })
  .map(({ dtype, steps, results }): Graph => {
    const t = (shape: number[], d: DType = dtype): TensorType => ({ dtype: d, shape });
    const params: Value[] = [
      { name: "%x", type: t([3, 4]) },
      { name: "%y", type: t([4]) },
      { name: "%m", type: t([3, 1]) },
      { name: "%w", type: t([4, 4]) },
      { name: "%z", type: t([0, 4]) },
    ];
    const pool: Value[] = [...params];
    const nodes: Node[] = [];
    let next = 0;
    const add = (op: string, operands: readonly Value[], attrs: Attrs = {}): Value | undefined => {
      let types: TensorType[];
      try {
        types = getOp(op).infer(operands.map((v) => v.type), attrs);
      } catch {
        return undefined;
      }
      const res = types.map((type) => ({ name: `%${next++}`, type }));
      nodes.push({ op, operands: operands.map((v) => v.name), results: res, attrs });
      pool.push(...res);
      return res[0];
    };
    const UN = ["neg", "exp", "tanh", "relu", "abs", "square", "sigmoid", "sqrt"];
    const BIN = ["add", "mul", "sub", "maximum", "div", "minimum"];
    const RED = ["reduceSum", "reduceMax", "reduceMean", "reduceMin", "reduceProd"];
    for (const s of steps) {
      const x = pool[s.a % pool.length]!;
      const y = pool[s.b % pool.length]!;
      const rank = x.type.shape.length;
      if (s.kind < 6) add(UN[s.c % UN.length]!, [x]);
      else if (s.kind < 12) add(BIN[s.c % BIN.length]!, [x, y]);
      else if (s.kind === 12) add("cast", [x], { dtype: s.c % 2 ? "float64" : dtype });
      else if (s.kind === 13) {
        const cond = pool.find((v) => v.type.dtype === "bool");
        if (cond) add("where", [cond, x, y]);
        else add("less", [x, y]);
      } else if (s.kind < 16) add(RED[s.c % RED.length]!, [x], { axes: rank === 0 ? [] : [s.c % rank], keepDims: s.b % 2 === 0 });
      else if (s.kind === 16) add("matmul", [x, params[3]!]);
      else if (s.kind === 17) add("debugPrint", [x], { label: `p${s.c % 10}` });
      else if (s.kind === 18) add("argmax", [x], { axis: rank === 0 ? null : s.c % rank, keepDims: false });
      else if (s.kind === 19) add("greater", [x, y]);
      else {
        // The softmax shape: an expensive value, reduced (keepDims), combined with its reduction.
        const e = add(["exp", "tanh", "sigmoid", "log"][s.c % 4]!, [x]);
        const r = e && add(RED[s.b % RED.length]!, [e], { axes: rank === 0 ? [] : [s.a % rank], keepDims: true });
        if (e && r) add(BIN[s.c % BIN.length]!, [e, r]);
      }
    }
    const produced = pool.slice(params.length);
    const outs = produced.length === 0 ? ["%x"] : [...new Set(results.map((r) => produced[r % produced.length]!.name))];
    return { name: "g", params, constants: [], nodes, results: outs };
  });

describe("fuse: properties", () => {
  it("fusible random graphs: fused graphs verify, round-trip, keep effects in order and give the same bits", () => {
    let fusedSome = 0;
    let hosting = 0;
    fc.assert(
      fc.property(fusibleGraph, fc.nat(1000), (g, seed) => {
        verify(g);
        const f = checkFusion(g, seed);
        if (f !== g) fusedSome++;
        if (f.nodes.some((n) => n.op === "fused" && n.attrs["kind"] === "reduce" && n.results.length > 1)) hosting++;
        expect(print(fuse(f))).toBe(print(f));
      }),
      { numRuns: 300 },
    );
    expect(fusedSome).toBeGreaterThan(100);
    // Multi-output reduce kernels (an expensive producer written by its reduction) occur too.
    expect(hosting).toBeGreaterThan(10);
  });

  it("random registry graphs (randomGraph): the same checks", () => {
    fc.assert(
      fc.property(randomGraph(fc, { maxNodes: 14 }), fc.nat(1000), (g, seed) => {
        verify(g);
        checkFusion(g, seed);
      }),
      { numRuns: 300 },
    );
  });
});
