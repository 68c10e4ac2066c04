/**
 * WebAssembly SIMD matmul (float32): B packed into column panels, an MR x NR register-blocked
 * micro-kernel, K blocked, and an optional fused elementwise epilogue applied to the accumulator
 * tile before it is stored. Plans follow src/exec/wasm/abi.ts.
 *
 * Phases:
 * - "pack": items are B panels (distinct B matrices x ceil(n / NR) panels). Panel q holds, for every
 *   p in [0, k), the NR values B[p, j0 .. j0+NR) contiguously (k-major), columns past n as zeros,
 *   so the micro-kernel reads B strictly sequentially and never touches B's row stride (which is a
 *   power of two for the usual shapes and would alias in L1).
 * - "run": items are row tiles (MR rows of one output matrix; batch-major). A chunk of items runs
 *   K block by K block: for each KC-deep slice, every tile of the chunk times every panel, so one
 *   KC x n slice of packed B (L2) is reused by all tiles of the chunk, and one MR x KC slice of A
 *   (read in place, row stride k: the offsets are static immediates) stays in L1 across panels.
 *   Partial sums live in the output between K slices (float32, which is the accumulation type
 *   anyway); the last slice applies the epilogue and stores.
 *
 * Accumulation is float32 with one multiply and one add per term (no FMA in Wasm SIMD 128),
 * summing p in ascending order. The JS kernel (kernels/matmul.ts) accumulates in float64, so
 * results differ: each output is within k * 2^-24 * sum_p |a_ip b_pj| (plus the final rounding) of
 * the exact sum, the usual bound for recursive float32 summation. Each output's summation order is
 * fixed by k alone, so results are bitwise identical whatever the chunking or thread count.
 *
 * Register budget: V8 on x64 allocates 15 xmm registers (xmm15 is its scratch). The MR x 8 tile
 * needs MR * 2 accumulators + 2 B vectors + 1 broadcast A value + 1 product temporary: MR = 5 uses
 * 14 and runs clean; MR = 6 spills one accumulator inside the loop (measured ~35 vs ~64 GFLOP/s
 * here). The k loop is not unrolled: TurboFan schedules every load of the unrolled steps first and
 * then spills them (measured about half the speed at unroll 2 or 4). With the loop's own stack
 * check, one iteration is 35 x64 instructions for 80 flops (10 vmulps + 10 vaddps).
 */
import { matmulPlan, type MatmulPlan } from "../../ir/ops/linalg.js";
import { broadcastStrides, sizeOf } from "../../ir/shape.js";
import { type KernelSpec, type Ref, specKey } from "../cpu/codegen-fused.js";
import { kernelMemory, type WasmKernelPlan, type WasmPhase } from "./abi.js";
import { type FunctionBuilder, ModuleBuilder, type ValType } from "./emit.js";
import { emitVMath, VMATH_ERROR, type VMathFn } from "./vmath.js";

/** Tuning knobs; defaults are what the benchmark (bench/wasm-gemm.ts) measured best here (AMD Zen 5, Node 20). */
export interface GemmTuning {
  /** Rows per register tile (1..8). */
  readonly mr: number;
  /** Depth of one K slice. */
  readonly kc: number;
  /** Unrolling of the k loop (1: see the register budget note above). */
  readonly unroll: number;
  /** Upper bound on row tiles per chunk of the run phase. */
  readonly maxGrain: number;
}

export const DEFAULT_GEMM_TUNING: GemmTuning = { mr: 5, kc: 256, unroll: 1, maxGrain: 16 };

/** Columns per panel: two f32x4 vectors. */
const NR = 8;

// ---- epilogue -------------------------------------------------------------------------------------

type Emit1 = (f: FunctionBuilder, x: number) => void;
type Emit2 = (f: FunctionBuilder, x: number, y: number) => void;

/**
 * Elementwise ops the epilogue computes with plain f32x4 instructions, each bit-identical to the JS
 * template on float32 (one IEEE operation rounded once: float64-then-round equals float32 for
 * + - * / and sqrt; max/min follow Math.max/min on NaN and signed zeros). Others make the plan
 * undefined (the JS kernel runs).
 */
const UNARY: Readonly<Record<string, Emit1>> = {
  neg: (f, x) => { f.localGet(x); f.f32x4.neg(); },
  abs: (f, x) => { f.localGet(x); f.f32x4.abs(); },
  square: (f, x) => { f.localGet(x); f.localGet(x); f.f32x4.mul(); },
  // max(x, +0): NaN stays NaN, -0 becomes +0, like `x > 0 || x !== x ? x : 0`.
  relu: (f, x) => { f.localGet(x); f.f32x4.const(0, 0, 0, 0); f.f32x4.max(); },
  sqrt: (f, x) => { f.localGet(x); f.f32x4.sqrt(); },
  reciprocal: (f, x) => { f.f32x4.const(1, 1, 1, 1); f.localGet(x); f.f32x4.div(); },
  floor: (f, x) => { f.localGet(x); f.f32x4.floor(); },
  ceil: (f, x) => { f.localGet(x); f.f32x4.ceil(); },
  round: (f, x) => { f.localGet(x); f.f32x4.nearest(); },
  cast: (f, x) => { f.localGet(x); },
};

