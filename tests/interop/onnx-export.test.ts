/**
 * ONNX export, checked against onnxruntime-node: each model is a traced symtensor function; its
 * exported bytes run in ONNX Runtime on the same inputs and must give symtensor's outputs
 * (float32: rtol 1e-5; integers and bools exactly). One graph per op family.
 */
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { exportOnnx, fn, type Tensor, tensor, UnsupportedOnnxOpError } from "../../src/index.js";
import { onnxType } from "../../src/interop/onnx/schema.js";
import { exportableOps } from "../../src/interop/onnx/export.js";

type OrtType = "float32" | "float64" | "int32" | "uint8" | "bool";

async function runOrt(bytes: Uint8Array, inputs: readonly Tensor[]): Promise<{ data: ArrayLike<number | boolean>; dims: readonly number[]; type: string }[]> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    session.inputNames.forEach((name, i) => {
      const t = inputs[i]!;
      const data = t.numpy().data;
      feeds[name] = new ort.Tensor(t.dtype as OrtType, data as never, [...t.shape]);
    });
    const out = await session.run(feeds);
    return session.outputNames.map((n) => {
      const o = out[n]!;
      return { data: o.data as ArrayLike<number>, dims: o.dims, type: o.type };
    });
  } finally {
    await session.release();
  }
}

function close(actual: ArrayLike<number | boolean>, expected: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(Number.isNaN(a), `${what}[${i}]: expected NaN, got ${a}`).toBe(true);
      continue;
    }
    if (!Number.isFinite(e)) {
      expect(a, `${what}[${i}]`).toBe(e);
      continue;
    }
    if (Math.abs(a - e) > atol + rtol * Math.abs(e)) expect.fail(`${what}[${i}]: onnxruntime ${a}, symtensor ${e}`);
  }
}

/** Exports `f` traced on `args`, runs it in ORT and compares every output with symtensor's. */
async function checkExport(f: (...a: Tensor[]) => Tensor | Tensor[], args: readonly Tensor[], tol: { rtol?: number; atol?: number } = {}): Promise<void> {
  const traced = fn(f, { name: "model" });
  const out = traced(...args);
  const expected = Array.isArray(out) ? out : [out];
  const bytes = exportOnnx(traced, ...args);
  // The optimized (fused) graph must export to the same results.
  const fusedBytes = exportOnnx(traced.optimized(...args));
  for (const b of [bytes, fusedBytes]) {
    const got = await runOrt(b, args);
    expect(got.length).toBe(expected.length);
    got.forEach((g, i) => {
      const e = expected[i]!;
      expect([...g.dims]).toEqual([...e.shape]);
      const float = e.dtype === "float32" || e.dtype === "float64";
      const rtol = float ? (tol.rtol ?? (e.dtype === "float32" ? 1e-5 : 1e-12)) : 0;
      const atol = float ? (tol.atol ?? (e.dtype === "float32" ? 1e-6 : 1e-12)) : 0;
      close(g.data, e.numpy().data, rtol, atol, `output ${i} (${e.dtype}[${e.shape.join(",")}])`);
    });
  }
}

/** Deterministic pseudo-random float32 data in [lo, hi). */
function rand(shape: readonly number[], seed: number, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return tensor(data).reshape([...shape]);
}

