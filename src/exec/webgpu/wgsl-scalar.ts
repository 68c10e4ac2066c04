/**
 * WGSL expressions for every elementwise op of the registry, per storage type: the GPU twin of the
 * JavaScript scalar templates in src/ir/ops/elementwise.ts (which define the semantics).
 *
 * Values live in their storage type (f32, i32, u32 for bool and uint8), so every template returns
 * a value already valid for its dtype: uint8 results are masked to 0..255, bool results are 0/1.
 *
 * Floats: WGSL lets implementations assume NaN and infinity never occur, so nothing here relies on
 * a comparison with NaN or on a builtin's behaviour at special values. NaN and infinity tests read
 * the bits; infinities and NaN are made at run time from a private variable (a constant expression
 * that overflows is a shader-creation error); maximum/minimum, relu, sign, casts, pow, mod and the
 * transcendental functions handle special inputs explicitly, as the CPU templates do.
 * Accuracy: + - * / and sqrt are the GPU's f32 operations (the CPU rounds a float64 result once, so
 * the two agree to about 1 ulp). exp/log/trig builtins are replaced where the WGSL accuracy bound
 * is loose or relative accuracy near 0 matters: sin/cos use Cody-Waite reduction and minimax
 * polynomials, expm1/log1p/erf/tanh/sinh use series near 0, log near 1 goes through log1p.
 * Signed zeros are not guaranteed (GPUs may flush denormals and drop the sign of a zero).
 */
import type { DType } from "../../ir/dtype.js";
import type { Attrs, OpDef } from "../../ir/registry.js";
import { lit, storageType, type WgslScalar } from "./wgsl-common.js";

interface HelperDef {
  readonly deps: readonly string[];
  readonly code: string;
}

