/**
 * Loading and saving tensors in NumPy's .npy/.npz and in safetensors. The byte formats live in
 * src/interop (NDArray level); these functions convert between files and Tensors. A path argument
 * needs Node's fs, reached through `process.getBuiltinModule` so that the library bundle stays
 * browser-safe; bytes (Uint8Array, ArrayBuffer) work everywhere.
 */
import { ValueError } from "../ir/errors.js";
import { NDArray } from "../interop/ndarray.js";
import { type NpzWriteOptions, type ReadInfo, readNpy, readNpz, writeNpz } from "../interop/npz.js";
import { readSafetensors, writeSafetensors } from "../interop/safetensors.js";
import { asarray } from "./asarray.js";
import { fromBuffer, type TensorData } from "./create.js";
import { Tensor } from "./tensor.js";

export type { ReadInfo, NpzWriteOptions };

/** A file path (Node only) or the file's bytes. */
export type FileSource = string | Uint8Array | ArrayBuffer;

/** Anything that can be saved: a Tensor, an NDArray, or data `tensor()` accepts (JS numbers become float32). */
export type Saveable = Tensor | NDArray | TensorData;

interface NodeFs {
  readFileSync(path: string): Uint8Array;
  writeFileSync(path: string, data: Uint8Array): void;
}

function nodeFs(where: string): NodeFs {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.("node:fs") as NodeFs | undefined;
  if (!fs) {
    throw new ValueError(`${where}: a file path needs Node.js (20.16 or newer) to read or write files; elsewhere, pass the file's bytes (a Uint8Array or ArrayBuffer) instead`);
  }
  return fs;
}

