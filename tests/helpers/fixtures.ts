/**
 * Loads NumPy fixtures (see tests/fixtures/fixturelib.py) and compares results against them.
 * Fixture arrays are raw little-endian bytes, decoded here without going through symtensor, so
 * the comparison does not depend on the code under test.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { type DType, NDArray, Tensor } from "../../src/index.js";

export type FixtureValue = number | boolean | null | NDArray | FixtureValue[] | { [k: string]: FixtureValue };

export interface FixtureCase {
  name: string;
  op: string;
  args: FixtureValue[];
  kwargs: { [k: string]: FixtureValue };
  expected: FixtureValue;
  error: string | null;
  rtol: number;
  atol: number;
}

const ARRAYS: Record<DType, new (b: ArrayBuffer) => NDArray["data"]> = {
  bool: Uint8Array,
  uint8: Uint8Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

function decode(v: unknown): FixtureValue {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("array" in o) {
      const a = o["array"] as { dtype: DType; shape: number[]; b64: string };
      const bytes = Buffer.from(a.b64, "base64");
      const copy = new Uint8Array(bytes.length);
      copy.set(bytes);
      return new NDArray(new ARRAYS[a.dtype](copy.buffer), a.shape, a.dtype);
    }
    if ("float" in o && Object.keys(o).length === 1) {
      return { nan: NaN, inf: Infinity, "-inf": -Infinity }[o["float"] as string] ?? NaN;
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v as FixtureValue;
}

export function loadFixtures(group: string): FixtureCase[] {
  const path = fileURLToPath(new URL(`../fixtures/${group}.json`, import.meta.url));
  const raw = JSON.parse(readFileSync(path, "utf8")) as { cases: Record<string, unknown>[] };
  return raw.cases.map((c) => ({ ...(c as unknown as FixtureCase), args: (c["args"] as unknown[]).map(decode), kwargs: decode(c["kwargs"]) as FixtureCase["kwargs"], expected: decode(c["expected"]) }));
}

/**
 * Asserts dtype and shape equal and values close: |a - e| <= atol + rtol * |e|, NaN matches NaN,
 * infinities match exactly. Integer and bool dtypes are compared exactly.
 */
export function expectArrayClose(actual: Tensor | NDArray, expected: NDArray, tol: { rtol?: number; atol?: number } = {}, label = ""): void {
  const a = actual instanceof Tensor ? actual.numpy() : actual;
  const where = label ? `${label}: ` : "";
  expect(a.dtype, `${where}dtype`).toBe(expected.dtype);
  expect([...a.shape], `${where}shape`).toEqual([...expected.shape]);
  const rtol = tol.rtol ?? 0;
  const atol = tol.atol ?? 0;
  for (let i = 0; i < expected.size; i++) {
    const x = a.data[i]!;
    const e = expected.data[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(x) : !Number.isFinite(e) ? x === e : Math.abs(x - e) <= atol + rtol * Math.abs(e);
    if (!ok) {
      expect.fail(`${where}element ${i} (flat) is ${x}, expected ${e} (rtol ${rtol}, atol ${atol})\nactual:   ${a.toString()}\nexpected: ${expected.toString()}`);
    }
  }
}
