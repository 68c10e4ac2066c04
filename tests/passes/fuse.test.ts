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
import { fn, layerNorm, matmul, relu, add, softmax, tensor, debugPrint, mul, type Tensor } from "../../src/index.js";
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

  it("region: a reduce body ends with one fusible reduction, its only yield", () => {
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
    expectRule(twoYields, "region", "must yield exactly one value, the last node's result (%t1), got [%t1, %t1]");
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
    expect(kernels(graph)).toEqual(["reduceMax", "fused:reduce", "fused:elementwise"]);
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
    expect(kernels(f)).toEqual(["reduceMean", "fused:reduce", "fused:elementwise", "fused:matmul", "debugPrint", "reduceMax", "fused:reduce", "fused:elementwise"]);
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
    steps: fc.array(fc.record({ kind: fc.nat(19), a: fc.nat(), b: fc.nat(), c: fc.nat() }), { minLength: 1, maxLength: 16 }),
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
    const add = (op: string, operands: readonly Value[], attrs: Attrs = {}): void => {
      let types: TensorType[];
      try {
        types = getOp(op).infer(operands.map((v) => v.type), attrs);
      } catch {
        return;
      }
      const res = types.map((type) => ({ name: `%${next++}`, type }));
      nodes.push({ op, operands: operands.map((v) => v.name), results: res, attrs });
      pool.push(...res);
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
      else add("greater", [x, y]);
    }
    const produced = pool.slice(params.length);
    const outs = produced.length === 0 ? ["%x"] : [...new Set(results.map((r) => produced[r % produced.length]!.name))];
    return { name: "g", params, constants: [], nodes, results: outs };
  });

describe("fuse: properties", () => {
  it("fusible random graphs: fused graphs verify, round-trip, keep effects in order and give the same bits", () => {
    let fusedSome = 0;
    fc.assert(
      fc.property(fusibleGraph, fc.nat(1000), (g, seed) => {
        verify(g);
        const f = checkFusion(g, seed);
        if (f !== g) fusedSome++;
        expect(print(fuse(f))).toBe(print(f));
      }),
      { numRuns: 300 },
    );
    expect(fusedSome).toBeGreaterThan(100);
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
