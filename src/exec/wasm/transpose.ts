/**
 * `transpose` of a 4-byte dtype (float32, int32) as a WebAssembly SIMD plan, for the perms that
 * reduce to a batched 2-D transpose [B, R, C] -> [B, C, R]: the swap of the last two axes with the
 * leading axes kept in order, and anything else that becomes that once size-1 axes are dropped and
 * axes that stay adjacent are merged (e.g. [2,3,0,1] is one 2-D transpose of [a*b, c*d]). Other
 * perms return undefined (the JS kernel runs them).
 *
 * Kernel: items are row tiles (TR input rows of one batch element); within an item, column tiles
 * of TC columns keep the output tile (TC rows x TR*4 bytes) in L1 while the input is read along
 * its rows while 4x4 blocks are transposed in registers
 * with eight i8x16.shuffles (unpck{l,h}ps/movlhps/movhlps on x64). Row strides are plan-time
 * constants, so the four loads and four stores of a block use immediate offsets from one pointer.
 * Rows and columns beyond the last multiple of 4 are copied element by element (never reading
 * past a buffer: the padding of the last row would not cover a 4-wide read in general).
 *
 * Every chunk writes only the output columns of its own input rows, a vector at a time within
 * them, so chunks never share a written byte; the result is a copy (i32 loads and stores, NaN
 * payloads kept), bit-identical whatever the chunk order or thread count.
 */
import type { Attrs } from "../../ir/registry.js";
import type { TensorType } from "../../ir/types.js";
import { kernelMemory, type WasmKernelPlan } from "./abi.js";
import { type FunctionBuilder, ModuleBuilder } from "./emit.js";

export interface TransposeTuning {
  /** Input rows per tile (a multiple of 4): an item. */
  readonly tr: number;
  /** Input columns per tile (a multiple of 4). */
  readonly tc: number;
  /** Elements a chunk should move at least (the grain is derived from it). */
  readonly chunkElements: number;
}

export const DEFAULT_TRANSPOSE_TUNING: TransposeTuning = { tr: 64, tc: 16, chunkElements: 1 << 15 };

/**
 * Measured (bench/wasm-transpose.ts): 64 x 16 tiles are best except when the output row stride is
 * a multiple of 4 KiB ([1024,1024]): then the 16 output rows of a tile fall in the same few cache
 * sets and 8 columns per tile are 2.3x faster.
 */
export function defaultTransposeTuning(rows: number): TransposeTuning {
  return (4 * rows) % 4096 === 0 ? { ...DEFAULT_TRANSPOSE_TUNING, tc: 8 } : DEFAULT_TRANSPOSE_TUNING;
}

