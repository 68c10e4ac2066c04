/**
 * The .npy format (NumPy's NEP 1): magic, version, a Python-literal header dict, raw data.
 * Writing matches np.save byte for byte (format 1.0, C order, little-endian, header padded to a
 * multiple of 64 bytes with the same spare room np.save leaves for growing the first axis).
 * Reading accepts versions 1.0-3.0, little- and big-endian, C and Fortran order, for symtensor's
 * dtypes (decodeNpy, strict), or also NumPy's float16 and 8/16/32/64-bit integers, converted exactly
 * to float32/int32 (decodeNpyConverting). Object arrays are pickles: they are refused, never parsed.
 */
import { allocate, DTYPES, type DType, dtypeInfo, MAX_ELEMENTS, type TypedArray } from "../ir/dtype.js";
import { FormatError } from "../ir/errors.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
/** np.save pads the header so the first axis can grow to this many digits in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

export function encodeNpy(data: TypedArray, shape: readonly number[], dtype: DType): Uint8Array {
  let header = `{'descr': '${dtypeInfo(dtype).npyDescr}', 'fortran_order': False, 'shape': ${pythonTuple(shape)}, }`;
  if (shape.length > 0) header += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // Version 1.0 stores the header length in 2 bytes; longer headers need 2.0 (4 bytes), as in np.save.
  let version = 1;
  let lengthBytes = 2;
  let padded = paddedLength(header.length, lengthBytes);
  if (padded > 0xffff) {
    version = 2;
    lengthBytes = 4;
    padded = paddedLength(header.length, lengthBytes);
  }
  const start = MAGIC.length + 2 + lengthBytes;
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(start + padded + body.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  for (let i = 0; i < lengthBytes; i++) out[8 + i] = Math.floor(padded / 2 ** (8 * i)) & 0xff;
  for (let i = 0; i < header.length; i++) out[start + i] = header.charCodeAt(i);
  out.fill(0x20, start + header.length, start + padded - 1);
  out[start + padded - 1] = 0x0a;
  // TypedArrays use the platform's byte order; every platform Node and browsers run on is little-endian.
  out.set(body, start + padded);
  return out;
}

/** The header length after padding: NumPy always adds 1..64 bytes (spaces, then "\n") to reach the alignment. */
function paddedLength(headerLength: number, lengthBytes: number): number {
  const withNewline = headerLength + 1;
  const pad = ALIGN - ((MAGIC.length + 2 + lengthBytes + withNewline) % ALIGN);
  return withNewline + pad;
}

function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

export interface DecodedNpy {
  data: TypedArray;
  shape: number[];
  dtype: DType;
}

/** The layout facts of an .npy file, before its data is read. */
interface NpyLayout {
  descr: PyValue;
  fortranOrder: boolean;
  shape: number[];
  /** Offset of the first data byte. */
  dataStart: number;
}

function readLayout(bytes: Uint8Array, label: string): NpyLayout {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`${label}: expected a Uint8Array of file bytes`);
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new FormatError(`${label}: missing the \\x93NUMPY magic string; this is not a .npy file`);
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    throw new FormatError(`${label}: unsupported format version ${major}.${minor} (symtensor reads 1.0, 2.0 and 3.0)`);
  }
  const lengthBytes = major === 1 ? 2 : 4;
  const start = 8 + lengthBytes;
  if (bytes.length < start) throw new FormatError(`${label}: truncated header: the file has ${bytes.length} bytes`);
  let headerLength = 0;
  for (let i = 0; i < lengthBytes; i++) headerLength += bytes[8 + i]! * 2 ** (8 * i);
  if (start + headerLength > bytes.length) {
    throw new FormatError(`${label}: truncated header: it declares ${headerLength} bytes but the file has ${bytes.length - start} after the length field`);
  }
  const headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, start + headerLength));
  return { ...parseHeader(headerText, label), dataStart: start + headerLength };
}

/** The element count of `shape`, refusing counts no buffer can hold (a corrupt header must not allocate wildly). */
function elementCount(shape: readonly number[], label: string): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n) || n > MAX_ELEMENTS) {
    throw new FormatError(`${label}: shape (${shape.join(", ")}) has more elements than one buffer can hold (${MAX_ELEMENTS})`);
  }
  return n;
}

/**
 * Reads an .npy file of one of symtensor's own dtypes (the strict reader behind NDArray.fromNpy):
 * any other element type is refused, never converted.
 */
export function decodeNpy(bytes: Uint8Array): DecodedNpy {
  const label = ".npy";
  const layout = readLayout(bytes, label);
  const { dtype, bigEndian } = parseDescr(layout.descr);
  const data = readElements(bytes, layout, dtype, !bigEndian, label);
  return { data, shape: layout.shape, dtype };
}

