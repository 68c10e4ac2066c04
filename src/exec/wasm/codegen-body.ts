/**
 * SIMD emission of elementwise kernel bodies, shared by the elementwise and reduction generators.
 *
 * Every body value lives in one v128 local holding four lanes of 32 bits, whatever its dtype:
 * float32 as f32 lanes, int32 as i32 lanes, uint8 as i32 lanes holding 0..255, and bool as lane
 * masks (all ones or all zeros), the form comparisons produce and `where`/logical ops consume.
 * Converting to the stored form (a 0/1 byte) happens only at a store, from a load only at a load.
 *
 * Semantics follow the JavaScript templates in src/ir/ops (what codegen-fused.ts inlines). Where
 * the template computes in float64 and rounds once to float32, the SIMD op gives the same bits:
 * f32 add/sub/mul/div/sqrt are correctly rounded, and double rounding through float64 is
 * innocuous for them (53 >= 2*24 + 2). f32x4.min/max match Math.min/max (NaN propagates, -0 < +0).
 * Ops whose template is not exactly reproducible lane-wise (mod, floorDiv, integer pow, float64
 * anything) are reported unsupported and the caller falls back to the JavaScript kernel.
 */
import type { DType } from "../../ir/dtype.js";
import type { KernelSpec, Ref, SpecNode } from "../cpu/codegen-fused.js";
import type { FunctionBuilder } from "./emit.js";
import { emitVMath, hoistVMathConstants, VMATH_ERROR, type VMathConstants, type VMathFn } from "./vmath.js";

/** The register form of a dtype. */
export type Lanes = "f32" | "i32" | "u8" | "bool";

export function lanesOf(d: DType): Lanes | undefined {
  switch (d) {
    case "float32":
      return "f32";
    case "int32":
      return "i32";
    case "uint8":
      return "u8";
    case "bool":
      return "bool";
    default:
      return undefined; // float64: the JavaScript kernel runs
  }
}

/** Bytes per element in memory (float32/int32: 4; uint8/bool: 1). */
export function elemBytes(d: DType): 1 | 4 {
  return d === "float32" || d === "int32" ? 4 : 1;
}

export const isInput = (r: Ref): r is { readonly input: number } => "input" in r;
export const refKey = (r: Ref): string => (isInput(r) ? `i${r.input}` : `n${r.node}`);
export const refDType = (spec: KernelSpec, r: Ref): DType => (isInput(r) ? spec.inputs[r.input]!.dtype : spec.nodes[r.node]!.type.dtype);
export const refShape = (spec: KernelSpec, r: Ref): readonly number[] => (isInput(r) ? spec.inputs[r.input]!.shape : spec.nodes[r.node]!.type.shape);

/**
 * Transcendental ops and the vmath function computing each (float32 only), within vmath's
 * documented error bound (VMATH_ERROR) of the JavaScript kernel rather than bit-identical.
 */
const VMATH_OPS: Readonly<Record<string, VMathFn>> = {
  exp: "exp", expm1: "expm1", log: "log", log1p: "log1p", tanh: "tanh", sigmoid: "sigmoid", erf: "erf",
  sin: "sin", cos: "cos", tan: "tan", atan: "atan", sinh: "sinh", cosh: "cosh", pow: "pow",
};
const VMATH_FNS: ReadonlySet<string> = new Set(Object.keys(VMATH_ERROR));

/** The vmath function behind a transcendental op (gelu: the one it is built from), if any. */
export function vmathFnOf(n: SpecNode): VMathFn | undefined {
  if (n.op.name === "gelu") return n.attrs["approximate"] === true ? "tanh" : "erf";
  const fn = VMATH_OPS[n.op.name];
  return fn !== undefined && VMATH_FNS.has(fn) ? fn : undefined;
}

