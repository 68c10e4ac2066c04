/**
 * The WebAssembly transpose plan against the JS transpose kernel (kernels/shape.ts, copyView):
 * bit-identical results (it is a copy) on random shapes, edge sizes (0, 1, 3, 5, 33, 130: not
 * multiples of 4 or of the tiles), batch axes, int32 and NaN payloads, with the chunks run in
 * order and shuffled, and with small tiles so that many tiles and edges occur.
 */
import { describe, expect, it } from "vitest";
import "../../src/exec/cpu/kernels/index.js";
import { getCpuKernel } from "../../src/exec/cpu/backend.js";
import { asBatchedTranspose, wasmTransposePlan, type TransposeTuning } from "../../src/exec/wasm/transpose.js";
import { allocate, type DType, type TypedArray } from "../../src/ir/dtype.js";
import { getOp } from "../../src/ir/registry.js";
import { sizeOf } from "../../src/ir/shape.js";
import type { TensorType } from "../../src/ir/types.js";
import { runPlan } from "../helpers/wasm-run.js";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random contents; float32 data includes NaNs with distinct payloads, infinities and -0. */
function randomData(dtype: DType, n: number, seed: number): TypedArray {
  const r = rng(seed);
  const a = allocate(dtype, n);
  if (dtype === "int32") {
    for (let i = 0; i < n; i++) a[i] = (r() * 2 ** 32) | 0;
    return a;
  }
  const bits = new Uint32Array(a.buffer);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < 0.02) bits[i] = 0x7fc00000 | ((r() * 0x3fffff) >>> 0); // NaN with a payload
    else if (u < 0.03) bits[i] = 0x80000000; // -0
    else if (u < 0.04) a[i] = -Infinity;
    else a[i] = (r() - 0.5) * 100;
  }
  return a;
}

function jsTranspose(x: TensorType, data: TypedArray, perm: readonly number[]): { y: TensorType; out: TypedArray } {
  const [y] = getOp("transpose").infer([x], { perm: [...perm] });
  const [out] = getCpuKernel("transpose")!([{ type: x, data }], { perm: [...perm] }, [y!]);
  return { y: y!, out: out! };
}

