/**
 * Vectorized float32 transcendental functions for the WebAssembly SIMD kernels: each `emitVMath`
 * call pushes the f32x4 result of one function applied lane-wise to a v128 local. The reference
 * is the JS kernel (the op's scalar template in float64, rounded to float32); docs/wasm-math.md
 * tabulates the algorithms and the maximum errors that tests/exec/wasm-vmath.test.ts enforces over
 * the whole float32 range.
 *
 * Everything is branch-free straight-line code (lanes choose between paths with bitselect), except
 * the sin/cos/tan argument reduction, which takes a slower exact path only when a lane's magnitude
 * exceeds the fast path's bound. pow works in float64 (two lanes at a time) for the extra precision
 * y * log2(x) needs. A lane's result depends only on that lane's inputs. There is no FMA in
 * WebAssembly SIMD (relaxed-simd's madd is not deterministic across engines), so the polynomials are
 * ordered to keep rounding errors small without it.
 */
import { FunctionBuilder } from "./emit.js";

export type VMathFn = "exp" | "expm1" | "log" | "log1p" | "tanh" | "sigmoid" | "erf" | "sin" | "cos" | "tan" | "atan" | "sinh" | "cosh" | "pow";

/**
 * The documented maximum error of each function against the float32-rounded float64 reference, in
 * float32 ulps (distance between bit patterns, infinity being one ulp beyond the largest finite
 * value), over all float32 inputs. `abs` would be an absolute bound accepted instead near zeros of
 * a function away from x = 0; thanks to the exact argument reduction of sin/cos/tan no function needs
 * one. docs/wasm-math.md lists each bound beside the maximum observed, and the algorithms.
 */
export const VMATH_ERROR: Readonly<Record<VMathFn, { ulp: number } | { abs: number; ulp: number }>> = {
  exp: { ulp: 2 },
  expm1: { ulp: 2 },
  log: { ulp: 2 },
  log1p: { ulp: 2 },
  tanh: { ulp: 2 },
  sigmoid: { ulp: 2 },
  erf: { ulp: 2 },
  sin: { ulp: 2 },
  cos: { ulp: 2 },
  tan: { ulp: 3 },
  atan: { ulp: 2 },
  sinh: { ulp: 2 },
  cosh: { ulp: 2 },
  pow: { ulp: 2 },
};

// ---- small emission helpers ----------------------------------------------------------------------

/**
 * Splatted constants of some vmath functions, held in locals that were set once (before a loop):
 * V8 materializes each v128.const in a loop body with several instructions, so a kernel that
 * hoists them runs the expansions faster. Make one with `hoistVMathConstants`.
 */
export class VMathConstants {
  /** @internal key `f<bits>` / `i<value>` -> local index (in `f`), or -1 while collecting. */
  readonly locals = new Map<string, number>();
  /** @internal */
  constructor(readonly f: FunctionBuilder | undefined) {}
}

/**
 * Emits (where it is called, e.g. before a loop) code that sets locals to the splatted constants
 * that `fns` use, and returns them for `emitVMath(f, fn, x, undefined, consts)` in the same function.
 */
export function hoistVMathConstants(f: FunctionBuilder, fns: readonly VMathFn[]): VMathConstants {
  const collect = new VMathConstants(undefined);
  const dry = new FunctionBuilder([], []);
  const x = dry.local("v128");
  for (const fn of new Set(fns)) emitVMath(dry, fn, x, x, collect);
  const consts = new VMathConstants(f);
  for (const key of collect.locals.keys()) {
    const v = Number(key.slice(1));
    f.i32x4.const(v, v, v, v); // float32 constants are keyed by their bits

    const l = f.local("v128");
    f.localSet(l);
    consts.locals.set(key, l);
  }
  return consts;
}

const bitsView = new DataView(new ArrayBuffer(4));
function f32Bits(v: number): number {
  bitsView.setFloat32(0, v, true);
  return bitsView.getInt32(0, true);
}

/** Thin sugar over FunctionBuilder for lane-wise float32 code. */
class Asm {
  constructor(
    readonly f: FunctionBuilder,
    private readonly consts?: VMathConstants,
  ) {}

  /** Pushes a hoisted constant if there is one (recording it while collecting); false otherwise. */
  private hoisted(key: string): boolean {
    const c = this.consts;
    if (!c) return false;
    if (c.f === undefined) {
      c.locals.set(key, -1);
      return false;
    }
    const l = c.locals.get(key);
    if (l === undefined) return false;
    if (c.f !== this.f) throw new Error("emitVMath: the constants were hoisted in another function");
    this.f.localGet(l);
    return true;
  }

