/** .npy reading and writing, checked against files written by NumPy (tests/fixtures/gen_interop.py). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DType, DTYPES, FormatError, NDArray } from "../../src/index.js";
import { expectArrayClose, type FixtureCase, loadFixtures } from "../helpers/fixtures.js";

interface NpyCase extends FixtureCase {
  file: string;
  native: boolean;
}

const cases = loadFixtures("interop").filter((c) => c.op === "npy") as NpyCase[];
const readFixture = (file: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`../fixtures/${file}`, import.meta.url))));

function expectFormatError(f: () => unknown, ...mentions: string[]): FormatError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  const fe = err as FormatError;
  expect(fe.code).toBe("ST501");
  for (const m of mentions) expect(fe.message).toContain(m);
  return fe;
}

describe("NDArray.fromNpy reads NumPy's files", () => {
  it("has fixtures for every dtype, Fortran order, big-endian and versions 2.0 and 3.0", () => {
    expect(cases.filter((c) => c.error === null).length).toBeGreaterThanOrEqual(25 + 5 + 4 + 6);
    for (const d of DTYPES) expect(cases.some((c) => (c.expected as NDArray | null)?.dtype === d)).toBe(true);
  });
  for (const c of cases.filter((x) => x.error === null)) {
    it(`${c.name} (${c.file})`, () => {
      const a = NDArray.fromNpy(readFixture(c.file));
      const expected = c.expected as NDArray;
      expectArrayClose(a, expected);
      // -0.0 and NaN payloads aside, the stored bytes must come back exactly.
      expect(Object.is(a.data[3], expected.data[3])).toBe(true);
      if (a.dtype === "bool") expect([...a.data].every((v) => v === 0 || v === 1)).toBe(true);
    });
  }
});

describe("NDArray.fromNpy and its input", () => {
  it("accepts a Node Buffer and never writes to the input bytes (big-endian files are swapped in a copy)", () => {
    const file = fileURLToPath(new URL("../fixtures/npy/bigendian_f8_2x3.npy", import.meta.url));
    const buffer = readFileSync(file);
    const before = Buffer.from(buffer);
    const a = NDArray.fromNpy(buffer);
    expect(buffer.equals(before)).toBe(true);
    expect(a.data.buffer).not.toBe(buffer.buffer);
    expect([...a.shape]).toEqual([2, 3]);
  });
});

describe("NDArray.toNpy is byte-identical to np.save", () => {
  const native = cases.filter((c) => c.native);
  it("covers every dtype and the shapes (), (0,), (0,3), (5,), (2,3,4)", () => {
    expect(native.length).toBeGreaterThanOrEqual(25);
  });
  for (const c of native) {
    it(`${c.name} (${c.file})`, () => {
      const bytes = (c.expected as NDArray).toNpy();
      expect(Buffer.from(bytes).equals(Buffer.from(readFixture(c.file)))).toBe(true);
    });
  }
  it("aligns the data to 64 bytes and ends the header with a newline", () => {
    for (const shape of [[], [1], [0, 12345678901], [0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]]) {
      const size = shape.reduce((x, y) => x * y, 1);
      const bytes = new NDArray(new Uint8Array(size), shape, "uint8").toNpy();
      const headerLength = bytes[8]! | (bytes[9]! << 8);
      expect((10 + headerLength) % 64).toBe(0);
      expect(bytes[10 + headerLength - 1]).toBe(0x0a);
      expect(bytes.length).toBe(10 + headerLength + size);
    }
  });
});

describe("round trip", () => {
  const dtypeArb = fc.constantFrom<DType>(...DTYPES);
  const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });
  it("fromNpy(toNpy(a)) gives back a, bit for bit", () => {
    fc.assert(
      fc.property(dtypeArb, shapeArb, fc.integer(), (dtype, shape, seed) => {
        const n = shape.reduce((x, y) => x * y, 1);
        const a = new NDArray(new (dtype === "float64" ? Float64Array : dtype === "float32" ? Float32Array : dtype === "int32" ? Int32Array : Uint8Array)(n), shape, dtype);
        for (let i = 0; i < n; i++) {
          const r = Math.sin(seed + i) * 1e6;
          a.data[i] = dtype === "bool" ? (r > 0 ? 1 : 0) : r;
        }
        const b = NDArray.fromNpy(a.toNpy());
        expect(b.dtype).toBe(dtype);
        expect([...b.shape]).toEqual(shape);
        expect(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength).equals(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe("malformed .npy input throws FormatError (ST501)", () => {
  const good = readFixture("npy/f4_2x3x4.npy");
  const withHeader = (header: string, data = new Uint8Array(0)): Uint8Array => {
    const h = new TextEncoder().encode(header);
    const out = new Uint8Array(10 + h.length + data.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
    out.set(h, 10);
    out.set(data, 10 + h.length);
    return out;
  };

  it("bad magic", () => {
    const bad = good.slice();
    bad[1] = 0x4f;
    expectFormatError(() => NDArray.fromNpy(bad), "magic");
    expectFormatError(() => NDArray.fromNpy(new Uint8Array(0)), "magic");
    expectFormatError(() => NDArray.fromNpy(new TextEncoder().encode("PK\x03\x04 a zip file")), "magic");
  });
  it("unsupported format version", () => {
    const bad = good.slice();
    bad[6] = 4;
    expectFormatError(() => NDArray.fromNpy(bad), "version 4.0");
  });
  it("truncated header and truncated data", () => {
    expectFormatError(() => NDArray.fromNpy(good.slice(0, 9)), "truncated");
    expectFormatError(() => NDArray.fromNpy(good.slice(0, 40)), "truncated header");
    expectFormatError(() => NDArray.fromNpy(good.slice(0, good.length - 1)), "truncated", "needs 96 bytes");
  });
  it("a header that is not the expected dict", () => {
    expectFormatError(() => NDArray.fromNpy(withHeader("not a dict\n")), "header");
    expectFormatError(() => NDArray.fromNpy(withHeader("[1, 2]\n")), "not a dict");
    expectFormatError(() => NDArray.fromNpy(withHeader("{'descr': '<f4', 'shape': (2,), }\n")), "keys");
    expectFormatError(() => NDArray.fromNpy(withHeader("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }\n")), "fortran_order");
    expectFormatError(() => NDArray.fromNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }\n")), "shape");
    expectFormatError(() => NDArray.fromNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }\n")), "shape");
    expectFormatError(() => NDArray.fromNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }\n")), "header");
    expectFormatError(() => NDArray.fromNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), '__import__('os')")), "header");
  });
  it("a descriptor in the wrong byte-order form", () => {
    expectFormatError(() => NDArray.fromNpy(withHeader("{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }\n", new Uint8Array(4))), "'|f4'");
  });
  for (const c of cases.filter((x) => x.error !== null)) {
    it(`${c.name} (${c.file}) names the descriptor and the supported ones`, () => {
      const descr = c.error!.split(" ")[1]!;
      const e = expectFormatError(() => NDArray.fromNpy(readFixture(c.file)), descr, "'<f4' (float32)", "'|b1' (bool)");
      if (descr === "|O") expect(e.message).toContain("pickle");
    });
  }
  it("never parses pickled data: an object array whose pickle would run code is refused from its header", () => {
    // A pickle that would call os.system if it were ever unpickled.
    const payload = new TextEncoder().encode("cos\nsystem\n(S'echo pwned'\ntR.");
    const bytes = withHeader("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }          \n", payload);
    expectFormatError(() => NDArray.fromNpy(bytes), "pickle");
  });
  it("rejects input that is not bytes", () => {
    expectFormatError(() => NDArray.fromNpy("\x93NUMPY" as unknown as Uint8Array), "Uint8Array");
  });
});