describe("exportOnnx: models run in onnxruntime-node with symtensor's outputs", () => {
  it("MLP: matmul, add, relu, softmax, argmax (two outputs)", async () => {
    const w1 = rand([6, 8], 1);
    const b1 = rand([8], 2);
    const w2 = rand([8, 3], 3);
    const mlp = (x: Tensor): Tensor[] => {
      const h = st.relu(st.add(st.matmul(x, w1), b1));
      const logits = st.matmul(h, w2);
      return [st.softmax(logits, -1), st.argmax(logits, -1)];
    };
    await checkExport(mlp, [rand([4, 6], 4)]);
  });

  it("small CNN: conv2d (same, valid, strided, dilated, explicit pads), pools, mean, dense", async () => {
    const k1 = rand([3, 3, 2, 4], 5);
    const k2 = rand([2, 2, 4, 3], 6);
    const k3 = rand([3, 3, 3, 2], 7);
    const dense = rand([2, 5], 8);
    const cnn = (x: Tensor): Tensor => {
      let h = st.relu(st.conv2d(x, k1, { padding: "same" }));
      h = st.maxPool2d(h, { windowShape: [2, 2], strides: [2, 2], padding: "same" });
      h = st.conv2d(h, k2, { strides: [1, 2], padding: "valid" });
      h = st.avgPool2d(h, { windowShape: [3, 3], strides: [1, 1], padding: "same" });
      h = st.conv2d(h, k3, { dilations: [2, 1], padding: [[2, 1], [0, 2]] });
      return st.matmul(st.reduceMean(h, [1, 2]), dense);
    };
    await checkExport(cnn, [rand([2, 9, 11, 2], 9)]);
  });

  it("conv2d and pools on HWC images (no batch axis)", async () => {
    const k = rand([2, 3, 3, 2], 10);
    await checkExport((x) => st.maxPool2d(st.conv2d(x, k, { padding: "same", strides: [2, 2] }), { windowShape: [3, 2], strides: [1, 1], padding: "valid" }), [rand([7, 6, 3], 11)]);
  });

  it("float elementwise: every unary op", async () => {
    const x = rand([3, 5], 12, -0.9, 0.9);
    const ops = (t: Tensor): Tensor[] => [
      st.neg(t), st.abs(t), st.sign(t), st.square(t), st.relu(t), st.exp(t), st.expm1(t), st.log(st.add(t, 1)), st.log1p(t),
      st.sqrt(st.abs(t)), st.rsqrt(st.add(st.abs(t), 0.1)), st.reciprocal(st.add(t, 2)), st.sin(t), st.cos(t), st.tan(t), st.asin(t),
      st.acos(t), st.atan(t), st.sinh(t), st.cosh(t), st.tanh(t), st.sigmoid(t), st.erf(t), st.floor(st.mul(t, 4)), st.ceil(st.mul(t, 4)),
      st.round(st.mul(t, 4)), st.gelu(t), st.gelu(t, { approximate: "tanh" }),
    ];
    await checkExport(ops, [x]);
  });

  it("float binary ops with broadcasting, comparisons, logical ops, where, cast, NaN/inf tests", async () => {
    const a = rand([3, 4], 13, -3, 3);
    const b = tensor([[1.5], [-2], [0.75]]);
    const special = tensor([0, -0, 1, -1, NaN, Infinity, -Infinity, 2.5]);
    const f = (x: Tensor, y: Tensor, s: Tensor): Tensor[] => [
      st.add(x, y), st.sub(x, y), st.mul(x, y), st.div(x, y), st.pow(st.abs(x), y), st.maximum(x, y), st.minimum(x, y),
      st.mod(x, y), st.floorDiv(x, y), st.atan2(x, y), st.atan2(s, st.flip(s)),
      st.equal(x, y), st.notEqual(x, y), st.less(x, y), st.lessEqual(x, y), st.greater(x, y), st.greaterEqual(x, y),
      st.logicalAnd(st.greater(x, 0), st.less(x, 2)), st.logicalOr(x, 0), st.logicalXor(st.floor(x), y), st.logicalNot(st.floor(x)),
      st.where(st.greater(x, y), x, y), st.cast(x, "int32"), st.cast(x, "bool"), st.cast(x, "float64"), st.cast(st.abs(x), "uint8"),
      st.isNaN(s), st.isFinite(s), st.logicalNot(s), st.cast(s, "bool"),
    ];
    await checkExport(f, [a, b, special]);
  });

  it("integer and bool elementwise ops (wrapping, NumPy mod and floor division, x // 0 = 0)", async () => {
    const x = tensor([[7, -7, 0, 2147483647, -2147483648, 5], [-3, 3, 9, 1, -1, 100]], { dtype: "int32" });
    const y = tensor([[2, 2, 3, 1, -1, 0], [-2, -2, 4, 0, 3, 7]], { dtype: "int32" });
    const u = tensor([200, 3, 0, 255], { dtype: "uint8" });
    const bools = tensor([true, false, true, false]);
    const f = (a: Tensor, b: Tensor, c: Tensor, p: Tensor): Tensor[] => [
      st.add(a, b), st.sub(a, b), st.mul(a, b), st.neg(a), st.abs(a), st.sign(a), st.square(b), st.relu(a), st.maximum(a, b), st.minimum(a, b),
      st.mod(a, b), st.floorDiv(a, b), st.pow(b, tensor(3, { dtype: "int32" })), st.less(a, b), st.isNaN(a), st.isFinite(a),
      st.add(c, c), st.mul(c, c), st.neg(c), st.relu(c), st.sign(c), st.maximum(c, tensor(100, { dtype: "uint8" })),
      st.add(p, st.logicalNot(p)), st.mul(p, p), st.less(p, st.logicalNot(p)), st.maximum(p, st.logicalNot(p)), st.abs(p),
    ];
    await checkExport(f, [x, y, u, bools]);
  });

  it("reductions: axes, keepDims, empty axes, integer and bool inputs, arg reductions, cumsum", async () => {
    const x = rand([2, 3, 4], 14);
    const i = tensor([[[1, -2, 3], [4, 5, -6]]], { dtype: "int32" });
    const f = (t: Tensor, k: Tensor): Tensor[] => [
      st.reduceSum(t), st.reduceSum(t, [0, 2], true), st.reduceSum(t, []), st.reduceMean(t, -1), st.reduceMax(t, [1]), st.reduceMin(t, 0, true),
      st.reduceProd(t, 2), st.logSumExp(t, [1, 2]), st.reduceAny(st.greater(t, 0.9), 1), st.reduceAll(st.greater(t, -0.9), [0, 1]),
      st.argmax(t, 1), st.argmin(t, -1, true), st.argmax(t), st.argmin(t, null, true),
      st.cumsum(t, 1), st.cumsum(t, 2, { exclusive: true, reverse: true }), st.cumsum(t),
      st.reduceSum(k, 2), st.reduceMean(k), st.reduceMax(k, 1), st.reduceProd(k), st.cumsum(k, -1), st.reduceSum(st.greater(k, 0)),
    ];
    await checkExport(f, [x, i]);
  });

  it("shape ops: reshape, transpose, concat, split, slice (negative steps), flip, gather, pad, tile, broadcastTo, oneHot, dot", async () => {
    const x = rand([2, 3, 4], 15);
    const idx = tensor([[2, -1], [0, 1]], { dtype: "int32" });
    const f = (t: Tensor, i: Tensor): Tensor[] => [
      st.reshape(t, [6, 4]), st.transpose(t, [2, 0, 1]), st.concat([t, st.mul(t, 2)], 1), ...st.split(t, [1, 3], 2),
      st.slice(t, [null, { start: 2, stop: null, step: -1 }, { start: 1, stop: 4, step: 2 }]), st.slice(t, [{ start: 5 }, 0]), st.flip(t, [0, 2]),
      st.gather(t, i, 2), st.gather(t, tensor([1, 0, 1], { dtype: "int32" }), 0), st.pad(t, [[0, 1], [2, 0], [1, 1]], 0.5), st.tile(t, [1, 2, 1]),
      st.broadcastTo(st.reshape(t, [2, 1, 3, 4]), [2, 5, 3, 4]), st.oneHot(tensor([0, 2, -1, 5, 1], { dtype: "int32" }), 4),
      st.oneHot(i, 3, { axis: 0, onValue: 2, offValue: -1 }), st.expandDims(t, 1), st.squeeze(st.reshape(t, [2, 1, 12])), st.stack([t, t], -1),
      st.dot(t, rand([2, 4, 5], 16)), st.dot(st.reshape(t, [24]), rand([24], 17)),
    ];
    await checkExport(f, [x, idx]);
  });

  it("float64 and layer-norm style composites", async () => {
    const x = st.cast(rand([3, 6], 18), "float64");
    await checkExport((t) => [st.layerNorm(t), st.logSoftmax(t, 0), st.clip(t, -0.5, 0.5)], [x]);
  });

  it("writes opset 17, IR version 8, inputs, initializers and named outputs", () => {
    const w = rand([3, 2], 19);
    const bytes = exportOnnx((x: Tensor) => st.matmul(x, w), rand([4, 3], 20));
    const M = onnxType("ModelProto");
    const m = M.toObject(M.decode(bytes), { longs: Number }) as {
      ir_version: number;
      opset_import: { domain?: string; version: number }[];
      graph: { input: { name: string }[]; output: { name: string }[]; initializer: { name: string; dims: number[] }[] };
    };
    expect(m.ir_version).toBe(8);
    expect(m.opset_import).toEqual([{ domain: "", version: 17 }]);
    expect(m.graph.input.map((i) => i.name)).toEqual(["arg0"]);
    expect(m.graph.output.map((o) => o.name)).toEqual(["output0"]);
    expect(m.graph.initializer[0]!.dims).toEqual([3, 2]);
  });

  it("exports a Graph directly, and a result that is a parameter", async () => {
    const f = fn((x: Tensor) => [x, st.neg(x)]);
    const x = rand([2, 2], 21);
    const bytes = exportOnnx(f.lower(x));
    const got = await runOrt(bytes, [x]);
    close(got[0]!.data, x.numpy().data as Float32Array, 0, 0, "identity");
  });

  it("lists every op it exports", () => {
    const ops = exportableOps();
    for (const op of ["add", "conv2d", "maxPool2d", "avgPool2d", "fused", "gather", "oneHot", "cumsum", "argmax"]) expect(ops).toContain(op);
  });
});

