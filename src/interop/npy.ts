/**
 * The .npy format (NumPy's NEP 1): magic, version, a Python-literal header dict, raw data.
 * Writing matches np.save byte for byte (format 1.0, C order, little-endian, header padded to a
 * multiple of 64 bytes with the same spare room np.save leaves for growing the first axis).
 * Reading accepts versions 1.0-3.0, little- and big-endian, C and Fortran order, for symtensor's
 * dtypes. Object arrays are pickles: they are refused, never parsed.
 */
import { DTYPES, type DType, dtypeInfo, type TypedArray } from "../ir/dtype.js";
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

export function decodeNpy(bytes: Uint8Array): DecodedNpy {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(".npy: expected a Uint8Array of file bytes");
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new FormatError(".npy: missing the \\x93NUMPY magic string; this is not a .npy file");
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    throw new FormatError(`.npy: unsupported format version ${major}.${minor} (symtensor reads 1.0, 2.0 and 3.0)`);
  }
  const lengthBytes = major === 1 ? 2 : 4;
  const start = 8 + lengthBytes;
  if (bytes.length < start) throw new FormatError(`.npy: truncated header: the file has ${bytes.length} bytes`);
  let headerLength = 0;
  for (let i = 0; i < lengthBytes; i++) headerLength += bytes[8 + i]! * 2 ** (8 * i);
  if (start + headerLength > bytes.length) {
    throw new FormatError(`.npy: truncated header: it declares ${headerLength} bytes but the file has ${bytes.length - start} after the length field`);
  }
  const headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, start + headerLength));
  const { descr, fortranOrder, shape } = parseHeader(headerText);
  const { dtype, bigEndian } = parseDescr(descr);

  const info = dtypeInfo(dtype);
  let n = 1;
  for (const d of shape) n *= d;
  const dataStart = start + headerLength;
  const available = bytes.length - dataStart;
  if (available < n * info.itemsize) {
    throw new FormatError(`.npy: data is truncated: shape (${shape.join(", ")}) of ${dtype} needs ${n * info.itemsize} bytes, the file has ${available}`);
  }
  let data = new info.array(n);
  // Copy first, then swap in the copy: the caller's bytes (possibly a Node Buffer, whose slice()
  // is a view) are never written to.
  const raw = new Uint8Array(data.buffer);
  raw.set(bytes.subarray(dataStart, dataStart + raw.length));
  if (bigEndian && info.itemsize > 1) {
    for (let i = 0; i < raw.length; i += info.itemsize) raw.subarray(i, i + info.itemsize).reverse();
  }
  if (fortranOrder && shape.length > 1) data = fortranToC(data, shape);
  // NumPy reads any nonzero byte as True; symtensor stores bool as exactly 0 or 1.
  if (dtype === "bool") for (let i = 0; i < data.length; i++) data[i] = data[i] ? 1 : 0;
  return { data, shape, dtype };
}

interface NpyHeader {
  descr: PyValue;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string): NpyHeader {
  let value: PyValue;
  try {
    value = parsePyLiteral(text);
  } catch (e) {
    const why = e instanceof FormatError ? e.summary : String(e);
    throw new FormatError(`.npy: header is not a Python literal (${why}): ${JSON.stringify(text.trim())}`);
  }
  if (!(value instanceof Map)) throw new FormatError(`.npy: header is not a dict: ${JSON.stringify(text.trim())}`);
  const keys = [...value.keys()].sort();
  if (keys.join(",") !== "descr,fortran_order,shape") {
    throw new FormatError(`.npy: header must have exactly the keys 'descr', 'fortran_order' and 'shape', got ${keys.map((k) => `'${k}'`).join(", ")}`);
  }
  const fortran = value.get("fortran_order");
  if (typeof fortran !== "boolean") throw new FormatError(`.npy: 'fortran_order' must be True or False, got ${formatPy(fortran)}`);
  const shape = value.get("shape");
  if (!(shape instanceof PyTuple) || !shape.items.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(`.npy: 'shape' must be a tuple of non-negative integers, got ${formatPy(shape)}`);
  }
  return { descr: value.get("descr")!, fortranOrder: fortran, shape: shape.items as number[] };
}

function parseDescr(descr: PyValue): { dtype: DType; bigEndian: boolean } {
  const supported = DTYPES.map((d) => `'${dtypeInfo(d).npyDescr}' (${d})`).join(", ");
  if (typeof descr !== "string") {
    throw new FormatError(`.npy: unsupported dtype descriptor ${formatPy(descr)} (a structured dtype); symtensor reads ${supported}, in either byte order`);
  }
  if (descr.length >= 2 && descr[1] === "O") {
    throw new FormatError(`.npy: unsupported dtype descriptor '${descr}': object arrays are stored as Python pickles, which symtensor never loads; symtensor reads ${supported}`);
  }
  const order = descr[0];
  const code = descr.slice(1);
  const dtype = DTYPES.find((d) => dtypeInfo(d).npyDescr.slice(1) === code);
  const oneByte = dtype !== undefined && dtypeInfo(dtype).itemsize === 1;
  const orderOk = order === "<" || order === ">" || order === "=" || (order === "|" && oneByte);
  if (dtype === undefined || !orderOk) {
    throw new FormatError(`.npy: unsupported dtype descriptor '${descr}'; symtensor reads ${supported}, in either byte order`);
  }
  return { dtype, bigEndian: order === ">" };
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