/**
 * Transcendental epilogue ops: vmath's vectorized functions, within its documented error
 * (VMATH_ERROR, in float32 ulps of the JS kernel's result on the same input) instead of bitwise.
 */
const VMATH_UNARY: Readonly<Record<string, Emit1>> = Object.fromEntries(
  (Object.keys(VMATH_ERROR) as VMathFn[]).map((fn) => [fn, (f: FunctionBuilder, x: number) => emitVMath(f, fn, x)]),
);

const BINARY: Readonly<Record<string, Emit2>> = {
  add: (f, x, y) => { f.localGet(x); f.localGet(y); f.f32x4.add(); },
  sub: (f, x, y) => { f.localGet(x); f.localGet(y); f.f32x4.sub(); },
  mul: (f, x, y) => { f.localGet(x); f.localGet(y); f.f32x4.mul(); },
  div: (f, x, y) => { f.localGet(x); f.localGet(y); f.f32x4.div(); },
  maximum: (f, x, y) => { f.localGet(x); f.localGet(y); f.f32x4.max(); },
  minimum: (f, x, y) => { f.localGet(x); f.localGet(y); f.f32x4.min(); },
};

/** where(cond, a, b): `cond` is a lane mask (all ones where true), as bool inputs are loaded. */
const TERNARY: Readonly<Record<string, (f: FunctionBuilder, c: number, a: number, b: number) => void>> = {
  where: (f, c, a, b) => { f.localGet(a); f.localGet(b); f.localGet(c); f.v128.bitselect(); },
};

/** An array the epilogue reads: element offset of output (batch t, row i, col j) = batch(t) + i*si + j*sj. */
interface EpiInput {
  /** Argument-block slot of the array. */
  readonly slot: number;
  /** Element strides along the output batch dims (0 where broadcast). */
  readonly batchStrides: readonly number[];
  readonly si: number;
  /** 0 (one value per row: splat) or 1 (contiguous columns). */
  readonly sj: 0 | 1;
  /** Element bytes: 4 (float32) or 1 (bool, read as a lane mask for `where`). */
  readonly bytes: 4 | 1;
}

interface EpiNode {
  readonly op: string;
  /** Operands: -1 is the matmul value, >= 0 body node index (in `nodes`), or { input } an EpiInput index. */
  readonly operands: readonly (number | { readonly input: number })[];
}

interface Epilogue {
  readonly inputs: readonly EpiInput[];
  readonly nodes: readonly EpiNode[];
  /** Which value is stored: -1 the matmul value, else a node index. */
  readonly result: number;
}

// ---- geometry -------------------------------------------------------------------------------------

/** One GEMM problem (possibly batched), with its operands' places in the argument block. */
export interface GemmProblem {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Output batch shape (empty: one matrix). */
  readonly batch: readonly number[];
  /** Element strides of A's / B's matrices along the batch dims (0 where broadcast). */
  readonly aBatchStrides: readonly number[];
  readonly bBatchStrides: readonly number[];
  /** Argument slots holding the byte addresses of A, B, C and the scratch region. */
  readonly aSlot: number;
  readonly bSlot: number;
  readonly cSlot: number;
  readonly scratchSlot: number;
  /** Byte offset of the packed B inside scratch, and of A when A lives in scratch (conv). */
  readonly packOffset: number;
  /** A's address is scratch + aOffset instead of args[aSlot] when set. */
  readonly aInScratch?: { readonly offset: number };
  readonly epilogue?: Epilogue;
}

/** Bytes of packed B the problem needs in scratch. */
export function packedBytes(p: Pick<GemmProblem, "n" | "k" | "batch" | "bBatchStrides">): number {
  return distinctB(p) * Math.ceil(p.n / NR) * p.k * NR * 4;
}

function distinctB(p: Pick<GemmProblem, "batch" | "bBatchStrides">): number {
  return p.batch.reduce((acc, d, i) => (p.bBatchStrides[i] !== 0 ? acc * d : acc), 1);
}

/** Suffix products of the batch dims: flat batch index t has idx_d = floor(t / suf[d]) % batch[d]. */
function suffixes(batch: readonly number[]): number[] {
  const suf = new Array<number>(batch.length);
  let acc = 1;
  for (let d = batch.length - 1; d >= 0; d--) {
    suf[d] = acc;
    acc *= batch[d]!;
  }
  return suf;
}

// ---- code generation ------------------------------------------------------------------------------

/** Emits `sum_d ((t / suf_d) % batch_d) * strides_d` (elements) for batch index local t; pushes an i32. */
function emitBatchOffset(f: FunctionBuilder, t: number, batch: readonly number[], strides: readonly number[]): void {
  const suf = suffixes(batch);
  f.i32.const(0);
  batch.forEach((size, d) => {
    const s = strides[d]!;
    if (s === 0 || size === 1) return;
    f.localGet(t);
    if (suf[d]! !== 1) {
      f.i32.const(suf[d]!);
      f.i32.divU();
    }
    if (d > 0) {
      f.i32.const(size);
      f.i32.remU();
    }
    f.i32.const(s);
    f.i32.mul();
    f.i32.add();
  });
}

