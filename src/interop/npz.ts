/**
 * NumPy files at the NDArray level: .npy with element-type conversion (the strict reader is
 * NDArray.fromNpy) and .npz archives (a zip of .npy members, stored as np.savez writes them or
 * deflated as np.savez_compressed does).
 */
import { FormatError, ValueError } from "../ir/errors.js";
import { NDArray } from "./ndarray.js";
import { decodeNpyConverting, type ReadInfo } from "./npy.js";
import { readZip, writeZip } from "./zip.js";

export type { ReadInfo } from "./npy.js";

/** An array read from a file, with what was done to its element type. */
export interface ReadResult {
  array: NDArray;
  info: ReadInfo;
}

/**
 * Reads .npy bytes into an NDArray, converting element types symtensor lacks: float16 to float32,
 * int8/int16/uint16 to int32, uint32/int64/uint64 to int32 when every value fits (FormatError
 * otherwise). `info.converted` says which conversion, if any, was made.
 */
export function readNpy(bytes: Uint8Array, label = ".npy"): ReadResult {
  const { data, shape, dtype, info } = decodeNpyConverting(bytes, label);
  return { array: new NDArray(data, shape, dtype), info };
}

export interface NpzContents {
  arrays: Record<string, NDArray>;
  info: Record<string, ReadInfo>;
}

/**
 * Reads an .npz archive: each member `name.npy` becomes the array `name`, as NumPy's `np.load`
 * names them. Directory entries are skipped; any other member is refused (NumPy would hand its
 * raw bytes back, which has no tensor equivalent).
 */
export function readNpz(bytes: Uint8Array): NpzContents {
  const arrays: Record<string, NDArray> = Object.create(null) as Record<string, NDArray>;
  const info: Record<string, ReadInfo> = Object.create(null) as Record<string, ReadInfo>;
  for (const entry of readZip(bytes, ".npz")) {
    if (entry.name.endsWith("/") && entry.data.length === 0) continue;
    if (!entry.name.endsWith(".npy")) {
      throw new FormatError(`.npz: member '${entry.name}' is not an .npy file; an .npz archive holds only name.npy members`);
    }
    const name = entry.name.slice(0, -4);
    const r = readNpy(entry.data, `.npz member '${entry.name}'`);
    arrays[name] = r.array;
    info[name] = r.info;
  }
  return { arrays, info };
}

export interface NpzWriteOptions {
  /** Deflate every member, as np.savez_compressed (default: stored, as np.savez). */
  compress?: boolean;
}

/**
 * An .npz archive of `arrays` (members `name.npy`, in the record's order). A list is named
 * `arr_0`, `arr_1`, ... as NumPy names positional arguments of np.savez.
 */
export function writeNpz(arrays: Readonly<Record<string, NDArray>> | readonly NDArray[], options: NpzWriteOptions = {}): Uint8Array {
  const entries = Array.isArray(arrays)
    ? (arrays as readonly NDArray[]).map((a, i) => [`arr_${i}`, a] as const)
    : Object.entries(arrays as Readonly<Record<string, NDArray>>);
  return writeZip(
    entries.map(([name, a]) => {
      if (name.length === 0) throw new ValueError("saveNpz: array names must be non-empty strings");
      if (!(a instanceof NDArray)) throw new ValueError(`saveNpz: '${name}' is not an array`);
      return { name: `${name}.npy`, data: a.toNpy() };
    }),
    options.compress === undefined ? {} : { compress: options.compress },
  );
}