const FLOAT_UNARY_DIRECT = new Set(["neg", "abs", "sqrt", "floor", "ceil"]);
const COMPARE = new Set(["equal", "notEqual", "less", "lessEqual", "greater", "greaterEqual"]);
const LOGICAL = new Set(["logicalAnd", "logicalOr", "logicalXor"]);

/** Whether `emitNode` reproduces node `n` exactly (or within vmath's bound). */
export function nodeSupported(spec: KernelSpec, n: SpecNode): boolean {
  const out = lanesOf(n.type.dtype);
  const ins = n.operands.map((r) => lanesOf(refDType(spec, r)));
  if (out === undefined || ins.some((l) => l === undefined)) return false;
  const x = ins[0]!;
  const name = n.op.name;
  if (COMPARE.has(name) || LOGICAL.has(name) || name === "logicalNot" || name === "isNaN" || name === "isFinite" || name === "where" || name === "cast") return true;
  switch (name) {
    case "add":
    case "mul":
    case "abs":
    case "maximum":
    case "minimum":
      return true;
    case "sub":
    case "neg":
    case "square":
    case "relu":
    case "sign":
      return x !== "bool";
    case "div":
    case "reciprocal":
    case "rsqrt":
    case "round":
    case "sqrt":
    case "floor":
    case "ceil":
      return x === "f32";
    default:
      return x === "f32" && vmathFnOf(n) !== undefined;
  }
}

/** Pushes a v128 constant with four equal 32-bit lanes. */
const splatI = (f: FunctionBuilder, v: number): void => f.i32x4.const(v, v, v, v);
const splatF = (f: FunctionBuilder, v: number): void => f.f32x4.const(v, v, v, v);

/**
 * Emits node `n` reading its operands from the v128 locals `args`; leaves the result (in its
 * register form) on the stack. `nodeSupported(spec, n)` must hold.
 */