/** The packed-B index of batch t: B's own flat batch index. */
function bIndexStrides(p: GemmProblem): number[] {
  // Distinct B matrices in row-major order over the dims where B is not broadcast.
  const out = new Array<number>(p.batch.length).fill(0);
  let acc = 1;
  for (let d = p.batch.length - 1; d >= 0; d--) {
    if (p.bBatchStrides[d] !== 0) {
      out[d] = acc;
      acc *= p.batch[d]!;
    }
  }
  return out;
}

/** Loads a possibly partial vector of `lanes` floats at address local `addr` + `off` (lanes < 4: lane loads into zeros). */
function loadPartial(f: FunctionBuilder, addr: number, off: number, lanes: number): void {
  if (lanes >= 4) {
    f.localGet(addr);
    f.v128.load(off, 4);
    return;
  }
  f.f32x4.const(0, 0, 0, 0);
  for (let l = 0; l < lanes; l++) {
    const tmp = f.local("v128");
    f.localSet(tmp);
    f.localGet(addr);
    f.localGet(tmp);
    f.v128.load32Lane(l, off + 4 * l, 4);
  }
}

/** Stores `lanes` floats of vector local `v` at address local `addr` + `off`. */
function storePartial(f: FunctionBuilder, addr: number, off: number, v: number, lanes: number): void {
  if (lanes >= 4) {
    f.localGet(addr);
    f.localGet(v);
    f.v128.store(off, 4);
    return;
  }
  for (let l = 0; l < lanes; l++) {
    f.localGet(addr);
    f.localGet(v);
    f.v128.store32Lane(l, off + 4 * l, 4);
  }
}

/**
 * The micro-kernel for an mr x (valid columns nv) tile:
 * `tile(pa, pb, pc, kc, load, final, e_0 .. e_x)`: C tile (+)= A[pa: mr rows of stride k] x packed
 * B panel slice [pb: kc x NR]; `load` resumes from C, `final` applies the epilogue (its inputs'
 * addresses at the tile's first row and column are e_x) before storing.
 */
function emitTile(mb: ModuleBuilder, p: GemmProblem, t: GemmTuning, mr: number, nv: number): number {
  const epi = p.epilogue;
  const nInputs = epi?.inputs.length ?? 0;
  const params: ValType[] = new Array<ValType>(6 + nInputs).fill("i32");
  const epiFn = epi ? emitEpilogueTile(mb, p, epi, mr, nv) : -1;
  return mb.func(undefined, params, [], (f) => {
    const [pa, pb, pc, kc, load, final] = [0, 1, 2, 3, 4, 5];
    const nvec = nv > 4 ? 2 : 1;
    const lanes = (v: number): number => Math.min(4, nv - 4 * v);
    const acc: number[][] = [];
    for (let r = 0; r < mr; r++) acc.push(Array.from({ length: nvec }, () => f.local("v128")));
    const bv = Array.from({ length: nvec }, () => f.local("v128"));
    const av = f.local("v128");
    const end = f.local("i32");
    const endMain = f.local("i32");
    const rowC = 4 * p.n;
    const rowA = 4 * p.k;

    // Accumulators: zeros, or the partial sums of the previous K slices.
    f.localGet(load);
    f.if();
    for (let r = 0; r < mr; r++) {
      for (let v = 0; v < nvec; v++) {
        loadPartial(f, pc, r * rowC + 16 * v, lanes(v));
        f.localSet(acc[r]![v]!);
      }
    }
    f.else();
    for (let r = 0; r < mr; r++) {
      for (let v = 0; v < nvec; v++) {
        f.f32x4.const(0, 0, 0, 0);
        f.localSet(acc[r]![v]!);
      }
    }
    f.end();

    // One k step at byte offsets (aOff into each A row, bOff into the panel).
    const step = (aOff: number, bOff: number): void => {
      for (let v = 0; v < nvec; v++) {
        f.localGet(pb);
        f.v128.load(bOff + 16 * v, 16);
        f.localSet(bv[v]!);
      }
      for (let r = 0; r < mr; r++) {
        f.localGet(pa);
        f.v128.load32Splat(r * rowA + aOff, 4);
        f.localSet(av);
        for (let v = 0; v < nvec; v++) {
          f.localGet(acc[r]![v]!);
          f.localGet(av);
          f.localGet(bv[v]!);
          f.f32x4.mul();
          f.f32x4.add();
          f.localSet(acc[r]![v]!);
        }
      }
    };
    const U = t.unroll;
    // end = pa + 4 kc; endMain = pa + 4 (kc - kc % U)
    f.localGet(pa);
    f.localGet(kc);
    f.i32.const(2);
    f.i32.shl();
    f.i32.add();
    f.localSet(end);
    f.localGet(pa);
    f.localGet(kc);
    f.i32.const(~(U - 1));
    f.i32.and();
    f.i32.const(2);
    f.i32.shl();
    f.i32.add();
    f.localSet(endMain);
    const loopWhile = (limit: number, u: number): void => {
      f.block();
      f.localGet(pa);
      f.localGet(limit);
      f.i32.geU();
      f.brIf(0);
      f.loop();
      // Unrolled steps bump the pointers after each step instead of using per-step offsets:
      // TurboFan hoists memory-base + offset for each distinct offset out of the loop, and more
      // than a handful of those live addresses spill (measured: unrolling by offsets halves speed).
      for (let s = 0; s < u; s++) {
        step(0, 0);
        f.localGet(pb);
        f.i32.const(4 * NR);
        f.i32.add();
        f.localSet(pb);
        f.localGet(pa);
        f.i32.const(4);
        f.i32.add();
        if (s < u - 1) f.localSet(pa);
        else f.localTee(pa);
      }
      f.localGet(limit);
      f.i32.ltU();
      f.brIf(0);
      f.end();
      f.end();
    };
    loopWhile(endMain, U);
    if (U > 1) loopWhile(end, 1);

    for (let r = 0; r < mr; r++) for (let v = 0; v < nvec; v++) storePartial(f, pc, r * rowC + 16 * v, acc[r]![v]!, lanes(v));
    if (epiFn >= 0) {
      // The epilogue lives in its own function: inline, its locals raised register pressure in
      // this function and TurboFan spilled accumulators in the k loop (measured: twice as slow).
      f.localGet(final);
      f.if();
      f.localGet(pc);
      for (let x = 0; x < nInputs; x++) f.localGet(6 + x);
      f.call(epiFn);
      f.end();
    }
  });
}

