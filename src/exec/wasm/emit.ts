/**
 * A small WebAssembly binary emitter: enough of the format (types, one imported memory, functions,
 * exports, code) to generate compute kernels at run time without a toolchain or a runtime
 * dependency. Instruction methods mirror the WAT mnemonics, grouped by type prefix with the rest in
 * camelCase: `f.f32x4.add()` is `f32x4.add`, `f.i32.truncSatF32S()` is `i32.trunc_sat_f32_s`.
 *
 * Nothing here validates the instruction stream; `WebAssembly.Module` does, and generated kernels
 * are always compiled right after they are built, so a malformed body fails at once with the
 * engine's own message.
 */

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

const VALTYPE: Readonly<Record<ValType, number>> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

// ---- LEB128 and byte helpers ----------------------------------------------------------------------

function uleb(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

function sleb(out: number[], value: number): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function sleb64(out: number[], value: bigint): void {
  let v = BigInt.asIntN(64, value);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

const scratch = new DataView(new ArrayBuffer(8));

function name(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  uleb(out, bytes.length);
  for (const b of bytes) out.push(b);
}

function section(out: number[], id: number, body: number[]): void {
  out.push(id);
  uleb(out, body.length);
  for (const b of body) out.push(b);
}

// ---- instruction tables ------------------------------------------------------------------------------

/** Opcodes without immediates, per group: a number is a one-byte opcode, [prefix, n] a prefixed one. */
type Op = number | readonly [number, number];

const SIMD = 0xfd;
const MISC = 0xfc;

const I32_OPS = {
  eqz: 0x45, eq: 0x46, ne: 0x47, ltS: 0x48, ltU: 0x49, gtS: 0x4a, gtU: 0x4b, leS: 0x4c, leU: 0x4d, geS: 0x4e, geU: 0x4f,
  clz: 0x67, ctz: 0x68, popcnt: 0x69, add: 0x6a, sub: 0x6b, mul: 0x6c, divS: 0x6d, divU: 0x6e, remS: 0x6f, remU: 0x70,
  and: 0x71, or: 0x72, xor: 0x73, shl: 0x74, shrS: 0x75, shrU: 0x76, rotl: 0x77, rotr: 0x78,
  wrapI64: 0xa7, truncF32S: 0xa8, truncF32U: 0xa9, truncF64S: 0xaa, truncF64U: 0xab, reinterpretF32: 0xbc,
  extend8S: 0xc0, extend16S: 0xc1,
  truncSatF32S: [MISC, 0], truncSatF32U: [MISC, 1], truncSatF64S: [MISC, 2], truncSatF64U: [MISC, 3],
} as const satisfies Record<string, Op>;

const F32_OPS = {
  eq: 0x5b, ne: 0x5c, lt: 0x5d, gt: 0x5e, le: 0x5f, ge: 0x60,
  abs: 0x8b, neg: 0x8c, ceil: 0x8d, floor: 0x8e, trunc: 0x8f, nearest: 0x90, sqrt: 0x91,
  add: 0x92, sub: 0x93, mul: 0x94, div: 0x95, min: 0x96, max: 0x97, copysign: 0x98,
  convertI32S: 0xb2, convertI32U: 0xb3, demoteF64: 0xb6, reinterpretI32: 0xbe,
} as const satisfies Record<string, Op>;

const F64_OPS = {
  eq: 0x61, ne: 0x62, lt: 0x63, gt: 0x64, le: 0x65, ge: 0x66,
  abs: 0x99, neg: 0x9a, ceil: 0x9b, floor: 0x9c, trunc: 0x9d, nearest: 0x9e, sqrt: 0x9f,
  add: 0xa0, sub: 0xa1, mul: 0xa2, div: 0xa3, min: 0xa4, max: 0xa5, copysign: 0xa6,
  convertI32S: 0xb7, convertI32U: 0xb8, promoteF32: 0xbb,
} as const satisfies Record<string, Op>;

const V128_OPS = {
  not: [SIMD, 77], and: [SIMD, 78], andnot: [SIMD, 79], or: [SIMD, 80], xor: [SIMD, 81], bitselect: [SIMD, 82], anyTrue: [SIMD, 83],
} as const satisfies Record<string, Op>;

const I8X16_OPS = { swizzle: [SIMD, 14], splat: [SIMD, 15] } as const satisfies Record<string, Op>;

const I32X4_OPS = {
  splat: [SIMD, 17],
  eq: [SIMD, 55], ne: [SIMD, 56], ltS: [SIMD, 57], ltU: [SIMD, 58], gtS: [SIMD, 59], gtU: [SIMD, 60], leS: [SIMD, 61], leU: [SIMD, 62], geS: [SIMD, 63], geU: [SIMD, 64],
  abs: [SIMD, 160], neg: [SIMD, 161], allTrue: [SIMD, 163], bitmask: [SIMD, 164],
  shl: [SIMD, 171], shrS: [SIMD, 172], shrU: [SIMD, 173], add: [SIMD, 174], sub: [SIMD, 177], mul: [SIMD, 181],
  minS: [SIMD, 182], minU: [SIMD, 183], maxS: [SIMD, 184], maxU: [SIMD, 185],
  truncSatF32x4S: [SIMD, 248], truncSatF32x4U: [SIMD, 249], truncSatF64x2SZero: [SIMD, 252],
} as const satisfies Record<string, Op>;

const F32X4_OPS = {
  splat: [SIMD, 19],
  eq: [SIMD, 65], ne: [SIMD, 66], lt: [SIMD, 67], gt: [SIMD, 68], le: [SIMD, 69], ge: [SIMD, 70],
  demoteF64x2Zero: [SIMD, 94],
  ceil: [SIMD, 103], floor: [SIMD, 104], trunc: [SIMD, 105], nearest: [SIMD, 106],
  abs: [SIMD, 224], neg: [SIMD, 225], sqrt: [SIMD, 227], add: [SIMD, 228], sub: [SIMD, 229], mul: [SIMD, 230], div: [SIMD, 231],
  min: [SIMD, 232], max: [SIMD, 233], pmin: [SIMD, 234], pmax: [SIMD, 235],
  convertI32x4S: [SIMD, 250], convertI32x4U: [SIMD, 251],
} as const satisfies Record<string, Op>;

const F64X2_OPS = {
  splat: [SIMD, 20],
  eq: [SIMD, 71], ne: [SIMD, 72], lt: [SIMD, 73], gt: [SIMD, 74], le: [SIMD, 75], ge: [SIMD, 76],
  promoteLowF32x4: [SIMD, 95], ceil: [SIMD, 116], floor: [SIMD, 117], trunc: [SIMD, 122], nearest: [SIMD, 148],
  abs: [SIMD, 236], neg: [SIMD, 237], sqrt: [SIMD, 239], add: [SIMD, 240], sub: [SIMD, 241], mul: [SIMD, 242], div: [SIMD, 243],
  min: [SIMD, 244], max: [SIMD, 245], pmin: [SIMD, 246], pmax: [SIMD, 247], convertLowI32x4S: [SIMD, 254],
} as const satisfies Record<string, Op>;

type Simple<T> = { readonly [K in keyof T]: () => void };

export interface I32Ops extends Simple<typeof I32_OPS> {
  const(value: number): void;
  load(offset?: number, align?: number): void;
  load8U(offset?: number, align?: number): void;
  load8S(offset?: number, align?: number): void;
  store(offset?: number, align?: number): void;
  store8(offset?: number, align?: number): void;
}
export interface I64Ops {
  const(value: bigint): void;
}
export interface F32Ops extends Simple<typeof F32_OPS> {
  const(value: number): void;
  load(offset?: number, align?: number): void;
  store(offset?: number, align?: number): void;
}
export interface F64Ops extends Simple<typeof F64_OPS> {
  const(value: number): void;
  load(offset?: number, align?: number): void;
  store(offset?: number, align?: number): void;
}
export interface V128Ops extends Simple<typeof V128_OPS> {
  /** 16 raw bytes. */
  const(bytes: ArrayLike<number>): void;
  load(offset?: number, align?: number): void;
  store(offset?: number, align?: number): void;
  load32Splat(offset?: number, align?: number): void;
  load64Splat(offset?: number, align?: number): void;
  load32Zero(offset?: number, align?: number): void;
  load64Zero(offset?: number, align?: number): void;
  load32Lane(lane: number, offset?: number, align?: number): void;
  store32Lane(lane: number, offset?: number, align?: number): void;
  load64Lane(lane: number, offset?: number, align?: number): void;
  store64Lane(lane: number, offset?: number, align?: number): void;
}
export interface I8x16Ops extends Simple<typeof I8X16_OPS> {
  /** Lane indices 0-31 into the concatenation of the two operands. */
  shuffle(lanes: readonly number[]): void;
}
export interface I32x4Ops extends Simple<typeof I32X4_OPS> {
  const(a: number, b: number, c: number, d: number): void;
  extractLane(lane: number): void;
  replaceLane(lane: number): void;
}
export interface F32x4Ops extends Simple<typeof F32X4_OPS> {
  const(a: number, b: number, c: number, d: number): void;
  extractLane(lane: number): void;
  replaceLane(lane: number): void;
}
export interface F64x2Ops extends Simple<typeof F64X2_OPS> {
  const(a: number, b: number): void;
  extractLane(lane: number): void;
  replaceLane(lane: number): void;
}

/** A block's result: nothing, or one value. */
export type BlockType = ValType | undefined;

/** One function body under construction. Parameters are locals 0..params.length-1. */
export class FunctionBuilder {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];
  private depth = 0;

  readonly i32: I32Ops;
  readonly i64: I64Ops;
  readonly f32: F32Ops;
  readonly f64: F64Ops;
  readonly v128: V128Ops;
  readonly i8x16: I8x16Ops;
  readonly i32x4: I32x4Ops;
  readonly f32x4: F32x4Ops;
  readonly f64x2: F64x2Ops;

  constructor(params: readonly ValType[], results: readonly ValType[]) {
    this.params = params;
    this.results = results;
    const c = this.code;
    const mem = (bytes: readonly number[], natural: number) => (offset = 0, align = natural): void => {
      c.push(...bytes);
      uleb(c, Math.log2(align));
      uleb(c, offset);
    };
    const simdMem = (n: number, natural: number) => mem([SIMD, ...ulebBytes(n)], natural);
    const lane = (bytes: readonly number[]) => (l: number): void => {
      c.push(...bytes, l);
    };
    const simdLane = (n: number) => lane([SIMD, ...ulebBytes(n)]);
    const laneMem = (n: number, natural: number) => (l: number, offset = 0, align = natural): void => {
      c.push(SIMD, ...ulebBytes(n));
      uleb(c, Math.log2(align));
      uleb(c, offset);
      c.push(l);
    };
    const v128Const = (view: (dv: DataView) => void): void => {
      const dv = new DataView(new ArrayBuffer(16));
      view(dv);
      c.push(SIMD, ...ulebBytes(12));
      for (let i = 0; i < 16; i++) c.push(dv.getUint8(i));
    };
    this.i32 = {
      ...simple(c, I32_OPS),
      const: (v: number) => {
        c.push(0x41);
        sleb(c, v);
      },
      load: mem([0x28], 4),
      load8S: mem([0x2c], 1),
      load8U: mem([0x2d], 1),
      store: mem([0x36], 4),
      store8: mem([0x3a], 1),
    };
    this.i64 = {
      const: (v: bigint) => {
        c.push(0x42);
        sleb64(c, v);
      },
    };
    this.f32 = {
      ...simple(c, F32_OPS),
      const: (v: number) => {
        scratch.setFloat32(0, v, true);
        c.push(0x43, scratch.getUint8(0), scratch.getUint8(1), scratch.getUint8(2), scratch.getUint8(3));
      },
      load: mem([0x2a], 4),
      store: mem([0x38], 4),
    };
    this.f64 = {
      ...simple(c, F64_OPS),
      const: (v: number) => {
        scratch.setFloat64(0, v, true);
        c.push(0x44);
        for (let i = 0; i < 8; i++) c.push(scratch.getUint8(i));
      },
      load: mem([0x2b], 8),
      store: mem([0x39], 8),
    };
    this.v128 = {
      ...simple(c, V128_OPS),
      const: (bytes: ArrayLike<number>) => {
        if (bytes.length !== 16) throw new RangeError(`v128.const takes 16 bytes, got ${bytes.length}`);
        v128Const((dv) => {
          for (let i = 0; i < 16; i++) dv.setUint8(i, bytes[i]!);
        });
      },
      load: simdMem(0, 16),
      load32Splat: simdMem(9, 4),
      load64Splat: simdMem(10, 8),
      store: simdMem(11, 16),
      load32Zero: simdMem(92, 4),
      load64Zero: simdMem(93, 8),
      load32Lane: laneMem(86, 4),
      load64Lane: laneMem(87, 8),
      store32Lane: laneMem(90, 4),
      store64Lane: laneMem(91, 8),
    };
    this.i8x16 = {
      ...simple(c, I8X16_OPS),
      shuffle: (lanes: readonly number[]) => {
        if (lanes.length !== 16 || lanes.some((l) => !(l >= 0 && l < 32))) throw new RangeError("i8x16.shuffle takes 16 lane indices in 0..31");
        c.push(SIMD, ...ulebBytes(13), ...lanes);
      },
    };
    this.i32x4 = {
      ...simple(c, I32X4_OPS),
      const: (a, b, d, e) => v128Const((dv) => [a, b, d, e].forEach((x, i) => dv.setInt32(4 * i, x, true))),
      extractLane: simdLane(27),
      replaceLane: simdLane(28),
    };
    this.f32x4 = {
      ...simple(c, F32X4_OPS),
      const: (a, b, d, e) => v128Const((dv) => [a, b, d, e].forEach((x, i) => dv.setFloat32(4 * i, x, true))),
      extractLane: simdLane(31),
      replaceLane: simdLane(32),
    };
    this.f64x2 = {
      ...simple(c, F64X2_OPS),
      const: (a, b) => v128Const((dv) => [a, b].forEach((x, i) => dv.setFloat64(8 * i, x, true))),
      extractLane: simdLane(33),
      replaceLane: simdLane(34),
    };
  }

  /** A new local of `type`; returns its index. */
  local(type: ValType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  localGet(i: number): void {
    this.code.push(0x20);
    uleb(this.code, i);
  }
  localSet(i: number): void {
    this.code.push(0x21);
    uleb(this.code, i);
  }
  localTee(i: number): void {
    this.code.push(0x22);
    uleb(this.code, i);
  }

  block(type?: BlockType): void {
    this.open(0x02, type);
  }
  loop(type?: BlockType): void {
    this.open(0x03, type);
  }
  if(type?: BlockType): void {
    this.open(0x04, type);
  }
  else(): void {
    this.code.push(0x05);
  }
  end(): void {
    if (this.depth === 0) throw new Error("end() without an open block");
    this.depth--;
    this.code.push(0x0b);
  }
  br(depth: number): void {
    this.code.push(0x0c);
    uleb(this.code, depth);
  }
  brIf(depth: number): void {
    this.code.push(0x0d);
    uleb(this.code, depth);
  }
  return(): void {
    this.code.push(0x0f);
  }
  call(func: number): void {
    this.code.push(0x10);
    uleb(this.code, func);
  }
  drop(): void {
    this.code.push(0x1a);
  }
  select(): void {
    this.code.push(0x1b);
  }
  unreachable(): void {
    this.code.push(0x00);
  }
  memoryCopy(): void {
    this.code.push(MISC, 10, 0, 0);
  }
  memoryFill(): void {
    this.code.push(MISC, 11, 0);
  }

  /**
   * `for (i = start; i < end; i += step) body()` with `i`, `end` i32 locals (start/step constants
   * or locals). Emits nothing when the body is empty-ranged at run time; `end` is read every trip.
   */
  forRange(i: number, start: number | { local: number }, end: number | { local: number }, step: number, body: () => void): void {
    const push = (v: number | { local: number }): void => (typeof v === "number" ? this.i32.const(v) : this.localGet(v.local));
    push(start);
    this.localSet(i);
    this.block();
    this.localGet(i);
    push(end);
    this.i32.geS();
    this.brIf(0);
    this.loop();
    body();
    this.localGet(i);
    this.i32.const(step);
    this.i32.add();
    this.localTee(i);
    push(end);
    this.i32.ltS();
    this.brIf(0);
    this.end();
    this.end();
  }

  private open(opcode: number, type: BlockType): void {
    this.depth++;
    this.code.push(opcode, type === undefined ? 0x40 : VALTYPE[type]);
  }

  /** The function's code-section entry: local declarations, the body, `end`. */
  encode(): number[] {
    if (this.depth !== 0) throw new Error(`function body has ${this.depth} unclosed block(s)`);
    const body: number[] = [];
    const runs: [ValType, number][] = [];
    for (const t of this.locals) {
      const last = runs[runs.length - 1];
      if (last && last[0] === t) last[1]++;
      else runs.push([t, 1]);
    }
    uleb(body, runs.length);
    for (const [t, n] of runs) {
      uleb(body, n);
      body.push(VALTYPE[t]);
    }
    for (const b of this.code) body.push(b);
    body.push(0x0b);
    const out: number[] = [];
    uleb(out, body.length);
    for (const b of body) out.push(b);
    return out;
  }
}

function ulebBytes(n: number): number[] {
  const out: number[] = [];
  uleb(out, n);
  return out;
}

function simple<T extends Record<string, Op>>(code: number[], table: T): Simple<T> {
  const out: Record<string, () => void> = {};
  for (const [k, op] of Object.entries(table)) {
    const bytes = typeof op === "number" ? [op] : [op[0], ...ulebBytes(op[1])];
    out[k] = () => {
      for (const b of bytes) code.push(b);
    };
  }
  return out as Simple<T>;
}

export interface MemoryImport {
  readonly shared: boolean;
  /** Pages of 64 KiB. */
  readonly initial: number;
  readonly maximum?: number;
}

interface FuncEntry {
  readonly name: string | undefined;
  readonly type: number;
  body?: FunctionBuilder;
}

/** A module: an optional imported memory `env.memory`, functions, and their exports. */
export class ModuleBuilder {
  private readonly memory: MemoryImport | undefined;
  private readonly types: string[] = [];
  private readonly typeBytes: number[][] = [];
  private readonly funcs: FuncEntry[] = [];

  constructor(opts: { memory?: MemoryImport } = {}) {
    this.memory = opts.memory;
    if (this.memory?.shared && this.memory.maximum === undefined) throw new RangeError("a shared memory needs a maximum");
  }

  /** Declares a function (exported as `name` when given) and returns its index, for calls before its body exists. */
  declare(name: string | undefined, params: readonly ValType[], results: readonly ValType[]): number {
    this.funcs.push({ name, type: this.typeIndex(params, results) });
    return this.funcs.length - 1;
  }

  /** Builds the body of a declared function. */
  define(index: number, build: (f: FunctionBuilder) => void): void {
    const entry = this.funcs[index];
    if (!entry) throw new RangeError(`no function ${index}`);
    if (entry.body) throw new Error(`function ${index} is defined twice`);
    const sig = this.types[entry.type]!.split("->");
    const parse = (s: string): ValType[] => (s === "" ? [] : (s.split(",") as ValType[]));
    const f = new FunctionBuilder(parse(sig[0]!), parse(sig[1]!));
    build(f);
    entry.body = f;
  }

  /** Declares and defines a function in one step; returns its index. */
  func(name: string | undefined, params: readonly ValType[], results: readonly ValType[], build: (f: FunctionBuilder) => void): number {
    const index = this.declare(name, params, results);
    this.define(index, build);
    return index;
  }

  bytes(): Uint8Array<ArrayBuffer> {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const types: number[] = [];
    uleb(types, this.typeBytes.length);
    for (const t of this.typeBytes) types.push(...t);
    section(out, 1, types);
    if (this.memory) {
      const imports: number[] = [];
      uleb(imports, 1);
      name(imports, "env");
      name(imports, "memory");
      imports.push(0x02);
      const { shared, initial, maximum } = this.memory;
      imports.push(shared ? 0x03 : maximum === undefined ? 0x00 : 0x01);
      uleb(imports, initial);
      if (maximum !== undefined) uleb(imports, maximum);
      section(out, 2, imports);
    }
    const funcs: number[] = [];
    uleb(funcs, this.funcs.length);
    for (const f of this.funcs) uleb(funcs, f.type);
    section(out, 3, funcs);
    const exported = this.funcs.map((f, i) => [f.name, i] as const).filter((e): e is readonly [string, number] => e[0] !== undefined);
    const exports: number[] = [];
    uleb(exports, exported.length);
    for (const [n, i] of exported) {
      name(exports, n);
      exports.push(0x00);
      uleb(exports, i);
    }
    section(out, 7, exports);
    const code: number[] = [];
    uleb(code, this.funcs.length);
    this.funcs.forEach((f, i) => {
      if (!f.body) throw new Error(`function ${i}${f.name ? ` (${f.name})` : ""} was declared but never defined`);
      for (const b of f.body.encode()) code.push(b);
    });
    section(out, 10, code);
    return new Uint8Array(out);
  }

  private typeIndex(params: readonly ValType[], results: readonly ValType[]): number {
    const key = `${params.join(",")}->${results.join(",")}`;
    const found = this.types.indexOf(key);
    if (found >= 0) return found;
    const bytes = [0x60];
    uleb(bytes, params.length);
    for (const p of params) bytes.push(VALTYPE[p]);
    uleb(bytes, results.length);
    for (const r of results) bytes.push(VALTYPE[r]);
    this.types.push(key);
    this.typeBytes.push(bytes);
    return this.types.length - 1;
  }
}