const bitsOf = (a: TypedArray): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Index of the first element whose 32 bits differ (NaN payloads included), or -1. */
function firstBitDifference(a: TypedArray, b: TypedArray): number {
  const x = bitsOf(a);
  const y = bitsOf(b);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** Runs the plan (in order and shuffled) and checks bits against the JS kernel. */
function check(dtype: DType, shape: readonly number[], perm: readonly number[], seed: number, tuning?: TransposeTuning): void {
  const x: TensorType = { dtype, shape };
  const data = randomData(dtype, sizeOf(shape), seed);
  const { y, out } = jsTranspose(x, data, perm);
  const plan = wasmTransposePlan(x, { perm: [...perm] }, y, { shared: true }, tuning);
  expect(plan, `plan for ${dtype}[${shape}] perm [${perm}]`).toBeDefined();
  for (const shuffleSeed of [undefined, seed + 1, seed + 2]) {
    const [got] = runPlan(plan!, [data], [y], shuffleSeed === undefined ? {} : { shuffleSeed });
    const at = firstBitDifference(got!, out);
    expect(at, `${dtype}[${shape}] perm [${perm}] tuning ${JSON.stringify(tuning)} shuffle ${shuffleSeed}: first difference at ${at}`).toBe(-1);
  }
}

const SMALL_TILES: TransposeTuning = { tr: 4, tc: 8, chunkElements: 1 };
const ODD_TILES: TransposeTuning = { tr: 12, tc: 20, chunkElements: 64 };

describe("wasm transpose plan", () => {
  const sizes = [0, 1, 3, 4, 5, 8, 33, 130];
  it("matches the JS kernel on every pair of edge sizes (last two axes swapped)", () => {
    let seed = 1;
    for (const r of sizes) for (const c of sizes) check("float32", [r, c], [1, 0], seed++);
  });

  it("matches with small and odd tiles (many tiles, partial tiles, one item per chunk)", () => {
    let seed = 100;
    for (const tuning of [SMALL_TILES, ODD_TILES]) for (const r of [1, 5, 33, 130]) for (const c of [3, 5, 33, 130]) check("float32", [r, c], [1, 0], seed++, tuning);
  });

  it("keeps leading batch axes in order, int32 too", () => {
    check("float32", [3, 33, 5], [0, 2, 1], 7);
    check("int32", [2, 3, 17, 130], [0, 1, 3, 2], 8);
    check("int32", [4, 130, 33], [0, 2, 1], 9, SMALL_TILES);
    check("float32", [0, 5, 7], [0, 2, 1], 10);
    check("float32", [2, 1, 9, 6], [0, 1, 3, 2], 11);
  });

  it("handles perms that reduce to a batched 2-D transpose", () => {
    check("float32", [3, 4, 5, 6], [2, 3, 0, 1], 20); // [12, 30] -> [30, 12]
    check("float32", [1, 7, 9], [2, 1, 0], 21); // size-1 axis dropped
    check("float32", [5, 6, 7], [1, 2, 0], 22); // [5, 42] -> [42, 5]
    check("float32", [5, 6, 7], [2, 0, 1], 23); // [30, 7] -> [7, 30]
    check("int32", [2, 3, 4, 5], [0, 3, 1, 2], 24); // batch 2, [12, 5] -> [5, 12]
  });

  it("matches on random shapes and tilings", () => {
    const r = rng(42);
    const tilings: (TransposeTuning | undefined)[] = [undefined, SMALL_TILES, ODD_TILES, { tr: 8, tc: 32, chunkElements: 500 }];
    for (let k = 0; k < 40; k++) {
      const rank = 2 + Math.floor(r() * 2);
      const shape = Array.from({ length: rank }, (_, i) => (i < rank - 2 ? 1 + Math.floor(r() * 3) : Math.floor(r() * 70)));
      const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
      check(r() < 0.5 ? "float32" : "int32", shape, perm, 1000 + k, tilings[k % tilings.length]);
    }
  });

  it("declines other dtypes, identity and non-2-D perms", () => {
    const plan = (dtype: DType, shape: number[], perm: number[]): unknown => {
      const x: TensorType = { dtype, shape };
      const [y] = getOp("transpose").infer([x], { perm });
      return wasmTransposePlan(x, { perm }, y!, { shared: true });
    };
    expect(plan("float64", [4, 4], [1, 0])).toBeUndefined();
    expect(plan("uint8", [4, 4], [1, 0])).toBeUndefined();
    expect(plan("bool", [4, 4], [1, 0])).toBeUndefined();
    expect(plan("float32", [4, 4], [0, 1])).toBeUndefined();
    expect(plan("float32", [2, 3, 4], [1, 0, 2])).toBeUndefined();
    expect(plan("float32", [2, 3, 4], [2, 1, 0])).toBeUndefined();
    expect(plan("float32", [1, 4, 5], [1, 0, 2])).toBeUndefined(); // a copy once the size-1 axis goes
    expect(plan("float32", [1, 4], [1, 0])).toBeDefined(); // written as the swap: the kernel copies
    expect(asBatchedTranspose([2, 3, 4, 5], [0, 3, 1, 2])).toEqual({ batch: 2, rows: 12, cols: 5 });
  });

  it("has equal keys exactly for equal bytes, float32 and int32 sharing a module", () => {
    const a = wasmTransposePlan({ dtype: "float32", shape: [5, 7] }, { perm: [1, 0] }, { dtype: "float32", shape: [7, 5] }, { shared: true })!;
    const b = wasmTransposePlan({ dtype: "int32", shape: [5, 7] }, { perm: [1, 0] }, { dtype: "int32", shape: [7, 5] }, { shared: true })!;
    const c = wasmTransposePlan({ dtype: "float32", shape: [7, 5] }, { perm: [1, 0] }, { dtype: "float32", shape: [5, 7] }, { shared: true })!;
    const d = wasmTransposePlan({ dtype: "float32", shape: [5, 7] }, { perm: [1, 0] }, { dtype: "float32", shape: [7, 5] }, { shared: false })!;
    expect(a.key).toBe(b.key);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(a.key).not.toBe(c.key);
    expect(a.key).not.toBe(d.key);
    expect(() => new WebAssembly.Module(d.bytes)).not.toThrow();
  });
});