export function emitNode(f: FunctionBuilder, spec: KernelSpec, n: SpecNode, args: readonly number[], consts?: VMathConstants): void {
  const ins = n.operands.map((r) => lanesOf(refDType(spec, r))!);
  const out = lanesOf(n.type.dtype)!;
  const x = ins[0]!;
  const get = (k: number): void => f.localGet(args[k]!);
  const bin = (op: () => void): void => {
    get(0);
    get(1);
    op();
  };
  const un = (op: () => void): void => {
    get(0);
    op();
  };
  const wrap8 = (): void => {
    splatI(f, 255);
    f.v128.and();
  };
  const name = n.op.name;

  if (COMPARE.has(name)) return emitCompare(f, name, x, args);
  if (LOGICAL.has(name)) {
    truthy(f, x, args[0]!);
    truthy(f, x, args[1]!);
    if (name === "logicalAnd") f.v128.and();
    else if (name === "logicalOr") f.v128.or();
    else f.v128.xor();
    return;
  }
  switch (name) {
    case "logicalNot":
      truthy(f, x, args[0]!);
      f.v128.not();
      return;
    case "isNaN":
      if (x === "f32") {
        get(0);
        get(0);
        f.f32x4.ne();
      } else splatI(f, 0);
      return;
    case "isFinite":
      if (x === "f32") {
        // x - x === 0: false for NaN and both infinities.
        get(0);
        get(0);
        f.f32x4.sub();
        splatF(f, 0);
        f.f32x4.eq();
      } else splatI(f, -1);
      return;
    case "where":
      get(1);
      get(2);
      get(0);
      f.v128.bitselect();
      return;
    case "cast":
      return emitCast(f, x, out, args[0]!);
  }

  if (x === "f32") {
    if (FLOAT_UNARY_DIRECT.has(name)) return un(f.f32x4[name as "neg" | "abs" | "sqrt" | "floor" | "ceil"]);
    switch (name) {
      case "add":
        return bin(f.f32x4.add);
      case "sub":
        return bin(f.f32x4.sub);
      case "mul":
        return bin(f.f32x4.mul);
      case "div":
        return bin(f.f32x4.div);
      case "maximum":
        return bin(f.f32x4.max);
      case "minimum":
        return bin(f.f32x4.min);
      case "square":
        get(0);
        get(0);
        f.f32x4.mul();
        return;
      case "relu":
        // (x > 0 || x !== x ? x : 0): max(x, +0) gives +0 for -0 and keeps NaN, as the template does.
        get(0);
        splatF(f, 0);
        f.f32x4.max();
        return;
      case "reciprocal":
        splatF(f, 1);
        get(0);
        f.f32x4.div();
        return;
      case "rsqrt":
        return emitRsqrt(f, args[0]!);
      case "sign":
        // x > 0 ? 1 : x < 0 ? -1 : x (zeros and NaN pass through).
        splatF(f, 1);
        splatF(f, -1);
        get(0);
        get(0);
        splatF(f, 0);
        f.f32x4.lt();
        f.v128.bitselect();
        get(0);
        splatF(f, 0);
        f.f32x4.gt();
        f.v128.bitselect();
        return;
      case "round": {
        // M.roundHalfEven is f32x4.nearest except that it returns +0 (not -0) for x in [-0.5, 0).
        const r = f.local("v128");
        get(0);
        f.f32x4.nearest();
        f.localTee(r);
        splatF(f, 0);
        f.f32x4.add();
        f.localGet(r);
        get(0);
        splatF(f, 0);
        f.f32x4.lt();
        f.v128.bitselect();
        return;
      }
      case "gelu":
        return emitGelu(f, n.attrs["approximate"] === true, args[0]!);
      default:
        emitVMath(f, vmathFnOf(n)!, args[0]!, args[1], consts);
        return;
    }
  }

  if (x === "bool") {
    switch (name) {
      case "add":
      case "maximum":
        return bin(f.v128.or);
      case "mul":
      case "minimum":
        return bin(f.v128.and);
      case "abs":
        return get(0);
    }
    throw new Error(`emitNode: unsupported bool op ${name}`);
  }

  // int32 and uint8 (lanes hold 0..255, so signed comparisons are exact for uint8 too).
  const u8 = x === "u8";
  switch (name) {
    case "add":
      bin(f.i32x4.add);
      if (u8) wrap8();
      return;
    case "sub":
      bin(f.i32x4.sub);
      if (u8) wrap8();
      return;
    case "mul":
      bin(f.i32x4.mul);
      if (u8) wrap8();
      return;
    case "square":
      get(0);
      get(0);
      f.i32x4.mul();
      if (u8) wrap8();
      return;
    case "neg":
      un(f.i32x4.neg);
      if (u8) wrap8();
      return;
    case "abs":
      // int32: Math.abs(-2^31) | 0 wraps back to -2^31, as i32x4.abs does.
      if (u8) get(0);
      else un(f.i32x4.abs);
      return;
    case "maximum":
      return bin(f.i32x4.maxS);
    case "minimum":
      return bin(f.i32x4.minS);
    case "relu":
      if (u8) return get(0);
      get(0);
      splatI(f, 0);
      f.i32x4.maxS();
      return;
    case "sign":
      if (u8) {
        get(0);
        splatI(f, 0);
        f.i32x4.gtS();
        f.i32x4.neg();
        return;
      }
      // x > 0 ? 1 : x < 0 ? -1 : 0 == (x > 0) - (x < 0) with masks: -(gt) + lt.
      get(0);
      splatI(f, 0);
      f.i32x4.ltS();
      get(0);
      splatI(f, 0);
      f.i32x4.gtS();
      f.i32x4.sub();
      return;
  }
  throw new Error(`emitNode: unsupported ${x} op ${name}`);
}

/** Pushes the lane mask `value !== 0` (NaN is true) of the local `v` in form `x`. */
function truthy(f: FunctionBuilder, x: Lanes, v: number): void {
  f.localGet(v);
  if (x === "bool") return;
  splatI(f, 0); // +0.0 and integer 0 have the same bits
  if (x === "f32") f.f32x4.ne();
  else f.i32x4.ne();
}