function readSource(src: FileSource, where: string): Uint8Array {
  if (typeof src === "string") {
    const bytes = nodeFs(where).readFileSync(src);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  if (src instanceof Uint8Array) return src;
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  throw new ValueError(`${where}: expected a file path, a Uint8Array or an ArrayBuffer, got ${src === null ? "null" : typeof src}`);
}

function writeTarget(path: unknown, bytes: Uint8Array, where: string): void {
  if (typeof path !== "string") throw new ValueError(`${where}: the path must be a string, got ${path === null ? "null" : typeof path}`);
  nodeFs(where).writeFileSync(path, bytes);
}

function toNDArray(x: Saveable): NDArray {
  if (x instanceof NDArray) return x;
  if (x instanceof Tensor) return x.numpy();
  return asarray(x);
}

function toRecord(arrays: unknown, where: string): Record<string, Saveable> {
  if (typeof arrays !== "object" || arrays === null || Array.isArray(arrays) || arrays instanceof Tensor || arrays instanceof NDArray || ArrayBuffer.isView(arrays)) {
    throw new ValueError(`${where}: expected an object mapping names to arrays`);
  }
  return arrays as Record<string, Saveable>;
}

/** The NDArray's data as a tensor, without a second copy (the array was just read and is not shared). */
const toTensor = (a: NDArray): Tensor => fromBuffer(a.data, a.shape, a.dtype);

function mapRecord<A, B>(r: Record<string, A>, f: (a: A) => B): Record<string, B> {
  const out = Object.create(null) as Record<string, B>;
  for (const k of Object.keys(r)) out[k] = f(r[k]!);
  return out;
}

// ---------------------------------------------------------------------------------------------
// .npy

/**
 * Reads an .npy file (path or bytes) into a tensor. float16 becomes float32; int8, int16 and
 * uint16 become int32; uint32, int64 and uint64 become int32 when every value fits (else FormatError).
 */
export function loadNpy(src: FileSource): Tensor {
  return toTensor(readNpy(readSource(src, "loadNpy")).array);
}

/** Like loadNpy, and also reports the file's element type and any conversion made (`info.converted`). */
export function loadNpyWithInfo(src: FileSource): { tensor: Tensor; info: ReadInfo } {
  const { array, info } = readNpy(readSource(src, "loadNpyWithInfo"));
  return { tensor: toTensor(array), info };
}

/** Reads an .npy file into a host NDArray (same conversions as loadNpy), with the conversion report. */
export function loadNpyArray(src: FileSource): { array: NDArray; info: ReadInfo } {
  return readNpy(readSource(src, "loadNpyArray"));
}

/** The .npy bytes of `x`: byte-identical to what np.save writes for the same array. */
export function toNpyBytes(x: Saveable): Uint8Array {
  return toNDArray(x).toNpy();
}

/** Writes `x` to `path` as .npy (Node only). */
export function saveNpy(path: string, x: Saveable): void {
  const bytes = toNpyBytes(x);
  writeTarget(path, bytes, "saveNpy");
}

// ---------------------------------------------------------------------------------------------
// .npz

/** Reads an .npz archive (np.savez or np.savez_compressed) into named tensors, with loadNpy's conversions. */
export function loadNpz(src: FileSource): Record<string, Tensor> {
  return mapRecord(readNpz(readSource(src, "loadNpz")).arrays, toTensor);
}

/** Like loadNpz, and also reports each member's element type and conversion. */
export function loadNpzWithInfo(src: FileSource): { tensors: Record<string, Tensor>; info: Record<string, ReadInfo> } {
  const { arrays, info } = readNpz(readSource(src, "loadNpzWithInfo"));
  return { tensors: mapRecord(arrays, toTensor), info };
}

/**
 * The .npz bytes of named arrays (a list is named arr_0, arr_1, ... as np.savez does); members are
 * stored, or deflated with `{ compress: true }` as np.savez_compressed.
 */
export function toNpzBytes(arrays: Readonly<Record<string, Saveable>> | readonly Saveable[], options: NpzWriteOptions = {}): Uint8Array {
  if (Array.isArray(arrays)) return writeNpz((arrays as readonly Saveable[]).map(toNDArray), options);
  return writeNpz(mapRecord(toRecord(arrays, "saveNpz"), toNDArray), options);
}

/** Writes named arrays to `path` as .npz (Node only); see toNpzBytes. */
export function saveNpz(path: string, arrays: Readonly<Record<string, Saveable>> | readonly Saveable[], options: NpzWriteOptions = {}): void {
  const bytes = toNpzBytes(arrays, options);
  writeTarget(path, bytes, "saveNpz");
}

// ---------------------------------------------------------------------------------------------
// safetensors

/**
 * Reads a safetensors file into named tensors: F32, F64, I32, U8, BOOL as they are; F16 and BF16
 * as float32; I8, I16, U16 as int32; U32, I64, U64 as int32 when every value fits (else FormatError).
 */
export function loadSafetensors(src: FileSource): Record<string, Tensor> {
  return mapRecord(readSafetensors(readSource(src, "loadSafetensors")).arrays, toTensor);
}

/** Like loadSafetensors, and also returns the `__metadata__` map and each tensor's source dtype and conversion. */
export function loadSafetensorsWithInfo(src: FileSource): { tensors: Record<string, Tensor>; metadata: Record<string, string>; info: Record<string, ReadInfo> } {
  const { arrays, metadata, info } = readSafetensors(readSource(src, "loadSafetensorsWithInfo"));
  return { tensors: mapRecord(arrays, toTensor), metadata, info };
}

/** The safetensors bytes of named arrays, with optional string metadata (`__metadata__`). */
export function toSafetensorsBytes(arrays: Readonly<Record<string, Saveable>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  return writeSafetensors(mapRecord(toRecord(arrays, "saveSafetensors"), toNDArray), metadata);
}

/** Writes named arrays to `path` as safetensors (Node only), with optional string metadata. */
export function saveSafetensors(path: string, arrays: Readonly<Record<string, Saveable>>, metadata?: Readonly<Record<string, string>>): void {
  const bytes = toSafetensorsBytes(arrays, metadata);
  writeTarget(path, bytes, "saveSafetensors");
}
