/** NumPy's repr, checked against NumPy 2 output in tests/fixtures/interop.json (gen_interop.py). */
import { describe, expect, it } from "vitest";
import { NDArray, tensor, ValueError } from "../../src/index.js";
import { formatNDArray } from "../../src/interop/format.js";
import { type FixtureCase, loadFixtures } from "../helpers/fixtures.js";

interface ReprCase extends FixtureCase {
  text: string;
  prefix: string;
}

const cases = loadFixtures("interop").filter((c) => c.op === "repr") as ReprCase[];

describe("formatNDArray matches NumPy's repr", () => {
  it("has fixtures", () => {
    expect(cases.length).toBeGreaterThan(300);
  });
  for (const c of cases) {
    it(c.name, () => {
      const a = c.args[0] as NDArray;
      const options = c.kwargs as Record<string, number>;
      const text = c.prefix === "array" && Object.keys(options).length === 0 ? a.toString() : formatNDArray(a, c.prefix, options);
      expect(text).toBe(c.text);
    });
  }
});

describe("Tensor.toString", () => {
  it("uses the tensor prefix with the NDArray body", () => {
    expect(tensor([[1, 2], [3, 4]]).toString()).toBe("tensor([[1., 2.],\n        [3., 4.]], dtype=float32)");
    expect(tensor([0.1, 0.25], { dtype: "float64" }).toString()).toBe("tensor([0.1 , 0.25])");
    expect(tensor(true).toString()).toBe("tensor(True)");
    expect(`${tensor([1, 2], { dtype: "int32" })}`).toBe("tensor([1, 2], dtype=int32)");
  });
});

describe("formatNDArray options", () => {
  it("rejects bad options with ValueError", () => {
    const a = new NDArray(new Float32Array([1]), [1]);
    for (const bad of [{ linewidth: -1 }, { precision: 1.5 }, { threshold: Number.NaN }]) {
      let err: unknown;
      try {
        formatNDArray(a, "array", bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ValueError);
      expect((err as ValueError).code).toBe("ST404");
    }
  });
});
