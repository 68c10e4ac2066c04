/**
 * ONNX import, checked against onnxruntime-node: each model is written here with protobufjs from a
 * description of its graph (not through symtensor's exporter), run in ONNX Runtime, imported with
 * loadOnnx and run in symtensor on the same inputs (float32: rtol 1e-5, atol 1e-5).
 */
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { DTypeError, FormatError, importOnnx, loadOnnx, ShapeError, tensor, type Tensor, UnsupportedOnnxOpError, ValueError, verify } from "../../src/index.js";
import { onnxType } from "../../src/interop/onnx/schema.js";
import { importableOps } from "../../src/interop/onnx/import.js";

// ---------------------------------------------------------------------------------------------
// A small description of an ONNX graph, encoded with protobufjs.

const ELEM = { float: 1, uint8: 2, int32: 6, int64: 7, bool: 9, double: 11 } as const;
type Elem = keyof typeof ELEM;

type AttrDesc = number | string | readonly number[] | { readonly f: number } | { readonly floats: readonly number[] } | { readonly t: InitDesc };

interface InitDesc {
  readonly name?: string;
  readonly type: Elem;
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

interface NodeDesc {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, AttrDesc>>;
  readonly domain?: string;
}

interface ModelDesc {
  readonly opset?: number;
  readonly inputs: readonly { name: string; type: Elem; shape: readonly (number | string)[] }[];
  readonly outputs: readonly { name: string; type: Elem }[];
  readonly initializers?: readonly (InitDesc & { name: string })[];
  readonly nodes: readonly NodeDesc[];
}

function tensorProto(t: InitDesc): Record<string, unknown> {
  const base = { name: t.name ?? "", dims: [...t.shape], data_type: ELEM[t.type] };
  const values: unknown[] = Array.from(t.data);
  switch (t.type) {
    case "float":
      return { ...base, float_data: values };
    case "double":
      return { ...base, double_data: values };
    case "int64":
      return { ...base, int64_data: values };
    default:
      return { ...base, int32_data: values };
  }
}

function attrProto(name: string, v: AttrDesc): Record<string, unknown> {
  if (typeof v === "number") return { name, type: 2, i: v };
  if (typeof v === "string") return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: 7, ints: [...v] };
  const o = v as Exclude<AttrDesc, number | string | readonly number[]>;
  if ("f" in o) return { name, type: 1, f: o.f };
  if ("floats" in o) return { name, type: 6, floats: [...o.floats] };
  return { name, type: 4, t: tensorProto(o.t) };
}

function buildModel(d: ModelDesc): Uint8Array {
  const model = {
    ir_version: 8,
    producer_name: "onnx-import.test",
    opset_import: [{ domain: "", version: d.opset ?? 17 }],
    graph: {
      name: "test",
      node: d.nodes.map((n, i) => ({
        name: `n${i}`,
        op_type: n.op,
        input: [...n.inputs],
        output: [...n.outputs],
        domain: n.domain ?? "",
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attrProto(k, v)),
      })),
      initializer: (d.initializers ?? []).map(tensorProto),
      input: d.inputs.map((i) => ({
        name: i.name,
        type: { tensor_type: { elem_type: ELEM[i.type], shape: { dim: i.shape.map((s) => (typeof s === "number" ? { dim_value: s } : { dim_param: s })) } } },
      })),
      output: d.outputs.map((o) => ({ name: o.name, type: { tensor_type: { elem_type: ELEM[o.type] } } })),
    },
  };
  const M = onnxType("ModelProto");
  const err = M.verify(model);
  if (err) throw new Error(err);
  return M.encode(M.fromObject(model)).finish();
}

// ---------------------------------------------------------------------------------------------

function randData(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return data;
}

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

function init(name: string, shape: readonly number[], seed: number, scale = 1): InitDesc & { name: string } {
  return { name, type: "float", shape, data: randData(size(shape), seed, -scale, scale) };
}