  tmp(): number {
    return this.f.local("v128");
  }
  get(l: number): void {
    this.f.localGet(l);
  }
  set(l: number): void {
    this.f.localSet(l);
  }
  /** Pops the top of the stack into a fresh local and returns it. */
  save(): number {
    const l = this.tmp();
    this.f.localSet(l);
    return l;
  }
  /** Splatted float32 constant. */
  k(v: number): void {
    if (!this.hoisted(`f${f32Bits(v)}`)) this.f.f32x4.const(v, v, v, v);
  }
  /** Splatted int32 constant. */
  ki(v: number): void {
    if (!this.hoisted(`i${v | 0}`)) this.f.i32x4.const(v | 0, v | 0, v | 0, v | 0);
  }
  /** Pushes c[0] + z*(c[1] + z*(c[2] + ...)) (Horner, highest coefficient first). */
  poly(z: number, c: readonly number[]): void {
    this.k(c[c.length - 1]!);
    for (let i = c.length - 2; i >= 0; i--) {
      this.get(z);
      this.f.f32x4.mul();
      this.k(c[i]!);
      this.f.f32x4.add();
    }
  }
  /** x*x into a fresh local. */
  square(x: number): number {
    this.get(x);
    this.get(x);
    this.f.f32x4.mul();
    return this.save();
  }
  /** Pushes x + x*z*P(z) (z = x^2 in the callers): the odd-polynomial tail of sin, sinh and tanh. */
  oddPoly(x: number, z: number, c: readonly number[]): void {
    this.poly(z, c);
    this.get(z);
    this.f.f32x4.mul();
    this.get(x);
    this.f.f32x4.mul();
    this.get(x);
    this.f.f32x4.add();
  }
  /**
   * Multiplies the float32 vector on the stack by 2^n (n: i32 lanes in local `n`) as two
   * exponent-bit factors 2^(n >> 1) * 2^(n - (n >> 1)), each a normal float for n in [-252, 254],
   * so results from denormals to infinity get one rounding (the last multiply).
   */
  mulPow2(n: number): void {
    const f = this.f;
    const n1 = this.tmp();
    this.get(n);
    f.i32.const(1);
    f.i32x4.shrS();
    f.localTee(n1);
    this.ki(127);
    f.i32x4.add();
    f.i32.const(23);
    f.i32x4.shl();
    f.f32x4.mul();
    this.get(n);
    this.get(n1);
    f.i32x4.sub();
    this.ki(127);
    f.i32x4.add();
    f.i32.const(23);
    f.i32x4.shl();
    f.f32x4.mul();
  }
  /** Pushes the sign bit of local `x` (as a v128 with only bit 31 of each lane possibly set). */
  signOf(x: number): void {
    this.get(x);
    this.ki(0x80000000);
    this.f.v128.and();
  }
}

const F32_MIN_NORMAL = 1.1754943508222875e-38;

// ---- exp ------------------------------------------------------------------------------------------

const LOG2E = 1.4426950408889634;
// ln 2 split Cody-Waite style: HI has 9 significant bits, so n*HI is exact for |n| < 2^15.
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
// e^r = 1 + r + r^2 * P(r) on |r| <= ln2/2, P of degree 4 fitted for relative error
// (scripts/fit-exp-poly.py): it rounds like Cephes' degree-5 P (max 1 ulp, the same share of
// results not correctly rounded) with one multiply-add less; degree 3 would reach 2 ulp.
const EXP_P = [0.4999999403953552, 0.1666652113199234, 0.04166838899254799, 0.00836874544620514, 0.0013814540579915047];
// Cephes expf's P, kept for expm1, whose small results need its extra accuracy.
const EXPM1_P = [5.0000001201e-1, 1.6666665459e-1, 4.1665795894e-2, 8.3334519073e-3, 1.3981999507e-3, 1.9875691500e-4];

/** 1.5 * 2^23: adding it rounds a float32 of magnitude < 2^22 to an integer held in the low mantissa bits. */
const ROUND_MAGIC = 12582912;
const ROUND_MAGIC_BITS = 0x4b400000;

/**
 * The argument reduction shared by exp and expm1: clamps x to [lo, 90] (pmin/pmax keep a NaN in
 * the first operand, and cost one instruction each where min/max cost several), rounds x/ln2 to j
 * with the 1.5*2^23 trick (its bits minus the magic's give j as int32: no saturating conversion),
 * and pushes nothing. r = x - j ln2 is exact in the first step (Sterbenz), so r carries one rounding.
 */
function emitExpReduce(a: Asm, x: number, lo: number, clamp = true): { n: number; r: number; z: number } {
  const { t, r, z } = emitExpRound(a, x, lo, clamp);
  a.get(t);
  a.ki(ROUND_MAGIC_BITS + EXP_BIAS);
  a.f.i32x4.sub();
  const n = a.save();
  return { n, r, z };
}

/**
 * The float32 exponent bias, added to the rounding constant so that t's low bits hold j + 127 and
 * t << 23 is 2^j. Every exp path uses the same constant: the constant's parity decides which way
 * a tie (x log2e exactly halfway between integers) rounds, so paths with different constants
 * would pick different j there and round the result differently.
 */
const EXP_BIAS = 127;

/** The reduction's arithmetic: t = x log2e + (1.5 * 2^23 + 127), j = t - that, r = x - j ln2 in two steps, z = r^2. */
function emitExpRound(a: Asm, x: number, lo: number, clamp: boolean): { t: number; r: number; z: number } {
  const { f } = a;
  let xc = x;
  if (clamp) {
    a.get(x);
    a.k(90);
    f.f32x4.pmin();
    a.k(lo);
    f.f32x4.pmax();
    xc = a.save();
  }
  const magic = ROUND_MAGIC + EXP_BIAS;
  const t = a.tmp();
  a.get(xc);
  a.k(LOG2E);
  f.f32x4.mul();
  a.k(magic);
  f.f32x4.add();
  f.localTee(t);
  a.k(magic);
  f.f32x4.sub();
  const j = a.save();
  a.get(xc);
  a.get(j);
  a.k(LN2_HI);
  f.f32x4.mul();
  f.f32x4.sub();
  a.get(j);
  a.k(LN2_LO);
  f.f32x4.mul();
  f.f32x4.sub();
  const r = a.save();
  const z = a.square(r);
  return { t, r, z };
}