/** WGSL helper functions, emitted into a module only when some template uses them. */
const HELPERS: Readonly<Record<string, HelperDef>> = {
  st_bits: {
    deps: [],
    code: `// Infinity and NaN made at run time: a constant expression that overflows does not compile.
var<private> st_INF_BITS: u32 = 0x7f800000u;
fn st_inf() -> f32 { return bitcast<f32>(st_INF_BITS); }
fn st_nan() -> f32 { return bitcast<f32>(st_INF_BITS | 0x400000u); }
fn st_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn st_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn st_isfinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn st_truthy(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) != 0u; }
fn st_signbit(x: f32) -> bool { return (bitcast<u32>(x) & 0x80000000u) != 0u; }
`,
  },
  st_exp: {
    deps: ["st_bits"],
    // Builtins need not propagate NaN (SwiftShader's exp(NaN) is +inf).
    code: `fn st_exp(x: f32) -> f32 { if (st_isnan(x)) { return x; } return exp(x); }
`,
  },
  st_max: {
    deps: ["st_bits"],
    code: `fn st_max(a: f32, b: f32) -> f32 { if (st_isnan(a)) { return a; } if (st_isnan(b)) { return b; } return select(b, a, a > b); }
fn st_min(a: f32, b: f32) -> f32 { if (st_isnan(a)) { return a; } if (st_isnan(b)) { return b; } return select(b, a, a < b); }
`,
  },
  st_expm1: {
    deps: ["st_exp"],
    code: `fn st_expm1(x: f32) -> f32 {
  // Taylor series near 0 (exp(x) - 1 cancels there); the truncation error is below 1e-8 relative.
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x * (1.0 / 720.0 + x * (1.0 / 5040.0 + x * (1.0 / 40320.0))))))));
  }
  return st_exp(x) - 1.0;
}
`,
  },
  st_log: {
    deps: ["st_bits"],
    code: `// log(1 + x) for x in (-0.3, 0.5) as 2 atanh(x / (2 + x)): accurate relative to the result.
fn st_log1p_small(x: f32) -> f32 {
  let s = x / (2.0 + x);
  let z = s * s;
  return 2.0 * s * (1.0 + z * (1.0 / 3.0 + z * (0.2 + z * (1.0 / 7.0 + z * (1.0 / 9.0 + z * (1.0 / 11.0 + z * (1.0 / 13.0)))))));
}
fn st_log(x: f32) -> f32 {
  if (st_isnan(x)) { return x; }
  if (x == 0.0) { return -st_inf(); }
  if (x < 0.0) { return st_nan(); }
  if (st_isinf(x)) { return x; }
  // Near 1 the builtin's error is absolute (2^-21), not relative; x - 1 is exact there.
  if (x > 0.7 && x < 1.5) { return st_log1p_small(x - 1.0); }
  return log(x);
}
fn st_log1p(x: f32) -> f32 {
  if (x > -0.3 && x < 0.5) { return st_log1p_small(x); }
  return st_log(1.0 + x);
}
`,
  },
  st_sqrt: {
    deps: ["st_bits"],
    code: `fn st_sqrt(x: f32) -> f32 {
  if (x < 0.0) { return st_nan(); }
  if (st_isinf(x) || x == 0.0) { return x; }
  return sqrt(x);
}
`,
  },
  st_trig: {
    deps: ["st_bits"],
    // Cephes sinf/cosf: reduction by pi/4 in three parts (exact products for |x| < 8192), minimax
    // polynomials on [-pi/4, pi/4]. Larger arguments use the builtin.
    code: `fn st_sincos_poly(r: f32, useCos: bool) -> f32 {
  let z = r * r;
  if (useCos) { return ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0; }
  return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
}
fn st_reduce(x: f32, y: f32) -> f32 { return ((x - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8; }
fn st_sin(v: f32) -> f32 {
  if (!st_isfinite(v)) { return st_nan(); }
  let x = abs(v);
  if (x > 8192.0) { return sin(v); }
  var j = u32(x * 1.27323954473516);
  var y = f32(j);
  if ((j & 1u) == 1u) { j += 1u; y += 1.0; }
  j = j & 7u;
  var s = select(1.0, -1.0, v < 0.0);
  if (j > 3u) { s = -s; j -= 4u; }
  return s * st_sincos_poly(st_reduce(x, y), j == 1u || j == 2u);
}
fn st_cos(v: f32) -> f32 {
  if (!st_isfinite(v)) { return st_nan(); }
  let x = abs(v);
  if (x > 8192.0) { return cos(v); }
  var j = u32(x * 1.27323954473516);
  var y = f32(j);
  if ((j & 1u) == 1u) { j += 1u; y += 1.0; }
  j = j & 7u;
  var s = 1.0;
  if (j > 3u) { s = -s; j -= 4u; }
  if (j > 1u) { s = -s; }
  return s * st_sincos_poly(st_reduce(x, y), !(j == 1u || j == 2u));
}
`,
  },
  st_inverse_trig: {
    deps: ["st_bits", "st_sqrt"],
    code: `fn st_asin(x: f32) -> f32 { if (st_isnan(x) || abs(x) > 1.0) { return st_nan(); } return st_atan2(x, st_sqrt((1.0 - x) * (1.0 + x))); }
fn st_acos(x: f32) -> f32 { if (st_isnan(x) || abs(x) > 1.0) { return st_nan(); } return st_atan2(st_sqrt((1.0 - x) * (1.0 + x)), x); }
fn st_atan(x: f32) -> f32 {
  if (st_isnan(x)) { return x; }
  if (st_isinf(x)) { return select(1.5707963267948966, -1.5707963267948966, x < 0.0); }
  return atan(x);
}
// Math.atan2(y, x) with IEEE special cases spelled out (the builtin leaves them undefined).
fn st_atan2(y: f32, x: f32) -> f32 {
  if (st_isnan(x) || st_isnan(y)) { return st_nan(); }
  let pi = 3.141592653589793;
  if (st_isinf(y)) {
    var a = 1.5707963267948966;
    if (st_isinf(x)) { a = select(0.7853981633974483, 2.356194490192345, x < 0.0); }
    return select(a, -a, y < 0.0);
  }
  if (st_isinf(x)) {
    let a = select(0.0, pi, x < 0.0);
    return select(a, -a, st_signbit(y));
  }
  if (y == 0.0) {
    let a = select(0.0, pi, st_signbit(x));
    return select(a, -a, st_signbit(y));
  }
  if (x == 0.0) { return select(1.5707963267948966, -1.5707963267948966, y < 0.0); }
  return atan2(y, x);
}
`,
  },
  st_hyperbolic: {
    deps: ["st_bits", "st_exp", "st_expm1"],
    code: `fn st_sinh(x: f32) -> f32 {
  let a = abs(x);
  var r: f32;
  // exp(a) / 2 overflows before the result does: exp(a/2) * exp(a/2) / 2.
  if (a > 80.0) { let h = exp(0.5 * a); r = h * (0.5 * h); }
  else { let e = st_expm1(a); r = 0.5 * (e + e / (e + 1.0)); }
  return select(r, -r, x < 0.0);
}
fn st_cosh(x: f32) -> f32 {
  let a = abs(x);
  if (a > 80.0) { let h = exp(0.5 * a); return h * (0.5 * h); }
  let e = st_exp(a);
  return 0.5 * (e + 1.0 / e);
}
// tanh and sigmoid are branch-free (both sides of a choice are a few instructions; select avoids
// divergent warps on mixed inputs); NaN is selected back at the end, whatever the builtins gave.
fn st_tanh(x: f32) -> f32 {
  // tanh(10) rounds to 1 in f32, and clamping keeps exp finite.
  let t = 2.0 * min(abs(x), 10.0);
  // expm1(t): its Taylor series near 0 (exp(t) - 1 cancels there), exp elsewhere.
  let p = t * (1.0 + t * (0.5 + t * (1.0 / 6.0 + t * (1.0 / 24.0 + t * (1.0 / 120.0 + t * (1.0 / 720.0 + t * (1.0 / 5040.0 + t * (1.0 / 40320.0))))))));
  let e = select(exp(t) - 1.0, p, t < 0.5);
  let r = e / (e + 2.0);
  return select(select(r, -r, x < 0.0), x, st_isnan(x));
}
fn st_sigmoid(x: f32) -> f32 {
  // exp(-|x|) is in (0, 1]: no overflow on either side.
  let e = exp(-abs(x));
  let r = 1.0 / (1.0 + e);
  return select(select(e * r, r, x >= 0.0), x, st_isnan(x));
}
`,
  },
  st_erf: {
    deps: ["st_bits"],
    code: `// erf as its Taylor series for |x| < 0.5; erfc for x >= 0.5 by Numerical Recipes' erfcc (relative
// error about 1.2e-7), so 1 + erf(x) never cancels in gelu.
fn st_erf_small(x: f32) -> f32 {
  let z = x * x;
  return x * 1.1283791670955126 * (1.0 - z * (1.0 / 3.0 - z * (0.1 - z * (1.0 / 42.0 - z * (1.0 / 216.0 - z * (1.0 / 1320.0 - z * (1.0 / 9360.0)))))));
}
fn st_erfc_pos(x: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * x);
  return t * exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}
fn st_erfc(x: f32) -> f32 {
  if (st_isnan(x)) { return x; }
  if (abs(x) < 0.5) { return 1.0 - st_erf_small(x); }
  if (x > 0.0) { return st_erfc_pos(x); }
  return 2.0 - st_erfc_pos(-x);
}
fn st_erf(x: f32) -> f32 {
  if (st_isnan(x)) { return x; }
  if (abs(x) < 0.5) { return st_erf_small(x); }
  let c = st_erfc_pos(abs(x));
  return select(c - 1.0, 1.0 - c, x > 0.0);
}
`,
  },
  st_pow: {
    deps: ["st_bits"],
    code: `// C's pow (what NumPy calls), special cases first; integral exponents up to 64 by squaring.
fn st_pow(x: f32, y: f32) -> f32 {
  if (x == 1.0 || y == 0.0) { return 1.0; }
  if (st_isnan(x) || st_isnan(y)) { return st_nan(); }
  let ax = abs(x);
  if (st_isinf(y)) {
    if (ax == 1.0) { return 1.0; }
    return select(0.0, st_inf(), (ax > 1.0) == (y > 0.0));
  }
  let yInt = floor(y) == y;
  let yOdd = yInt && abs(y) < 16777216.0 && floor(y * 0.5) != y * 0.5;
  if (x == 0.0) {
    let neg = yOdd && st_signbit(x);
    if (y > 0.0) { return select(0.0, -0.0, neg); }
    return select(st_inf(), -st_inf(), neg);
  }
  if (st_isinf(x)) {
    let neg = yOdd && x < 0.0;
    if (y > 0.0) { return select(st_inf(), -st_inf(), neg); }
    return select(0.0, -0.0, neg);
  }
  if (x < 0.0 && !yInt) { return st_nan(); }
  var r = 1.0;
  if (yInt && abs(y) <= 64.0) {
    var e = u32(abs(y));
    var b = ax;
    while (e != 0u) {
      if ((e & 1u) != 0u) { r = r * b; }
      e = e >> 1u;
      b = b * b;
    }
    if (y < 0.0) { r = 1.0 / r; }
  } else {
    r = exp2(y * log2(ax));
  }
  return select(r, -r, x < 0.0 && yOdd);
}
`,
  },
  st_fmod: {
    deps: ["st_bits"],
    code: `// Veltkamp split: hi holds the top 12 significand bits, x - hi the rest, so products of halves are exact.
fn st_split_hi(x: f32) -> f32 { let c = 4097.0 * x; return c - (c - x); }
// JavaScript's a % b (C fmod): the sign of a, |r| < |b|. The quotient's product b*q is formed
// exactly (Dekker), so the remainder is exact whenever the quotient fits a float's 24 bits.
fn st_fmod(a: f32, b: f32) -> f32 {
  if (st_isnan(a) || st_isnan(b) || st_isinf(a)) { return st_nan(); }
  if (st_isinf(b)) { return a; }
  let q = trunc(a / b);
  var r: f32;
  if (abs(q) < 16777216.0 && abs(a) < 1e30 && abs(b) < 1e30) {
    let p = b * q;
    let bh = st_split_hi(b);
    let bl = b - bh;
    let qh = st_split_hi(q);
    let ql = q - qh;
    let e = ((bh * qh - p) + bh * ql + bl * qh) + bl * ql;
    r = (a - p) - e;
  } else {
    r = a - b * q;
  }
  // The rounded quotient may be one off: bring r back to the sign of a and below |b|.
  let ab = abs(b);
  if (a > 0.0 && r < 0.0) { r += ab; }
  if (a < 0.0 && r > 0.0) { r -= ab; }
  if (abs(r) >= ab) { r -= select(ab, -ab, a < 0.0); }
  return r;
}
// NumPy's mod: the remainder takes the sign of the divisor.
fn st_fmodpy(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return st_nan(); }
  var m = st_fmod(a, b);
  if (!(m == 0.0)) {
    if ((b < 0.0) != (m < 0.0)) { m += b; }
  } else {
    m = select(0.0, -0.0, b < 0.0);
  }
  return m;
}
// NumPy's floor_divide (npy_divmod), step by step as scalar-math.ts floorDivPy.
fn st_floordivpy(a: f32, b: f32) -> f32 {
  if (b == 0.0) {
    if (st_isnan(a) || a == 0.0) { return st_nan(); }
    return select(st_inf(), -st_inf(), st_signbit(a) != st_signbit(b));
  }
  if (st_isnan(a) || st_isnan(b) || st_isinf(a)) { return st_nan(); }
  var m = st_fmod(a, b);
  var d = (a - m) / b;
  if (!(m == 0.0) && ((b < 0.0) != (m < 0.0))) { m += b; d -= 1.0; }
  if (!(d == 0.0)) {
    var fd = floor(d);
    if (d - fd > 0.5) { fd += 1.0; }
    return fd;
  }
  let q = a / b;
  return select(0.0, -0.0, q < 0.0 || st_signbit(q));
}
`,
  },
  st_int: {
    deps: [],
    code: `// Integer floor division and modulo with NumPy's signs; x // 0 and x % 0 are 0.
fn st_idiv(a: i32, b: i32) -> i32 {
  if (b == 0i) { return 0i; }
  let q = a / b;
  let r = a - q * b;
  if (r != 0i && ((r < 0i) != (b < 0i))) { return q - 1i; }
  return q;
}
fn st_imod(a: i32, b: i32) -> i32 {
  if (b == 0i) { return 0i; }
  var r = a % b;
  if (r != 0i && ((r < 0i) != (b < 0i))) { r += b; }
  return r;
}
// Integer power with wrap-around; negative exponents truncate (0 unless |a| = 1).
fn st_ipow(a: i32, b: i32) -> i32 {
  if (b < 0i) {
    if (a == 1i) { return 1i; }
    if (a == -1i) { return select(-1i, 1i, (b & 1i) == 0i); }
    return 0i;
  }
  var r = 1i;
  var base = a;
  var e = u32(b);
  while (e != 0u) {
    if ((e & 1u) != 0u) { r = r * base; }
    base = base * base;
    e = e >> 1u;
  }
  return r;
}
fn st_upow(a: u32, b: u32) -> u32 {
  var r = 1u;
  var base = a;
  var e = b;
  while (e != 0u) {
    if ((e & 1u) != 0u) { r = r * base; }
    base = base * base;
    e = e >> 1u;
  }
  return r;
}
`,
  },
  st_cast: {
    deps: ["st_bits"],
    code: `// Float to int: truncate toward zero, saturate, NaN -> 0 (scalar-math.ts toInt32/toUint8).
fn st_f2i(x: f32) -> i32 {
  if (st_isnan(x)) { return 0i; }
  if (x >= 2147483648.0) { return 2147483647i; }
  if (x <= -2147483648.0) { return -2147483647i - 1i; }
  return i32(x);
}
fn st_f2u8(x: f32) -> u32 {
  if (!(x > 0.0) || st_isnan(x)) { return 0u; }
  if (x >= 255.0) { return 255u; }
  return u32(x);
}
`,
  },
};

