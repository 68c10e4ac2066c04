/** Shared by the .npy/.npz/safetensors tests: fixture access, error checks, random arrays, byte fuzzing. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { expect } from "vitest";
import { type DType, DTYPES, FormatError, NDArray, type SymtensorError } from "../../src/index.js";
import { type FixtureCase, loadFixtures } from "../helpers/fixtures.js";

export interface FileCase extends FixtureCase {
  file: string;
  source?: string;
  converted?: string | null | Record<string, string | null>;
  metadata?: Record<string, string>;
  kind?: "npy" | "npz" | "safetensors";
  npy_bytes?: Record<string, string>;
}

export const fileCases = (op: string): FileCase[] => (loadFixtures("files/cases") as FileCase[]).filter((c) => c.op === op);

export const fixturePath = (file: string): string => fileURLToPath(new URL(`../fixtures/${file}`, import.meta.url));
export const readFixture = (file: string): Uint8Array => new Uint8Array(readFileSync(fixturePath(file)));

/** Calls f, expecting an error of `cls` with `code` whose message contains every `mentions`. */
export function expectError<E extends SymtensorError>(cls: abstract new (...args: never[]) => E, code: string, f: () => unknown, ...mentions: string[]): E {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a throw").toBeInstanceOf(cls);
  const e = err as E;
  expect(e.code).toBe(code);
  for (const m of mentions) expect(e.message).toContain(m);
  return e;
}

export const expectFormatError = (f: () => unknown, ...mentions: string[]): FormatError => expectError(FormatError, "ST501", f, ...mentions);

export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));

/** Bitwise equality of two arrays (dtype, shape and every stored byte, so NaN and -0.0 count). */
export function expectSameArray(a: NDArray, b: NDArray, label = ""): void {
  expect(a.dtype, `${label} dtype`).toBe(b.dtype);
  expect([...a.shape], `${label} shape`).toEqual([...b.shape]);
  expect(bytesEqual(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength)), `${label} bytes`).toBe(true);
}

/** A random NDArray of a random dtype and shape (up to rank 3, sizes 0-4), floats with arbitrary bit patterns. */
export const ndarrayArb: fc.Arbitrary<NDArray> = fc
  .tuple(fc.constantFrom<DType>(...DTYPES), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const itemsize = { bool: 1, uint8: 1, int32: 4, float32: 4, float64: 8 }[dtype];
    return fc.uint8Array({ minLength: n * itemsize, maxLength: n * itemsize }).map((raw) => {
      const buf = new ArrayBuffer(n * itemsize);
      new Uint8Array(buf).set(raw);
      const Ctor = { bool: Uint8Array, uint8: Uint8Array, int32: Int32Array, float32: Float32Array, float64: Float64Array }[dtype];
      const data = new Ctor(buf);
      if (dtype === "bool") for (let i = 0; i < n; i++) data[i] = data[i]! & 1;
      return new NDArray(data, shape, dtype);
    });
  });

export const recordArb = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== "__metadata__" && s !== "__proto__"), ndarrayArb, { maxKeys: 4 });

/** Random corruptions of `good`: overwritten bytes, truncation, or both. */
export const mutationArb = (good: Uint8Array): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.option(fc.nat({ max: good.length }), { nil: undefined }),
    )
    .map(([edits, cut]) => {
      const bad = good.slice(0, cut ?? good.length);
      for (const [pos, byte] of edits) if (pos < bad.length) bad[pos] = byte;
      return bad;
    });

/** Asserts that `load` either succeeds or throws FormatError, for every mutation of every file. */
export function fuzz(files: Uint8Array[], load: (b: Uint8Array) => unknown, numRuns: number): void {
  for (const good of files) {
    fc.assert(
      fc.property(mutationArb(good), (bad) => {
        try {
          load(bad);
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
        }
      }),
      { numRuns },
    );
  }
}