function emitCompare(f: FunctionBuilder, name: string, x: Lanes, args: readonly number[]): void {
  const [a, b] = [args[0]!, args[1]!];
  if (x === "bool") {
    // Masks: true is all ones, so order comparisons are logic: a < b <=> !a & b.
    const pair = (p: number, q: number): void => {
      f.localGet(p);
      f.localGet(q);
    };
    switch (name) {
      case "equal":
        pair(a, b);
        f.i32x4.eq();
        return;
      case "notEqual":
        pair(a, b);
        f.v128.xor();
        return;
      case "less":
        pair(b, a);
        f.v128.andnot();
        return;
      case "greater":
        pair(a, b);
        f.v128.andnot();
        return;
      case "lessEqual":
        pair(a, b);
        f.v128.andnot();
        f.v128.not();
        return;
      default: // greaterEqual
        pair(b, a);
        f.v128.andnot();
        f.v128.not();
        return;
    }
  }
  f.localGet(a);
  f.localGet(b);
  const ops = x === "f32"
    ? { equal: f.f32x4.eq, notEqual: f.f32x4.ne, less: f.f32x4.lt, lessEqual: f.f32x4.le, greater: f.f32x4.gt, greaterEqual: f.f32x4.ge }
    : { equal: f.i32x4.eq, notEqual: f.i32x4.ne, less: f.i32x4.ltS, lessEqual: f.i32x4.leS, greater: f.i32x4.gtS, greaterEqual: f.i32x4.geS };
  ops[name as keyof typeof ops]();
}

/** The cast template: saturating float->int (NaN -> 0), wrapping int->int, `!== 0` to bool. */
function emitCast(f: FunctionBuilder, from: Lanes, to: Lanes, v: number): void {
  if (from === to || (from === "u8" && to === "i32")) return f.localGet(v);
  if (to === "bool") return truthy(f, from, v);
  f.localGet(v);
  if (from === "bool") {
    if (to === "f32") {
      splatF(f, 1);
      f.v128.and();
    } else f.i32x4.neg(); // mask -1 -> 1
    return;
  }
  switch (to) {
    case "f32":
      f.f32x4.convertI32x4S(); // int32 -> float32 rounds to nearest even, as Math.fround does
      return;
    case "i32":
      f.i32x4.truncSatF32x4S(); // from f32 (u8 handled above)
      return;
    default: // u8
      if (from === "f32") {
        f.i32x4.truncSatF32x4S();
        splatI(f, 0);
        f.i32x4.maxS();
        splatI(f, 255);
        f.i32x4.minS();
      } else {
        splatI(f, 255);
        f.v128.and();
      }
  }
}

/** Swaps the two 64-bit halves (moves lanes 2,3 to 0,1). */
const HIGH_TO_LOW = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
/** Concatenates the low halves of two vectors: lanes 0,1 of a then 0,1 of b. */
const LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** 1 / Math.sqrt(x) rounded once to float32: computed in float64 lanes, as the template does. */
function emitRsqrt(f: FunctionBuilder, v: number): void {
  const half = (high: boolean): void => {
    f.f64x2.const(1, 1);
    f.localGet(v);
    if (high) {
      f.localGet(v);
      f.i8x16.shuffle(HIGH_TO_LOW);
    }
    f.f64x2.promoteLowF32x4();
    f.f64x2.sqrt();
    f.f64x2.div();
    f.f32x4.demoteF64x2Zero();
  };
  half(false);
  half(true);
  f.i8x16.shuffle(LOW_HALVES);
}