describe("exportOnnx: unsupported ops", () => {
  it("names every op ONNX cannot express in one UnsupportedOnnxOpError (ST502)", () => {
    const f = (x: Tensor, key: Tensor): Tensor[] => {
      const r = st.randomUniform(key, [2]);
      const n = st.randomNormal(key, [2]);
      return [st.add(st.debugPrint("x", x), r), st.cumprod(x, 0), n];
    };
    let err: unknown;
    try {
      exportOnnx(f, rand([2], 22), st.randomKey(0));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedOnnxOpError);
    const u = err as UnsupportedOnnxOpError;
    expect(u.code).toBe("ST502");
    expect(u.direction).toBe("export");
    expect(u.ops.map((o) => o.split(" ")[0])).toEqual(expect.arrayContaining(["randomUniform", "randomNormal", "debugPrint", "cumprod"]));
    expect(u.message).toContain("debugPrint");
    expect(u.message).toContain("cumprod");
  });

  it("refuses bool matmul and bad arguments with typed errors", () => {
    const b = tensor([[true, false], [false, true]]);
    expect(() => exportOnnx((x: Tensor) => st.matmul(x, x), b)).toThrow(UnsupportedOnnxOpError);
    expect(() => exportOnnx(42 as never)).toThrow(st.ValueError);
  });
});