/** `epilogue(pc, e_0 .. e_x)`: applies the epilogue to an mr x nv tile of C in place. */
function emitEpilogueTile(mb: ModuleBuilder, p: GemmProblem, epi: Epilogue, mr: number, nv: number): number {
  const params: ValType[] = new Array<ValType>(1 + epi.inputs.length).fill("i32");
  return mb.func(undefined, params, [], (f) => {
    const pc = 0;
    const nvec = nv > 4 ? 2 : 1;
    const lanes = (v: number): number => Math.min(4, nv - 4 * v);
    const rowC = 4 * p.n;
    const acc: number[][] = [];
    for (let r = 0; r < mr; r++) acc.push(Array.from({ length: nvec }, () => f.local("v128")));
    for (let r = 0; r < mr; r++) {
      for (let v = 0; v < nvec; v++) {
        loadPartial(f, pc, r * rowC + 16 * v, lanes(v));
        f.localSet(acc[r]![v]!);
      }
    }
    emitEpilogue(f, epi, acc, mr, nvec, lanes, 1);
    for (let r = 0; r < mr; r++) for (let v = 0; v < nvec; v++) storePartial(f, pc, r * rowC + 16 * v, acc[r]![v]!, lanes(v));
  });
}

/** Replaces each accumulator by the epilogue's result; input addresses are params firstParam + x. */
function emitEpilogue(f: FunctionBuilder, epi: Epilogue, acc: number[][], mr: number, nvec: number, lanes: (v: number) => number, firstParam: number): void {
  const ins = epi.inputs.map(() => f.local("v128"));
  const vals = epi.nodes.map(() => f.local("v128"));
  // Which inputs the computation reads at all.
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nvec; v++) {
      epi.inputs.forEach((e, x) => {
        const addr = firstParam + x;
        if (e.bytes === 1) {
          // bool: bytes 0/1 -> lanes of all zeros / all ones.
          if (e.sj === 0) {
            f.localGet(addr);
            f.i32.load8U(r * e.si, 1);
            f.i32x4.splat();
          } else {
            // Four bytes (past the row's end only into the buffer's padding or the next row,
            // whose lanes are never stored), spread one per 32-bit lane.
            f.localGet(addr);
            f.v128.load32Zero(r * e.si + 4 * v, 1);
            f.v128.const([0, 16, 16, 16, 1, 16, 16, 16, 2, 16, 16, 16, 3, 16, 16, 16]);
            f.i8x16.swizzle();
          }
          f.v128.const(new Array<number>(16).fill(0));
          f.i32x4.eq();
          f.v128.not();
        } else if (e.sj === 0) {
          f.localGet(addr);
          f.v128.load32Splat(4 * r * e.si, 4);
        } else {
          loadPartial(f, addr, 4 * (r * e.si + 4 * v), lanes(v));
        }
        f.localSet(ins[x]!);
      });
      const local = (o: number | { readonly input: number }): number => (typeof o === "number" ? (o < 0 ? acc[r]![v]! : vals[o]!) : ins[o.input]!);
      epi.nodes.forEach((node, j) => {
        const ops = node.operands.map(local);
        if (ops.length === 1) (UNARY[node.op] ?? VMATH_UNARY[node.op]!)(f, ops[0]!);
        else if (ops.length === 3) TERNARY[node.op]!(f, ops[0]!, ops[1]!, ops[2]!);
        else BINARY[node.op]!(f, ops[0]!, ops[1]!);
        f.localSet(vals[j]!);
      });
      if (epi.result >= 0) {
        f.localGet(vals[epi.result]!);
        f.localSet(acc[r]![v]!);
      }
    }
  }
}

/** Pushes the address in argument slot `slot` (+ a constant byte offset). */
function argAddr(f: FunctionBuilder, args: number, slot: number, offset = 0): void {
  f.localGet(args);
  f.i32.load(4 * slot, 4);
  if (offset !== 0) {
    f.i32.const(offset);
    f.i32.add();
  }
}