/**
 * Pushes e^x * 2^scale (scale a small integer: cosh/sinh use -1). x is clamped to [-104, 90]: below,
 * the result rounds to 0; above, it overflows to infinity (NaN passes through). The power of two is
 * applied as two factors 2^n1 * 2^n2, each built from exponent bits, so that results from 2^-150
 * (denormals, rounded once by the last multiply) to above 2^128 (infinity) come out right.
 */
function emitExpScaled(a: Asm, x: number, scale: number): void {
  const { f } = a;
  const { n, r, z } = emitExpReduce(a, x, -104);
  a.poly(r, EXP_P);
  a.get(z);
  f.f32x4.mul();
  a.get(r);
  f.f32x4.add();
  a.k(1);
  f.f32x4.add();
  if (scale !== 0) {
    a.get(n);
    a.ki(scale);
    f.i32x4.add();
    a.set(n);
  }
  a.mulPow2(n);
}

/**
 * e^x. When no lane has |x| > 87, n stays within [-126, 126]: no clamp is needed and one
 * power-of-two factor replaces the two, with the same single rounding of p * 2^n (the two-factor
 * path's first product is exact in that range), so both paths give the same bits. NaN lanes fail
 * the comparison and stay NaN on the fast path. Other vectors take the full-range path.
 */
function emitExp(a: Asm, x: number): void {
  const { f } = a;
  // |x| > 87 in any lane -> full range. A NaN lane compares false and takes the fast path, where it
  // stays NaN with the same payload. The mask (hoistable) is cheaper in V8 than f32x4.abs.
  a.get(x);
  a.ki(0x7fffffff);
  f.v128.and();
  a.k(87);
  f.f32x4.gt();
  f.v128.anyTrue();
  f.if("v128");
  emitExpScaled(a, x, 0);
  f.else();
  {
    // The exponent bias rides in the rounding constant: t's low bits are n + 127, so t << 23 is 2^n.
    const { t, r, z } = emitExpRound(a, x, -104, false);
    a.poly(r, EXP_P);
    a.get(z);
    f.f32x4.mul();
    a.get(r);
    f.f32x4.add();
    a.k(1);
    f.f32x4.add();
    a.get(t);
    f.i32.const(23);
    f.i32x4.shl();
    f.f32x4.mul();
  }
  f.end();
}

// ---- log ------------------------------------------------------------------------------------------

// Cephes logf: log(1+f) = f - f^2/2 + f^3 * P(f) for 1+f in [sqrt(1/2), sqrt(2)).
const LOG_P = [
  3.3333331174e-1, -2.4999993993e-1, 2.0000714765e-1, -1.6668057665e-1, 1.4249322787e-1, -1.2420140846e-1, 1.1676998740e-1,
  -1.1514610310e-1, 7.0376836292e-2,
];

/**
 * Pushes log(1 + f) + e*ln2 from the locals f (|f| < 0.42) and fe (an integer as float32). For the
 * ulp bound, the e*ln2 part is added last in two pieces (Cody-Waite), as Cephes does.
 */
function emitLogCore(a: Asm, fl: number, fe: number): void {
  const { f } = a;
  const z = a.square(fl);
  a.poly(fl, LOG_P);
  a.get(fl);
  f.f32x4.mul();
  a.get(z);
  f.f32x4.mul();
  a.get(fe);
  a.k(-2.12194440e-4);
  f.f32x4.mul();
  f.f32x4.add();
  a.get(z);
  a.k(-0.5);
  f.f32x4.mul();
  f.f32x4.add();
  a.get(fl);
  f.f32x4.add();
  a.get(fe);
  a.k(0.693359375);
  f.f32x4.mul();
  f.f32x4.add();
}

/**
 * Splits positive finite x (local) into f = m - 1 and fe = e (float) with x = m * 2^e and m in
 * [sqrt(1/2), sqrt(2)); denormals are first scaled by 2^23 (exactly). Lanes that are not positive
 * finite produce garbage that the caller replaces.
 */
function emitLogSplit(a: Asm, x: number, denormals = true): { fl: number; fe: number; e: number } {
  const { f } = a;
  if (!denormals) {
    const { e, fl } = emitMantissaSplit(a, x);
    a.get(e);
    f.f32x4.convertI32x4S();
    return { fl, fe: a.save(), e };
  }
  const tiny = a.tmp();
  a.get(x);
  a.k(F32_MIN_NORMAL);
  f.f32x4.lt();
  f.localSet(tiny);
  // xs = tiny ? x * 2^23 : x
  a.get(x);
  a.k(8388608);
  f.f32x4.mul();
  a.get(x);
  a.get(tiny);
  f.v128.bitselect();
  const xs = a.save();
  const { e, fl } = emitMantissaSplit(a, xs);
  a.get(e);
  a.get(tiny);
  a.ki(-23);
  f.v128.and();
  f.i32x4.add();
  f.f32x4.convertI32x4S();
  const fe = a.save();
  return { fl, fe, e };
}

