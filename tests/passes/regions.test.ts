// Passes inside control-flow regions: optimized graphs with cond/for/scan compute, compiled,
// bit for bit what the unoptimized graph computes in the reference interpreter.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HostBuffer } from "../../src/exec/backend.js";
import { compile } from "../../src/exec/cpu/compile.js";
import { interpret } from "../../src/exec/interpret.js";
import { add, cond, exp, fn, forLoop, mul, neg, scan, sin, tensor, type Tensor } from "../../src/index.js";
import type { Graph } from "../../src/ir/graph.js";
import { DEFAULT_PIPELINE, runPasses } from "../../src/ir/passes/index.js";
import { evaluateOnCpu } from "../helpers/filecheck.js";

function bytes(b: HostBuffer): number[] {
  return [...new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength)];
}

function checkSame(g: Graph, inputs: HostBuffer[]): void {
  const before = interpret(g, inputs);
  const opt = runPasses(g, DEFAULT_PIPELINE, { evaluate: evaluateOnCpu }).graph;
  const after = compile(opt).run(inputs);
  expect(after.map(bytes)).toEqual(before.map(bytes));
}

const f32 = (xs: number[]): HostBuffer => ({ data: Float32Array.from(xs), type: { dtype: "float32", shape: [xs.length] } });

describe("passes inside regions", () => {
  const loop = fn((x: Tensor) => forLoop(0, 3, (_i, c: Tensor) => add(mul(c, c), mul(c, c)), x));
  const branch = fn((p: Tensor, x: Tensor) => cond(p, (a: Tensor) => exp(add(a, add(tensor([1, 2, 3]), tensor([1, 2, 3])))), (a: Tensor) => neg(sin(a)), x));
  const scanned = fn((x: Tensor, xs: Tensor) => scan((c: Tensor, t: Tensor) => { const y = mul(exp(add(c, t)), c); return [y, y]; }, x, xs));

  it("optimizes bodies (cse inside a loop body)", () => {
    const g = loop.lower(tensor([1, 2, 3]));
    const opt = runPasses(g, ["cse", "dce"]).graph;
    expect(opt.nodes[0]!.regions![0]!.nodes.filter((n) => n.op === "mul")).toHaveLength(1);
  });

  it("for, cond and scan: optimized and compiled equals interpreted, bit for bit", () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noDefaultInfinity: false }), { minLength: 3, maxLength: 3 }), fc.boolean(), (xs, p) => {
        checkSame(loop.lower(tensor([1, 2, 3])), [f32(xs)]);
        checkSame(branch.lower(tensor(true), tensor([1, 2, 3])), [{ data: Uint8Array.of(p ? 1 : 0), type: { dtype: "bool", shape: [] } }, f32(xs)]);
        const stacked: HostBuffer = { data: Float32Array.from([...xs, ...xs.map((v) => v / 2)]), type: { dtype: "float32", shape: [2, 3] } };
        checkSame(scanned.lower(tensor([1, 2, 3]), tensor([[1, 2, 3], [4, 5, 6]])), [f32(xs), stacked]);
      }),
      { numRuns: 30 },
    );
  });
});