/** Collects the helpers a module uses, in dependency order. */
export class Helpers {
  private readonly used: string[] = [];
  use(name: string): void {
    if (this.used.includes(name)) return;
    const def = HELPERS[name];
    if (!def) throw new Error(`unknown WGSL helper ${name}`);
    for (const d of def.deps) this.use(d);
    this.used.push(name);
  }
  code(): string {
    return this.used.map((n) => HELPERS[n]!.code).join("");
  }
}

type Kind = "f" | "i" | "u8" | "b";

function kindOf(d: DType): Kind {
  switch (d) {
    case "float32":
      return "f";
    case "int32":
      return "i";
    case "uint8":
      return "u8";
    case "bool":
      return "b";
    default:
      storageType(d);
      return "f";
  }
}

type Tpl = (a: readonly string[], h: Helpers, attrs: Attrs, out: DType, ins: readonly DType[]) => string | undefined;

/** `cond ? 1 : 0` as a bool value. */
const b01 = (cond: string): string => `select(0u, 1u, ${cond})`;

/** Per kind: a template, or undefined where the op does not accept the kind. */
type ByKind = Partial<Record<Kind, Tpl>>;

const fn1 = (h: Helpers, helper: string, name: string) => (a: readonly string[]) => {
  h.use(helper);
  return `${name}(${a[0]})`;
};