/** What a converting reader did to the file's element type. */
export interface ReadInfo {
  /** The element type as the file names it: an .npy descriptor ("<f2", ">i4") or a safetensors dtype ("BF16"). */
  readonly sourceDtype: string;
  /** The symtensor dtype the values were read into. */
  readonly dtype: DType;
  /**
   * `null` when the file holds a symtensor dtype; otherwise the conversion made, such as
   * "float16->float32" or "uint32->int32". Every conversion is exact (values that would not
   * survive one are refused).
   */
  readonly converted: string | null;
}

export interface DecodedNpyWithInfo extends DecodedNpy {
  info: ReadInfo;
}

/**
 * Reads an .npy file, converting element types symtensor does not have (see SourceKind):
 * float16 to float32, int8/int16/uint16 to int32, and uint32/int64/uint64 to int32 when every
 * value fits (refused otherwise). `label` prefixes error messages (e.g. the member of an .npz).
 */
export function decodeNpyConverting(bytes: Uint8Array, label = ".npy"): DecodedNpyWithInfo {
  const layout = readLayout(bytes, label);
  const { kind, bigEndian } = parseConvertibleDescr(layout.descr, label);
  const data = readElements(bytes, layout, kind, !bigEndian, label);
  const dtype = targetDType(kind);
  return { data, shape: layout.shape, dtype, info: { sourceDtype: layout.descr as string, dtype, converted: kind === dtype ? null : `${kind}->${dtype}` } };
}

function readElements(bytes: Uint8Array, layout: NpyLayout, kind: SourceKind, littleEndian: boolean, label: string): TypedArray {
  const { shape, fortranOrder, dataStart } = layout;
  const n = elementCount(shape, label);
  const itemsize = sourceItemsize(kind);
  const available = bytes.length - dataStart;
  if (available < n * itemsize) {
    throw new FormatError(`${label}: data is truncated: shape (${shape.join(", ")}) of ${kind} needs ${n * itemsize} bytes, the file has ${available}`);
  }
  let data = decodeElements(bytes, dataStart, n, kind, littleEndian, label);
  if (fortranOrder && shape.length > 1) data = fortranToC(data, shape);
  return data;
}

interface NpyHeader {
  descr: PyValue;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string, label: string): NpyHeader {
  let value: PyValue;
  try {
    value = parsePyLiteral(text);
  } catch (e) {
    const why = e instanceof FormatError ? e.summary : String(e);
    throw new FormatError(`${label}: header is not a Python literal (${why}): ${JSON.stringify(text.trim())}`);
  }
  if (!(value instanceof Map)) throw new FormatError(`${label}: header is not a dict: ${JSON.stringify(text.trim())}`);
  const keys = [...value.keys()].sort();
  if (keys.join(",") !== "descr,fortran_order,shape") {
    throw new FormatError(`${label}: header must have exactly the keys 'descr', 'fortran_order' and 'shape', got ${keys.map((k) => `'${k}'`).join(", ")}`);
  }
  const fortran = value.get("fortran_order");
  if (typeof fortran !== "boolean") throw new FormatError(`${label}: 'fortran_order' must be True or False, got ${formatPy(fortran)}`);
  const shape = value.get("shape");
  if (!(shape instanceof PyTuple) || !shape.items.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(`${label}: 'shape' must be a tuple of non-negative integers, got ${formatPy(shape)}`);
  }
  return { descr: value.get("descr")!, fortranOrder: fortran, shape: shape.items as number[] };
}

/** Element types the converting readers accept: symtensor's dtypes and those they convert exactly. */
export type SourceKind = DType | "float16" | "bfloat16" | "int8" | "int16" | "uint16" | "uint32" | "int64" | "uint64";

const SOURCE_ITEMSIZE: Record<SourceKind, number> = {
  bool: 1, uint8: 1, int32: 4, float32: 4, float64: 8,
  float16: 2, bfloat16: 2, int8: 1, int16: 2, uint16: 2, uint32: 4, int64: 8, uint64: 8,
};

export function sourceItemsize(kind: SourceKind): number {
  return SOURCE_ITEMSIZE[kind];
}

/** The symtensor dtype a source type is read into: floats widen to float32, integers to int32. */
export function targetDType(kind: SourceKind): DType {
  if ((DTYPES as readonly string[]).includes(kind)) return kind as DType;
  return kind === "float16" || kind === "bfloat16" ? "float32" : "int32";
}

/** .npy type codes (the descriptor without its byte-order character). bfloat16 has none in NumPy. */
const NPY_CODES = new Map<string, SourceKind>([
  ["b1", "bool"], ["u1", "uint8"], ["i4", "int32"], ["f4", "float32"], ["f8", "float64"],
  ["f2", "float16"], ["i1", "int8"], ["i2", "int16"], ["u2", "uint16"], ["u4", "uint32"], ["i8", "int64"], ["u8", "uint64"],
]);

