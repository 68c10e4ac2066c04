/**
 * Writes tests/fixtures/files/from-symtensor/: .npy, .npz and safetensors files made by symtensor,
 * which tests/fixtures/gen_files.py then reads with NumPy (recording what NumPy saw).
 * Run once after changing a writer: npx tsx scripts/write-interop-fixtures.ts && (cd tests/fixtures && python3 gen_files.py)
 */
import { mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type DType, DTYPES, NDArray, saveNpy, saveNpz, saveSafetensors } from "../src/index.js";

const OUT = fileURLToPath(new URL("../tests/fixtures/files/from-symtensor/", import.meta.url));

/** Deterministic values of `dtype`, with NaN, infinities and -0.0 among the floats. */
function values(dtype: DType, shape: number[], seed: number): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new NDArray(new (dtype === "float64" ? Float64Array : dtype === "float32" ? Float32Array : dtype === "int32" ? Int32Array : Uint8Array)(n), shape, dtype);
  const specials = [NaN, Infinity, -Infinity, -0];
  for (let i = 0; i < n; i++) {
    const r = Math.sin(seed * 7.13 + i * 1.7) * 1e4;
    if (dtype === "bool") a.data[i] = r > 0 ? 1 : 0;
    else if (dtype === "uint8") a.data[i] = Math.abs(Math.round(r)) % 256;
    else if (dtype === "int32") a.data[i] = Math.round(r * 1e5) | 0;
    else a.data[i] = i < specials.length && n > 4 ? specials[i]! : r / 7;
  }
  return a;
}

const SHAPES: number[][] = [[], [0], [5], [2, 3], [0, 3], [2, 1, 3]];
const label = (shape: number[]): string => (shape.length === 0 ? "scalar" : shape.join("x"));

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const record: Record<string, NDArray> = {};
let seed = 1;
for (const dtype of DTYPES) {
  for (const shape of SHAPES) {
    const a = values(dtype, shape, seed++);
    saveNpy(`${OUT}${dtype}_${label(shape)}.npy`, a);
    record[`${dtype}_${label(shape)}`] = a;
  }
}
saveNpz(`${OUT}stored.npz`, record);
saveNpz(`${OUT}compressed.npz`, record, { compress: true });
saveNpz(`${OUT}positional.npz`, [values("float32", [3], 100), values("int32", [2, 2], 101)]);
saveNpz(`${OUT}empty.npz`, {});
saveSafetensors(`${OUT}tensors.safetensors`, record, { format: "np", source: "symtensor" });
saveSafetensors(`${OUT}empty.safetensors`, {});
console.log(`wrote ${OUT}`);