/** The batched 2-D transpose a perm amounts to, or undefined when it is something else. */
export interface Transpose2d {
  readonly batch: number;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Drops size-1 axes, merges runs of input axes that stay adjacent and in order in the output, and
 * recognizes [0, 2, 1] / [1, 0] on what is left. Identity perms (a plain copy) return undefined,
 * except written as a swap of the last two axes with one of them of size 1 (the kernel copies).
 */
export function asBatchedTranspose(shape: readonly number[], perm: readonly number[]): Transpose2d | undefined {
  const n = shape.length;
  if (perm.length !== n || n < 2) return undefined;
  // The common case as written (kept even when an axis has size 1 and it is really a copy).
  if (perm[n - 1] === n - 2 && perm[n - 2] === n - 1 && perm.slice(0, n - 2).every((a, i) => a === i)) {
    return { batch: shape.slice(0, n - 2).reduce((a, b) => a * b, 1), rows: shape[n - 2]!, cols: shape[n - 1]! };
  }
  const kept = shape.map((_, a) => a).filter((a) => shape[a] !== 1);
  const rank = new Map(kept.map((a, i) => [a, i]));
  const p = perm.filter((a) => shape[a] !== 1).map((a) => rank.get(a)!);
  // Groups of consecutive output axes reading consecutive input axes: [start, length].
  const groups: [number, number][] = [];
  for (const a of p) {
    const last = groups[groups.length - 1];
    if (last && a === last[0] + last[1]) last[1]++;
    else groups.push([a, 1]);
  }
  const size = (g: readonly [number, number]): number => {
    let n = 1;
    for (let k = g[0]; k < g[0] + g[1]; k++) n *= shape[kept[k]!]!;
    return n;
  };
  const byStart = [...groups].sort((x, y) => x[0] - y[0]);
  const q = groups.map((g) => byStart.indexOf(g));
  if (q.length === 2 && q[0] === 1 && q[1] === 0) return { batch: 1, rows: size(byStart[0]!), cols: size(byStart[1]!) };
  if (q.length === 3 && q[0] === 0 && q[1] === 2 && q[2] === 1) return { batch: size(byStart[0]!), rows: size(byStart[1]!), cols: size(byStart[2]!) };
  return undefined;
}

/** The shuffle lanes (bytes) picking 32-bit lanes `l` (0-7 over the concatenated operands). */
const lanes32 = (l: readonly number[]): number[] => l.flatMap((k) => [4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3]);
const UNPACK_LO = lanes32([0, 4, 1, 5]);
const UNPACK_HI = lanes32([2, 6, 3, 7]);
const MOVE_LH = lanes32([0, 1, 4, 5]);
const MOVE_HL = lanes32([2, 3, 6, 7]);

/**
 * A plan for `transpose` (x -> y with attrs.perm), or undefined when the dtype is not 4 bytes
 * wide or the perm is not a batched 2-D transpose. Args block: [x, y].
 */
export function wasmTransposePlan(
  x: TensorType,
  attrs: Attrs,
  y: TensorType,
  opts: { shared: boolean },
  tuning?: TransposeTuning,
): WasmKernelPlan | undefined {
  if ((x.dtype !== "float32" && x.dtype !== "int32") || y.dtype !== x.dtype) return undefined;
  const perm = attrs["perm"];
  if (!Array.isArray(perm) || !perm.every((v): v is number => typeof v === "number")) return undefined;
  const t = asBatchedTranspose(x.shape, perm);
  if (!t) return undefined;
  const { tr, tc, chunkElements } = tuning ?? defaultTransposeTuning(t.rows);
  if (tr % 4 !== 0 || tc % 4 !== 0 || tr <= 0 || tc <= 0) throw new RangeError(`transpose tiles must be positive multiples of 4, got ${tr}x${tc}`);
  const { batch: B, rows: R, cols: C } = t;
  // Byte addresses must stay below 2^31 (i32 arithmetic); the memory is 2 GiB at most anyway.
  if (B * R * C * 4 >= 2 ** 31) return undefined;
  const mem = opts.shared ? "shared" : "own";
  const mb = new ModuleBuilder({ memory: kernelMemory(opts.shared) });
  if (R === 1 || C === 1) {
    // A vector (or empty) matrix: its transpose has the same bytes; items are batch elements.
    const grain = Math.max(1, Math.ceil(chunkElements / Math.max(R * C, 1)));
    mb.func("run", ["i32", "i32", "i32"], [], (f) => emitCopy(f, 4 * R * C));
    return { key: `transpose:b32:copy:${B}x${R * C}:${mem}`, bytes: mb.bytes(), phases: [{ entry: "run", items: B, grain }], scratchBytes: 0 };
  }
  const items = B * Math.ceil(R / tr);
  const grain = Math.max(1, Math.ceil(chunkElements / (tr * Math.max(C, 1))));
  mb.func("run", ["i32", "i32", "i32"], [], (f) => emitRun(f, R, C, tr, tc));
  return { key: `transpose:b32:${B}x${R}x${C}:tr${tr}:tc${tc}:${mem}`, bytes: mb.bytes(), phases: [{ entry: "run", items, grain }], scratchBytes: 0 };
}

/** memory.copy of the batch elements [begin, end), `bytes` each (a byte-exact copy: no chunk overlap). */
function emitCopy(f: FunctionBuilder, bytes: number): void {
  const [ARGS, BEGIN, END] = [0, 1, 2];
  const at = (arg: number): void => {
    f.localGet(ARGS);
    f.i32.load(arg * 4, 4);
    f.localGet(BEGIN);
    f.i32.const(bytes);
    f.i32.mul();
    f.i32.add();
  };
  at(1);
  at(0);
  f.localGet(END);
  f.localGet(BEGIN);
  f.i32.sub();
  f.i32.const(bytes);
  f.i32.mul();
  f.memoryCopy();
}

function emitRun(f: FunctionBuilder, R: number, C: number, tr: number, tc: number): void {
  const [ARGS, BEGIN, END] = [0, 1, 2];
  const tilesR = Math.ceil(R / tr);
  const C4 = C & ~3;
  const xRow = 4 * C; // bytes per input row
  const yRow = 4 * R; // bytes per output row
  const xb = f.local("i32");
  const yb = f.local("i32");
  const item = f.local("i32");
  const r0 = f.local("i32");
  const rEnd = f.local("i32");
  const rFull = f.local("i32");
  const c0 = f.local("i32");
  const cEnd = f.local("i32");
  const r = f.local("i32");
  const c = f.local("i32");
  const p = f.local("i32");
  const q = f.local("i32");
  const v = [f.local("v128"), f.local("v128"), f.local("v128"), f.local("v128")];
  const w = [f.local("v128"), f.local("v128"), f.local("v128"), f.local("v128")];

  const setAddr = (local: number, base: number, emitIndex: () => void): void => {
    f.localGet(base);
    emitIndex();
    f.i32.const(4);
    f.i32.mul();
    f.i32.add();
    f.localSet(local);
  };
  /** y[c * R + r] = x[r * C + c] for r in [rFrom, rTo) and c in [cFrom, cTo) (locals or constants). */
  const scalarCopy = (rFrom: number | { local: number }, rTo: number | { local: number }, cFrom: number, cTo: number): void => {
    f.forRange(r, rFrom, rTo, 1, () => {
      f.forRange(c, cFrom, cTo, 1, () => {
        // q = yb + (c * R + r) * 4; p = xb + (r * C + c) * 4
        f.localGet(yb);
        f.localGet(c);
        f.i32.const(R);
        f.i32.mul();
        f.localGet(r);
        f.i32.add();
        f.i32.const(4);
        f.i32.mul();
        f.i32.add();
        f.localGet(xb);
        f.localGet(r);
        f.i32.const(C);
        f.i32.mul();
        f.localGet(c);
        f.i32.add();
        f.i32.const(4);
        f.i32.mul();
        f.i32.add();
        f.i32.load(0, 4);
        f.i32.store(0, 4);
      });
    });
  };

  f.forRange(item, { local: BEGIN }, { local: END }, 1, () => {
    // Batch element and row tile of this item; xb, yb point at the batch element's matrices.
    const matBytes = 4 * R * C;
    for (const [argOffset, base] of [[0, xb], [4, yb]] as const) {
      f.localGet(ARGS);
      f.i32.load(argOffset, 4);
      f.localGet(item);
      f.i32.const(tilesR);
      f.i32.divU();
      f.i32.const(matBytes);
      f.i32.mul();
      f.i32.add();
      f.localSet(base);
    }
    f.localGet(item);
    f.i32.const(tilesR);
    f.i32.remU();
    f.i32.const(tr);
    f.i32.mul();
    f.localTee(r0);
    f.i32.const(tr);
    f.i32.add();
    f.localTee(rEnd);
    f.i32.const(R);
    f.i32.gtS();
    f.if();
    f.i32.const(R);
    f.localSet(rEnd);
    f.end();
    // rFull = r0 + ((rEnd - r0) & ~3): the rows that form whole 4x4 blocks.
    f.localGet(rEnd);
    f.localGet(r0);
    f.i32.sub();
    f.i32.const(~3);
    f.i32.and();
    f.localGet(r0);
    f.i32.add();
    f.localSet(rFull);

    if (C4 > 0) {
      f.forRange(c0, 0, C4, tc, () => {
        f.localGet(c0);
        f.i32.const(tc);
        f.i32.add();
        f.localTee(cEnd);
        f.i32.const(C4);
        f.i32.gtS();
        f.if();
        f.i32.const(C4);
        f.localSet(cEnd);
        f.end();
        f.forRange(r, { local: r0 }, { local: rFull }, 4, () => {
          setAddr(p, xb, () => {
            f.localGet(r);
            f.i32.const(C);
            f.i32.mul();
            f.localGet(c0);
            f.i32.add();
          });
          setAddr(q, yb, () => {
            f.localGet(c0);
            f.i32.const(R);
            f.i32.mul();
            f.localGet(r);
            f.i32.add();
          });
          f.forRange(c, { local: c0 }, { local: cEnd }, 4, () => {
            for (let k = 0; k < 4; k++) {
              f.localGet(p);
              f.v128.load(k * xRow, 4);
              f.localSet(v[k]!);
            }
            // Rows a, b, c, d -> (a0 b0 a1 b1) (a2 b2 a3 b3) (c0 d0 c1 d1) (c2 d2 c3 d3) -> columns.
            const shuffle = (dst: number, s0: number, s1: number, lanes: number[]): void => {
              f.localGet(s0);
              f.localGet(s1);
              f.i8x16.shuffle(lanes);
              f.localSet(dst);
            };
            shuffle(w[0]!, v[0]!, v[1]!, UNPACK_LO);
            shuffle(w[1]!, v[0]!, v[1]!, UNPACK_HI);
            shuffle(w[2]!, v[2]!, v[3]!, UNPACK_LO);
            shuffle(w[3]!, v[2]!, v[3]!, UNPACK_HI);
            const store = (k: number, s0: number, s1: number, lanes: number[]): void => {
              f.localGet(q);
              f.localGet(s0);
              f.localGet(s1);
              f.i8x16.shuffle(lanes);
              f.v128.store(k * yRow, 4);
            };
            store(0, w[0]!, w[2]!, MOVE_LH);
            store(1, w[0]!, w[2]!, MOVE_HL);
            store(2, w[1]!, w[3]!, MOVE_LH);
            store(3, w[1]!, w[3]!, MOVE_HL);
            f.localGet(p);
            f.i32.const(16);
            f.i32.add();
            f.localSet(p);
            f.localGet(q);
            f.i32.const(4 * yRow);
            f.i32.add();
            f.localSet(q);
          });
        });
      });
      // Rows past the last whole block (only in the last row tile), columns [0, C4).
      scalarCopy({ local: rFull }, { local: rEnd }, 0, C4);
    }
    // Columns past the last multiple of 4, every row of the tile.
    if (C4 < C) scalarCopy({ local: r0 }, { local: rEnd }, C4, C);
  });
}
