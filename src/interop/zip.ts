/**
 * The zip container of .npz files: a reader that checks every offset and size against the file
 * (central directory, zip64 records, local headers, CRC-32) and a writer of stored or deflated
 * members. Compression itself is fflate's; the container is parsed here so that malformed input
 * can only ever raise FormatError, never read out of bounds or allocate without limit.
 */
import { deflateSync, inflateSync } from "fflate";
import { FormatError, ValueError } from "../ir/errors.js";

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** Deflate cannot expand data by more than about 1032:1; a larger claimed size is a corrupt header. */
const MAX_DEFLATE_RATIO = 1032;
const MAX_MEMBER_BYTES = 2 ** 31 - 1;

const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
    readonly label: string,
  ) {}
  need(offset: number, length: number, what: string): void {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length) {
      throw new FormatError(`${this.label}: ${what} at offset ${offset} (${length} bytes) lies outside the ${this.bytes.length}-byte file`);
    }
  }
  u16(o: number): number {
    return this.view.getUint16(o, true);
  }
  u32(o: number): number {
    return this.view.getUint32(o, true);
  }
  /** A 64-bit size or offset; anything past 2^53 cannot be inside a file we hold in memory. */
  u64(o: number, what: string): number {
    const v = this.view.getUint32(o, true) + this.view.getUint32(o + 4, true) * 2 ** 32;
    if (!Number.isSafeInteger(v)) throw new FormatError(`${this.label}: ${what} ${v} is not a valid size`);
    return v;
  }
}

interface CentralRecord {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Reads every member of a zip file (stored or deflated), in central-directory order. */
export function readZip(bytes: Uint8Array, label = "zip"): ZipEntry[] {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`${label}: expected a Uint8Array of file bytes`);
  const r = new Reader(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), label);
  const { count, offset, size } = findDirectory(r);
  const records: CentralRecord[] = [];
  let p = offset;
  const end = offset + size;
  for (let i = 0; i < count; i++) {
    r.need(p, 46, "a central directory entry");
    if (p + 46 > end || r.u32(p) !== SIG_CENTRAL) throw new FormatError(`${label}: central directory entry ${i} is missing or corrupt`);
    const nameLength = r.u16(p + 28);
    const extraLength = r.u16(p + 30);
    const commentLength = r.u16(p + 32);
    const entryLength = 46 + nameLength + extraLength + commentLength;
    r.need(p, entryLength, "a central directory entry");
    if (p + entryLength > end) throw new FormatError(`${label}: central directory entry ${i} runs past the directory's end`);
    const flags = r.u16(p + 8);
    const nameBytes = bytes.subarray(p + 46, p + 46 + nameLength);
    const rec: CentralRecord = {
      name: decodeName(nameBytes, (flags & 0x800) !== 0, label),
      method: r.u16(p + 10),
      flags,
      crc: r.u32(p + 16),
      compressedSize: r.u32(p + 20),
      size: r.u32(p + 24),
      localOffset: r.u32(p + 42),
    };
    applyZip64Extra(r, rec, p + 46 + nameLength, extraLength);
    records.push(rec);
    p += entryLength;
  }
  const seen = new Set<string>();
  const out: ZipEntry[] = [];
  for (const rec of records) {
    if (seen.has(rec.name)) throw new FormatError(`${label}: the member '${rec.name}' appears twice`);
    seen.add(rec.name);
    out.push({ name: rec.name, data: readMember(r, rec) });
  }
  return out;
}

