import { describe, expect, it } from "vitest";
import * as st from "../src/index.js";
import { DeviceError, DisposedTensorError, DTypeError, NDArray, ShapeError, ValueError } from "../src/index.js";

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

describe("tensor()", () => {
  it("defaults: JS numbers are float32, booleans are bool, typed arrays keep their dtype", () => {
    expect(st.tensor(1.5).dtype).toBe("float32");
    expect(st.tensor([true, false]).dtype).toBe("bool");
    expect(st.tensor(new Float64Array([1, 2])).dtype).toBe("float64");
    expect(st.tensor(new Int32Array([1, 2])).dtype).toBe("int32");
    expect(st.tensor(new Uint8Array([1, 2])).dtype).toBe("uint8");
    expect(st.tensor(new Int16Array([-3, 2])).dtype).toBe("int32");
    expect(st.tensor([]).shape).toEqual([0]);
  });
  it("reads nested arrays with their shape; 0-d from a scalar", () => {
    const t = st.tensor([[[1, 2, 3]], [[4, 5, 6]]]);
    expect(t.shape).toEqual([2, 1, 3]);
    expect(t.rank).toBe(3);
    expect(t.size).toBe(6);
    expect(t.device).toBe("cpu");
    expect(t.tolist()).toEqual([[[1, 2, 3]], [[4, 5, 6]]]);
    const s = st.tensor(7);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(7);
    expect(s.numpy().shape).toEqual([]);
    expect(st.tensor(true).item()).toBe(true);
  });
  it("copies its input: later changes to the source never reach the tensor", () => {
    const src = new Float32Array([1, 2, 3]);
    const t = st.tensor(src);
    src[0] = 99;
    expect(t.tolist()).toEqual([1, 2, 3]);
    const a = new NDArray(new Int32Array([1, 2]), [2]);
    const u = st.tensor(a);
    a.set(5, 0);
    expect(u.tolist()).toEqual([1, 2]);
  });
  it("converts to a requested dtype; out-of-range JS values are refused", () => {
    expect(st.tensor([1.9, -1.9], { dtype: "int32" }).tolist()).toEqual([1, -1]);
    expect(st.tensor([0, 2], { dtype: "bool" }).tolist()).toEqual([false, true]);
    expect(thrown(() => st.tensor([300], { dtype: "uint8" }))).toBeInstanceOf(ValueError);
    expect(thrown(() => st.tensor([NaN], { dtype: "int32" }))).toBeInstanceOf(ValueError);
    expect(st.tensor(new Float32Array([300.5]), { dtype: "uint8" }).tolist()).toEqual([255]);
  });
  it("rejects ragged arrays, non-numbers, unknown dtypes and devices with typed errors", () => {
    const ragged = thrown(() => st.tensor([[1, 2], [3]])) as ValueError;
    expect(ragged).toBeInstanceOf(ValueError);
    expect(ragged.code).toBe("ST405");
    expect(ragged.message).toMatch(/ragged nested array: element \[1\] has length 1, expected length 2/);
    expect((thrown(() => st.tensor([[1], 2] as never)) as ValueError).code).toBe("ST405");
    expect((thrown(() => st.tensor(["a"] as never)) as ValueError).message).toMatch(/element \[0\] is "a"/);
    const dt = thrown(() => st.tensor([1], { dtype: "int64" as never })) as DTypeError;
    expect(dt).toBeInstanceOf(DTypeError);
    expect(dt.code).toBe("ST402");
    expect(dt.message).toMatch(/unknown dtype "int64"/);
    const dev = thrown(() => st.tensor([1], { device: "gpu" as never })) as DeviceError;
    expect(dev).toBeInstanceOf(DeviceError);
    expect(dev.code).toBe("ST201");
    expect((thrown(() => st.tensor(new BigInt64Array(2))) as DTypeError).code).toBe("ST402");
  });
});