const STRICT_SUPPORTED = DTYPES.map((d) => `'${dtypeInfo(d).npyDescr}' (${d})`).join(", ");
const CONVERTED_SUPPORTED =
  `${STRICT_SUPPORTED}; and converts '<f2' (float16 -> float32), '|i1', '<i2', '<u2' (int8, int16, uint16 -> int32), ` +
  "'<u4', '<i8', '<u8' (uint32, int64, uint64 -> int32 when every value fits)";

function parseDescr(descr: PyValue): { dtype: DType; bigEndian: boolean } {
  const { kind, bigEndian } = parseAnyDescr(descr, ".npy", STRICT_SUPPORTED, (k) => (DTYPES as readonly string[]).includes(k));
  return { dtype: kind as DType, bigEndian };
}

function parseConvertibleDescr(descr: PyValue, label: string): { kind: SourceKind; bigEndian: boolean } {
  return parseAnyDescr(descr, label, CONVERTED_SUPPORTED, () => true);
}

function parseAnyDescr(descr: PyValue, label: string, supported: string, accept: (k: SourceKind) => boolean): { kind: SourceKind; bigEndian: boolean } {
  if (typeof descr !== "string") {
    throw new FormatError(`${label}: unsupported dtype descriptor ${formatPy(descr)} (a structured dtype); symtensor reads ${supported}, in either byte order`);
  }
  if (descr.length >= 2 && descr[1] === "O") {
    throw new FormatError(`${label}: unsupported dtype descriptor '${descr}': object arrays are stored as Python pickles, which symtensor never loads; symtensor reads ${supported}`);
  }
  const order = descr[0];
  const kind = NPY_CODES.get(descr.slice(1));
  const known = kind !== undefined && accept(kind);
  const oneByte = known && SOURCE_ITEMSIZE[kind] === 1;
  const orderOk = order === "<" || order === ">" || order === "=" || (order === "|" && oneByte);
  if (!known || !orderOk) {
    throw new FormatError(`${label}: unsupported dtype descriptor '${descr}'; symtensor reads ${supported}, in either byte order`);
  }
  return { kind, bigEndian: order === ">" };
}

/**
 * Reads `n` elements of `kind` starting at `bytes[start]` into a new array of the target dtype
 * (see targetDType). The caller has checked that the bytes are there. Integers that symtensor
 * cannot hold exactly (uint32, int64, uint64 beyond int32) throw FormatError naming `label`.
 */
export function decodeElements(bytes: Uint8Array, start: number, n: number, kind: SourceKind, littleEndian: boolean, label: string): TypedArray {
  const itemsize = SOURCE_ITEMSIZE[kind];
  const target = targetDType(kind);
  if (target === kind) {
    const data = allocate(target, n);
    // Copy first, then swap in the copy: the caller's bytes (possibly a Node Buffer, whose slice()
    // is a view) are never written to.
    const raw = new Uint8Array(data.buffer);
    raw.set(bytes.subarray(start, start + raw.length));
    if (!littleEndian && itemsize > 1) {
      for (let i = 0; i < raw.length; i += itemsize) raw.subarray(i, i + itemsize).reverse();
    }
    // NumPy and safetensors readers take any nonzero byte as True; symtensor stores exactly 0 or 1.
    if (kind === "bool") for (let i = 0; i < n; i++) data[i] = data[i] ? 1 : 0;
    return data;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, n * itemsize);
  const le = littleEndian;
  if (kind === "float16") {
    const out = new Float32Array(n);
    const table = halfTable();
    for (let i = 0; i < n; i++) out[i] = table[view.getUint16(2 * i, le)]!;
    return out;
  }
  if (kind === "bfloat16") {
    // bfloat16 is the top half of a float32: shift its bits into place.
    const out = new Float32Array(n);
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, le) << 16;
    return out;
  }
  const out = new Int32Array(n);
  switch (kind) {
    case "int8":
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    case "int16":
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, le);
      break;
    case "uint16":
      for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, le);
      break;
    case "uint32":
      for (let i = 0; i < n; i++) {
        const v = view.getUint32(4 * i, le);
        if (v > 0x7fffffff) throw tooWide(label, kind, String(v), i);
        out[i] = v;
      }
      break;
    default: {
      // int64 / uint64, read as two 32-bit halves (no BigInt per element).
      const signed = kind === "int64";
      for (let i = 0; i < n; i++) {
        const lo = view.getUint32(8 * i + (le ? 0 : 4), le);
        const hi = view.getInt32(8 * i + (le ? 4 : 0), le);
        const fits = (hi === 0 && lo <= 0x7fffffff) || (signed && hi === -1 && lo > 0x7fffffff);
        if (!fits) {
          const big = signed ? (BigInt(hi) << 32n) | BigInt(lo) : (BigInt(hi >>> 0) << 32n) | BigInt(lo);
          throw tooWide(label, kind, big.toString(), i);
        }
        out[i] = lo | 0;
      }
    }
  }
  return out;
}

