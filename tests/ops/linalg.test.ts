import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Tensor,
  avgPool2d,
  conv2d,
  type Conv2dOptions,
  type Conv2dPadding,
  dot,
  DTypeError,
  layerNorm,
  type LayerNormOptions,
  logSoftmax,
  matmul,
  maxPool2d,
  NDArray,
  type Pool2dOptions,
  ShapeError,
  softmax,
  type SymtensorError,
  tensor,
  ValueError,
} from "../../src/index.js";
import { expectArrayClose, type FixtureCase, type FixtureValue, loadFixtures } from "../helpers/fixtures.js";
import { expectTracedMatchesEager } from "../helpers/traced.js";

const asArray = (v: FixtureValue): NDArray => {
  // Under fn() the array arguments arrive as symbolic tensors; they go to the same functions.
  if (!(v instanceof NDArray) && !(v instanceof Tensor)) throw new Error(`fixture argument is not an array: ${JSON.stringify(v)}`);
  return v as NDArray;
};

/** Maps a fixture's op name to a call of the public function. */
function run(c: FixtureCase): Tensor {
  const [a, b] = c.args;
  const kw = c.kwargs as Record<string, unknown>;
  switch (c.op) {
    case "matmul":
      return matmul(asArray(a!), asArray(b!));
    case "dot":
      return dot(asArray(a!), asArray(b!));
    case "conv2d":
      return conv2d(asArray(a!), asArray(b!), kw as Conv2dOptions);
    case "maxPool2d":
      return maxPool2d(asArray(a!), kw as unknown as Pool2dOptions);
    case "avgPool2d":
      return avgPool2d(asArray(a!), kw as unknown as Pool2dOptions);
    case "softmax":
      return softmax(asArray(a!), kw["axis"] as number);
    case "logSoftmax":
      return logSoftmax(asArray(a!), kw["axis"] as number);
    case "layerNorm":
      return layerNorm(asArray(a!), kw as LayerNormOptions);
    default:
      throw new Error(`no mapping for fixture op ${c.op}`);
  }
}

describe("linalg NumPy fixtures", () => {
  const cases = loadFixtures("linalg");
  it("has cases for every op", () => {
    const ops = new Set(cases.map((c) => c.op));
    expect([...ops].sort()).toEqual(["avgPool2d", "conv2d", "dot", "layerNorm", "logSoftmax", "matmul", "maxPool2d", "softmax"]);
  });
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expectArrayClose(run(c), asArray(c.expected), { rtol: c.rtol, atol: c.atol }, c.name);
    expectTracedMatchesEager(c.name, (args) => run({ ...c, args }), c.args);
  });
});

/** Asserts that `f` throws an instance of `cls` with `code`, and returns the error for more checks. */
function expectThrows(f: () => unknown, cls: abstract new (...args: never[]) => SymtensorError, code: string): SymtensorError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(cls);
  const err = caught as SymtensorError;
  expect(err.code).toBe(code);
  return err;
}

const f32 = (shape: number[]): Tensor => tensor(new NDArray(new Float32Array(shape.reduce((x, y) => x * y, 1)), shape));