describe("creation functions", () => {
  it("zeros, ones, full, zerosLike, onesLike", () => {
    expect(st.zeros([2, 2]).tolist()).toEqual([[0, 0], [0, 0]]);
    expect(st.ones([3], { dtype: "int32" }).tolist()).toEqual([1, 1, 1]);
    expect(st.full([2], 7, { dtype: "uint8" }).numpy().data).toEqual(new Uint8Array([7, 7]));
    expect(st.full([1], true).dtype).toBe("bool");
    const x = st.tensor([[1, 2]], { dtype: "float64" });
    expect(st.zerosLike(x).dtype).toBe("float64");
    expect(st.onesLike(x, { dtype: "int32" }).tolist()).toEqual([[1, 1]]);
    expect(st.zeros([0, 3]).shape).toEqual([0, 3]);
  });
  it("bad shapes are ValueErrors naming the bad dimension", () => {
    for (const bad of [[-1], [NaN], [1.5], "3"] as never[]) {
      const e = thrown(() => st.zeros(bad)) as ValueError;
      expect(e).toBeInstanceOf(ValueError);
      expect(e.code).toBe("ST404");
    }
    expect((thrown(() => st.zeros([2, -1])) as Error).message).toMatch(/shape\[1\] must be a non-negative integer, got -1/);
  });
  it("arange matches NumPy: integer args give int32, fractional give float32", () => {
    expect(st.arange(5).tolist()).toEqual([0, 1, 2, 3, 4]);
    expect(st.arange(5).dtype).toBe("int32");
    expect(st.arange(1, 10, 3).tolist()).toEqual([1, 4, 7]);
    expect(st.arange(5, 0, -2).tolist()).toEqual([5, 3, 1]);
    expect(st.arange(0, 1, 0.25).tolist()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(st.arange(3, 1).shape).toEqual([0]);
    expect(st.arange(3, undefined, 1, { dtype: "float64" }).dtype).toBe("float64");
    expect(thrown(() => st.arange(0, 5, 0))).toBeInstanceOf(ValueError);
    expect(thrown(() => st.arange(0, Infinity))).toBeInstanceOf(ValueError);
  });
  it("linspace matches NumPy including endpoint=false", () => {
    expect(st.linspace(0, 1, 5).tolist()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(st.linspace(0, 1, 4, { endpoint: false }).tolist()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(st.linspace(2, 3, 1).tolist()).toEqual([2]);
    expect(st.linspace(2, 3, 0).shape).toEqual([0]);
    expect(thrown(() => st.linspace(0, 1, -1))).toBeInstanceOf(ValueError);
  });
  it("eye with offsets and rectangles", () => {
    expect(st.eye(2).tolist()).toEqual([[1, 0], [0, 1]]);
    expect(st.eye(2, 3, { k: 1 }).tolist()).toEqual([[0, 1, 0], [0, 0, 1]]);
    expect(st.eye(3, 2, { k: -1, dtype: "int32" }).tolist()).toEqual([[0, 0], [1, 0], [0, 1]]);
  });
});

describe("Tensor lifetime and host conversion", () => {
  it("numpy() is an independent copy with the exact dtype", () => {
    const t = st.tensor([[1, 2], [3, 4]], { dtype: "int32" });
    const a = t.numpy();
    expect(a.dtype).toBe("int32");
    expect(a.data).toBeInstanceOf(Int32Array);
    a.data[0] = 100;
    expect(t.numpy().get(0, 0)).toBe(1);
    const b = st.tensor([true, false]).numpy();
    expect(b.dtype).toBe("bool");
    expect(b.data).toBeInstanceOf(Uint8Array);
    expect(b.tolist()).toEqual([true, false]);
  });
  it("item() needs exactly one element", () => {
    expect(st.tensor([[3]]).item()).toBe(3);
    const e = thrown(() => st.tensor([1, 2]).item()) as ValueError;
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toMatch(/size 1/);
  });
  it("dispose() frees the tensor; later use is a DisposedTensorError, and Symbol.dispose works", () => {
    const t = st.tensor([1, 2]);
    t.dispose();
    const e = thrown(() => t.numpy()) as DisposedTensorError;
    expect(e).toBeInstanceOf(DisposedTensorError);
    expect(e.code).toBe("ST202");
    expect(thrown(() => st.add(t, 1))).toBeInstanceOf(DisposedTensorError);
    const u = st.tensor([1]);
    u[Symbol.dispose]();
    expect(thrown(() => u.item())).toBeInstanceOf(DisposedTensorError);
    expect(String(u)).toMatch(/disposed/);
  });
  it("errors carry a stable code and a link to docs/errors.md", () => {
    const e = thrown(() => st.add(st.zeros([2]), st.zeros([3]))) as ShapeError;
    expect(e).toBeInstanceOf(st.SymtensorError);
    expect(e.name).toBe("ShapeError");
    expect(e.message).toMatch(/See docs\/errors.md#st401$/);
    expect(e.summary).not.toMatch(/docs\/errors/);
  });
});
