/**
 * Random-graph differential tests on the webgpu device (small budget): each random registry graph,
 * after the fuse pass, compiled for WebGPU must match the reference interpreter on the original
 * graph (cpu). Tolerance: integers and bools exactly; floats within 2e-3 relative (WGSL's exp, log,
 * tanh, pow... are not correctly rounded, and sums may be reordered); elements whose reference is
 * NaN or infinite are not compared, since WGSL does not guarantee IEEE special values. Graphs with
 * float64 values or ops without a GPU kernel are skipped and counted (the count is printed).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setDebugSink } from "../../src/exec/cpu/kernels/debug.js";
import type { HostBuffer } from "../../src/exec/backend.js";
import { interpret } from "../../src/exec/interpret.js";
import { compileWebGPU } from "../../src/exec/webgpu/compile.js";
import { webgpuRuntime } from "../../src/exec/webgpu/runtime.js";
import { readback, upload } from "../../src/exec/webgpu/transfer.js";
import { type DType, dtypeInfo, type TypedArray } from "../../src/ir/dtype.js";
import { DeviceError, DTypeError } from "../../src/ir/errors.js";
import type { Graph } from "../../src/ir/graph.js";
import { fuse } from "../../src/ir/passes/fuse.js";
import { print } from "../../src/ir/print.js";
import { randomGraph } from "../helpers/random-graph.js";
import { hasGpu } from "./gpu.js";

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Moderate data (GPUs need not honour IEEE specials): floats in [-2, 2], small integers. */
function data(dtype: DType, n: number, seed: number): TypedArray {
  const a = new (dtypeInfo(dtype).array)(n);
  let s = (seed * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    const u = s / 2 ** 32;
    a[i] = dtype === "bool" ? (u < 0.5 ? 0 : 1) : dtype === "uint8" ? Math.floor(u * 256) : dtype === "int32" ? Math.floor((u - 0.5) * 16) : (u - 0.5) * 4;
  }
  return a;
}

function difference(got: TypedArray, want: TypedArray, dtype: DType): string | undefined {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  for (let k = 0; k < got.length; k++) {
    const a = got[k]!;
    const b = want[k]!;
    if (dtype !== "float32") {
      if (a !== b) return `[${k}]: gpu ${a}, cpu ${b}`;
    } else if (Number.isFinite(b) && !(Math.abs(a - b) <= 2e-3 * Math.max(1, Math.abs(b)))) return `[${k}]: gpu ${a}, cpu ${b}`;
  }
  return undefined;
}

const usesFloat64 = (g: Graph): boolean =>
  [...g.params.map((p) => p.type), ...g.constants.map((c) => c.type), ...g.nodes.flatMap((n) => n.results.map((r) => r.type))].some((t) => t.dtype === "float64");

let restore: () => void;
beforeAll(() => {
  const prev = setDebugSink(() => {});
  restore = () => void setDebugSink(prev);
});
afterAll(() => restore());

describe.skipIf(!hasGpu)("webgpu: random graphs agree with the interpreter", () => {
  it("random registry graphs (1-8 ops), fused, compiled for webgpu", async () => {
    const rt = webgpuRuntime()!;
    let ran = 0;
    const skipped = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(randomGraph(fc, { maxNodes: 8 }), fc.nat(), async (g, seed) => {
        if (usesFloat64(g)) {
          skipped.set("float64", (skipped.get("float64") ?? 0) + 1);
          return;
        }
        const inputs: HostBuffer[] = g.params.map((p, i) => ({ type: p.type, data: data(p.type.dtype, sizeOf(p.type.shape), seed * 31 + i) }));
        const want = interpret(g, inputs);
        let exe;
        try {
          exe = compileWebGPU(rt, fuse(g));
        } catch (e) {
          // DeviceError: an op without a GPU kernel; "not yet": a generator still being written.
          if (e instanceof DeviceError || e instanceof DTypeError || (e instanceof Error && / not yet/.test(e.message))) {
            const why = /op (\S+)/.exec(e.message)?.[1] ?? (e instanceof DeviceError || e instanceof DTypeError ? e.code : "unimplemented");
            skipped.set(why, (skipped.get(why) ?? 0) + 1);
            return;
          }
          throw e;
        }
        const storages = inputs.map((b) => upload(rt, b.data, b.type, "test"));
        try {
          const outs = exe.run(storages);
          for (let i = 0; i < outs.length; i++) {
            const got = await readback(rt, outs[i]!, want[i]!.type, "test");
            outs[i]!.release();
            const d = difference(got, want[i]!.data, want[i]!.type.dtype);
            if (d) throw new Error(`result ${i} (${JSON.stringify(want[i]!.type)}): ${d}\n${print(g)}`);
          }
          ran++;
        } finally {
          for (const s of storages) s.release();
          exe.dispose();
        }
      }),
      { numRuns: 100 },
    );
    process.stderr.write(`webgpu random graphs: ${ran} compared, skipped: ${JSON.stringify(Object.fromEntries(skipped))}\n`);
    expect(ran).toBeGreaterThan(0);
  });
});
