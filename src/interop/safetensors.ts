/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON
 * `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}`, then
 * the tensors' little-endian bytes, offsets relative to the end of the header.
 *
 * Reading validates the header the way the reference implementation does, and more: every range
 * is checked against the file before a byte is read, ranges must tile the data exactly (no
 * overlap, no gap, no trailing bytes), and each size must equal shape x itemsize.
 * Writing follows the reference writer: header padded with spaces to a multiple of 8 bytes, data
 * ordered by itemsize (largest first) then name, so every tensor starts at a multiple of its itemsize.
 */
import { type DType, dtypeInfo, MAX_ELEMENTS } from "../ir/dtype.js";
import { FormatError, ValueError } from "../ir/errors.js";
import { NDArray } from "./ndarray.js";
import { decodeElements, type ReadInfo, type SourceKind, sourceItemsize, targetDType } from "./npy.js";

/** safetensors dtype names and what symtensor reads them as (see targetDType). */
const ST_DTYPES = new Map<string, SourceKind>([
  ["BOOL", "bool"], ["U8", "uint8"], ["I32", "int32"], ["F32", "float32"], ["F64", "float64"],
  ["F16", "float16"], ["BF16", "bfloat16"], ["I8", "int8"], ["I16", "int16"], ["U16", "uint16"],
  ["U32", "uint32"], ["I64", "int64"], ["U64", "uint64"],
]);

const ST_NAME: Record<DType, string> = { bool: "BOOL", uint8: "U8", int32: "I32", float32: "F32", float64: "F64" };

/** The reference implementation refuses headers over 100 MB; so do we, before decoding any text. */
const MAX_HEADER = 100_000_000;
const METADATA_KEY = "__metadata__";

export interface SafetensorsContents {
  arrays: Record<string, NDArray>;
  info: Record<string, ReadInfo>;
  /** The `__metadata__` string map ({} when the file has none). */
  metadata: Record<string, string>;
}

interface Entry {
  name: string;
  kind: SourceKind;
  sourceDtype: string;
  shape: number[];
  begin: number;
  end: number;
}

const L = "safetensors";

export function readSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`${L}: expected a Uint8Array of file bytes`);
  if (bytes.length < 8) throw new FormatError(`${L}: the file has ${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (n > bytes.length - 8) throw new FormatError(`${L}: the header length ${n} is larger than the rest of the file (${bytes.length - 8} bytes)`);
  if (n > MAX_HEADER) throw new FormatError(`${L}: the header length ${n} exceeds the format's limit of ${MAX_HEADER} bytes`);
  const header = parseJsonHeader(bytes.subarray(8, 8 + n));
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;

  const metadata = readMetadata(header[METADATA_KEY]);
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name !== METADATA_KEY) entries.push(readEntry(name, value, dataLength));
  }
  checkTiling(entries, dataLength);

  const arrays: Record<string, NDArray> = Object.create(null) as Record<string, NDArray>;
  const info: Record<string, ReadInfo> = Object.create(null) as Record<string, ReadInfo>;
  for (const e of entries) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    const dtype = targetDType(e.kind);
    const data = decodeElements(bytes, dataStart + e.begin, count, e.kind, true, `${L}: tensor '${e.name}'`);
    arrays[e.name] = new NDArray(data, e.shape, dtype);
    info[e.name] = { sourceDtype: e.sourceDtype, dtype, converted: e.kind === dtype ? null : `${e.kind}->${dtype}` };
  }
  return { arrays, info, metadata };
}