function findDirectory(r: Reader): { count: number; offset: number; size: number } {
  const { bytes, label } = r;
  let eocd = -1;
  const lowest = Math.max(0, bytes.length - EOCD_SIZE - MAX_COMMENT);
  for (let p = bytes.length - EOCD_SIZE; p >= lowest; p--) {
    // The comment length must reach exactly to the end of the file, so a signature inside a comment is skipped.
    if (r.u32(p) === SIG_EOCD && p + EOCD_SIZE + r.u16(p + 20) === bytes.length) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw new FormatError(`${label}: no end-of-central-directory record; this is not a zip file (or it is truncated)`);
  if (r.u16(eocd + 4) !== 0 || r.u16(eocd + 6) !== 0) throw new FormatError(`${label}: multi-disk zip archives are not supported`);
  let count = r.u16(eocd + 10);
  let size = r.u32(eocd + 12);
  let offset = r.u32(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || r.u32(loc) !== SIG_ZIP64_LOCATOR) throw new FormatError(`${label}: the end record asks for zip64 but there is no zip64 locator`);
    const z = r.u64(loc + 8, "zip64 end record offset");
    r.need(z, 56, "the zip64 end record");
    if (r.u32(z) !== SIG_ZIP64_EOCD) throw new FormatError(`${label}: the zip64 end record is missing or corrupt`);
    count = r.u64(z + 32, "entry count");
    size = r.u64(z + 40, "central directory size");
    offset = r.u64(z + 48, "central directory offset");
  }
  r.need(offset, size, "the central directory");
  // Every entry takes at least 46 bytes: a larger count is a corrupt record, not a reason to loop.
  if (count * 46 > size) throw new FormatError(`${label}: the end record claims ${count} entries in a ${size}-byte central directory`);
  return { count, offset, size };
}

function applyZip64Extra(r: Reader, rec: CentralRecord, start: number, length: number): void {
  const needSize = rec.size === 0xffffffff;
  const needCompressed = rec.compressedSize === 0xffffffff;
  const needOffset = rec.localOffset === 0xffffffff;
  if (!needSize && !needCompressed && !needOffset) return;
  let p = start;
  const end = start + length;
  while (p + 4 <= end) {
    const id = r.u16(p);
    const len = r.u16(p + 2);
    if (p + 4 + len > end) break;
    if (id === 0x0001) {
      let q = p + 4;
      const take = (what: string): number => {
        if (q + 8 > p + 4 + len) throw new FormatError(`${r.label}: the zip64 field of '${rec.name}' is too short for its ${what}`);
        const v = r.u64(q, what);
        q += 8;
        return v;
      };
      // The zip64 field holds, in this order, only the values whose 32-bit slots are saturated.
      if (needSize) rec.size = take("size");
      if (needCompressed) rec.compressedSize = take("compressed size");
      if (needOffset) rec.localOffset = take("offset");
      return;
    }
    p += 4 + len;
  }
  throw new FormatError(`${r.label}: '${rec.name}' needs a zip64 extra field, which is missing`);
}

function readMember(r: Reader, rec: CentralRecord): Uint8Array {
  const { label } = r;
  const what = `${label}: member '${rec.name}'`;
  if (rec.flags & 0x1) throw new FormatError(`${what} is encrypted, which is not supported`);
  if (rec.method !== METHOD_STORED && rec.method !== METHOD_DEFLATE) {
    throw new FormatError(`${what} uses compression method ${rec.method}; only stored (0) and deflate (8) are supported`);
  }
  r.need(rec.localOffset, 30, `the local header of '${rec.name}'`);
  if (r.u32(rec.localOffset) !== SIG_LOCAL) throw new FormatError(`${what}: no local header at offset ${rec.localOffset}`);
  const dataStart = rec.localOffset + 30 + r.u16(rec.localOffset + 26) + r.u16(rec.localOffset + 28);
  r.need(dataStart, rec.compressedSize, `the data of '${rec.name}'`);
  const raw = r.bytes.subarray(dataStart, dataStart + rec.compressedSize);
  let data: Uint8Array;
  if (rec.method === METHOD_STORED) {
    if (rec.size !== rec.compressedSize) throw new FormatError(`${what} is stored but its sizes differ (${rec.compressedSize} and ${rec.size})`);
    data = raw.slice();
  } else {
    if (rec.size > MAX_MEMBER_BYTES || rec.size > rec.compressedSize * MAX_DEFLATE_RATIO + 64) {
      throw new FormatError(`${what} claims ${rec.size} bytes from ${rec.compressedSize} compressed bytes, which deflate cannot produce`);
    }
    const out = new Uint8Array(rec.size);
    try {
      data = inflateSync(raw, { out });
    } catch (e) {
      throw new FormatError(`${what}: corrupt deflate data (${e instanceof Error ? e.message : String(e)})`);
    }
    if (data.length !== rec.size) throw new FormatError(`${what} inflates to ${data.length} bytes, the directory says ${rec.size}`);
  }
  const crc = crc32(data);
  if (crc !== rec.crc) throw new FormatError(`${what} fails its CRC-32 check (stored ${hex(rec.crc)}, computed ${hex(crc)}): the file is corrupt`);
  return data;
}

