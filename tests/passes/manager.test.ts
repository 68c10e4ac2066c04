/**
 * The pass manager (runPasses, the registry) and the exactness of canonicalize, cse and dce:
 * every rule checked on special values (NaN, inf, -0, integer extremes) against the interpreter,
 * and random graphs optimized by canonicalize+cse+dce computing the same results bit for bit.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostBuffer } from "../../src/exec/backend.js";
import { setDebugSink } from "../../src/exec/cpu/kernels/debug.js";
import { interpret } from "../../src/exec/interpret.js";
import { DTYPES, type DType, dtypeInfo, type TypedArray } from "../../src/ir/dtype.js";
import { graphEqual } from "../../src/ir/equal.js";
import { IRVerifyError, ValueError } from "../../src/ir/errors.js";
import type { Graph } from "../../src/ir/graph.js";
import { parse } from "../../src/ir/parse.js";
import {
  canonicalize,
  castChainIsExact,
  castIsLossless,
  cse,
  dce,
  DEFAULT_FOLD_LIMIT,
  DEFAULT_PIPELINE,
  getPass,
  hasPass,
  listPasses,
  type Pass,
  type PassContext,
  parsePipeline,
  registerPass,
  runPasses,
} from "../../src/ir/passes/index.js";
import { print } from "../../src/ir/print.js";
import type { TensorType } from "../../src/ir/types.js";
import { verify } from "../../src/ir/verify.js";
import { evaluateOnCpu } from "../helpers/filecheck.js";
import { randomGraph } from "../helpers/random-graph.js";

const SMALL = `
func @f(%x: f32[3]) -> (f32[3]) {
  const %c0: f32[] = dense<1>
  %0 = mul(%x, %c0) : f32[3]
  %1 = exp(%0) : f32[3]
  %2 = exp(%0) : f32[3]
  %3 = add(%1, %2) : f32[3]
  %4 = neg(%x) : f32[3]
  return %3
}`;

const CTX: PassContext = { foldLimit: DEFAULT_FOLD_LIMIT, evaluate: evaluateOnCpu };

// debugPrint nodes of random graphs print when interpreted: record instead.
let prints: string[] = [];
let restoreSink: ReturnType<typeof setDebugSink>;
beforeAll(() => {
  restoreSink = setDebugSink((label, data, type) => void prints.push(`${label}:${type.dtype}[${type.shape.join(",")}]:${Array.from(data, (x) => (Object.is(x, -0) ? "-0" : String(x))).join(",")}`));
});
afterAll(() => {
  setDebugSink(restoreSink);
});

describe("runPasses", () => {
  it("runs passes in order, keeps every stage and times it", () => {
    const g = parse(SMALL);
    const r = runPasses(g, ["canonicalize", "cse", "dce"], { evaluate: evaluateOnCpu });
    expect(r.stages.map((s) => s.pass)).toEqual(["canonicalize", "cse", "dce"]);
    for (const s of r.stages) {
      expect(s.ms).toBeGreaterThanOrEqual(0);
      verify(s.graph);
    }
    expect(r.graph).toBe(r.stages[2]!.graph);
    expect(print(r.graph, { loc: false })).toBe(
      ["func @f(%x: f32[3]) -> (f32[3]) {", "  %1 = exp(%x) : f32[3]", "  %3 = add(%1, %1) : f32[3]", "  return %3", "}", ""].join("\n"),
    );
    // The input is untouched (graphs are frozen data).
    expect(graphEqual(g, parse(SMALL))).toBe(true);
    expect(Object.isFrozen(r.graph.nodes)).toBe(true);
  });

  it("an empty pipeline returns the input", () => {
    const g = parse(SMALL);
    const r = runPasses(g, []);
    expect(r.graph).toBe(g);
    expect(r.stages).toEqual([]);
  });

  it("passes that change nothing hand back the same graph object", () => {
    const g = parse("func @f(%x: f32[3]) -> (f32[3]) {\n  %0 = exp(%x) : f32[3]\n  return %0\n}");
    const r = runPasses(g, ["canonicalize", "cse", "dce"], { evaluate: evaluateOnCpu });
    for (const s of r.stages) expect(s.graph).toBe(g);
  });

  it("accepts Pass objects as well as names, and hands them the context", () => {
    const seen: PassContext[] = [];
    const probe: Pass = { name: "probe", description: "records its context", run: (g, ctx) => (seen.push(ctx), g) };
    runPasses(parse(SMALL), [probe]);
    runPasses(parse(SMALL), [probe], { foldLimit: 7, evaluate: evaluateOnCpu });
    expect(seen[0]).toEqual({ foldLimit: DEFAULT_FOLD_LIMIT });
    expect(seen[1]!.foldLimit).toBe(7);
    expect(seen[1]!.evaluate).toBe(evaluateOnCpu);
  });

  it("rejects unknown pass names with a ValueError listing the available passes, before running anything", () => {
    let ran = false;
    const probe: Pass = { name: "probe", description: "", run: (g) => ((ran = true), g) };
    try {
      runPasses(parse(SMALL), [probe, "canonicalise"]);
      throw new Error("no error");
    } catch (err) {
      expect(err).toBeInstanceOf(ValueError);
      expect((err as ValueError).code).toBe("ST404");
      expect((err as ValueError).message).toMatch(/unknown pass "canonicalise"; available passes: .*canonicalize, cse, dce/);
    }
    expect(ran).toBe(false);
    expect(() => runPasses(parse(SMALL), [], { printAfter: ["nope"] })).toThrow(ValueError);
    expect(() => runPasses(parse(SMALL), [], { foldLimit: -1 })).toThrow(ValueError);
    expect(() => runPasses(parse(SMALL), [null as unknown as string])).toThrow(ValueError);
  });

  it("verifyEach names the pass that broke the graph", () => {
    const broken: Pass = {
      name: "broken",
      description: "declares a wrong result type",
      run: (g) => ({ ...g, nodes: g.nodes.map((n, i) => (i === 1 ? { ...n, results: [{ name: n.results[0]!.name, type: { dtype: "int32", shape: [3] } }] } : n)) }),
    };
    try {
      runPasses(parse(SMALL), ["cse", broken, "dce"]);
      throw new Error("no error");
    } catch (err) {
      expect(err).toBeInstanceOf(IRVerifyError);
      const e = err as IRVerifyError;
      expect(e.code).toBe("ST302");
      expect(e.rule).toBe("type-rule");
      expect(e.where).toBe("%1");
      expect(e.message).toContain('pass "broken" produced an invalid graph: exp gives result 0 (%1) the type f32[3], but the node declares i32[3]');
    }
    // Without verifyEach the broken graph goes through.
    expect(() => runPasses(parse(SMALL), [broken], { verifyEach: false })).not.toThrow();
  });

  it("verifyEach checks the input first, so a bad input is not blamed on a pass", () => {
    const bad = parse("func @f(%x: f32[3]) -> (i32[3]) {\n  %0 = exp(%x) : i32[3]\n  return %0\n}");
    expect(() => runPasses(bad, ["dce"])).toThrow(/the input graph \(before any pass\) is invalid: exp gives/);
  });

  it("printAfter: all, a list, or a callback", () => {
    const all = runPasses(parse(SMALL), ["canonicalize", "cse", "dce"], { printAfter: "all", printOptions: { loc: false } });
    expect(all.printed.map((p) => p.pass)).toEqual(["canonicalize", "cse", "dce"]);
    expect(all.printed[1]!.text).toBe(print(all.stages[1]!.graph, { loc: false }));
    const some = runPasses(parse(SMALL), ["canonicalize", "cse", "dce", "cse"], { printAfter: ["cse"] });
    expect(some.printed.map((p) => p.pass)).toEqual(["cse", "cse"]);
    const got: string[] = [];
    const cb = runPasses(parse(SMALL), ["dce"], { printAfter: "all", onPrint: (pass, text) => void got.push(`${pass}\n${text}`) });
    expect(cb.printed).toEqual([]);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^dce\nfunc @f/);
    expect(runPasses(parse(SMALL), ["dce"]).printed).toEqual([]);
  });
});

describe("the pass registry", () => {
  it("has the built-in passes and the default pipeline", () => {
    for (const name of ["canonicalize", "cse", "dce"]) {
      expect(hasPass(name)).toBe(true);
      expect(getPass(name).name).toBe(name);
      expect(getPass(name).description.length).toBeGreaterThan(10);
    }
    expect(listPasses().map((p) => p.name)).toEqual([...listPasses().map((p) => p.name)].sort());
    expect(DEFAULT_PIPELINE).toEqual(["canonicalize", "cse", "dce", "fuse", "dce"]);
    expect(() => getPass("nope")).toThrow(ValueError);
  });

  it("resolves names when a pipeline runs, so a pass may register later", () => {
    const name = "test.late";
    expect(() => runPasses(parse(SMALL), [name])).toThrow(/unknown pass "test\.late"/);
    const late: Pass = { name, description: "registered late", run: (g) => g };
    registerPass(late);
    registerPass(late); // the same pass again is a no-op
    expect(() => registerPass({ ...late })).toThrow(/already registered/);
    expect(runPasses(parse(SMALL), [name]).stages[0]!.pass).toBe(name);
  });

  it("parsePipeline splits on commas", () => {
    expect(parsePipeline("canonicalize, cse,,dce ")).toEqual(["canonicalize", "cse", "dce"]);
    expect(parsePipeline("")).toEqual([]);
  });
});

// ---- exactness on special values ---------------------------------------------------------------

const SPECIAL: Record<DType, readonly number[]> = {
  bool: [0, 1, 1, 0, 1, 0, 0, 1],
  uint8: [0, 1, 255, 128, 127, 44, 2, 200],
  int32: [0, 1, -1, 2147483647, -2147483648, 300, -300, 65536],
  float32: [NaN, Infinity, -Infinity, -0, 0, 1.5, -3.4028234663852886e38, 1.401298464324817e-45],
  float64: [NaN, Infinity, -Infinity, -0, 0, -2.5, 1.7976931348623157e308, 2 ** 53 + 2],
};

function specialInput(t: TensorType): HostBuffer {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const data = new (dtypeInfo(t.dtype).array)(n);
  for (let i = 0; i < n; i++) data[i] = SPECIAL[t.dtype][i % 8]!;
  return { data, type: t };
}

/** Element-wise identity with Object.is: -0 differs from 0, every NaN equals every NaN (payloads aside). */
function sameData(a: TypedArray, b: TypedArray): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function expectSameResults(before: Graph, after: Graph, inputs: readonly HostBuffer[]): void {
  prints = [];
  const want = interpret(before, inputs);
  const wantPrints = prints;
  prints = [];
  const got = interpret(after, inputs);
  expect(prints).toEqual(wantPrints);
  expect(got.map((b) => b.type)).toEqual(want.map((b) => b.type));
  got.forEach((b, i) => {
    if (!sameData(b.data, want[i]!.data)) {
      throw new Error(`result ${i} differs:\n${print(before)}\n->\n${print(after)}\nwant ${Array.from(want[i]!.data).join(",")}\ngot  ${Array.from(b.data).join(",")}`);
    }
  });
}