/** `pack(args, begin, end)`: packs B panels [begin, end) into scratch. */
function emitPack(mb: ModuleBuilder, p: GemmProblem, name: string): void {
  const panels = Math.ceil(p.n / NR);
  const edge = p.n % NR;
  mb.func(name, ["i32", "i32", "i32"], [], (f) => {
    const [args, begin, endItem] = [0, 1, 2];
    const q = f.local("i32");
    const src = f.local("i32");
    const dst = f.local("i32");
    const stop = f.local("i32");
    const b = f.local("i32");
    const packBase = f.local("i32");
    const jp = f.local("i32");
    argAddr(f, args, p.bSlot);
    f.localSet(b);
    argAddr(f, args, p.scratchSlot, p.packOffset);
    f.localSet(packBase);
    f.forRange(q, { local: begin }, { local: endItem }, 1, () => {
      // dst = packBase + q * k * NR * 4; panel jp = q % panels of matrix q / panels.
      f.localGet(packBase);
      f.localGet(q);
      f.i32.const(p.k * NR * 4);
      f.i32.mul();
      f.i32.add();
      f.localSet(dst);
      f.localGet(q);
      f.i32.const(panels);
      f.i32.remU();
      f.localSet(jp);
      // src = b + ((q / panels) * k * n + jp * NR) * 4
      f.localGet(b);
      f.localGet(q);
      f.i32.const(panels);
      f.i32.divU();
      f.i32.const(p.k * p.n * 4);
      f.i32.mul();
      f.i32.add();
      f.localGet(jp);
      f.i32.const(NR * 4);
      f.i32.mul();
      f.i32.add();
      f.localSet(src);
      f.localGet(dst);
      f.i32.const(p.k * NR * 4);
      f.i32.add();
      f.localSet(stop);
      const copyRows = (nv: number): void => {
        f.block();
        f.localGet(dst);
        f.localGet(stop);
        f.i32.geU();
        f.brIf(0);
        f.loop();
        for (let v = 0; v < NR / 4; v++) {
          const lanes = Math.max(0, Math.min(4, nv - 4 * v));
          f.localGet(dst);
          if (lanes === 0) f.f32x4.const(0, 0, 0, 0);
          else loadPartial(f, src, 16 * v, lanes);
          f.v128.store(16 * v, 16);
        }
        f.localGet(src);
        f.i32.const(4 * p.n);
        f.i32.add();
        f.localSet(src);
        f.localGet(dst);
        f.i32.const(4 * NR);
        f.i32.add();
        f.localTee(dst);
        f.localGet(stop);
        f.i32.ltU();
        f.brIf(0);
        f.end();
        f.end();
      };
      if (edge === 0) {
        copyRows(NR);
      } else {
        f.localGet(jp);
        f.i32.const(panels - 1);
        f.i32.eq();
        f.if();
        copyRows(edge);
        f.else();
        copyRows(NR);
        f.end();
      }
    });
  });
}

/**
 * `run(args, begin, end, tileBase)`: row tiles [begin, end), K slice by K slice. Tiles are numbered
 * batch by batch: tile t covers rows (t % tilesPerM) * mr .. of output matrix floor(t / tilesPerM).
 * When A lives in scratch (conv's im2col block), its rows start at tile `tileBase`.
 */