/** e = (bits(x) - bits(sqrt(1/2))) >> 23 and fl = m - 1 with m = bits(x) - (e << 23), in [sqrt(1/2), sqrt(2)). */
function emitMantissaSplit(a: Asm, x: number): { e: number; fl: number } {
  const { f } = a;
  a.get(x);
  a.ki(0x3f3504f3);
  f.i32x4.sub();
  f.i32.const(23);
  f.i32x4.shrS();
  const e = a.save();
  a.get(x);
  a.get(e);
  f.i32.const(23);
  f.i32x4.shl();
  f.i32x4.sub();
  a.k(1);
  f.f32x4.sub();
  return { e, fl: a.save() };
}

/**
 * Given the computed value on the stack, replaces the lanes where local u is not positive finite
 * by log's special values: log(+-0) = -inf, log(u < 0) = NaN, log(+inf) = +inf, NaN -> NaN.
 */
function emitLogSpecials(a: Asm, u: number): void {
  const { f } = a;
  a.k(-Infinity);
  a.get(u);
  a.k(NaN);
  a.get(u);
  a.k(0);
  f.f32x4.ge();
  f.v128.bitselect();
  a.get(u);
  a.k(0);
  f.f32x4.eq();
  f.v128.bitselect();
  // ok = 0 < bits(u) < bits(+inf), as one unsigned compare of bits(u) - 1
  a.get(u);
  a.ki(1);
  f.i32x4.sub();
  a.ki(0x7f7fffff);
  f.i32x4.ltU();
  f.v128.bitselect();
}

function emitLog(a: Asm, x: number): void {
  const { fl, fe } = emitLogSplit(a, x);
  emitLogCore(a, fl, fe);
  emitLogSpecials(a, x);
}

// ---- tanh, sigmoid ----------------------------------------------------------------------------------

// tanh(a) = a + a^3 * P(a^2) on [0, 0.55] (fitted minimax, relative error 2e-9 before rounding).
const TANH_P = [-0.33333316445350647, 0.13332585990428925, -0.05385230854153633, 0.021071674302220345, -0.006274233106523752];
const TANH_SMALL = 0.55;

function emitTanh(a: Asm, x: number): void {
  const { f } = a;
  a.get(x);
  f.f32x4.abs();
  const ax = a.save();
  // small |x|: odd polynomial
  const z = a.square(ax);
  a.oddPoly(ax, z, TANH_P);
  // larger |x|: 1 - 2 / (e^{2|x|} + 1); exact saturation to 1 (and e^inf = inf gives 1)
  a.k(1);
  a.k(2);
  a.get(ax);
  a.get(ax);
  f.f32x4.add();
  const ax2 = a.save();
  emitExp(a, ax2);
  a.k(1);
  f.f32x4.add();
  f.f32x4.div();
  f.f32x4.sub();
  a.get(ax);
  a.k(TANH_SMALL);
  f.f32x4.lt();
  f.v128.bitselect();
  a.signOf(x);
  f.v128.or();
}

function emitSigmoid(a: Asm, x: number): void {
  const { f } = a;
  // e = e^-|x| <= 1; x >= 0: 1 / (1 + e); x < 0: e / (1 + e) (as the scalar template)
  a.get(x);
  f.f32x4.abs();
  f.f32x4.neg();
  const nx = a.save();
  emitExp(a, nx);
  const e = a.save();
  a.get(e);
  a.k(1);
  a.get(x);
  a.k(0);
  f.f32x4.lt();
  f.v128.bitselect();
  a.k(1);
  a.get(e);
  f.f32x4.add();
  f.f32x4.div();
}

// ---- erf -------------------------------------------------------------------------------------------

// |x| < 1: erf(x) = x * P(x^2) (fitted minimax, relative error 1e-9 before rounding).
const ERF_A = [
  1.1283791065216064, -0.3761262595653534, 0.11283600330352783, -0.026854444295167923, 0.005189535208046436, -0.0008020841050893068,
  7.889119297033176e-5,
];
// 1 <= |x| <= 4: erf(x) = 1 - exp(Q(|x|) - x^2), Q(x) ~ log(erfc(x)) + x^2 (smooth, fitted minimax;
// beyond 4, erfc < 2^-25 and the result rounds to 1).
const ERF_B = [
  0.0001880402269307524, -1.1295784711837769, 0.3667801022529602, -0.10841857641935349, 0.025208257138729095, -0.004204561933875084,
  0.00044133636401966214, -2.1686850232072175e-5,
];

function emitErf(a: Asm, x: number): void {
  const { f } = a;
  a.get(x);
  f.f32x4.abs();
  const ax = a.save();
  const z = a.square(ax);
  a.poly(z, ERF_A);
  a.get(ax);
  f.f32x4.mul();
  // 1 - e^(Q(c) - c^2) with c = min(|x|, 4) (NaN stays NaN)
  a.k(1);
  a.get(ax);
  a.k(4);
  f.f32x4.pmin();
  const c = a.save();
  a.poly(c, ERF_B);
  a.get(c);
  a.get(c);
  f.f32x4.mul();
  f.f32x4.sub();
  const arg = a.save();
  emitExp(a, arg);
  f.f32x4.sub();
  a.get(ax);
  a.k(1);
  f.f32x4.lt();
  f.v128.bitselect();
  a.signOf(x);
  f.v128.or();
}

// ---- sin, cos, tan ----------------------------------------------------------------------------------