function decodeName(bytes: Uint8Array, utf8: boolean, label: string): string {
  try {
    // Without the UTF-8 flag, names are CP437; NumPy's are ASCII, which both agree on.
    return new TextDecoder(utf8 ? "utf-8" : "latin1", { fatal: true }).decode(bytes);
  } catch {
    throw new FormatError(`${label}: a member name is not valid UTF-8`);
  }
}

const hex = (v: number): string => `0x${v.toString(16).padStart(8, "0")}`;

// ---------------------------------------------------------------------------------------------

export interface ZipWriteOptions {
  /** Deflate each member (as np.savez_compressed) instead of storing it (as np.savez). */
  compress?: boolean;
}

/**
 * A zip file holding `entries` in order, stored or deflated. Timestamps are fixed (1980-01-01) so
 * the same arrays always give the same bytes.
 */
export function writeZip(entries: readonly ZipEntry[], options: ZipWriteOptions = {}): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = encoder.encode(e.name);
    // Python's zipfile sets the UTF-8 flag only for names that are not plain ASCII; so do we.
    const utf8 = [...e.name].some((c) => c.charCodeAt(0) > 0x7f) ? 0x800 : 0;
    const method = options.compress ? METHOD_DEFLATE : METHOD_STORED;
    const body = options.compress ? deflateSync(e.data, { level: 6 }) : e.data;
    const crc = crc32(e.data);
    const version = options.compress ? 20 : 10;
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, SIG_LOCAL, true);
    lv.setUint16(4, version, true);
    lv.setUint16(6, utf8, true);
    lv.setUint16(8, method, true);
    lv.setUint16(10, 0, true); // time 00:00:00
    lv.setUint16(12, 0x21, true); // date 1980-01-01
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const dir = new Uint8Array(46 + name.length);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, SIG_CENTRAL, true);
    dv.setUint16(4, 0x0314, true); // made by: Unix, zip 2.0
    dv.setUint16(6, version, true);
    dv.setUint16(8, utf8, true);
    dv.setUint16(10, method, true);
    dv.setUint16(14, 0x21, true);
    dv.setUint32(16, crc, true);
    dv.setUint32(20, body.length, true);
    dv.setUint32(24, e.data.length, true);
    dv.setUint16(28, name.length, true);
    dv.setUint32(38, 0o100644 * 0x10000, true); // a regular file, rw-r--r--
    dv.setUint32(42, offset, true);
    dir.set(name, 46);
    parts.push(local, body);
    central.push(dir);
    offset += local.length + body.length;
    if (offset > 0xffffffff) throw new ValueError(`${options.compress ? "compressed " : ""}zip: the archive exceeds 4 GiB, which needs zip64 (not written by symtensor)`);
  }
  const dirSize = central.reduce((n, c) => n + c.length, 0);
  if (entries.length > 0xffff) throw new ValueError(`zip: ${entries.length} members exceed the 65535 a zip without zip64 holds`);
  const eocd = new Uint8Array(EOCD_SIZE);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, SIG_EOCD, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + dirSize + EOCD_SIZE);
  let p = 0;
  for (const part of [...parts, ...central, eocd]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

let CRC_TABLE: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zip uses). */
export function crc32(data: Uint8Array): number {
  let table = CRC_TABLE;
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    CRC_TABLE = table;
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