describe("matmul and dot errors", () => {
  it("names both operands when inner dimensions differ", () => {
    const e = expectThrows(() => matmul(f32([2, 3]), f32([4, 5])), ShapeError, "ST401");
    expect(e.summary).toBe("matmul: inner dimensions differ: a is f32[2,3], b is f32[4,5] (3 != 4)");
    expectThrows(() => matmul(f32([3]), f32([4])), ShapeError, "ST401");
    expectThrows(() => matmul(f32([2, 3]), f32([2])), ShapeError, "ST401");
  });
  it("rejects batch dimensions that do not broadcast", () => {
    const e = expectThrows(() => matmul(f32([2, 3, 4]), f32([3, 4, 5])), ShapeError, "ST401");
    expect(e.summary).toContain("batch dimensions");
  });
  it("rejects 0-d operands with ValueError, as NumPy", () => {
    expectThrows(() => matmul(2, f32([2, 2])), ValueError, "ST404");
    expectThrows(() => matmul(f32([2]), f32([])), ValueError, "ST404");
  });
  it("dot reports mismatched contraction axes", () => {
    const e = expectThrows(() => dot(f32([2, 3, 4]), f32([5, 3, 6])), ShapeError, "ST401");
    expect(e.summary).toBe("dot: inner dimensions differ: a is f32[2,3,4], b is f32[5,3,6] (4 != 3)");
    expectThrows(() => dot(f32([3]), f32([4])), ShapeError, "ST401");
  });
  it("accepts JS arrays and numbers (weakly typed)", () => {
    expect(matmul([[1, 2]], [[3], [4]]).tolist()).toEqual([[11]]);
    expect(dot(2, [1, 2]).tolist()).toEqual([2, 4]);
    expect(dot([1, 2, 3], [4, 5, 6]).item()).toBe(32);
    expect(matmul(tensor([[1, 2]], { dtype: "int32" }), [[3], [4]]).dtype).toBe("int32");
  });
});

describe("conv2d and pool errors", () => {
  const x = f32([1, 5, 5, 3]);
  it("names both tensors when channels differ", () => {
    const e = expectThrows(() => conv2d(x, f32([3, 3, 4, 8])), ShapeError, "ST401");
    expect(e.summary).toBe("conv2d: input channels differ: x is f32[1,5,5,3] (3 channels), filter is f32[3,3,4,8] (4 input channels)");
  });
  it("rejects bad ranks", () => {
    expectThrows(() => conv2d(f32([5, 5]), f32([3, 3, 1, 1])), ShapeError, "ST401");
    expectThrows(() => conv2d(x, f32([3, 3, 3])), ShapeError, "ST401");
    expectThrows(() => maxPool2d(f32([4, 4]), { windowShape: 2 }), ShapeError, "ST401");
  });
  it("rejects a window larger than the (padded) input", () => {
    expectThrows(() => conv2d(x, f32([6, 3, 3, 1])), ShapeError, "ST401");
    expectThrows(() => conv2d(x, f32([3, 3, 3, 1]), { dilations: 3 }), ShapeError, "ST401");
    expectThrows(() => maxPool2d(x, { windowShape: 6 }), ShapeError, "ST401");
    // the same window fits once padding is explicit
    expect(conv2d(x, f32([6, 3, 3, 1]), { padding: [[1, 0], [0, 0]] }).shape).toEqual([1, 1, 3, 1]);
  });
  it("validates strides, dilations, padding and windowShape", () => {
    expectThrows(() => conv2d(x, f32([3, 3, 3, 1]), { strides: 0 }), ValueError, "ST404");
    expectThrows(() => conv2d(x, f32([3, 3, 3, 1]), { strides: [1, 1.5] as unknown as [number, number] }), ValueError, "ST404");
    expectThrows(() => conv2d(x, f32([3, 3, 3, 1]), { dilations: [1, 2, 3] as unknown as [number, number] }), ValueError, "ST404");
    expectThrows(() => conv2d(x, f32([3, 3, 3, 1]), { padding: "full" as "same" }), ValueError, "ST404");
    expectThrows(() => conv2d(x, f32([3, 3, 3, 1]), { padding: [[1, -1], [0, 0]] }), ValueError, "ST404");
    expectThrows(() => conv2d(x, f32([3, 3, 3, 1]), { padding: [[1, 1]] as unknown as Conv2dPadding }), ValueError, "ST404");
    expectThrows(() => maxPool2d(x, { windowShape: 0 }), ValueError, "ST404");
    expectThrows(() => maxPool2d(x, { windowShape: 2, padding: [[1, 1], [1, 1]] as unknown as "same" }), ValueError, "ST404");
    expectThrows(() => avgPool2d(x, undefined as unknown as Pool2dOptions), ValueError, "ST404");
  });
  it("rejects bool where the op has no bool meaning", () => {
    const b = tensor([[[[true]]]]);
    expectThrows(() => conv2d(b, b), DTypeError, "ST402");
    expectThrows(() => maxPool2d(b, { windowShape: 1 }), DTypeError, "ST402");
  });
  it("computes avgPool2d of integers in float32", () => {
    const r = avgPool2d(tensor([[[[1], [2]], [[3], [5]]]], { dtype: "int32" }), { windowShape: 2 });
    expect(r.dtype).toBe("float32");
    expect(r.tolist()).toEqual([[[[2.75]]]]);
  });
});

