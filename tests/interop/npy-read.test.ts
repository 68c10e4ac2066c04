/** loadNpy / saveNpy: conversions of NumPy's other dtypes, files symtensor writes read by NumPy, paths and bytes. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it, vi } from "vitest";
import { DTYPES, loadNpy, loadNpyArray, loadNpyWithInfo, NDArray, saveNpy, tensor, toNpyBytes, ValueError } from "../../src/index.js";
import { expectArrayClose, type FixtureCase, loadFixtures } from "../helpers/fixtures.js";
import { b64, bytesEqual, expectError, expectFormatError, expectSameArray, fileCases, fixturePath, fuzz, ndarrayArb, readFixture } from "./files-helpers.js";

const TMP = mkdtempSync(join(tmpdir(), "symtensor-npy-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe("loadNpy converts NumPy's other dtypes (files from gen_files.py)", () => {
  const cases = fileCases("npy");
  it("covers float16, int8/16, uint16/32, int64, uint64, both byte orders, Fortran, 0-d, size 0, v2 and v3", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const s of ["<f2", ">f2", "|i1", "<i2", ">i2", "<u2", "<u4", "<i8", ">i8", "<u8"]) expect(cases.some((c) => c.source === s)).toBe(true);
  });
  for (const c of cases.filter((x) => x.error === null)) {
    it(`${c.name} (${c.file})`, () => {
      const expected = c.expected as NDArray;
      const { tensor: t, info } = loadNpyWithInfo(fixturePath(c.file));
      // Every conversion is exact, so the comparison is bitwise (NaN payloads aside: float16 NaNs become the canonical NaN).
      expectArrayClose(t, expected);
      expect(info).toEqual({ sourceDtype: c.source, dtype: expected.dtype, converted: c.converted });
      const fromBytes = loadNpyArray(readFixture(c.file));
      expectArrayClose(fromBytes.array, expected);
      if (expected.dtype === "float32") {
        for (let i = 0; i < expected.size; i++) if (!Number.isNaN(expected.data[i])) expect(Object.is(fromBytes.array.data[i], expected.data[i])).toBe(true);
      }
    });
  }
  for (const c of cases.filter((x) => x.error !== null)) {
    it(`refuses ${c.name} (${c.file})`, () => {
      expectFormatError(() => loadNpy(readFixture(c.file)), c.error!);
    });
  }
  it("the strict NDArray.fromNpy still refuses converted dtypes", () => {
    expectFormatError(() => NDArray.fromNpy(readFixture("files/npy/f2_specials.npy")), "'<f2'");
  });
});

describe("loadNpy reads every native .npy fixture as NDArray.fromNpy does", () => {
  const cases = loadFixtures("interop").filter((c) => c.op === "npy") as (FixtureCase & { file: string })[];
  for (const c of cases.filter((x) => x.error === null)) {
    it(c.file, () => {
      const { tensor: t, info } = loadNpyWithInfo(readFixture(c.file));
      expectArrayClose(t, c.expected as NDArray);
      expect(info.converted).toBeNull();
    });
  }
  it("now converts the int64, float16 and big-endian int16 files the strict reader refuses", () => {
    expect(loadNpy(readFixture("npy/i8_3.npy")).tolist()).toEqual([0, 1, 2]);
    expect(loadNpy(readFixture("npy/f2_3.npy")).tolist()).toEqual([0, 1, 2]);
    expect(loadNpyWithInfo(readFixture("npy/bigendian_i2_3.npy")).info).toEqual({ sourceDtype: ">i2", dtype: "int32", converted: "int16->int32" });
  });
  for (const [file, descr] of [["npy/c8_2.npy", "'<c8'"], ["npy/U3_2.npy", "'<U2'"], ["npy/structured_2.npy", "structured"], ["npy/object_2.npy", "pickle"]] as const) {
    it(`still refuses ${file}`, () => {
      const e = expectFormatError(() => loadNpy(readFixture(file)), descr);
      expect(e.message).toContain("'<f2' (float16 -> float32)");
    });
  }
});

describe("NumPy reads the .npy files symtensor writes (tests/fixtures/files/from-symtensor)", () => {
  const cases = fileCases("from-symtensor").filter((c) => c.kind === "npy");
  it("covers every dtype in 6 shapes", () => expect(cases.length).toBe(DTYPES.length * 6));
  for (const c of cases) {
    it(c.file, () => {
      const seen = (c.expected as Record<string, NDArray>)[""]!;
      const file = readFixture(c.file);
      // NumPy read back exactly what symtensor reads, and np.save of it gives the same bytes.
      expectSameArray(loadNpyArray(file).array, seen);
      expect(bytesEqual(file, b64(c.npy_bytes![""]!))).toBe(true);
      expect(bytesEqual(toNpyBytes(seen), file)).toBe(true);
    });
  }
});

describe("sources and targets", () => {
  it("loads from a path, a Uint8Array, a Node Buffer and an ArrayBuffer", () => {
    const path = fixturePath("files/npy/i2_3x4.npy");
    const expected = loadNpy(path).numpy();
    const buf = readFileSync(path);
    expectSameArray(loadNpy(buf).numpy(), expected);
    expectSameArray(loadNpy(new Uint8Array(buf)).numpy(), expected);
    expectSameArray(loadNpy(new Uint8Array(buf).slice().buffer).numpy(), expected);
  });
  it("saveNpy writes a Tensor, an NDArray or nested arrays, as np.save would", () => {
    const t = tensor([[1, 2], [3, 4]], { dtype: "int32" });
    const p = join(TMP, "t.npy");
    saveNpy(p, t);
    expect(bytesEqual(readFileSync(p), t.numpy().toNpy())).toBe(true);
    saveNpy(p, t.numpy());
    expect(loadNpy(p).tolist()).toEqual([[1, 2], [3, 4]]);
    saveNpy(p, [1.5, 2.5]);
    expect(loadNpy(p).dtype).toBe("float32");
    expect(bytesEqual(toNpyBytes(true), new NDArray(new Uint8Array([1]), [], "bool").toNpy())).toBe(true);
  });
  it("bad arguments throw ValueError (ST404)", () => {
    expectError(ValueError, "ST404", () => loadNpy(42 as unknown as string), "loadNpy", "file path");
    expectError(ValueError, "ST404", () => loadNpy(null as unknown as string), "null");
    expectError(ValueError, "ST404", () => saveNpy(7 as unknown as string, [1]), "saveNpy", "path");
  });
  it("a path without Node's fs (a browser) says to pass bytes", () => {
    const spy = vi.spyOn(process, "getBuiltinModule").mockReturnValue(undefined as never);
    try {
      expectError(ValueError, "ST404", () => loadNpy("x.npy"), "loadNpy", "Uint8Array");
      expectError(ValueError, "ST404", () => saveNpy("x.npy", [1]), "saveNpy");
      // Bytes still work.
      expect(loadNpy(readFixture("files/npy/i1_0.npy")).shape).toEqual([0]);
    } finally {
      spy.mockRestore();
    }
  });
  it("a missing file surfaces Node's ENOENT error", () => {
    expect(() => loadNpy(join(TMP, "missing.npy"))).toThrow(/ENOENT/);
  });
});

describe("properties", () => {
  it("loadNpy(toNpyBytes(a)) gives back a bit for bit, for every dtype", () => {
    fc.assert(
      fc.property(ndarrayArb, (a) => {
        const { array, info } = loadNpyArray(toNpyBytes(a));
        expectSameArray(array, a);
        expect(info.converted).toBeNull();
      }),
      { numRuns: 200 },
    );
  });
  it("random byte mutations of valid files only ever throw FormatError", () => {
    const files = ["files/npy/f2_be_2x3.npy", "files/npy/i8_be_fortran_2x3.npy", "files/npy/v3_f2_3.npy", "npy/f8_2x3x4.npy", "npy/v2_i4_4.npy"].map(readFixture);
    fuzz(files, (b) => loadNpy(b), 300);
  });
});