function parseJsonHeader(raw: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw new FormatError(`${L}: the header is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${L}: the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FormatError(`${L}: the header must be a JSON object, got ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function readMetadata(value: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (value === undefined || value === null) return out;
  if (typeof value !== "object" || Array.isArray(value)) throw new FormatError(`${L}: '${METADATA_KEY}' must be an object of strings`);
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") throw new FormatError(`${L}: '${METADATA_KEY}' entry '${k}' must be a string, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

function readEntry(name: string, value: unknown, dataLength: number): Entry {
  const where = `${L}: tensor '${name}'`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new FormatError(`${where}: its header entry must be an object`);
  const v = value as Record<string, unknown>;
  const dtypeName = v["dtype"];
  if (typeof dtypeName !== "string") throw new FormatError(`${where}: 'dtype' must be a string, got ${JSON.stringify(dtypeName)}`);
  const kind = ST_DTYPES.get(dtypeName);
  if (kind === undefined) {
    throw new FormatError(`${where}: unsupported dtype '${dtypeName}'; symtensor reads ${[...ST_DTYPES.keys()].join(", ")} (I64, U64, U32 only when every value fits int32)`);
  }
  const shape = v["shape"];
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(`${where}: 'shape' must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const offsets = v["data_offsets"];
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(`${where}: 'data_offsets' must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw new FormatError(`${where}: 'data_offsets' [${begin}, ${end}] is reversed (begin after end)`);
  if (end > dataLength) throw new FormatError(`${where}: 'data_offsets' [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`);
  let count = 1;
  for (const d of shape as number[]) count *= d;
  if (!Number.isSafeInteger(count) || count > MAX_ELEMENTS) throw new FormatError(`${where}: shape ${JSON.stringify(shape)} has too many elements`);
  const expected = count * sourceItemsize(kind);
  if (end - begin !== expected) {
    throw new FormatError(`${where}: 'data_offsets' [${begin}, ${end}] hold ${end - begin} bytes but shape ${JSON.stringify(shape)} of ${dtypeName} needs ${expected}`);
  }
  return { name, kind, sourceDtype: dtypeName, shape: shape as number[], begin, end };
}

/** The ranges, in offset order, must cover the data exactly once, as the reference reader requires. */
function checkTiling(entries: Entry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) {
      throw new FormatError(`${L}: tensor '${e.name}' bytes [${e.begin}, ${e.end}) overlap tensor '${prev!.name}' [${prev!.begin}, ${prev!.end})`);
    }
    if (e.begin > pos) {
      throw new FormatError(`${L}: tensor '${e.name}' starts at byte ${e.begin}, leaving bytes [${pos}, ${e.begin}) of the data unused`);
    }
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLength) throw new FormatError(`${L}: the data has ${dataLength} bytes but the tensors cover ${pos}; the file is truncated or has trailing bytes`);
}

/**
 * A safetensors file of `arrays` with optional string `metadata`. Header keys are sorted by name,
 * `__metadata__` first; data is laid out by itemsize (largest first) then name, so each tensor
 * is aligned to its itemsize within the 8-byte-aligned data section.
 */
export function writeSafetensors(arrays: Readonly<Record<string, NDArray>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const names = Object.keys(arrays).sort();
  for (const name of names) {
    if (name === METADATA_KEY) throw new ValueError(`saveSafetensors: '${METADATA_KEY}' is reserved for metadata and cannot name a tensor`);
    if (!(arrays[name] instanceof NDArray)) throw new ValueError(`saveSafetensors: '${name}' is not an array`);
  }
  const layoutOrder = [...names].sort((a, b) => dtypeInfo(arrays[b]!.dtype).itemsize - dtypeInfo(arrays[a]!.dtype).itemsize || compare(a, b));
  const offsets = new Map<string, [number, number]>();
  let pos = 0;
  for (const name of layoutOrder) {
    const nbytes = arrays[name]!.nbytes;
    offsets.set(name, [pos, pos + nbytes]);
    pos += nbytes;
  }
  // Built as text, not as an object: a tensor may be named "__proto__".
  const fields: string[] = [];
  if (metadata !== undefined) {
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) throw new ValueError("saveSafetensors: metadata must be an object of strings");
    const meta: string[] = [];
    for (const k of Object.keys(metadata).sort()) {
      const v = metadata[k];
      if (typeof v !== "string") throw new ValueError(`saveSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
      meta.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    fields.push(`${JSON.stringify(METADATA_KEY)}:{${meta.join(",")}}`);
  }
  for (const name of names) {
    const a = arrays[name]!;
    fields.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: ST_NAME[a.dtype], shape: [...a.shape], data_offsets: offsets.get(name)! })}`);
  }
  let json = new TextEncoder().encode(`{${fields.join(",")}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + pos);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length % 2 ** 32, true);
  view.setUint32(4, Math.floor(json.length / 2 ** 32), true);
  out.set(json, 8);
  for (const name of layoutOrder) {
    const a = arrays[name]!;
    // Typed arrays are little-endian on every platform symtensor runs on, as safetensors requires.
    out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), 8 + json.length + offsets.get(name)![0]);
  }
  return out;
}

/** Code-unit order, as Rust's and Python's string sort: stable across locales. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