describe("softmax, logSoftmax and layerNorm errors", () => {
  it("validates axis", () => {
    expectThrows(() => softmax(f32([2, 3]), 2), ValueError, "ST404");
    expectThrows(() => logSoftmax(f32([]), -1), ValueError, "ST404");
    expectThrows(() => layerNorm(f32([2, 3]), { axis: [0, 0] }), ValueError, "ST404");
    expectThrows(() => layerNorm(f32([2, 3]), { axis: [] }), ValueError, "ST404");
  });
  it("validates epsilon and the affine parameters", () => {
    expectThrows(() => layerNorm(f32([2, 3]), { epsilon: -1 }), ValueError, "ST404");
    expectThrows(() => layerNorm(f32([2, 3]), { epsilon: NaN }), ValueError, "ST404");
    expectThrows(() => layerNorm(f32([2, 3]), { scale: f32([4]) }), ShapeError, "ST401");
    expectThrows(() => layerNorm(f32([2, 3]), { offset: f32([2, 2, 3]) }), ShapeError, "ST401");
  });
  it("softmax rows sum to 1", () => {
    const s = softmax([[1, 2, 3], [0, 0, 0]]).numpy();
    expect(s.dtype).toBe("float32");
    for (const row of s.tolist() as number[][]) expect(row.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 6);
  });
});

// ---- property: matmul equals a triple loop ----------------------------------------------------

/** Plain reference: C[i, j] = sum_p A[i, p] * B[p, j] in float64, for 2-D operands. */
function tripleLoop(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
      c[i * n + j] = s;
    }
  }
  return c;
}

describe("matmul properties", () => {
  const dims = fc.integer({ min: 0, max: 9 });
  const value = fc.integer({ min: -1000, max: 1000 }).map((v) => v / 8); // exact in float64 sums

  it("float64 matmul equals the triple loop (exactly, for dyadic values)", () => {
    fc.assert(
      fc.property(
        dims, dims, dims,
        fc.infiniteStream(value),
        (m, k, n, values) => {
          const it = values[Symbol.iterator]();
          const next = () => it.next().value as number;
          const a = Float64Array.from({ length: m * k }, next);
          const b = Float64Array.from({ length: k * n }, next);
          const got = matmul(new NDArray(a, [m, k]), new NDArray(b, [k, n])).numpy();
          expectArrayClose(got, new NDArray(tripleLoop(a, b, m, k, n), [m, n]));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("int32 batched matmul equals the triple loop per batch (wrapping)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }), dims, dims, dims, fc.boolean(),
        fc.infiniteStream(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
        (batch, m, k, n, shareB, values) => {
          const it = values[Symbol.iterator]();
          const next = () => it.next().value as number;
          const a = Int32Array.from({ length: batch * m * k }, next);
          const bCount = shareB ? 1 : batch;
          const b = Int32Array.from({ length: bCount * k * n }, next);
          const got = matmul(new NDArray(a, [batch, m, k]), new NDArray(b, shareB ? [k, n] : [batch, k, n])).numpy();
          const want = new Int32Array(batch * m * n);
          for (let t = 0; t < batch; t++) {
            const bo = shareB ? 0 : t * k * n;
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < n; j++) {
                let s = 0;
                for (let p = 0; p < k; p++) s = (s + Math.imul(a[t * m * k + i * k + p]!, b[bo + p * n + j]!)) | 0;
                want[t * m * n + i * n + j] = s;
              }
            }
          }
          expectArrayClose(got, new NDArray(want, [batch, m, n]));
        },
      ),
      { numRuns: 150 },
    );
  });
});
