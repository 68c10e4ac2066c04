/**
 * The .npy format (NumPy's NEP 1): magic, version, a Python-literal header dict, raw data.
 * Writing matches np.save byte for byte (format 1.0, header padded to a multiple of 64 bytes).
 * Reading accepts versions 1.0-3.0, little- and big-endian, C and Fortran order, for symtensor's dtypes.
 */
import { allocate, DTYPES, type DType, dtypeInfo, type TypedArray } from "../ir/dtype.js";
import { FormatError } from "../ir/errors.js";
import { sizeOf } from "../ir/shape.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function encodeNpy(data: TypedArray, shape: readonly number[], dtype: DType): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${dtypeInfo(dtype).npyDescr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const prefix = MAGIC.length + 2 + 2;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  header = header.padEnd(total - prefix - 1, " ") + "\n";
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(total + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  // TypedArrays use the platform's byte order; every platform Node and browsers run on is little-endian.
  out.set(body, total);
  return out;
}

export interface DecodedNpy {
  data: TypedArray;
  shape: number[];
  dtype: DType;
}

export function decodeNpy(bytes: Uint8Array): DecodedNpy {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`.npy: expected a Uint8Array of file bytes`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new FormatError(".npy: missing the \\x93NUMPY magic string; this is not a .npy file");
  const major = bytes[6]!;
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = bytes[8]! | (bytes[9]! << 8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new FormatError(".npy: truncated header");
    headerLen = (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 2 ** 24;
    start = 12;
  } else {
    throw new FormatError(`.npy: unsupported format version ${major}.${bytes[7]}`);
  }
  if (start + headerLen > bytes.length) throw new FormatError(".npy: header is longer than the file");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new FormatError(`.npy: header is not a dict with 'descr', 'fortran_order' and 'shape': ${header.trim()}`);
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    if (!/^\d+$/.test(s)) throw new FormatError(`.npy: bad shape entry ${JSON.stringify(s)}`);
    return Number(s);
  });
  const endian = descr[0];
  const code = descr.slice(1);
  const dtype = DTYPES.find((d) => dtypeInfo(d).npyDescr.slice(1) === code);
  if (!dtype || (endian !== "<" && endian !== ">" && endian !== "|" && endian !== "=")) {
    throw new FormatError(`.npy: unsupported dtype descriptor '${descr}' (supported: ${DTYPES.map((d) => dtypeInfo(d).npyDescr).join(", ")})`);
  }
  const info = dtypeInfo(dtype);
  const n = sizeOf(shape);
  const dataStart = start + headerLen;
  if (bytes.length - dataStart < n * info.itemsize) {
    throw new FormatError(`.npy: data is truncated: shape [${shape.join(",")}] needs ${n * info.itemsize} bytes, the file has ${bytes.length - dataStart}`);
  }
  const raw = bytes.slice(dataStart, dataStart + n * info.itemsize);
  if (endian === ">" && info.itemsize > 1) {
    for (let i = 0; i < raw.length; i += info.itemsize) raw.subarray(i, i + info.itemsize).reverse();
  }
  let data = new info.array(n);
  new Uint8Array(data.buffer).set(raw);
  if (fortran === "True" && shape.length > 1) data = fortranToC(data, shape, dtype);
  if (dtype === "bool") for (let i = 0; i < data.length; i++) data[i] = data[i] ? 1 : 0;
  return { data, shape, dtype };
}

function fortranToC(src: TypedArray, shape: readonly number[], dtype: DType): TypedArray {
  const out = allocate(dtype, src.length);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let c = 0; c < src.length; c++) {
    let f = 0;
    let stride = 1;
    for (let d = 0; d < rank; d++) {
      f += idx[d]! * stride;
      stride *= shape[d]!;
    }
    out[c] = src[f]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}