function emitRun(mb: ModuleBuilder, p: GemmProblem, t: GemmTuning): number {
  const MR = t.mr;
  const tilesPerM = Math.ceil(p.m / MR);
  const mEdge = p.m % MR;
  const panels = Math.ceil(p.n / NR);
  const nEdge = p.n % NR;
  const fullPanels = nEdge === 0 ? panels : panels - 1;
  const epi = p.epilogue;
  const tiles = new Map<string, number>();
  const tileFn = (mr: number, nv: number): number => {
    const key = `${mr}x${nv}`;
    let fi = tiles.get(key);
    if (fi === undefined) {
      fi = emitTile(mb, p, t, mr, nv);
      tiles.set(key, fi);
    }
    return fi;
  };
  const fMain = fullPanels > 0 ? tileFn(MR, NR) : -1;
  const fMainEdge = nEdge ? tileFn(MR, nEdge) : -1;
  const fRow = mEdge && fullPanels > 0 ? tileFn(mEdge, NR) : -1;
  const fRowEdge = mEdge && nEdge ? tileFn(mEdge, nEdge) : -1;
  const bIdx = bIndexStrides(p);
  const panelBytes = p.k * NR * 4;

  return mb.func(undefined, ["i32", "i32", "i32", "i32"], [], (f) => {
    const [args, begin, endItem, tileBase] = [0, 1, 2, 3];
    const A = f.local("i32");
    const C = f.local("i32");
    const P = f.local("i32");
    const E = (epi?.inputs ?? []).map(() => f.local("i32"));
    const k0 = f.local("i32");
    const kc = f.local("i32");
    const load = f.local("i32");
    const final = f.local("i32");
    const it = f.local("i32");
    const bt = f.local("i32");
    const tile = f.local("i32");
    const pa = f.local("i32");
    const pb = f.local("i32");
    const pc = f.local("i32");
    const eRow = E.map(() => f.local("i32"));
    const jp = f.local("i32");
    const edgeRow = f.local("i32");

    if (p.aInScratch) argAddr(f, args, p.scratchSlot, p.aInScratch.offset);
    else argAddr(f, args, p.aSlot);
    f.localSet(A);
    argAddr(f, args, p.cSlot);
    f.localSet(C);
    // Without k there is no packed B (and no scratch slot): P is never read.
    if (p.k > 0) {
      argAddr(f, args, p.scratchSlot, p.packOffset);
      f.localSet(P);
    }
    epi?.inputs.forEach((e, x) => {
      argAddr(f, args, e.slot);
      f.localSet(E[x]!);
    });

    // for (k0 = 0; ; k0 += KC) { ...; if (k0 + KC >= k) break; }  (one pass when k == 0)
    f.i32.const(0);
    f.localSet(k0);
    f.loop();
    {
      // kc = min(KC, k - k0); load = k0 > 0; final = k0 + kc >= k
      f.i32.const(p.k);
      f.localGet(k0);
      f.i32.sub();
      f.localTee(kc);
      f.i32.const(t.kc);
      f.localGet(kc);
      f.i32.const(t.kc);
      f.i32.ltS();
      f.select();
      f.localSet(kc);
      f.localGet(k0);
      f.i32.const(0);
      f.i32.gtS();
      f.localSet(load);
      f.localGet(k0);
      f.localGet(kc);
      f.i32.add();
      f.i32.const(p.k);
      f.i32.geS();
      f.localSet(final);

      f.forRange(it, { local: begin }, { local: endItem }, 1, () => {
        // bt = it / tilesPerM; tile = it % tilesPerM
        f.localGet(it);
        f.i32.const(tilesPerM);
        f.i32.divU();
        f.localSet(bt);
        f.localGet(it);
        f.i32.const(tilesPerM);
        f.i32.remU();
        f.localSet(tile);
        // pa = A + 4 * (aBatch(bt) + (tile - tileBase) * MR * k + k0)
        f.localGet(A);
        emitBatchOffset(f, bt, p.batch, p.aBatchStrides);
        f.localGet(tile);
        if (p.aInScratch) {
          f.localGet(tileBase);
          f.i32.sub();
        }
        f.i32.const(MR * p.k);
        f.i32.mul();
        f.i32.add();
        f.localGet(k0);
        f.i32.add();
        f.i32.const(2);
        f.i32.shl();
        f.i32.add();
        f.localSet(pa);
        // pc = C + 4 * (bt * m * n + tile * MR * n)
        f.localGet(C);
        f.localGet(bt);
        f.i32.const(p.m * p.n * 4);
        f.i32.mul();
        f.i32.add();
        f.localGet(tile);
        f.i32.const(MR * p.n * 4);
        f.i32.mul();
        f.i32.add();
        f.localSet(pc);
        // pb = P + bIndex(bt) * panels * panelBytes + k0 * NR * 4
        f.localGet(P);
        emitBatchOffset(f, bt, p.batch, bIdx);
        f.i32.const(panels * panelBytes);
        f.i32.mul();
        f.i32.add();
        f.localGet(k0);
        f.i32.const(NR * 4);
        f.i32.mul();
        f.i32.add();
        f.localSet(pb);
        epi?.inputs.forEach((e, x) => {
          f.localGet(E[x]!);
          emitBatchOffset(f, bt, p.batch, e.batchStrides);
          f.localGet(tile);
          f.i32.const(MR * e.si);
          f.i32.mul();
          f.i32.add();
          if (e.bytes === 4) {
            f.i32.const(2);
            f.i32.shl();
          }
          f.i32.add();
          f.localSet(eRow[x]!);
        });
        if (mEdge) {
          f.localGet(tile);
          f.i32.const(tilesPerM - 1);
          f.i32.eq();
          f.localSet(edgeRow);
        }
        const callTile = (fi: number, colBytes: { local: number } | number): void => {
          const pushCol = (scale: number): void => {
            if (typeof colBytes === "number") f.i32.const(colBytes * scale);
            else if (scale === 1) f.localGet(colBytes.local);
            else {
              f.localGet(colBytes.local);
              f.i32.const(scale);
              f.i32.mul();
            }
          };
          f.localGet(pa);
          f.localGet(pb);
          pushCol(p.k);
          f.i32.add();
          f.localGet(pc);
          pushCol(1);
          f.i32.add();
          f.localGet(kc);
          f.localGet(load);
          f.localGet(final);
          epi?.inputs.forEach((e, x) => {
            f.localGet(eRow[x]!);
            if (e.sj === 1) {
              pushCol(1);
              // Column offsets count float32 bytes; a bool input has one byte per column.
              if (e.bytes === 1) {
                f.i32.const(2);
                f.i32.shrU();
              }
              f.i32.add();
            }
          });
          f.call(fi);
        };
        // jp counts column bytes of C (NR * 4 per panel); the packed panel is k times further.
        const panelsLoop = (fi: number): void => {
          f.forRange(jp, 0, fullPanels * NR * 4, NR * 4, () => callTile(fi, { local: jp }));
        };
        const edgeCall = (fi: number): void => callTile(fi, fullPanels * NR * 4);
        if (mEdge) {
          f.localGet(edgeRow);
          f.if();
          if (fRow >= 0) panelsLoop(fRow);
          if (fRowEdge >= 0) edgeCall(fRowEdge);
          f.else();
          if (fMain >= 0) panelsLoop(fMain);
          if (fMainEdge >= 0) edgeCall(fMainEdge);
          f.end();
        } else {
          if (fMain >= 0) panelsLoop(fMain);
          if (fMainEdge >= 0) edgeCall(fMainEdge);
        }
      });

      f.localGet(k0);
      f.i32.const(t.kc);
      f.i32.add();
      f.localTee(k0);
      f.i32.const(p.k);
      f.i32.ltS();
      f.brIf(0);
    }
    f.end();
  });
}

