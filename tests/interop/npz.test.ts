/** .npz: NumPy's np.savez / np.savez_compressed files, symtensor's files read by NumPy, zip validation. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadNpz, loadNpzWithInfo, NDArray, saveNpz, tensor, toNpzBytes, ValueError } from "../../src/index.js";
import { readZip, writeZip } from "../../src/interop/zip.js";
import { expectArrayClose } from "../helpers/fixtures.js";
import { b64, bytesEqual, expectError, expectFormatError, expectSameArray, fileCases, fixturePath, fuzz, ndarrayArb, readFixture, recordArb } from "./files-helpers.js";

const TMP = mkdtempSync(join(tmpdir(), "symtensor-npz-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe("loadNpz reads NumPy's archives (files from gen_files.py)", () => {
  const cases = fileCases("npz");
  it("has np.savez, np.savez_compressed, positional names, an empty archive and a plain zipfile", () => expect(cases.length).toBe(5));
  for (const c of cases) {
    it(`${c.name} (${c.file})`, () => {
      const expected = c.expected as Record<string, NDArray>;
      const { tensors, info } = loadNpzWithInfo(fixturePath(c.file));
      expect(Object.keys(tensors)).toEqual(Object.keys(expected));
      for (const [name, e] of Object.entries(expected)) {
        expectArrayClose(tensors[name]!, e, {}, name);
        expect(info[name]!.converted, name).toBe((c.converted as Record<string, string | null>)[name]);
      }
      const fromBytes = loadNpz(readFixture(c.file));
      for (const [name, e] of Object.entries(expected)) expectArrayClose(fromBytes[name]!, e, {}, name);
    });
  }
});

describe("NumPy reads the .npz files symtensor writes (tests/fixtures/files/from-symtensor)", () => {
  const cases = fileCases("from-symtensor").filter((c) => c.kind === "npz");
  it("has stored, compressed, positional and empty archives", () => expect(cases.map((c) => c.file.split("/").pop()).sort()).toEqual(["compressed.npz", "empty.npz", "positional.npz", "stored.npz"]));
  for (const c of cases) {
    it(c.file, () => {
      const seen = c.expected as Record<string, NDArray>;
      const file = readFixture(c.file);
      const mine = loadNpz(file);
      expect(Object.keys(mine)).toEqual(Object.keys(seen));
      for (const [name, a] of Object.entries(seen)) expectSameArray(mine[name]!.numpy(), a, name);
      // Zip metadata may differ from NumPy's; the members must be exactly np.save's bytes.
      const members = readZip(file);
      expect(members.map((m) => m.name)).toEqual(Object.keys(seen).map((k) => `${k}.npy`));
      for (const m of members) expect(bytesEqual(m.data, b64(c.npy_bytes![m.name.slice(0, -4)]!)), m.name).toBe(true);
      // And writing what NumPy read gives the committed file again (the writer is deterministic).
      const again = c.file.endsWith("positional.npz") ? toNpzBytes(Object.values(seen)) : toNpzBytes(seen, { compress: c.file.endsWith("compressed.npz") });
      expect(bytesEqual(again, file)).toBe(true);
    });
  }
});

describe("saveNpz", () => {
  it("names a list arr_0, arr_1, ... and keeps a record's order", () => {
    const p = join(TMP, "a.npz");
    saveNpz(p, [tensor([1, 2]), [[true]], new NDArray(new Int32Array([5]), [], "int32")]);
    const r = loadNpz(p);
    expect(Object.keys(r)).toEqual(["arr_0", "arr_1", "arr_2"]);
    expect(r["arr_1"]!.dtype).toBe("bool");
    expect(r["arr_2"]!.item()).toBe(5);
    saveNpz(p, { z: 1, a: 2, "x/y": 3 });
    expect(Object.keys(loadNpz(p))).toEqual(["z", "a", "x/y"]);
  });
  it("stores (method 0) by default and deflates (method 8) with compress: true", () => {
    const big = { zeros: new NDArray(new Float64Array(4096), [4096], "float64") };
    const stored = toNpzBytes(big);
    const deflated = toNpzBytes(big, { compress: true });
    expect(deflated.length).toBeLessThan(stored.length / 10);
    const method = (z: Uint8Array): number => z[8]! | (z[9]! << 8);
    expect(method(stored)).toBe(0);
    expect(method(deflated)).toBe(8);
    expectSameArray(loadNpz(deflated)["zeros"]!.numpy(), big.zeros);
  });
  it("a non-ASCII name is written with the UTF-8 flag and read back", () => {
    const z = toNpzBytes({ "größe": [1] });
    expect(Object.keys(loadNpz(z))).toEqual(["größe"]);
    expect((z[6]! | (z[7]! << 8)) & 0x800).toBe(0x800);
  });
  it("bad arguments throw ValueError", () => {
    expectError(ValueError, "ST404", () => toNpzBytes({ "": [1] }), "non-empty");
    expectError(ValueError, "ST404", () => toNpzBytes(tensor([1]) as unknown as Record<string, never>), "saveNpz", "object mapping names");
    expectError(ValueError, "ST404", () => saveNpz(3 as unknown as string, {}), "saveNpz", "path");
  });
});

describe("malformed .npz input throws FormatError (ST501)", () => {
  const good = toNpzBytes({ a: tensor([1, 2, 3]), b: tensor([[1.5]]) });
  const deflated = toNpzBytes({ a: tensor([1, 2, 3]) }, { compress: true });
  it("not a zip, empty, truncated", () => {
    expectFormatError(() => loadNpz(new Uint8Array(0)), "not a zip");
    expectFormatError(() => loadNpz(readFixture("npy/f4_5.npy")), "not a zip");
    expectFormatError(() => loadNpz(good.slice(0, good.length - 5)), ".npz");
    expectFormatError(() => loadNpz(good.slice(40)), ".npz");
  });
  it("a member that is not .npy, or appears twice", () => {
    expectFormatError(() => loadNpz(writeZip([{ name: "notes.txt", data: new Uint8Array([1]) }])), "'notes.txt'", "not an .npy");
    const npy = tensor([1]).numpy().toNpy();
    expectFormatError(() => loadNpz(writeZip([{ name: "a.npy", data: npy }, { name: "a.npy", data: npy }])), "'a.npy' appears twice");
  });
  it("a corrupt member: CRC mismatch, bad deflate data, bad .npy bytes", () => {
    const bad = good.slice();
    bad[100] = bad[100]! ^ 0xff; // inside member a's data
    expectFormatError(() => loadNpz(bad), "CRC-32");
    const badDeflate = deflated.slice();
    for (let i = 40; i < 50; i++) badDeflate[i] = 0xff;
    expectFormatError(() => loadNpz(badDeflate), "member 'a.npy'");
    expectFormatError(() => loadNpz(writeZip([{ name: "a.npy", data: new Uint8Array([1, 2, 3]) }])), "member 'a.npy'", "magic");
  });
  it("encryption and unknown compression methods are refused", () => {
    // The central directory's offset is in the end record, 16 bytes in.
    const dirAt = new DataView(good.buffer).getUint32(good.length - 22 + 16, true);
    const enc = good.slice();
    enc[dirAt + 8] = 1;
    expectFormatError(() => loadNpz(enc), "encrypted");
    const method = good.slice();
    method[dirAt + 10] = 12; // bzip2
    expectFormatError(() => loadNpz(method), "compression method 12");
  });
  it("a directory claiming impossible entry counts or sizes", () => {
    const count = good.slice();
    count[good.length - 22 + 10] = 0xf0;
    expectFormatError(() => loadNpz(count), "claims");
  });
  it("reading never writes to the input", () => {
    const copy = good.slice();
    loadNpz(good);
    expect(bytesEqual(copy, good)).toBe(true);
    expect(readFileSync(fixturePath("files/npz/savez.npz")).length).toBeGreaterThan(0);
  });
});

describe("properties", () => {
  it("loadNpz(toNpzBytes(r)) gives back r, stored and deflated, for every dtype", () => {
    fc.assert(
      fc.property(recordArb, fc.boolean(), (r, compress) => {
        const back = loadNpz(toNpzBytes(r, { compress }));
        expect(Object.keys(back)).toEqual(Object.keys(r));
        for (const [k, a] of Object.entries(r)) expectSameArray(back[k]!.numpy(), a, k);
      }),
      { numRuns: 100 },
    );
  });
  it("a list round-trips as arr_0..arr_n", () => {
    fc.assert(
      fc.property(fc.array(ndarrayArb, { maxLength: 4 }), (list) => {
        const back = loadNpz(toNpzBytes(list));
        expect(Object.keys(back)).toEqual(list.map((_, i) => `arr_${i}`));
        list.forEach((a, i) => expectSameArray(back[`arr_${i}`]!.numpy(), a));
      }),
      { numRuns: 50 },
    );
  });
  it("random byte mutations of valid archives only ever throw FormatError", () => {
    const files = [readFixture("files/npz/savez.npz"), readFixture("files/npz/savez_compressed.npz"), toNpzBytes({ a: tensor([[1, 2], [3, 4]]) }, { compress: true })];
    fuzz(files, (b) => loadNpz(b), 300);
  });
});