const short = (d: DType): string => dtypeInfo(d).short;
const literal = (v: number, d: DType): string => (d === "bool" ? (v ? "true" : "false") : Object.is(v, -0) ? "-0" : String(v));

/** `func @f(%x: T[8]) { %0 = op(%x, c); %1 = op(c, %x) }`, or undefined when the op rejects the dtype. */
function binaryWithConstant(op: string, d: DType, v: number): Graph | undefined {
  const t = `${short(d)}[8]`;
  const g = parse(`func @f(%x: ${t}) -> (${t}, ${t}) {
  const %c0: ${short(d)}[] = dense<${literal(v, d)}>
  %0 = ${op}(%x, %c0) : ${t}
  %1 = ${op}(%c0, %x) : ${t}
  return %0, %1
}`);
  try {
    verify(g);
  } catch {
    return undefined;
  }
  return g;
}

describe("canonicalize is exact on special values", () => {
  it("identities with a constant operand, every dtype: fire only where exact", () => {
    const fired: string[] = [];
    for (const op of ["add", "sub", "mul", "div"]) {
      for (const d of DTYPES) {
        for (const v of [0, -0, 1]) {
          if (Object.is(v, -0) && d !== "float32" && d !== "float64") continue;
          const g = binaryWithConstant(op, d, v);
          if (!g) continue;
          const out = canonicalize(g, { foldLimit: DEFAULT_FOLD_LIMIT });
          verify(out);
          expectSameResults(g, out, [specialInput(g.params[0]!.type)]);
          if (out !== g) fired.push(`${op} ${short(d)} ${literal(v, d)}`);
        }
      }
    }
    // These fired (on at least one side); every other combination left the graph alone.
    expect(fired.sort()).toEqual(
      [
        ...["add bool false", "add u8 0", "add i32 0", "add f32 -0", "add f64 -0"],
        ...["sub u8 0", "sub i32 0", "sub f32 0", "sub f64 0"],
        ...["mul bool false", "mul bool true", "mul u8 0", "mul u8 1", "mul i32 0", "mul i32 1", "mul f32 1", "mul f64 1"],
        ...["div f32 1", "div f64 1"],
      ].sort(),
    );
  });

  it("the excluded float identities really are not identities", () => {
    // x + 0 turns -0 into +0; x * 0 turns NaN, inf and negatives into something else than 0.
    const add = binaryWithConstant("add", "float32", 0)!;
    const x = specialInput({ dtype: "float32", shape: [8] });
    expect(sameData(interpret(add, [x])[0]!.data, x.data)).toBe(false);
    const mul = binaryWithConstant("mul", "float32", 0)!;
    expect(Array.from(interpret(mul, [x])[0]!.data).some((v) => !Object.is(v, 0))).toBe(true);
  });

  it("cast(cast(x)): every dtype triple, checked against direct casts", () => {
    let folded = 0;
    for (const a of DTYPES) {
      for (const b of DTYPES) {
        for (const c of DTYPES) {
          const g = parse(`func @f(%x: ${short(a)}[8]) -> (${short(c)}[8]) {
  %0 = cast(%x) {dtype = "${b}"} : ${short(b)}[8]
  %1 = cast(%0) {dtype = "${c}"} : ${short(c)}[8]
  return %1
}`);
          const out = canonicalize(g, { foldLimit: DEFAULT_FOLD_LIMIT });
          verify(out);
          expectSameResults(g, out, [specialInput(g.params[0]!.type)]);
          const castsLeft = out.nodes.filter((n) => n.op === "cast").length;
          if (castChainIsExact(a, b, c) || a === b || b === c) expect(castsLeft).toBeLessThan(2);
          else expect(castsLeft).toBe(2);
          if (castsLeft < 2) folded++;
        }
      }
    }
    expect(folded).toBeGreaterThan(40);
  });

  it("castIsLossless is the widening order (bool < uint8 < int32 < float64, uint8 < float32 < float64)", () => {
    const lossless = DTYPES.flatMap((a) => DTYPES.filter((b) => a !== b && castIsLossless(a, b)).map((b) => `${a}->${b}`));
    expect(lossless.sort()).toEqual(
      ["bool->uint8", "bool->int32", "bool->float32", "bool->float64", "uint8->int32", "uint8->float32", "uint8->float64", "int32->float64", "float32->float64"].sort(),
    );
    expect(castChainIsExact("int32", "float64", "uint8")).toBe(false);
    expect(castChainIsExact("uint8", "float64", "uint8")).toBe(true);
  });

  it("shape chains on data: transposes, reshapes and broadcasts compose exactly", () => {
    const g = parse(`func @f(%x: i32[2,3,4]) -> (i32[4,3,2], i32[2,3,4], i32[6,4], i32[5,2,3,4]) {
  %0 = transpose(%x) {perm = [1, 2, 0]} : i32[3,4,2]
  %1 = transpose(%0) {perm = [1, 0, 2]} : i32[4,3,2]
  %2 = transpose(%0) {perm = [2, 0, 1]} : i32[2,3,4]
  %3 = reshape(%x) {shape = [24]} : i32[24]
  %4 = reshape(%3) {shape = [6, 4]} : i32[6,4]
  %5 = broadcastTo(%x) {shape = [1, 2, 3, 4]} : i32[1,2,3,4]
  %6 = broadcastTo(%5) {shape = [5, 2, 3, 4]} : i32[5,2,3,4]
  return %1, %2, %4, %6
}`);
    const out = canonicalize(g, CTX);
    expect(out.nodes.map((n) => n.op)).toEqual(["transpose", "reshape", "broadcastTo"]);
    const x: HostBuffer = { data: Int32Array.from({ length: 24 }, (_, i) => i * 7 - 50), type: g.params[0]!.type };
    expectSameResults(g, out, [x]);
  });

  it("respects the iteration cap and never loops: long chains settle in one run", () => {
    const lines = ["func @f(%x: f32[2]) -> (f32[2]) {"];
    for (let i = 0; i < 200; i++) lines.push(`  %${i} = neg(${i === 0 ? "%x" : `%${i - 1}`}) : f32[2]`);
    lines.push("  return %199", "}");
    const out = canonicalize(parse(lines.join("\n")), CTX);
    expect(out.nodes).toHaveLength(0);
    expect(out.results).toEqual(["%x"]);
  });
});