/** gelu from vmath's erf or tanh, as scalar-math's geluErf / geluTanh write it (float32 steps). */
function emitGelu(f: FunctionBuilder, approximate: boolean, v: number): void {
  const t = f.local("v128");
  if (approximate) {
    // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
    f.localGet(v);
    f.localGet(v);
    f.localGet(v);
    f.f32x4.mul();
    f.localGet(v);
    f.f32x4.mul();
    splatF(f, 0.044715);
    f.f32x4.mul();
    f.f32x4.add();
    splatF(f, 0.7978845608028654);
    f.f32x4.mul();
    f.localSet(t);
    emitVMath(f, "tanh", t);
  } else {
    f.localGet(v);
    splatF(f, Math.SQRT1_2);
    f.f32x4.mul();
    f.localSet(t);
    emitVMath(f, "erf", t);
  }
  splatF(f, 1);
  f.f32x4.add();
  f.localGet(v);
  splatF(f, 0.5);
  f.f32x4.mul();
  f.f32x4.mul();
}

// ---- memory forms ---------------------------------------------------------------------------------

/** Byte i of each 32-bit lane from bytes 0..3 (zero extension: indices >= 16 give 0). */
const WIDEN_BYTES = [0, 255, 255, 255, 1, 255, 255, 255, 2, 255, 255, 255, 3, 255, 255, 255];
/** The low byte of each 32-bit lane into bytes 0..3. */
const NARROW_LANES = [0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12];

/** Raw element values in 32-bit lanes (bool as 0/1) -> the register form of `d` (bool: masks). */
export function toRegister(f: FunctionBuilder, d: DType): void {
  if (d !== "bool") return;
  splatI(f, 0);
  f.i32x4.ne();
}

/**
 * Turns a vector of four loaded elements (for 1-byte dtypes: four bytes in the low lane, e.g. from
 * v128.load32Zero) into the register form of `d`.
 */
export function widenLoaded(f: FunctionBuilder, d: DType): void {
  if (elemBytes(d) === 4) return;
  f.v128.const(WIDEN_BYTES);
  f.i8x16.swizzle();
  toRegister(f, d);
}

/** Turns a register-form vector of `d` into its memory form (for 1-byte dtypes: the low 4 bytes). */
export function narrowForStore(f: FunctionBuilder, d: DType): void {
  if (elemBytes(d) === 4) return;
  if (d === "bool") f.i32x4.neg(); // mask -> 0/1
  f.v128.const(new Uint8Array(16)); // the second shuffle operand (its lanes are not picked)
  f.i8x16.shuffle(NARROW_LANES);
}

/** Loads one raw element of `d` at address (pushed by `addr`) + offset into lane `lane` of the local `acc`. */
export function loadLane(f: FunctionBuilder, d: DType, addr: () => void, offset: number, lane: number, acc: number): void {
  if (elemBytes(d) === 4) {
    addr();
    f.localGet(acc);
    f.v128.load32Lane(lane, offset);
    f.localSet(acc);
    return;
  }
  f.localGet(acc);
  addr();
  f.i32.load8U(offset);
  f.i32x4.replaceLane(lane);
  f.localSet(acc);
}

/** Stores lane `lane` of the register-form local `v` of `d` at address (pushed by `addr`) + offset. */
export function storeLane(f: FunctionBuilder, d: DType, addr: () => void, offset: number, lane: number, v: number): void {
  addr();
  f.localGet(v);
  if (elemBytes(d) === 4) {
    f.v128.store32Lane(lane, offset);
    return;
  }
  if (d === "bool") f.i32x4.neg();
  f.i32x4.extractLane(lane);
  f.i32.store8(offset);
}

// ---- body analysis and emission ---------------------------------------------------------------------

/** The body nodes needed for `roots` (in order) and the inputs they read. */
export function needed(spec: KernelSpec, roots: readonly Ref[]): { nodes: number[]; inputs: number[] } {
  const nodes = new Set<number>();
  const inputs = new Set<number>();
  const visit = (r: Ref): void => {
    if (isInput(r)) {
      inputs.add(r.input);
      return;
    }
    if (nodes.has(r.node)) return;
    nodes.add(r.node);
    for (const o of spec.nodes[r.node]!.operands) visit(o);
  };
  roots.forEach(visit);
  return { nodes: [...nodes].sort((a, b) => a - b), inputs: [...inputs].sort((a, b) => a - b) };
}