/** The GEMM's functions inside a module: its pack phase (if any) and the run function to wrap. */
export interface GemmParts {
  readonly pack: WasmPhase | undefined;
  /** Function index of run(args, begin, end, tileBase). */
  readonly run: number;
  /** Row tiles over the whole problem, and the run phase's grain. */
  readonly tiles: number;
  readonly grain: number;
}

/** Adds the GEMM's functions to `mb`; undefined when the output is empty (nothing to run). */
export function emitGemm(mb: ModuleBuilder, p: GemmProblem, tuning: GemmTuning = DEFAULT_GEMM_TUNING, prefix = ""): GemmParts | undefined {
  const count = sizeOf(p.batch);
  if (count * p.m * p.n === 0) return undefined;
  let pack: WasmPhase | undefined;
  if (p.k > 0) {
    emitPack(mb, p, `${prefix}pack`);
    pack = { entry: `${prefix}pack`, items: distinctB(p) * Math.ceil(p.n / NR), grain: Math.max(1, Math.ceil(16384 / (p.k * NR))), reuseWhileSame: p.bSlot };
  }
  const run = emitRun(mb, p, tuning);
  const tiles = count * Math.ceil(p.m / tuning.mr);
  return { pack, run, tiles, grain: runGrain(tiles, tuning) };
}

/** Exports `name(args, begin, end)` = run(args, begin + first, end + first, first): a block of tiles as a phase. */
export function emitRunPhase(mb: ModuleBuilder, parts: GemmParts, name: string, firstTile: number, tiles: number): WasmPhase {
  mb.func(name, ["i32", "i32", "i32"], [], (f) => {
    f.localGet(0);
    f.localGet(1);
    if (firstTile) {
      f.i32.const(firstTile);
      f.i32.add();
    }
    f.localGet(2);
    if (firstTile) {
      f.i32.const(firstTile);
      f.i32.add();
    }
    f.i32.const(firstTile);
    f.call(parts.run);
  });
  return { entry: name, items: tiles, grain: parts.grain };
}

/** Row tiles per chunk: large enough to reuse a packed B slice, small enough to give 2 threads work to share. */
function runGrain(items: number, t: GemmTuning): number {
  // About 32 chunks: enough for two to four threads to balance even when there are few row tiles.
  return Math.max(1, Math.min(t.maxGrain, Math.ceil(items / 32)));
}

// ---- matmul plans -----------------------------------------------------------------------------------

const isInput = (r: Ref): r is { readonly input: number } => "input" in r;

/**
 * The epilogue of a matmul spec in the generator's terms: "none" when the matmul value itself is the
 * result, undefined when some body op, dtype or layout is unsupported.
 */
function epilogueOf(spec: KernelSpec, plan: MatmulPlan, aRank: number, bRank: number): Epilogue | undefined | "none" {
  const yielded = spec.yields[0]!;
  if (isInput(yielded)) return undefined;
  if (yielded.node === 0) return "none";
  const outShape = plan.outShape;
  const rank = outShape.length;
  const batchRank = plan.batch.length;
  // Output dims: batch..., m (unless a is 1-D), n (unless b is 1-D).
  const hasM = aRank > 1;
  const hasN = bRank > 1;
  const fits = (shape: readonly number[]): boolean =>
    shape.length <= rank && shape.every((d, i) => d === 1 || d === outShape[rank - shape.length + i]);
  const inputs: EpiInput[] = [];
  const inputIndex = new Map<number, number>();
  const nodeMap = new Map<number, number>();
  const nodes: EpiNode[] = [];
  for (let j = 1; j < spec.nodes.length; j++) {
    const node = spec.nodes[j]!;
    const unary = Object.hasOwn(UNARY, node.op.name) || Object.hasOwn(VMATH_UNARY, node.op.name);
    const arity = node.operands.length;
    const known = arity === 1 ? unary : arity === 2 ? Object.hasOwn(BINARY, node.op.name) : Object.hasOwn(TERNARY, node.op.name);
    if (node.type.dtype !== "float32" || !known || !fits(node.type.shape)) return undefined;
    const operands: EpiNode["operands"][number][] = [];
    for (const [position, r] of node.operands.entries()) {
      // where's condition must be a bool input (loaded as a mask); every other operand is float32.
      const wantBool = arity === 3 && position === 0;
      if (!isInput(r)) {
        const mapped = r.node === 0 ? -1 : nodeMap.get(r.node);
        if (mapped === undefined || wantBool) return undefined;
        operands.push(mapped);
        continue;
      }
      const t = spec.inputs[r.input]!;
      if (t.dtype !== (wantBool ? "bool" : "float32") || !fits(t.shape)) return undefined;
      let x = inputIndex.get(r.input);
      if (x === undefined) {
        const st = broadcastStrides(t.shape, outShape);
        const si = hasM ? st[batchRank]! : 0;
        const sj = hasN ? st[rank - 1]! : 0;
        if (sj !== 0 && sj !== 1) return undefined;
        x = inputs.length;
        inputs.push({ slot: r.input, batchStrides: st.slice(0, batchRank), si, sj, bytes: t.dtype === "bool" ? 1 : 4 });
        inputIndex.set(r.input, x);
      } else if (inputs[x]!.bytes !== (wantBool ? 1 : 4)) {
        return undefined;
      }
      operands.push({ input: x });
    }
    nodeMap.set(j, nodes.length);
    nodes.push({ op: node.op.name, operands });
  }
  const result = nodeMap.get(yielded.node);
  if (result === undefined) return undefined;
  return { inputs, nodes, result };
}