const TWO_OVER_PI = 0.6366197723675814;
/** pi/2 = P1 + ... + P5; P1..P4 have 12 significant bits at fixed positions, so j*Pi is exact for j < 2^12. */
const PIO2 = [1.57080078125, -4.410743713378906e-6, -4.371395334601402e-8, 2.5650592760939617e-12, -1.7151245100058819e-15];
/** The fast reduction is exact (up to its last rounding) while j = round(|x| * 2/pi) < 2^12. */
const TRIG_FAST_MAX = 6400;
/** 2/pi in 24-bit chunks (fdlibm's ipio2): 2/pi = sum C[i] * 2^(-24(i+1)). */
const TWO_OVER_PI_CHUNKS = [0xa2f983, 0x6e4e44, 0x1529fc, 0x2757d1, 0xf534dd, 0xc0db62, 0x95993c, 0x439041];
// Cephes sinf/cosf on |r| <= pi/4: sin r = r + r^3 S(r^2), cos r = 1 - r^2/2 + r^4 C(r^2).
const SIN_S = [-1.6666654611e-1, 8.3321608736e-3, -1.9515295891e-4];
const COS_C = [4.166664568298827e-2, -1.388731625493765e-3, 2.443315711809948e-5];

/**
 * Reduces |x| (local ax, >= 0 or NaN) to r in about [-pi/4, pi/4] and the quadrant q (i32x4) with
 * |x| = q*pi/2 + r (mod 2pi). Fast path: Cody-Waite with a 5-part pi/2 in float32. When a lane
 * exceeds TRIG_FAST_MAX, the vector also takes the exact path (whose results replace only those lanes'): |x| * 2/pi mod 4 in float64 as a sum of
 * exact products |x| * C[i] 2^(-24(i+1)) (each reduced mod 1 exactly, the fractions summed with an
 * error-free TwoSum), which is correct up to 2^128 (Payne-Hanek with the chunks as the table).
 */
function emitTrigReduce(a: Asm, ax: number): { r: number; q: number } {
  const { f } = a;
  // j = round(|x| 2/pi) by the 1.5*2^23 trick (lanes beyond 2^22 take the exact path below)
  const tj = a.tmp();
  a.get(ax);
  a.k(TWO_OVER_PI);
  f.f32x4.mul();
  a.k(ROUND_MAGIC);
  f.f32x4.add();
  f.localTee(tj);
  a.k(ROUND_MAGIC);
  f.f32x4.sub();
  const j = a.save();
  a.get(ax);
  for (const p of PIO2) {
    a.get(j);
    a.k(p);
    f.f32x4.mul();
    f.f32x4.sub();
  }
  const r = a.save();
  a.get(tj);
  a.ki(ROUND_MAGIC_BITS);
  f.i32x4.sub();
  const q = a.save();

  const big = a.tmp();
  a.get(ax);
  a.k(TRIG_FAST_MAX);
  f.f32x4.gt();
  f.localTee(big);
  f.v128.anyTrue();
  f.if();
  const rh: number[] = [];
  const qh: number[] = [];
  for (let h = 0; h < 2; h++) {
    a.get(ax);
    if (h === 1) {
      a.get(ax);
      f.i8x16.shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
    }
    f.f64x2.promoteLowF32x4();
    const xd = a.save();
    const s = a.tmp(); // running sum of fractions (starts at 0: locals are zeroed)
    const e = a.tmp(); // its rounding errors
    const kk = a.tmp(); // integer parts mod 4
    const t = a.tmp();
    const fr = a.tmp();
    const s2 = a.tmp();
    const bb = a.tmp();
    f.f64x2.const(0, 0);
    a.set(s);
    f.f64x2.const(0, 0);
    a.set(e);
    f.f64x2.const(0, 0);
    a.set(kk);
    TWO_OVER_PI_CHUNKS.forEach((chunk, i) => {
      const c = chunk * 2 ** (-24 * (i + 1));
      a.get(xd);
      f.f64x2.const(c, c);
      f.f64x2.mul(); // exact: 24 x 24 bits
      f.localTee(t);
      f.f64x2.nearest();
      const k = a.tmp();
      a.set(k);
      a.get(t);
      a.get(k);
      f.f64x2.sub();
      a.set(fr); // exact fraction in [-1/2, 1/2]
      // kk += k - 4 round(k/4), exact small integers
      a.get(kk);
      a.get(k);
      a.get(k);
      f.f64x2.const(0.25, 0.25);
      f.f64x2.mul();
      f.f64x2.nearest();
      f.f64x2.const(4, 4);
      f.f64x2.mul();
      f.f64x2.sub();
      f.f64x2.add();
      a.set(kk);
      // TwoSum: s2 = s + fr; e += (s - (s2 - bb)) + (fr - bb) with bb = s2 - s
      a.get(s);
      a.get(fr);
      f.f64x2.add();
      f.localTee(s2);
      a.get(s);
      f.f64x2.sub();
      a.set(bb);
      a.get(e);
      a.get(s);
      a.get(s2);
      a.get(bb);
      f.f64x2.sub();
      f.f64x2.sub();
      a.get(fr);
      a.get(bb);
      f.f64x2.sub();
      f.f64x2.add();
      f.f64x2.add();
      a.set(e);
      a.get(s2);
      a.set(s);
    });
    // integer part of the fraction sum into kk; r = (s + e) * pi/2
    a.get(s);
    f.f64x2.nearest();
    f.localTee(t);
    a.get(kk);
    f.f64x2.add();
    f.i32x4.truncSatF64x2SZero();
    qh.push(a.save());
    a.get(s);
    a.get(t);
    f.f64x2.sub();
    a.get(e);
    f.f64x2.add();
    f.f64x2.const(Math.PI / 2, Math.PI / 2);
    f.f64x2.mul();
    f.f32x4.demoteF64x2Zero();
    rh.push(a.save());
  }
  const lohi = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  // only the lanes beyond the bound take the exact path's values, so that a lane's result never
  // depends on its neighbours
  a.get(rh[0]!);
  a.get(rh[1]!);
  f.i8x16.shuffle(lohi);
  a.get(r);
  a.get(big);
  f.v128.bitselect();
  a.set(r);
  a.get(qh[0]!);
  a.get(qh[1]!);
  f.i8x16.shuffle(lohi);
  a.get(q);
  a.get(big);
  f.v128.bitselect();
  a.set(q);
  f.end();
  return { r, q };
}