function unaryFloat(helper: string | undefined, expr: (x: string) => string): ByKind {
  return {
    f: (a, h) => {
      if (helper) h.use(helper);
      return expr(a[0]!);
    },
  };
}

function truthy(x: string, k: Kind, h: Helpers): string {
  if (k === "f") {
    h.use("st_bits");
    return `st_truthy(${x})`;
  }
  return k === "i" ? `(${x} != 0i)` : `(${x} != 0u)`;
}

const compareOps: Readonly<Record<string, string>> = {
  equal: "==",
  notEqual: "!=",
  less: "<",
  lessEqual: "<=",
  greater: ">",
  greaterEqual: ">=",
};

function castTemplate(a: readonly string[], h: Helpers, from: Kind, to: Kind): string {
  const x = a[0]!;
  if (from === to) return x;
  if (to === "b") return b01(truthy(x, from, h));
  if (to === "f") return `f32(${x})`;
  if (from === "f") {
    h.use("st_cast");
    return to === "i" ? `st_f2i(${x})` : `st_f2u8(${x})`;
  }
  if (to === "u8") return from === "i" ? `(bitcast<u32>(${x}) & 255u)` : x; // bool -> uint8 is exact
  return `i32(${x})`; // bool/uint8 -> int32 is exact
}

const TEMPLATES: Readonly<Record<string, ByKind>> = {
  neg: { f: (a) => `(-${a[0]})`, i: (a) => `(0i - ${a[0]})`, u8: (a) => `((0u - ${a[0]}) & 255u)` },
  abs: { f: (a) => `abs(${a[0]})`, i: (a) => `abs(${a[0]})`, u8: (a) => a[0]!, b: (a) => a[0]! },
  sign: {
    f: (a) => `select(select(${a[0]}, -1.0, ${a[0]} < 0.0), 1.0, ${a[0]} > 0.0)`,
    i: (a) => `select(select(0i, -1i, ${a[0]} < 0i), 1i, ${a[0]} > 0i)`,
    u8: (a) => b01(`${a[0]} > 0u`),
  },
  square: { f: (a) => `(${a[0]} * ${a[0]})`, i: (a) => `(${a[0]} * ${a[0]})`, u8: (a) => `((${a[0]} * ${a[0]}) & 255u)` },
  relu: {
    f: (a, h) => {
      h.use("st_bits");
      return `select(0.0, ${a[0]}, ${a[0]} > 0.0 || st_isnan(${a[0]}))`;
    },
    i: (a) => `max(${a[0]}, 0i)`,
    u8: (a) => a[0]!,
  },
  exp: unaryFloat("st_exp", (x) => `st_exp(${x})`),
  expm1: unaryFloat("st_expm1", (x) => `st_expm1(${x})`),
  log: unaryFloat("st_log", (x) => `st_log(${x})`),
  log1p: unaryFloat("st_log", (x) => `st_log1p(${x})`),
  sqrt: unaryFloat("st_sqrt", (x) => `st_sqrt(${x})`),
  rsqrt: unaryFloat("st_sqrt", (x) => `(1.0 / st_sqrt(${x}))`),
  reciprocal: unaryFloat(undefined, (x) => `(1.0 / ${x})`),
  sin: unaryFloat("st_trig", (x) => `st_sin(${x})`),
  cos: unaryFloat("st_trig", (x) => `st_cos(${x})`),
  tan: unaryFloat("st_trig", (x) => `(st_sin(${x}) / st_cos(${x}))`),
  asin: unaryFloat("st_inverse_trig", (x) => `st_asin(${x})`),
  acos: unaryFloat("st_inverse_trig", (x) => `st_acos(${x})`),
  atan: unaryFloat("st_inverse_trig", (x) => `st_atan(${x})`),
  sinh: unaryFloat("st_hyperbolic", (x) => `st_sinh(${x})`),
  cosh: unaryFloat("st_hyperbolic", (x) => `st_cosh(${x})`),
  tanh: unaryFloat("st_hyperbolic", (x) => `st_tanh(${x})`),
  sigmoid: unaryFloat("st_hyperbolic", (x) => `st_sigmoid(${x})`),
  erf: unaryFloat("st_erf", (x) => `st_erf(${x})`),
  floor: unaryFloat(undefined, (x) => `floor(${x})`),
  ceil: unaryFloat(undefined, (x) => `ceil(${x})`),
  // WGSL's round is round-half-to-even, as NumPy's rint.
  round: unaryFloat(undefined, (x) => `round(${x})`),
  gelu: {
    f: (a, h, attrs) => {
      if (attrs["approximate"] === true) {
        // 0.5 x (1 + tanh(u)) = x sigmoid(2u): no cancellation for negative x.
        h.use("st_hyperbolic");
        return `(${a[0]} * st_sigmoid(1.5957691216057308 * (${a[0]} + 0.044715 * ${a[0]} * ${a[0]} * ${a[0]})))`;
      }
      h.use("st_erf");
      return `(0.5 * ${a[0]} * st_erfc(-0.7071067811865476 * ${a[0]}))`;
    },
  },
  stopGradient: { f: (a) => a[0]!, i: (a) => a[0]!, u8: (a) => a[0]!, b: (a) => a[0]! },

  add: { f: (a) => `(${a[0]} + ${a[1]})`, i: (a) => `(${a[0]} + ${a[1]})`, u8: (a) => `((${a[0]} + ${a[1]}) & 255u)`, b: (a) => `(${a[0]} | ${a[1]})` },
  sub: { f: (a) => `(${a[0]} - ${a[1]})`, i: (a) => `(${a[0]} - ${a[1]})`, u8: (a) => `((${a[0]} - ${a[1]}) & 255u)` },
  mul: { f: (a) => `(${a[0]} * ${a[1]})`, i: (a) => `(${a[0]} * ${a[1]})`, u8: (a) => `((${a[0]} * ${a[1]}) & 255u)`, b: (a) => `(${a[0]} & ${a[1]})` },
  div: { f: (a) => `(${a[0]} / ${a[1]})` },
  pow: {
    f: (a, h) => fn1(h, "st_pow", "st_pow")([`${a[0]}, ${a[1]}`]),
    i: (a, h) => fn1(h, "st_int", "st_ipow")([`${a[0]}, ${a[1]}`]),
    u8: (a, h) => `(${fn1(h, "st_int", "st_upow")([`${a[0]}, ${a[1]}`])} & 255u)`,
  },
  maximum: {
    f: (a, h) => fn1(h, "st_max", "st_max")([`${a[0]}, ${a[1]}`]),
    i: (a) => `max(${a[0]}, ${a[1]})`,
    u8: (a) => `max(${a[0]}, ${a[1]})`,
    b: (a) => `max(${a[0]}, ${a[1]})`,
  },
  minimum: {
    f: (a, h) => fn1(h, "st_max", "st_min")([`${a[0]}, ${a[1]}`]),
    i: (a) => `min(${a[0]}, ${a[1]})`,
    u8: (a) => `min(${a[0]}, ${a[1]})`,
    b: (a) => `min(${a[0]}, ${a[1]})`,
  },
  mod: {
    f: (a, h) => fn1(h, "st_fmod", "st_fmodpy")([`${a[0]}, ${a[1]}`]),
    i: (a, h) => fn1(h, "st_int", "st_imod")([`${a[0]}, ${a[1]}`]),
    u8: (a) => `select(0u, ${a[0]} % ${a[1]}, ${a[1]} != 0u)`,
  },
  floorDiv: {
    f: (a, h) => fn1(h, "st_fmod", "st_floordivpy")([`${a[0]}, ${a[1]}`]),
    i: (a, h) => fn1(h, "st_int", "st_idiv")([`${a[0]}, ${a[1]}`]),
    u8: (a) => `select(0u, ${a[0]} / ${a[1]}, ${a[1]} != 0u)`,
  },
  atan2: { f: (a, h) => fn1(h, "st_inverse_trig", "st_atan2")([`${a[0]}, ${a[1]}`]) },
};