/**
 * A plan for a "matmul" KernelSpec (plain, batched, broadcast batch dims, 1-D operands as the op
 * defines them, with an optional fused elementwise epilogue body), float32 only; undefined otherwise.
 */
export function wasmMatmulPlan(spec: KernelSpec, opts: { shared: boolean }, tuning: GemmTuning = DEFAULT_GEMM_TUNING): WasmKernelPlan | undefined {
  if (spec.kind !== "matmul" || spec.nodes.length === 0 || spec.outputs.length !== 1 || spec.yields.length !== 1) return undefined;
  const mm = spec.nodes[0]!;
  if (mm.op.name !== "matmul" || mm.operands.length !== 2 || !mm.operands.every(isInput)) return undefined;
  const [ra, rb] = mm.operands as [{ input: number }, { input: number }];
  const aType = spec.inputs[ra.input];
  const bType = spec.inputs[rb.input];
  const out = spec.outputs[0]!;
  if (!aType || !bType || aType.dtype !== "float32" || bType.dtype !== "float32" || out.dtype !== "float32") return undefined;
  let plan: MatmulPlan;
  try {
    plan = matmulPlan(aType, bType);
  } catch {
    return undefined;
  }
  const outShape = plan.outShape;
  if (out.shape.length !== outShape.length || out.shape.some((d, i) => d !== outShape[i])) return undefined;
  const epi = epilogueOf(spec, plan, aType.shape.length, bType.shape.length);
  if (epi === undefined) return undefined;
  const epilogue = epi === "none" ? undefined : epi;
  // Every byte offset the kernel computes must fit an i32.
  const maxElems = Math.max(...spec.inputs.map((t) => sizeOf(t.shape)), sizeOf(outShape));
  if (maxElems * 4 >= 2 ** 31) return undefined;

  const cSlot = spec.inputs.length;
  const scratchSlot = cSlot + 1;
  const problem0: GemmProblem = {
    m: plan.m,
    n: plan.n,
    k: plan.k,
    batch: plan.batch,
    aBatchStrides: plan.aBatchStrides,
    bBatchStrides: plan.bBatchStrides,
    aSlot: ra.input,
    bSlot: rb.input,
    cSlot,
    scratchSlot,
    packOffset: 0,
    ...(epilogue ? { epilogue } : {}),
  };
  const problem = foldBatch(problem0);
  const scratchBytes = problem.k > 0 && sizeOf(problem.batch) * problem.m * problem.n > 0 ? packedBytes(problem) : 0;
  if (scratchBytes >= 2 ** 31) return undefined;
  const mb = new ModuleBuilder({ memory: kernelMemory(opts.shared) });
  const parts = emitGemm(mb, problem, tuning);
  const phases: WasmPhase[] = [];
  if (parts) {
    if (parts.pack) phases.push(parts.pack);
    phases.push(emitRunPhase(mb, parts, "run", 0, parts.tiles));
  }
  return {
    key: JSON.stringify(["wasm-gemm-1", opts.shared, tuning, specKey(spec)]),
    bytes: mb.bytes(),
    phases,
    scratchBytes,
  };
}

/**
 * B shared by the whole batch and A dense: the batch folds into A's rows (one taller GEMM, better
 * tiles for small m), provided every epilogue input's row offset stays linear in the folded row.
 */
function foldBatch(p: GemmProblem): GemmProblem {
  const count = sizeOf(p.batch);
  if (count <= 1 || p.bBatchStrides.some((s) => s !== 0)) return p;
  const dense = (strides: readonly number[], rowStride: number): boolean =>
    p.batch.every((d, i) => d === 1 || strides[i] === rowStride * p.m * sizeOf(p.batch.slice(i + 1)));
  if (!dense(p.aBatchStrides, p.k)) return p;
  const inputs: EpiInput[] = [];
  for (const e of p.epilogue?.inputs ?? []) {
    if (e.si === 0 && e.batchStrides.every((s) => s === 0)) inputs.push({ ...e, batchStrides: [] });
    else if (dense(e.batchStrides, e.si)) inputs.push({ ...e, batchStrides: [] });
    else return p;
  }
  return {
    ...p,
    m: count * p.m,
    batch: [],
    aBatchStrides: [],
    bBatchStrides: [],
    ...(p.epilogue ? { epilogue: { ...p.epilogue, inputs } } : {}),
  };
}