function emitTrig(a: Asm, x: number, fn: "sin" | "cos" | "tan"): void {
  const { f } = a;
  a.get(x);
  f.f32x4.abs();
  const ax = a.save();
  const { r, q } = emitTrigReduce(a, ax);
  const z = a.square(r);
  a.oddPoly(r, z, SIN_S);
  const sp = a.save();
  a.poly(z, COS_C);
  a.get(z);
  f.f32x4.mul();
  a.get(z);
  f.f32x4.mul();
  a.get(z);
  a.k(0.5);
  f.f32x4.mul();
  f.f32x4.sub();
  a.k(1);
  f.f32x4.add();
  const cp = a.save();
  // odd = all-ones where bit 0 of the (shifted) quadrant is set
  const odd = a.tmp();
  a.get(q);
  if (fn === "cos") {
    a.ki(1);
    f.i32x4.add();
  }
  const qq = a.save();
  a.get(qq);
  f.i32.const(31);
  f.i32x4.shl();
  f.i32.const(31);
  f.i32x4.shrS();
  a.set(odd);
  if (fn === "tan") {
    // even quadrant: sin r / cos r; odd: -cos r / sin r
    a.get(cp);
    a.get(sp);
    a.get(odd);
    f.v128.bitselect();
    a.get(sp);
    a.get(cp);
    a.get(odd);
    f.v128.bitselect();
    f.f32x4.div();
    a.get(qq);
    f.i32.const(31);
    f.i32x4.shl();
  } else {
    a.get(cp);
    a.get(sp);
    a.get(odd);
    f.v128.bitselect();
    a.get(qq);
    f.i32.const(30);
    f.i32x4.shl();
    a.ki(0x80000000);
    f.v128.and();
  }
  f.v128.xor();
  if (fn !== "cos") {
    a.signOf(x);
    f.v128.xor();
  }
}

// ---- expm1, log1p -----------------------------------------------------------------------------------

function emitExpm1(a: Asm, x: number): void {
  const { f } = a;
  // same reduction as exp, with Cephes' degree-5 P: e^r - 1 = r + r^2 P(r)
  const { n, r, z } = emitExpReduce(a, x, -20);
  a.poly(r, EXPM1_P);
  a.get(z);
  f.f32x4.mul();
  a.get(r);
  f.f32x4.add();
  const p = a.save();
  // n <= 24: e^x - 1 = p 2^n - (1 - 2^n), both terms exact or nearly so (no cancellation to speak of)
  a.get(n);
  a.ki(24);
  f.i32x4.minS();
  a.ki(127);
  f.i32x4.add();
  f.i32.const(23);
  f.i32x4.shl();
  const sc = a.save();
  a.get(p);
  a.get(sc);
  f.f32x4.mul();
  a.k(1);
  a.get(sc);
  f.f32x4.sub();
  f.f32x4.sub();
  // n > 24: the -1 is below half an ulp; e^x as exp computes it (2^n in two factors)
  a.get(p);
  a.k(1);
  f.f32x4.add();
  a.mulPow2(n);
  a.get(n);
  a.ki(24);
  f.i32x4.leS();
  f.v128.bitselect();
  // expm1(-0) = -0
  a.get(x);
  a.get(x);
  a.k(0);
  f.f32x4.ne();
  f.v128.bitselect();
}

function emitLog1p(a: Asm, x: number): void {
  const { f } = a;
  // u = 1 + x rounded; log1p(x) = log(u (1 + c/u)) with c = x - (u - 1) the rounding error of u, which
  // enters as 1 + f + c 2^-e (1 + f = u 2^-e being the mantissa the log core sees).
  a.get(x);
  a.k(1);
  f.f32x4.add();
  const u = a.save();
  const { fl, fe, e } = emitLogSplit(a, u, false);
  a.get(fl);
  a.get(x);
  a.get(u);
  a.k(1);
  f.f32x4.sub();
  f.f32x4.sub();
  a.ki(127);
  a.get(e);
  a.ki(100);
  f.i32x4.minS();
  f.i32x4.sub();
  f.i32.const(23);
  f.i32x4.shl();
  f.f32x4.mul();
  f.f32x4.add();
  a.set(fl);
  emitLogCore(a, fl, fe);
  emitLogSpecials(a, u);
  // log1p(-0) = -0
  a.get(x);
  a.get(x);
  a.k(0);
  f.f32x4.ne();
  f.v128.bitselect();
}

// ---- atan, sinh, cosh ------------------------------------------------------------------------------