/** The WGSL expression for one elementwise node, or undefined when the op has no GPU template. */
function templateFor(op: OpDef, ins: readonly DType[], out: DType): Tpl | undefined {
  const k = kindOf(ins[0] ?? out);
  const name = op.name;
  if (name in compareOps) {
    const sym = compareOps[name]!;
    return (a) => {
      // !(a == b) is true for NaN whatever the comparison instruction the driver picks.
      if (sym === "!=" && k === "f") return b01(`!(${a[0]} == ${a[1]})`);
      return b01(`${a[0]} ${sym} ${a[1]}`);
    };
  }
  switch (name) {
    case "logicalAnd":
      return (a, h) => b01(`${truthy(a[0]!, k, h)} && ${truthy(a[1]!, k, h)}`);
    case "logicalOr":
      return (a, h) => b01(`${truthy(a[0]!, k, h)} || ${truthy(a[1]!, k, h)}`);
    case "logicalXor":
      return (a, h) => b01(`${truthy(a[0]!, k, h)} != ${truthy(a[1]!, k, h)}`);
    case "logicalNot":
      return (a, h) => b01(`!${truthy(a[0]!, k, h)}`);
    case "isNaN":
      return (a, h) => {
        if (k !== "f") return "0u";
        h.use("st_bits");
        return b01(`st_isnan(${a[0]})`);
      };
    case "isFinite":
      return (a, h) => {
        if (k !== "f") return "1u";
        h.use("st_bits");
        return b01(`st_isfinite(${a[0]})`);
      };
    case "where":
      return (a) => `select(${a[2]}, ${a[1]}, ${a[0]} != 0u)`;
    case "cast":
      return (a, h) => castTemplate(a, h, k, kindOf(out));
  }
  return TEMPLATES[name]?.[k];
}

/** Whether the GPU can compute `op` on operands of these dtypes. */
export function hasWgslTemplate(op: OpDef, ins: readonly DType[], out: DType): boolean {
  if (op.kind !== "elementwise") return false;
  if ([...ins, out].some((d) => d === "float64")) return false;
  return templateFor(op, ins, out) !== undefined;
}

/**
 * The WGSL expression computing `op` on operand expressions `args` (already in their storage
 * types); undefined when the op has no GPU template for these dtypes.
 */
export function wgslExpr(op: OpDef, args: readonly string[], ins: readonly DType[], out: DType, attrs: Attrs, h: Helpers): string | undefined {
  return templateFor(op, ins, out)?.(args, h, attrs, out, ins);
}

/** The identity-like literal of a storage type, for initializers. */
export function zeroOf(t: WgslScalar): string {
  return lit(0, t);
}