interface Feed {
  readonly ort: ort.Tensor;
  readonly st: Tensor;
}

function floatFeed(shape: readonly number[], seed: number): Feed {
  const data = randData(size(shape), seed);
  return { ort: new ort.Tensor("float32", data, [...shape]), st: tensor(data).reshape([...shape]) };
}

function int64Feed(values: readonly number[], shape: readonly number[]): Feed {
  return { ort: new ort.Tensor("int64", BigInt64Array.from(values.map(BigInt)), [...shape]), st: tensor(Int32Array.from(values)).reshape([...shape]) };
}

/** Runs the model in ORT and through loadOnnx; every output must agree. */
async function checkImport(bytes: Uint8Array, feeds: readonly Feed[], tol = { rtol: 1e-5, atol: 1e-5 }): Promise<void> {
  const session = await ort.InferenceSession.create(bytes);
  let expected: ort.Tensor[];
  try {
    const f: Record<string, ort.Tensor> = {};
    session.inputNames.forEach((n, i) => (f[n] = feeds[i]!.ort));
    const out = await session.run(f);
    expected = session.outputNames.map((n) => out[n]!);
  } finally {
    await session.release();
  }
  const model = loadOnnx(bytes);
  verify(model.optimized);
  const got = model(...feeds.map((f) => f.st));
  const outs = Array.isArray(got) ? got : [got];
  expect(outs.length).toBe(expected.length);
  outs.forEach((o, i) => {
    const e = expected[i]!;
    expect([...o.shape], `output ${i} shape`).toEqual([...e.dims].map(Number));
    const a = o.numpy().data;
    const b = Array.from(e.data as ArrayLike<number | bigint>, Number);
    for (let k = 0; k < b.length; k++) {
      const x = Number(a[k]);
      const y = b[k]!;
      if (Number.isNaN(y)) expect(Number.isNaN(x)).toBe(true);
      else if (Math.abs(x - y) > tol.atol + tol.rtol * Math.abs(y)) expect.fail(`output ${i}[${k}]: symtensor ${x}, onnxruntime ${y}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------

const mlp: ModelDesc = {
  inputs: [{ name: "x", type: "float", shape: [4, 8] }],
  outputs: [{ name: "probs", type: "float" }],
  initializers: [init("w1", [16, 8], 1), init("b1", [16], 2), init("w2", [8, 3], 3), init("b2", [3], 4)],
  nodes: [
    { op: "Gemm", inputs: ["x", "w1", "b1"], outputs: ["h"], attrs: { transB: 1 } },
    { op: "Relu", inputs: ["h"], outputs: ["r"] },
    // A hidden layer as wide as the next needs: slice 8 of 16 units.
    { op: "Slice", inputs: ["r", "s0", "s8", "s1"], outputs: ["rs"] },
    { op: "Gemm", inputs: ["rs", "w2", "b2"], outputs: ["logits"], attrs: { alpha: { f: 0.5 }, beta: { f: 2 } } },
    { op: "Softmax", inputs: ["logits"], outputs: ["probs"], attrs: { axis: 1 } },
  ],
};
const mlpModel: ModelDesc = {
  ...mlp,
  initializers: [
    ...mlp.initializers!,
    { name: "s0", type: "int64", shape: [1], data: [0] },
    { name: "s8", type: "int64", shape: [1], data: [8] },
    { name: "s1", type: "int64", shape: [1], data: [1] },
  ],
};

const cnnModel: ModelDesc = {
  inputs: [{ name: "image", type: "float", shape: [2, 3, 10, 10] }],
  outputs: [{ name: "logits", type: "float" }],
  initializers: [
    init("k1", [4, 3, 3, 3], 5, 0.5),
    init("kb1", [4], 6),
    init("bn_scale", [4], 7),
    init("bn_bias", [4], 8),
    init("bn_mean", [4], 9),
    { name: "bn_var", type: "float", shape: [4], data: randData(4, 10, 0.5, 2) },
    init("k2", [6, 4, 3, 3], 11, 0.5),
    init("dense", [5, 6], 12),
    init("dense_b", [5], 13),
  ],
  nodes: [
    { op: "Conv", inputs: ["image", "k1", "kb1"], outputs: ["c1"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { op: "BatchNormalization", inputs: ["c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"], outputs: ["bn"], attrs: { epsilon: { f: 1e-3 } } },
    { op: "Relu", inputs: ["bn"], outputs: ["r1"] },
    { op: "MaxPool", inputs: ["r1"], outputs: ["p1"], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    { op: "Conv", inputs: ["p1", "k2"], outputs: ["c2"], attrs: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: "SAME_UPPER" } },
    { op: "Relu", inputs: ["c2"], outputs: ["r2"] },
    { op: "AveragePool", inputs: ["r2"], outputs: ["p2"], attrs: { kernel_shape: [2, 2], pads: [1, 1, 0, 0] } },
    { op: "MaxPool", inputs: ["p2"], outputs: ["p3"], attrs: { kernel_shape: [2, 2], pads: [0, 0, 1, 1], strides: [1, 1] } },
    { op: "GlobalAveragePool", inputs: ["p3"], outputs: ["g"] },
    { op: "Flatten", inputs: ["g"], outputs: ["flat"] },
    { op: "Gemm", inputs: ["flat", "dense", "dense_b"], outputs: ["logits"], attrs: { transB: 1 } },
  ],
};

/** A pre-norm transformer encoder block with token embedding, causal attention and an erf-form GELU MLP. */
function transformerModel(): ModelDesc {
  const B = 2;
  const T = 5;
  const D = 8;
  const H = 2;
  const V = 11;
  const dh = D / H;
  const causal = Array.from({ length: 16 * 16 }, (_, i) => (Math.floor(i / 16) >= i % 16 ? 1 : 0));
  return {
    inputs: [{ name: "ids", type: "int64", shape: [B, T] }],
    outputs: [{ name: "y", type: "float" }],
    initializers: [
      init("embed", [V, D], 20),
      init("pos", [16, D], 21, 0.1),
      init("ln1_g", [D], 22),
      init("ln1_b", [D], 23),
      init("wq", [D, D], 24, 0.5),
      init("wk", [D, D], 25, 0.5),
      init("wv", [D, D], 26, 0.5),
      init("bq", [D], 27, 0.1),
      init("bk", [D], 28, 0.1),
      init("bv", [D], 29, 0.1),
      init("wo", [D, D], 30, 0.5),
      init("bo", [D], 31, 0.1),
      init("ln2_g", [D], 32),
      init("ln2_b", [D], 33),
      init("w1", [D, 4 * D], 34, 0.5),
      init("b1", [4 * D], 35, 0.1),
      init("w2", [4 * D, D], 36, 0.5),
      init("b2", [D], 37, 0.1),
      { name: "mask", type: "bool", shape: [1, 1, 16, 16], data: causal },
      { name: "neg", type: "float", shape: [], data: [-1e9] },
      { name: "scale", type: "float", shape: [], data: [Math.sqrt(dh)] },
      { name: "sqrt2", type: "float", shape: [], data: [Math.SQRT2] },
      { name: "half", type: "float", shape: [], data: [0.5] },
      { name: "one", type: "float", shape: [], data: [1] },
      { name: "i0", type: "int64", shape: [1], data: [0] },
      { name: "heads", type: "int64", shape: [2], data: [H, dh] },
      { name: "minus1", type: "int64", shape: [1], data: [-1] },
      { name: "axes23", type: "int64", shape: [2], data: [2, 3] },
      // INT64_MAX, as protobufjs takes a 64-bit value (low and high words): a Slice end meaning "to the end".
      { name: "big", type: "int64", shape: [1], data: [{ low: -1, high: 0x7fffffff } as unknown as number] },
    ],
    nodes: [
      { op: "Gather", inputs: ["embed", "ids"], outputs: ["tok"], attrs: { axis: 0 } },
      // T from the input's shape, folded: Shape -> Gather -> Unsqueeze.
      { op: "Shape", inputs: ["ids"], outputs: ["ids_shape"] },
      { op: "Gather", inputs: ["ids_shape", "one_i"], outputs: ["t_scalar"], attrs: { axis: 0 } },
      { op: "Unsqueeze", inputs: ["t_scalar", "i0"], outputs: ["t_vec"] },
      { op: "Slice", inputs: ["pos", "i0", "t_vec", "i0"], outputs: ["pos_t"] },
      { op: "Add", inputs: ["tok", "pos_t"], outputs: ["x"] },
      { op: "LayerNormalization", inputs: ["x", "ln1_g", "ln1_b"], outputs: ["xn"], attrs: { axis: -1, epsilon: { f: 1e-5 } } },
      { op: "MatMul", inputs: ["xn", "wq"], outputs: ["q0"] },
      { op: "Add", inputs: ["q0", "bq"], outputs: ["q1"] },
      { op: "MatMul", inputs: ["xn", "wk"], outputs: ["k0"] },
      { op: "Add", inputs: ["k0", "bk"], outputs: ["k1"] },
      { op: "MatMul", inputs: ["xn", "wv"], outputs: ["v0"] },
      { op: "Add", inputs: ["v0", "bv"], outputs: ["v1"] },
      // [B, T, H, dh] from Shape(x)[:2] ++ [H, dh].
      { op: "Shape", inputs: ["x"], outputs: ["x_shape"] },
      { op: "Slice", inputs: ["x_shape", "i0", "two_i"], outputs: ["bt"] },
      { op: "Slice", inputs: ["x_shape", "two_i", "big"], outputs: ["d_vec"] },
      { op: "Concat", inputs: ["bt", "heads"], outputs: ["split_shape"], attrs: { axis: 0 } },
      { op: "Reshape", inputs: ["q1", "split_shape"], outputs: ["q2"] },
      { op: "Reshape", inputs: ["k1", "split_shape"], outputs: ["k2"] },
      { op: "Reshape", inputs: ["v1", "split_shape"], outputs: ["v2"] },
      { op: "Transpose", inputs: ["q2"], outputs: ["q"], attrs: { perm: [0, 2, 1, 3] } },
      { op: "Transpose", inputs: ["k2"], outputs: ["kt"], attrs: { perm: [0, 2, 3, 1] } },
      { op: "Transpose", inputs: ["v2"], outputs: ["v"], attrs: { perm: [0, 2, 1, 3] } },
      { op: "MatMul", inputs: ["q", "kt"], outputs: ["s0"] },
      { op: "Div", inputs: ["s0", "scale"], outputs: ["s1"] },
      { op: "Slice", inputs: ["mask", "i0_2", "t_pair", "axes23"], outputs: ["m"] },
      { op: "Where", inputs: ["m", "s1", "neg"], outputs: ["s2"] },
      { op: "Softmax", inputs: ["s2"], outputs: ["p"], attrs: { axis: -1 } },
      { op: "MatMul", inputs: ["p", "v"], outputs: ["a0"] },
      { op: "Transpose", inputs: ["a0"], outputs: ["a1"], attrs: { perm: [0, 2, 1, 3] } },
      { op: "Concat", inputs: ["bt", "minus1"], outputs: ["merge_shape"], attrs: { axis: 0 } },
      { op: "Reshape", inputs: ["a1", "merge_shape"], outputs: ["a2"] },
      { op: "MatMul", inputs: ["a2", "wo"], outputs: ["o0"] },
      { op: "Add", inputs: ["o0", "bo"], outputs: ["o1"] },
      { op: "Add", inputs: ["x", "o1"], outputs: ["h"] },
      { op: "LayerNormalization", inputs: ["h", "ln2_g", "ln2_b"], outputs: ["hn"] },
      { op: "MatMul", inputs: ["hn", "w1"], outputs: ["f0"] },
      { op: "Add", inputs: ["f0", "b1"], outputs: ["f1"] },
      // GELU, erf form: x * 0.5 * (1 + erf(x / sqrt(2))).
      { op: "Div", inputs: ["f1", "sqrt2"], outputs: ["g0"] },
      { op: "Erf", inputs: ["g0"], outputs: ["g1"] },
      { op: "Add", inputs: ["g1", "one"], outputs: ["g2"] },
      { op: "Mul", inputs: ["f1", "g2"], outputs: ["g3"] },
      { op: "Mul", inputs: ["g3", "half"], outputs: ["g4"] },
      { op: "MatMul", inputs: ["g4", "w2"], outputs: ["f2"] },
      { op: "Add", inputs: ["f2", "b2"], outputs: ["f3"] },
      { op: "Add", inputs: ["h", "f3"], outputs: ["y"] },
    ],
  };
}

/** Constants used by the transformer's shape arithmetic, made by Constant nodes. */
function withConstantNodes(d: ModelDesc): ModelDesc {
  const consts: NodeDesc[] = [
    { op: "Constant", inputs: [], outputs: ["one_i"], attrs: { value: { t: { type: "int64", shape: [], data: [1] } } } },
    { op: "Constant", inputs: [], outputs: ["two_i"], attrs: { value_ints: [2] } },
    { op: "Constant", inputs: [], outputs: ["i0_2"], attrs: { value_ints: [0, 0] } },
    { op: "Concat", inputs: ["t_vec", "t_vec"], outputs: ["t_pair"], attrs: { axis: 0 } },
  ];
  // Constants first; t_pair after t_vec (node 3).
  return { ...d, nodes: [...consts.slice(0, 3), ...d.nodes.slice(0, 4), consts[3]!, ...d.nodes.slice(4)] };
}

describe("importOnnx / loadOnnx: independently built models match onnxruntime-node", () => {
  it("MLP: Gemm (transB, alpha, beta) + Relu + Slice + Softmax", async () => {
    await checkImport(buildModel(mlpModel), [floatFeed([4, 8], 40)]);
  });

  it("CNN: Conv + BatchNormalization + Relu + MaxPool + Conv(SAME_UPPER, stride 2) + AveragePool/MaxPool with uneven pads + GlobalAveragePool + Flatten + Gemm", async () => {
    await checkImport(buildModel(cnnModel), [floatFeed([2, 3, 10, 10], 41)]);
  });

  it("transformer encoder block: Gather embedding (int64 ids), Shape folding, LayerNormalization, attention with causal Where/Slice mask, Softmax, erf GELU", async () => {
    const bytes = buildModel(withConstantNodes(transformerModel()));
    await checkImport(bytes, [int64Feed([1, 4, 7, 10, 0, 3, 3, 9, 2, 5], [2, 5])]);
    const g = importOnnx(bytes);
    // Shape arithmetic folded away: no Shape-derived nodes remain, the reshapes have static shapes.
    expect(g.params.map((p) => `${p.name}: ${p.type.dtype}[${p.type.shape.join(",")}]`)).toEqual(["%ids: int32[2,5]"]);
    expect(g.nodes.filter((n) => n.op === "reshape").length).toBeGreaterThan(0);
  });

  it("Gelu (opset 20), both forms", async () => {
    const bytes = buildModel({
      opset: 20,
      inputs: [{ name: "x", type: "float", shape: [3, 7] }],
      outputs: [
        { name: "a", type: "float" },
        { name: "b", type: "float" },
      ],
      nodes: [
        { op: "Gelu", inputs: ["x"], outputs: ["a"] },
        { op: "Gelu", inputs: ["x"], outputs: ["b"], attrs: { approximate: "tanh" } },
      ],
    });
    await checkImport(bytes, [floatFeed([3, 7], 42)]);
  });

  it("misc ops: Squeeze, Unsqueeze, Concat, reductions, Pow, Sqrt, Cast, Identity, Constant, LogSoftmax, Tanh, Sigmoid, Sub, Transpose, Split, Expand, ArgMax, Tile", async () => {
    const bytes = buildModel({
      inputs: [
        { name: "x", type: "float", shape: [2, 1, 6] },
        { name: "z", type: "float", shape: [2, 6] },
      ],
      outputs: ["o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9", "o10", "o11"].map((name) => ({ name, type: name === "o9" ? "int64" : name === "o6" ? "double" : "float" }) as const),
      initializers: [
        { name: "ax1", type: "int64", shape: [1], data: [1] },
        { name: "two", type: "float", shape: [], data: [2] },
        { name: "splits", type: "int64", shape: [2], data: [2, 4] },
        { name: "eshape", type: "int64", shape: [3], data: [3, 2, 1] },
        { name: "reps", type: "int64", shape: [2], data: [2, 1] },
      ],
      nodes: [
        { op: "Squeeze", inputs: ["x", "ax1"], outputs: ["sq"] },
        { op: "Sub", inputs: ["sq", "z"], outputs: ["d"] },
        { op: "Pow", inputs: ["d", "two"], outputs: ["d2"] },
        { op: "ReduceSum", inputs: ["d2", "ax1"], outputs: ["ss"], attrs: { keepdims: 0 } },
        { op: "Sqrt", inputs: ["ss"], outputs: ["o1"] },
        { op: "ReduceMean", inputs: ["d"], outputs: ["o2"], attrs: { axes: [0], keepdims: 1 } },
        { op: "ReduceMax", inputs: ["d"], outputs: ["o3"], attrs: { keepdims: 0 } },
        { op: "Unsqueeze", inputs: ["z", "ax1"], outputs: ["zu"] },
        { op: "Concat", inputs: ["x", "zu"], outputs: ["cat"], attrs: { axis: 1 } },
        { op: "Tanh", inputs: ["cat"], outputs: ["o4"] },
        { op: "LogSoftmax", inputs: ["z"], outputs: ["o5"], attrs: { axis: 0 } },
        { op: "Constant", inputs: [], outputs: ["c"], attrs: { value_float: { f: 0.25 } } },
        { op: "Mul", inputs: ["z", "c"], outputs: ["zc"] },
        { op: "Sigmoid", inputs: ["zc"], outputs: ["sig"] },
        { op: "Cast", inputs: ["sig"], outputs: ["o6"], attrs: { to: 11 } },
        { op: "Identity", inputs: ["o6"], outputs: ["o6b"] },
        { op: "Transpose", inputs: ["z"], outputs: ["o7"] },
        { op: "Split", inputs: ["z", "splits"], outputs: ["p1", "o8"], attrs: { axis: 1 } },
        { op: "ArgMax", inputs: ["z"], outputs: ["o9"], attrs: { axis: 1, keepdims: 0 } },
        { op: "Expand", inputs: ["p1", "eshape"], outputs: ["o10"] },
        { op: "Tile", inputs: ["z", "reps"], outputs: ["o11"] },
      ],
    });
    // o6 (double) is compared through the Identity chain's source.
    await checkImport(bytes, [floatFeed([2, 1, 6], 43), floatFeed([2, 6], 44)]);
  });

  it("opset 11 Softmax flattens at axis 1 (the pre-13 semantics)", async () => {
    const bytes = buildModel({
      opset: 11,
      inputs: [{ name: "x", type: "float", shape: [2, 3, 4] }],
      outputs: [{ name: "y", type: "float" }],
      nodes: [{ op: "Softmax", inputs: ["x"], outputs: ["y"] }],
    });
    await checkImport(bytes, [floatFeed([2, 3, 4], 45)]);
  });

  it("the callable: .graph, .optimized, .ir(), input checks", () => {
    const model = loadOnnx(buildModel(mlpModel));
    expect(model.inputs).toEqual([{ name: "x", type: { dtype: "float32", shape: [4, 8] } }]);
    expect(model.ir({ stage: "traced" })).toContain("matmul(");
    expect(model.ir()).toContain("func @test");
    expect(model.graph.nodes.length).toBeGreaterThan(model.optimized.nodes.length);
    expect(() => model(tensor(new Float32Array(8)).reshape([1, 8]))).toThrow(ShapeError);
    expect(() => model(tensor(new Int32Array(32)).reshape([4, 8]))).toThrow(DTypeError);
    expect(() => model()).toThrow(ValueError);
    const y = model(tensor(randData(32, 1)).reshape([4, 8])) as Tensor;
    expect(y.shape).toEqual([4, 3]);
  });
});

describe("importOnnx: errors", () => {
  it("lists every unsupported op at once (ST502)", () => {
    const bytes = buildModel({
      inputs: [{ name: "x", type: "float", shape: [1, 4, 4, 4] }],
      outputs: [{ name: "y", type: "float" }],
      initializers: [init("k", [4, 2, 3, 3], 1)],
      nodes: [
        { op: "LSTM", inputs: ["x"], outputs: ["a"] },
        { op: "NonMaxSuppression", inputs: ["a"], outputs: ["b"] },
        { op: "NonMaxSuppression", inputs: ["b"], outputs: ["c"] },
        { op: "Conv", inputs: ["x", "k"], outputs: ["d"], attrs: { group: 2, kernel_shape: [3, 3] } },
        { op: "FusedMatMul", inputs: ["c", "d"], outputs: ["y"], domain: "com.microsoft" },
      ],
    });
    let err: unknown;
    try {
      importOnnx(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedOnnxOpError);
    const u = err as UnsupportedOnnxOpError;
    expect(u.code).toBe("ST502");
    expect(u.ops).toEqual(["LSTM", "NonMaxSuppression (2 nodes)", "Conv (group=2)", "com.microsoft.FusedMatMul"]);
  });

  it("refuses bytes that are not a model, symbolic dimensions (unless given), and int64 values beyond int32", () => {
    expect(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(FormatError);
    expect(() => importOnnx("model.onnx" as never)).toThrow(FormatError);
    const dyn = buildModel({ inputs: [{ name: "x", type: "float", shape: ["batch", 3] }], outputs: [{ name: "y", type: "float" }], nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }] });
    expect(() => importOnnx(dyn)).toThrow(ValueError);
    expect(importOnnx(dyn, { inputShapes: { x: [5, 3] } }).params[0]!.type.shape).toEqual([5, 3]);
    const big = buildModel({
      inputs: [{ name: "x", type: "int64", shape: [2] }],
      outputs: [{ name: "y", type: "int64" }],
      initializers: [{ name: "c", type: "int64", shape: [1], data: [2 ** 40] }],
      nodes: [{ op: "Add", inputs: ["x", "c"], outputs: ["y"] }],
    });
    expect(() => importOnnx(big)).toThrow(/outside int32/);
    const f16 = buildModel({ inputs: [{ name: "x", type: "float", shape: [2] }], outputs: [{ name: "y", type: "float" }], nodes: [{ op: "Cast", inputs: ["x"], outputs: ["y"], attrs: { to: 10 } }] });
    expect(() => importOnnx(f16)).toThrow(DTypeError);
  });

  it("lists the ops it imports", () => {
    const ops = importableOps();
    for (const op of ["Gemm", "Conv", "BatchNormalization", "LayerNormalization", "Softmax", "Gelu", "Shape", "Slice", "Gather", "Where"]) expect(ops).toContain(op);
  });
});