describe("cse and dce units", () => {
  it("cse leaves effects and zero-result nodes alone", () => {
    const g = parse(`func @f(%x: f32[2], %k: i32[2]) -> (f32[2]) {
  %0 = debugPrint(%x) {label = "a"} : f32[2]
  %1 = debugPrint(%x) {label = "a"} : f32[2]
  randomSplit(%k) {n = 0}
  randomSplit(%k) {n = 0}
  return %1
}`);
    expect(cse(g)).toBe(g);
    // dce drops the result-less nodes (no effect) but keeps both prints.
    expect(dce(g).nodes.map((n) => n.op)).toEqual(["debugPrint", "debugPrint"]);
  });

  it("cse merges constants that regions read, renaming inside the region", () => {
    // A made-up node with a region (no verify): cse and dce must see constant uses inside it.
    const g = parse(`func @f(%x: f32[2]) -> (f32[2]) {
  const %c0: f32[] = dense<2>
  const %c1: f32[] = dense<2>
  %0 = fused(%x) : f32[2] {
    ^(%a: f32[2]):
      %t = mul(%a, %c1) : f32[2]
      yield %t
  }
  return %0
}`);
    const merged = cse(g);
    expect(print(merged)).toContain("%t = mul(%a, %c0)");
    expect(merged.constants.map((c) => c.name)).toEqual(["%c0"]);
    // dce keeps a constant only a region reads.
    expect(dce(merged).constants.map((c) => c.name)).toEqual(["%c0"]);
  });

  it("a region's local names do not keep top-level values alive", () => {
    const g = parse(`func @f(%x: f32[2]) -> (f32[2]) {
  %t = exp(%x) : f32[2]
  %0 = fused(%x) : f32[2] {
    ^(%a: f32[2]):
      %t = neg(%a) : f32[2]
      yield %t
  }
  return %0
}`);
    expect(dce(g).nodes.map((n) => n.op)).toEqual(["fused"]);
  });
});