function tooWide(label: string, kind: SourceKind, value: string, index: number): FormatError {
  return new FormatError(
    `${label}: ${kind} value ${value} (flat index ${index}) does not fit in int32; symtensor has no ${kind} dtype and reads ${kind} data only when every value fits int32. Convert it before saving (e.g. a.astype(np.float64) or a.astype(np.int32) in NumPy)`,
  );
}

let HALF_TABLE: Float32Array | undefined;

/** Every float16 bit pattern's value (256 KiB, built on first use): one lookup per element. */
function halfTable(): Float32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  HALF_TABLE = t;
  return t;
}

function fortranToC(src: TypedArray, shape: readonly number[]): TypedArray {
  const out = new (src.constructor as new (n: number) => TypedArray)(src.length);
  const rank = shape.length;
  // Fortran strides (first axis fastest), walked in C order with an odometer.
  const fStrides = new Array<number>(rank);
  let acc = 1;
  for (let d = 0; d < rank; d++) {
    fStrides[d] = acc;
    acc *= shape[d]!;
  }
  const idx = new Array<number>(rank).fill(0);
  let f = 0;
  for (let c = 0; c < src.length; c++) {
    out[c] = src[f]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) {
        f += fStrides[d]!;
        break;
      }
      f -= (shape[d]! - 1) * fStrides[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A parser for the Python literals an .npy header holds: dicts, tuples, lists, strings, ints,
// True/False/None. Nothing else is evaluated.

type PyValue = string | number | boolean | null | PyTuple | PyValue[] | Map<string, PyValue>;

class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

function formatPy(v: PyValue | undefined): string {
  if (v === undefined) return "nothing";
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return `'${v}'`;
  if (typeof v === "number") return String(v);
  if (v instanceof PyTuple) return v.items.length === 1 ? `(${formatPy(v.items[0])},)` : `(${v.items.map(formatPy).join(", ")})`;
  if (Array.isArray(v)) return `[${v.map(formatPy).join(", ")}]`;
  return `{${[...v].map(([k, x]) => `'${k}': ${formatPy(x)}`).join(", ")}}`;
}

function parsePyLiteral(text: string): PyValue {
  let pos = 0;
  const fail = (what: string): never => {
    throw new FormatError(`${what} at offset ${pos}`);
  };
  const skip = (): void => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const value = (depth: number): PyValue => {
    if (depth > 32) fail("nesting too deep");
    skip();
    const ch = text[pos];
    if (ch === "{" || ch === "(" || ch === "[") return container(ch, depth);
    if (ch === "'" || ch === '"') return str(ch);
    const word = /^(True|False|None|[+-]?\d+)/.exec(text.slice(pos, pos + 40));
    if (!word) return fail(`unexpected ${ch === undefined ? "end" : JSON.stringify(ch)}`);
    pos += word[0].length;
    if (word[0] === "True") return true;
    if (word[0] === "False") return false;
    if (word[0] === "None") return null;
    if (/^[0-9a-zA-Z_.]/.test(text[pos] ?? "")) fail("unsupported number");
    return Number(word[0]);
  };
  const str = (quote: string): string => {
    const end = text.indexOf(quote, pos + 1);
    if (end < 0) fail("unterminated string");
    const s = text.slice(pos + 1, end);
    if (s.includes("\\")) fail("escapes in strings are not supported");
    pos = end + 1;
    return s;
  };
  const container = (open: string, depth: number): PyValue => {
    const close = open === "{" ? "}" : open === "(" ? ")" : "]";
    pos++;
    const items: PyValue[] = [];
    const dict = new Map<string, PyValue>();
    let sawComma = false;
    for (;;) {
      skip();
      if (text[pos] === close) {
        pos++;
        break;
      }
      if (open === "{") {
        const key = value(depth + 1);
        if (typeof key !== "string") fail("dict keys must be strings");
        skip();
        if (text[pos] !== ":") fail("expected ':'");
        pos++;
        dict.set(key as string, value(depth + 1));
      } else items.push(value(depth + 1));
      skip();
      if (text[pos] === ",") {
        pos++;
        sawComma = true;
      } else if (text[pos] !== close) fail(`expected ',' or '${close}'`);
    }
    if (open === "{") return dict;
    if (open === "[") return items;
    // (x) is just x in Python; (x,) is a tuple.
    return items.length === 1 && !sawComma ? items[0]! : new PyTuple(items);
  };
  const result = value(0);
  skip();
  if (pos !== text.length) fail("unexpected text after the literal");
  return result;
}
