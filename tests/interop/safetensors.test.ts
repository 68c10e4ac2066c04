/** safetensors: files written from the spec in Python, symtensor's files read back in Python, header validation. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadSafetensors, loadSafetensorsWithInfo, NDArray, saveSafetensors, tensor, toSafetensorsBytes, ValueError } from "../../src/index.js";
import { expectArrayClose } from "../helpers/fixtures.js";
import { bytesEqual, expectError, expectFormatError, expectSameArray, fileCases, fixturePath, fuzz, readFixture, recordArb } from "./files-helpers.js";

const TMP = mkdtempSync(join(tmpdir(), "symtensor-st-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** A safetensors file from a header (object or raw text) and data bytes. */
function build(header: unknown, data: Uint8Array | number = 0, lengthOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setUint32(0, lengthOverride ?? json.length, true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

const headerOf = (file: Uint8Array): Record<string, unknown> => {
  const n = new DataView(file.buffer, file.byteOffset).getUint32(0, true);
  return JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, unknown>;
};

describe("loadSafetensors reads files written from the spec (gen_files.py)", () => {
  const cases = fileCases("safetensors");
  for (const c of cases.filter((x) => x.error === null)) {
    it(`${c.name} (${c.file})`, () => {
      const expected = c.expected as Record<string, NDArray>;
      const { tensors, metadata, info } = loadSafetensorsWithInfo(fixturePath(c.file));
      expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
      expect({ ...metadata }).toEqual(c.metadata);
      for (const [name, e] of Object.entries(expected)) {
        expectArrayClose(tensors[name]!, e, {}, name);
        expect(info[name]!.converted, name).toBe((c.converted as Record<string, string | null>)[name]);
      }
    });
  }
  for (const c of cases.filter((x) => x.error !== null)) {
    it(`refuses ${c.name}`, () => expectFormatError(() => loadSafetensors(readFixture(c.file)), c.error!, "fits int32"));
  }
  it("covers every dtype symtensor reads", () => {
    const names = new Set(Object.values(loadSafetensorsWithInfo(readFixture("files/safetensors/converted.safetensors")).info).map((i) => i.sourceDtype));
    for (const n of ["F16", "BF16", "I8", "I16", "U16", "U32", "I64", "U64"]) expect(names.has(n), n).toBe(true);
  });
});

describe("Python reads the safetensors files symtensor writes (tests/fixtures/files/from-symtensor)", () => {
  const cases = fileCases("from-symtensor").filter((c) => c.kind === "safetensors");
  it("has two files", () => expect(cases.length).toBe(2));
  for (const c of cases) {
    it(c.file, () => {
      const seen = c.expected as Record<string, NDArray>;
      const file = readFixture(c.file);
      const { tensors, metadata } = loadSafetensorsWithInfo(file);
      expect(Object.keys(tensors).sort()).toEqual(Object.keys(seen).sort());
      for (const [name, a] of Object.entries(seen)) expectSameArray(tensors[name]!.numpy(), a, name);
      expect({ ...metadata }).toEqual(c.metadata);
      const meta = Object.keys(c.metadata!).length > 0 ? c.metadata : undefined;
      expect(bytesEqual(toSafetensorsBytes(seen, meta), file)).toBe(true);
    });
  }
});

describe("saveSafetensors", () => {
  it("pads the header to 8 bytes, sorts keys by name with __metadata__ first, aligns every tensor", () => {
    const file = toSafetensorsBytes({ c: [1, 2, 3], b: new NDArray(new Uint8Array([1, 2, 3]), [3], "uint8"), a: new NDArray(new Float64Array([1]), [1], "float64") }, { z: "1", a: "2" });
    const n = new DataView(file.buffer).getUint32(0, true);
    expect(n % 8).toBe(0);
    const header = headerOf(file);
    expect(Object.keys(header)).toEqual(["__metadata__", "a", "b", "c"]);
    expect(Object.keys(header["__metadata__"] as object)).toEqual(["a", "z"]);
    expect(header["a"]).toEqual({ dtype: "F64", shape: [1], data_offsets: [0, 8] });
    expect(header["c"]).toEqual({ dtype: "F32", shape: [3], data_offsets: [8, 20] });
    expect(header["b"]).toEqual({ dtype: "U8", shape: [3], data_offsets: [20, 23] });
    expect(file.length).toBe(8 + n + 23);
  });
  it("writes to a path and reads it back", () => {
    const p = join(TMP, "w.safetensors");
    saveSafetensors(p, { w: tensor([[1, 2]]), s: tensor(true) }, { k: "v" });
    const back = loadSafetensorsWithInfo(p);
    expect(back.tensors["w"]!.tolist()).toEqual([[1, 2]]);
    expect(back.tensors["s"]!.shape).toEqual([]);
    expect(back.metadata["k"]).toBe("v");
  });
  it("bad arguments throw ValueError", () => {
    expectError(ValueError, "ST404", () => toSafetensorsBytes({ __metadata__: [1] }), "reserved");
    expectError(ValueError, "ST404", () => toSafetensorsBytes({ a: [1] }, { k: 3 as unknown as string }), "metadata 'k'");
    expectError(ValueError, "ST404", () => toSafetensorsBytes([tensor([1])] as unknown as Record<string, never>), "object mapping names");
    expectError(ValueError, "ST404", () => saveSafetensors(undefined as unknown as string, {}), "path");
  });
});

describe("header validation: FormatError (ST501) naming the tensor and the problem, never an out-of-bounds read", () => {
  const t = (dtype: string, shape: number[], offsets: unknown): unknown => ({ dtype, shape, data_offsets: offsets });
  it("a file shorter than the length field, or a header larger than the file", () => {
    expectFormatError(() => loadSafetensors(new Uint8Array(5)), "fewer than the 8-byte");
    expectFormatError(() => loadSafetensors(build({}, 0, 1000)), "header length 1000 is larger than the rest of the file");
    const huge = build({});
    huge[7] = 1;
    expectFormatError(() => loadSafetensors(huge), "larger than the rest of the file");
  });
  it("bad JSON, a header that is not an object, invalid UTF-8", () => {
    expectFormatError(() => loadSafetensors(build('{"a": ')), "not valid JSON");
    expectFormatError(() => loadSafetensors(build("[1, 2]")), "must be a JSON object");
    expectFormatError(() => loadSafetensors(build("null")), "must be a JSON object");
    const bad = build('{"\u00e9": 1}');
    bad[10] = 0xff;
    expectFormatError(() => loadSafetensors(bad), "UTF-8");
  });
  it("malformed entries", () => {
    expectFormatError(() => loadSafetensors(build({ w: 5 })), "tensor 'w'", "must be an object");
    expectFormatError(() => loadSafetensors(build({ w: t("Q7", [1], [0, 4]) }, 4)), "tensor 'w'", "unsupported dtype 'Q7'");
    expectFormatError(() => loadSafetensors(build({ w: t("F8_E4M3", [1], [0, 1]) }, 1)), "tensor 'w'", "unsupported dtype 'F8_E4M3'");
    expectFormatError(() => loadSafetensors(build({ w: { shape: [1], data_offsets: [0, 4] } }, 4)), "tensor 'w'", "'dtype'");
    expectFormatError(() => loadSafetensors(build({ w: t("F32", [-1], [0, 4]) }, 4)), "tensor 'w'", "'shape'");
    expectFormatError(() => loadSafetensors(build({ w: t("F32", [1.5], [0, 4]) }, 4)), "tensor 'w'", "'shape'");
    expectFormatError(() => loadSafetensors(build({ w: t("F32", [1], [0]) }, 4)), "tensor 'w'", "'data_offsets'");
    expectFormatError(() => loadSafetensors(build({ w: t("F32", [1], ["0", 4]) }, 4)), "tensor 'w'", "'data_offsets'");
    expectFormatError(() => loadSafetensors(build({ w: t("F32", [2 ** 40, 2 ** 40], [0, 4]) }, 4)), "tensor 'w'", "too many elements");
    expectFormatError(() => loadSafetensors(build({ __metadata__: { a: 1 } })), "'__metadata__' entry 'a' must be a string");
    expectFormatError(() => loadSafetensors(build({ __metadata__: [] })), "'__metadata__' must be an object");
  });
  it("offsets out of range, reversed, sizes that do not match the shape", () => {
    expectFormatError(() => loadSafetensors(build({ w: t("F32", [2], [0, 8]) }, 4)), "tensor 'w'", "run past the end of the data (4 bytes)");
    expectFormatError(() => loadSafetensors(build({ w: t("F32", [2], [8, 0]) }, 8)), "tensor 'w'", "reversed");
    expectFormatError(() => loadSafetensors(build({ w: t("F32", [3], [0, 8]) }, 8)), "tensor 'w'", "hold 8 bytes but shape [3] of F32 needs 12");
    expectFormatError(() => loadSafetensors(build({ w: t("BF16", [2, 2], [0, 4]) }, 4)), "tensor 'w'", "needs 8");
  });
  it("overlapping ranges, gaps and trailing bytes", () => {
    expectFormatError(() => loadSafetensors(build({ a: t("F32", [2], [0, 8]), b: t("F32", [1], [4, 8]) }, 8)), "overlap");
    expectFormatError(() => loadSafetensors(build({ a: t("F32", [1], [0, 4]), b: t("F32", [1], [0, 4]) }, 4)), "overlap");
    expectFormatError(() => loadSafetensors(build({ a: t("F32", [1], [4, 8]) }, 8)), "tensor 'a' starts at byte 4", "unused");
    expectFormatError(() => loadSafetensors(build({ a: t("F32", [1], [0, 4]) }, 12)), "has 12 bytes but the tensors cover 4");
  });
  it("a valid hand-built file with tensors stored out of name order and an empty tensor", () => {
    const data = new Uint8Array(12);
    new DataView(data.buffer).setFloat32(0, 1.5, true);
    new DataView(data.buffer).setInt32(4, -3, true);
    new DataView(data.buffer).setInt32(8, 9, true);
    const r = loadSafetensors(build({ z: t("F32", [1], [0, 4]), a: t("I32", [2], [4, 12]), e: t("U8", [0, 5], [12, 12]) }, data));
    expect(r["z"]!.tolist()).toEqual([1.5]);
    expect(r["a"]!.tolist()).toEqual([-3, 9]);
    expect(r["e"]!.shape).toEqual([0, 5]);
  });
  it("BOOL bytes other than 0/1 read as true, stored as 1", () => {
    const r = loadSafetensors(build({ b: t("BOOL", [3], [0, 3]) }, new Uint8Array([0, 2, 255])));
    expect([...r["b"]!.numpy().data]).toEqual([0, 1, 1]);
  });
});

describe("properties", () => {
  it("loadSafetensors(toSafetensorsBytes(r, meta)) gives back r and meta, for every dtype", () => {
    fc.assert(
      fc.property(recordArb, fc.dictionary(fc.string({ maxLength: 5 }).filter((k) => k !== "__proto__"), fc.string({ maxLength: 8 }), { maxKeys: 3 }), (r, meta) => {
        const { tensors, metadata } = loadSafetensorsWithInfo(toSafetensorsBytes(r, meta));
        expect(Object.keys(tensors).sort()).toEqual(Object.keys(r).sort());
        for (const [k, a] of Object.entries(r)) expectSameArray(tensors[k]!.numpy(), a, k);
        expect({ ...metadata }).toEqual(meta);
      }),
      { numRuns: 150 },
    );
  });
  it("random byte mutations of valid files only ever throw FormatError", () => {
    const files = ["files/safetensors/native.safetensors", "files/safetensors/converted.safetensors", "files/safetensors/unaligned.safetensors"].map(readFixture);
    fuzz(files, (b) => loadSafetensors(b), 300);
  });
});