// Cephes atanf on |t| <= tan(pi/8): atan t = t + t^3 A(t^2).
const ATAN_A = [-3.33329491539e-1, 1.99777106478e-1, -1.38776856032e-1, 8.05374449538e-2];
const PIO2_HI = 1.5707963705062866; // float32(pi/2)
const PIO2_LO = -4.371139000186243e-8; // pi/2 - PIO2_HI
const TAN3PI8 = 2.414213562373095;
const TANPI8 = 0.41421356237309503;

function emitAtan(a: Asm, x: number): void {
  const { f } = a;
  a.get(x);
  f.f32x4.abs();
  const ax = a.save();
  const big = a.tmp();
  const mid = a.tmp();
  a.get(ax);
  a.k(TAN3PI8);
  f.f32x4.gt();
  a.set(big);
  a.get(ax);
  a.k(TANPI8);
  f.f32x4.gt();
  a.set(mid);
  // t = big ? -1/|x| : mid ? (|x|-1)/(|x|+1) : |x|; result = y0 + atan t, y0 = pi/2, pi/4 or 0
  a.k(-1);
  a.get(ax);
  a.k(1);
  f.f32x4.sub();
  a.get(ax);
  a.get(mid);
  f.v128.bitselect();
  a.get(big);
  f.v128.bitselect();
  a.get(ax);
  a.get(ax);
  a.k(1);
  f.f32x4.add();
  a.k(1);
  a.get(mid);
  f.v128.bitselect();
  a.get(big);
  f.v128.bitselect();
  f.f32x4.div();
  const t = a.save();
  const z = a.square(t);
  a.poly(z, ATAN_A);
  a.get(z);
  f.f32x4.mul();
  a.get(t);
  f.f32x4.mul();
  // y0 in two pieces: the low one first
  a.k(PIO2_LO);
  a.k(PIO2_LO / 2);
  a.get(big);
  f.v128.bitselect();
  a.get(mid);
  f.v128.and();
  f.f32x4.add();
  a.get(t);
  f.f32x4.add();
  a.k(PIO2_HI);
  a.k(PIO2_HI / 2);
  a.get(big);
  f.v128.bitselect();
  a.get(mid);
  f.v128.and();
  f.f32x4.add();
  a.signOf(x);
  f.v128.or();
}

// sinh(a) = a + a^3 P(a^2) on [0, 1] (fitted minimax, relative error 5e-11 before rounding).
const SINH_P = [0.1666666716337204, 0.008333349600434303, 0.0001983615948120132, 2.8169513370812638e-6];

function emitSinhCosh(a: Asm, x: number, fn: "sinh" | "cosh"): void {
  const { f } = a;
  a.get(x);
  f.f32x4.abs();
  const ax = a.save();
  // h = e^|x| / 2 (exact halving inside exp, so cosh/sinh overflow at their own thresholds)
  emitExpScaled(a, ax, -1);
  const h = a.save();
  a.get(h);
  a.k(0.25);
  a.get(h);
  f.f32x4.div();
  if (fn === "cosh") {
    f.f32x4.add();
    return;
  }
  f.f32x4.sub();
  const z = a.square(ax);
  a.oddPoly(ax, z, SINH_P);
  a.get(ax);
  a.k(1);
  f.f32x4.ge();
  f.v128.bitselect();
  a.signOf(x);
  f.v128.or();
}

// ---- pow ---------------------------------------------------------------------------------------------

/** log2(m) = s * sum LOG2_ATANH[k] s^2k with s = (m-1)/(m+1): 2/ln2 * atanh(s) (Taylor, |s| < 0.172, rel. error < 2^-45). */
const LOG2_ATANH = Array.from({ length: 8 }, (_, k) => 2 / Math.LN2 / (2 * k + 1));
/** 2^t = sum (t ln2)^k / k! for |t| <= 1/2 (Taylor to k = 9, relative error < 2^-37). */
const EXP2_T = Array.from({ length: 10 }, (_, k) => Math.LN2 ** k / [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880][k]!);

/** Pushes c[0] + z*(c[1] + ...) in float64x2. */
function poly64(a: Asm, z: number, c: readonly number[]): void {
  const { f } = a;
  const top = c[c.length - 1]!;
  f.f64x2.const(top, top);
  for (let i = c.length - 2; i >= 0; i--) {
    a.get(z);
    f.f64x2.mul();
    f.f64x2.const(c[i]!, c[i]!);
    f.f64x2.add();
  }
}

/**
 * pow(x, y) as the JS kernel's M.pow (C semantics). |x|^y = 2^(y log2|x|) is computed in float64
 * (two lanes at a time): the exponent and mantissa of |x| come from the float32 bits, log2 of the
 * mantissa from an atanh series, 2^frac from a Taylor polynomial; then the float32 result is scaled
 * by 2^n in two factors (overflow to infinity and gradual underflow as exp). The special cases (zeros,
 * infinities, NaN, negative bases, pow(x, 0) = pow(1, y) = 1, pow(-1, +-inf) = 1) are lane selects.
 */