// ---- random graphs -----------------------------------------------------------------------------

/** Deterministic inputs from a seed: mostly special values, some arbitrary ones. */
function randomInputs(g: Graph, seed: number): HostBuffer[] {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  return g.params.map((p) => {
    const n = p.type.shape.reduce((a, b) => a * b, 1);
    const data = new (dtypeInfo(p.type.dtype).array)(n);
    for (let i = 0; i < n; i++) {
      const r = next();
      if (r % 3 === 0) data[i] = SPECIAL[p.type.dtype][r % 8]!;
      else if (p.type.dtype === "float32" || p.type.dtype === "float64") data[i] = ((r % 2001) - 1000) / 64;
      else data[i] = r % 2 === 0 ? r : -r;
    }
    if (p.type.dtype === "bool") for (let i = 0; i < n; i++) data[i] = data[i]! & 1;
    return { data, type: p.type };
  });
}

describe("canonicalize + cse + dce on random graphs", () => {
  it("keeps the graph valid and its results bit-identical", () => {
    let changed = 0;
    fc.assert(
      fc.property(randomGraph(fc, { maxNodes: 12 }), fc.nat(), (g, seed) => {
        const inputs = randomInputs(g, seed);
        prints = [];
        let ok = true;
        try {
          interpret(g, inputs);
        } catch {
          ok = false; // an op that fails on these values: nothing to compare
        }
        fc.pre(ok);
        const { graph, stages } = runPasses(g, ["canonicalize", "cse", "dce"], { evaluate: evaluateOnCpu });
        for (const s of stages) verify(s.graph);
        if (graph !== g) changed++;
        expectSameResults(g, graph, inputs);
        // Optimized graphs still round-trip through text.
        expect(graphEqual(parse(print(graph)), graph)).toBe(true);
        // The pipeline is idempotent: a second run finds nothing more to do.
        expect(runPasses(graph, ["canonicalize", "cse", "dce"], { evaluate: evaluateOnCpu }).graph).toBe(graph);
      }),
      { numRuns: 300 },
    );
    expect(changed).toBeGreaterThan(30);
  });

  it("each pass alone, without folding, keeps results bit-identical", () => {
    fc.assert(
      fc.property(randomGraph(fc, { maxNodes: 10 }), fc.nat(), fc.constantFrom("canonicalize", "cse", "dce"), (g, seed, pass) => {
        const inputs = randomInputs(g, seed);
        prints = [];
        let ok = true;
        try {
          interpret(g, inputs);
        } catch {
          ok = false;
        }
        fc.pre(ok);
        const { graph } = runPasses(g, [pass]);
        expectSameResults(g, graph, inputs);
      }),
      { numRuns: 200 },
    );
  });
});