/**
 * Per-value v128 locals for one kernel function, and the levels at which values change: a value
 * is computed at the deepest level of its operands (0: once per call, 1: once per row, 2: per
 * vector), so loop-invariant work leaves the loops.
 */
export class BodyEmitter {
  private readonly locals = new Map<string, number>();
  private readonly levels = new Map<string, number>();
  private consts: VMathConstants | undefined;

  constructor(
    private readonly f: FunctionBuilder,
    private readonly spec: KernelSpec,
  ) {}

  /** The local holding `r` (allocated on first use; each value keeps one local for the whole function). */
  local(r: Ref): number {
    const k = refKey(r);
    let l = this.locals.get(k);
    if (l === undefined) {
      l = this.f.local("v128");
      this.locals.set(k, l);
    }
    return l;
  }

  /** Declares an input's level (where its load is placed). */
  setInputLevel(input: number, level: number): void {
    this.levels.set(`i${input}`, level);
  }

  level(r: Ref): number {
    const k = refKey(r);
    const known = this.levels.get(k);
    if (known !== undefined) return known;
    if (isInput(r)) throw new Error(`BodyEmitter: input ${r.input} has no level`);
    const l = Math.max(0, ...this.spec.nodes[r.node]!.operands.map((o) => this.level(o)));
    this.levels.set(k, l);
    return l;
  }

  /**
   * Emits the nodes of `nodes` whose level is `level`, each into its local. Level 0 comes first,
   * before any loop: it also sets locals to the splatted constants of the transcendental functions
   * computed in the loops (V8 rebuilds a v128.const in a loop body with several instructions each
   * time; a local stays in a register or one load away).
   */
  compute(nodes: readonly number[], level: number): void {
    if (level === 0 && this.consts === undefined) {
      const fns = nodes.filter((j) => this.level({ node: j }) > 0 && this.spec.nodes[j]!.op.name !== "gelu").map((j) => vmathFnOf(this.spec.nodes[j]!));
      const used = fns.filter((fn): fn is VMathFn => fn !== undefined);
      if (used.length > 0) this.consts = hoistVMathConstants(this.f, used);
    }
    for (const j of nodes) {
      if (this.level({ node: j }) !== level) continue;
      const n = this.spec.nodes[j]!;
      emitNode(this.f, this.spec, n, n.operands.map((o) => this.local(o)), this.consts);
      this.f.localSet(this.local({ node: j }));
    }
  }
}

/** Loads a splat of the element at the address pushed by `addr` into local `into`, in register form. */
export function loadSplat(f: FunctionBuilder, d: DType, addr: () => void, into: number): void {
  addr();
  if (elemBytes(d) === 4) f.v128.load32Splat();
  else {
    f.i32.load8U();
    f.i32x4.splat();
    toRegister(f, d);
  }
  f.localSet(into);
}

/** Splits the i32 in local `v` into indices over `sizes` (last fastest) into `into` (locals). */
export function divmod(f: FunctionBuilder, v: number, sizes: readonly number[], into: readonly number[], t: number): void {
  if (sizes.length === 0) return;
  f.localGet(v);
  f.localSet(t);
  for (let k = sizes.length - 1; k >= 0; k--) {
    if (k === 0) {
      f.localGet(t);
      f.localSet(into[0]!);
      break;
    }
    f.localGet(t);
    f.i32.const(sizes[k]!);
    f.i32.remU();
    f.localSet(into[k]!);
    f.localGet(t);
    f.i32.const(sizes[k]!);
    f.i32.divU();
    f.localSet(t);
  }
}