function emitPow(a: Asm, x: number, y: number): void {
  const { f } = a;
  a.get(x);
  f.f32x4.abs();
  const ax = a.save();
  const { fl, fe } = emitLogSplit(a, ax);
  const hi = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  const lohi = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const ph: number[] = [];
  const nh: number[] = [];
  const half = (l: number, h: number): void => {
    a.get(l);
    if (h === 1) {
      a.get(l);
      f.i8x16.shuffle(hi);
    }
  };
  for (let h = 0; h < 2; h++) {
    // s = f / (f + 2) with f = m - 1 (exact in float64)
    half(fl, h);
    f.f64x2.promoteLowF32x4();
    const fd = a.save();
    a.get(fd);
    a.get(fd);
    f.f64x2.const(2, 2);
    f.f64x2.add();
    f.f64x2.div();
    const sd = a.save();
    a.get(sd);
    a.get(sd);
    f.f64x2.mul();
    const s2 = a.save();
    // w = y * (e + log2 m), clamped to [-200, 200] (NaN stays)
    poly64(a, s2, LOG2_ATANH);
    a.get(sd);
    f.f64x2.mul();
    half(fe, h);
    f.f64x2.promoteLowF32x4();
    f.f64x2.add();
    half(y, h);
    f.f64x2.promoteLowF32x4();
    f.f64x2.mul();
    f.f64x2.const(200, 200);
    f.f64x2.pmin();
    f.f64x2.const(-200, -200);
    f.f64x2.pmax();
    const w = a.save();
    a.get(w);
    f.f64x2.nearest();
    const nd = a.save();
    a.get(w);
    a.get(nd);
    f.f64x2.sub();
    const t = a.save();
    poly64(a, t, EXP2_T);
    f.f32x4.demoteF64x2Zero();
    ph.push(a.save());
    a.get(nd);
    f.i32x4.truncSatF64x2SZero();
    nh.push(a.save());
  }
  // R = p * 2^n1 * 2^n2
  a.get(ph[0]!);
  a.get(ph[1]!);
  f.i8x16.shuffle(lohi);
  a.get(nh[0]!);
  a.get(nh[1]!);
  f.i8x16.shuffle(lohi);
  const n = a.save();
  a.mulPow2(n);
  const res = a.save();
  // x = +-0 or +-inf: inf when (|x| = inf) == (y > 0), else 0
  a.k(Infinity);
  a.k(0);
  a.get(ax);
  a.k(Infinity);
  f.f32x4.eq();
  a.get(y);
  a.k(0);
  f.f32x4.gt();
  f.v128.xor();
  f.v128.not();
  f.v128.bitselect();
  a.get(res);
  a.get(ax);
  a.k(0);
  f.f32x4.eq();
  a.get(ax);
  a.k(Infinity);
  f.f32x4.eq();
  f.v128.or();
  f.v128.bitselect();
  // negative base (or -0) with an odd integer y: negate (|y| >= 2^24 is always even)
  a.get(y);
  f.i32x4.truncSatF32x4S();
  f.i32.const(31);
  f.i32x4.shl();
  a.get(y);
  f.f32x4.abs();
  a.k(16777216);
  f.f32x4.lt();
  f.v128.and();
  a.get(y);
  f.f32x4.nearest();
  a.get(y);
  f.f32x4.eq();
  f.v128.and();
  a.signOf(x);
  f.v128.and();
  f.v128.xor();
  a.set(res);
  // NaN: finite negative base with a non-integer y, or a NaN operand
  a.k(NaN);
  a.get(res);
  a.get(y);
  f.f32x4.nearest();
  a.get(y);
  f.f32x4.ne(); // y not an integer (or NaN)
  a.get(x);
  a.k(0);
  f.f32x4.lt();
  f.v128.and();
  a.get(ax);
  a.k(Infinity);
  f.f32x4.ne();
  f.v128.and();
  a.get(x);
  a.get(x);
  f.f32x4.ne();
  f.v128.or();
  a.get(y);
  a.get(y);
  f.f32x4.ne();
  f.v128.or();
  f.v128.bitselect();
  a.set(res);
  // 1: y = +-0, x = 1, or x = -1 with y = +-inf (C's pow, even with a NaN operand)
  a.k(1);
  a.get(res);
  a.get(y);
  a.k(0);
  f.f32x4.eq();
  a.get(x);
  a.k(1);
  f.f32x4.eq();
  f.v128.or();
  a.get(x);
  a.k(-1);
  f.f32x4.eq();
  a.get(y);
  f.f32x4.abs();
  a.k(Infinity);
  f.f32x4.eq();
  f.v128.and();
  f.v128.or();
  f.v128.bitselect();
}

// ---- dispatch ----------------------------------------------------------------------------------------

/**
 * Pushes the f32x4 result of fn applied lane-wise to the v128 in local `x` (and `y` for pow). May
 * create locals. `consts` (from hoistVMathConstants in the same function) replaces the inline
 * constants with locals; the results are identical either way.
 */
export function emitVMath(f: FunctionBuilder, fn: VMathFn, x: number, y?: number, consts?: VMathConstants): void {
  const a = new Asm(f, consts);
  switch (fn) {
    case "exp":
      return emitExp(a, x);
    case "log":
      return emitLog(a, x);
    case "tanh":
      return emitTanh(a, x);
    case "sigmoid":
      return emitSigmoid(a, x);
    case "erf":
      return emitErf(a, x);
    case "expm1":
      return emitExpm1(a, x);
    case "log1p":
      return emitLog1p(a, x);
    case "atan":
      return emitAtan(a, x);
    case "sinh":
    case "cosh":
      return emitSinhCosh(a, x, fn);
    case "pow":
      if (y === undefined) throw new Error("emitVMath: pow needs a second operand (y)");
      return emitPow(a, x, y);
    case "sin":
    case "cos":
    case "tan":
      return emitTrig(a, x, fn);
    default:
      throw new Error(`emitVMath: ${fn} is not implemented yet`);
  }
}
