/**
 * NumPy-compatible text for arrays: `formatNDArray(a, "array")` is what NumPy 2's `repr(a)` prints
 * with the default print options (floatmode "maxprec", precision 8, linewidth 75, threshold 1000,
 * edgeitems 3, legacy off).
 *
 * This is a port of the algorithm in numpy/_core/arrayprint.py (FloatingFormat, IntegerFormat,
 * BoolFormat, _formatArray, array_repr) and of the Dragon4 digit generation it calls
 * (numpy/_core/src/multiarray/dragon4.c), written over BigInt. Float32 values are decomposed as
 * float32, so they print as their shortest float32 digits (0.1, not 0.10000000149011612).
 *
 * Known differences from NumPy: none for symtensor's dtypes with these options, as far as the
 * fixtures in tests/fixtures/interop.json show. NumPy options that are not ported: sign (' ', '+'),
 * suppress, floatmode other than "maxprec", custom formatters, nanstr/infstr, legacy modes.
 */
import type { DType, TypedArray } from "../ir/dtype.js";
import { ValueError } from "../ir/errors.js";
import { describe, stridesOf } from "../ir/shape.js";

/** The subset of `np.set_printoptions` that symtensor honours. */
export interface FormatOptions {
  /** Characters per line before wrapping (NumPy's linewidth). */
  linewidth: number;
  /** Arrays with more elements than this are summarized with "...". */
  threshold: number;
  /** Items kept at each edge of a summarized axis. */
  edgeitems: number;
  /** Maximum digits after the decimal point (positional) or in the fraction (scientific). */
  precision: number;
}

export const DEFAULT_FORMAT_OPTIONS: Readonly<FormatOptions> = Object.freeze({ linewidth: 75, threshold: 1000, edgeitems: 3, precision: 8 });

/** What formatting needs from an NDArray (kept structural so this module does not import ndarray.ts). */
export interface ArrayLikeForFormat {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

/**
 * NumPy's repr of `a` with `prefix` in place of "array": `array([1., 2.], dtype=float32)`.
 * Tensor.toString uses the prefix "tensor" with the same body.
 */
export function formatNDArray(a: ArrayLikeForFormat, prefix: string, options: Partial<FormatOptions> = {}): string {
  const o = resolveOptions(options);
  const open = `${prefix}(`;
  const size = a.data.length;
  // array2string reserves room for the closing ")" that repr appends.
  const body = size === 0 ? "[]" : formatBody(a, o, o.linewidth - 1, " ".repeat(open.length + 1));

  const extras: string[] = [];
  const isEmpty1d = a.shape.length === 1 && a.shape[0] === 0;
  if ((size === 0 && !isEmpty1d) || size > o.threshold) extras.push(`shape=${pythonTuple(a.shape)}`);
  // NumPy omits the dtype where the values imply it: float64 and bool (and int64, which symtensor lacks).
  if ((a.dtype !== "float64" && a.dtype !== "bool") || size === 0) extras.push(`dtype=${a.dtype}`);
  if (extras.length === 0) return `${open}${body})`;

  const head = `${open}${body},`;
  const extraText = `${extras.join(", ")})`;
  const lastLineLength = head.length - (head.lastIndexOf("\n") + 1);
  const spacer = lastLineLength + extraText.length + 1 > o.linewidth ? `\n${" ".repeat(open.length)}` : " ";
  return head + spacer + extraText;
}

function resolveOptions(options: Partial<FormatOptions>): FormatOptions {
  const o = { ...DEFAULT_FORMAT_OPTIONS, ...options };
  for (const key of ["linewidth", "threshold", "edgeitems", "precision"] as const) {
    const v = o[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw new ValueError(`formatNDArray: option ${key} must be a non-negative integer, got ${describe(v)}`);
    }
  }
  return o;
}

function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

type ElementFormatter = (v: number) => string;

/** The bracketed body: what np.array2string gives for separator ", ". */
function formatBody(a: ArrayLikeForFormat, o: FormatOptions, lineWidth: number, nextLinePrefix: string): string {
  const summarize = a.data.length > o.threshold;
  const shown = summarize ? cornerValues(a, o.edgeitems) : a.data;
  const fmt = formatterFor(a.dtype, shown, a.shape.length === 0, o.precision);
  const { shape, data } = a;
  const strides = stridesOf(shape);
  const edge = o.edgeitems;

  const recurse = (axis: number, offset: number, hanging: string, width: number): string => {
    const axesLeft = shape.length - axis;
    if (axesLeft === 0) return fmt(data[offset]!);
    const nextHanging = `${hanging} `;
    const nextWidth = width - 1; // room for this level's "]"
    const n = shape[axis]!;
    const stride = strides[axis]!;
    const showSummary = summarize && 2 * edge < n;
    const leading = showSummary ? edge : 0;
    const trailing = showSummary ? edge : n;
    const child = (i: number): string => recurse(axis + 1, offset + i * stride, nextHanging, nextWidth);

    let s = "";
    if (axesLeft === 1) {
      // The innermost axis wraps its elements; every word must leave room for "," or "]".
      const elemWidth = width - 1;
      let line = hanging;
      const add = (word: string): void => {
        if (line.length + word.length > elemWidth && line.length > hanging.length) {
          s += `${line.trimEnd()}\n`;
          line = hanging;
        }
        line += word;
      };
      for (let i = 0; i < leading; i++) {
        add(child(i));
        line += ", ";
      }
      if (showSummary) {
        add("...");
        line += ", ";
      }
      for (let i = trailing; i > 1; i--) {
        add(child(n - i));
        line += ", ";
      }
      add(child(n - 1));
      s += line;
    } else {
      // Outer axes put each sub-array on its own line, with blank lines between blocks of rank >= 2.
      const lineSep = `,${"\n".repeat(axesLeft - 1)}`;
      for (let i = 0; i < leading; i++) s += hanging + child(i) + lineSep;
      if (showSummary) s += `${hanging}...${lineSep}`;
      for (let i = trailing; i > 1; i--) s += hanging + child(n - i) + lineSep;
      s += hanging + child(n - 1);
    }
    return `[${s.slice(hanging.length)}]`;
  };
  return recurse(0, 0, nextLinePrefix, lineWidth);
}

/** The values a summarized array shows (its N-d corners); NumPy sizes the columns from these only. */
function cornerValues(a: ArrayLikeForFormat, edge: number): number[] {
  const { shape, data } = a;
  const strides = stridesOf(shape);
  const out: number[] = [];
  const walk = (axis: number, offset: number): void => {
    if (axis === shape.length) {
      out.push(data[offset]!);
      return;
    }
    const n = shape[axis]!;
    const stride = strides[axis]!;
    if (n > 2 * edge) {
      for (let i = 0; i < edge; i++) walk(axis + 1, offset + i * stride);
      for (let i = n - edge; i < n; i++) walk(axis + 1, offset + i * stride);
    } else {
      for (let i = 0; i < n; i++) walk(axis + 1, offset + i * stride);
    }
  };
  walk(0, 0);
  return out;
}

function formatterFor(dtype: DType, values: ArrayLike<number>, is0d: boolean, precision: number): ElementFormatter {
  switch (dtype) {
    case "bool": {
      // " True" lines up with "False", except in 0-d arrays.
      const trueText = is0d ? "True" : " True";
      return (v) => (v ? trueText : "False");
    }
    case "uint8":
    case "int32":
      return integerFormatter(values);
    case "float32":
      return floatFormatter(values, true, precision);
    case "float64":
      return floatFormatter(values, false, precision);
  }
}

function integerFormatter(values: ArrayLike<number>): ElementFormatter {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const width = values.length === 0 ? 0 : Math.max(String(max).length, String(min).length);
  return (v) => String(v).padStart(width, " ");
}

/** NumPy's FloatingFormat for floatmode "maxprec", sign "-", suppress_small off. */
function floatFormatter(values: ArrayLike<number>, f32: boolean, precision: number): ElementFormatter {
  const finite: number[] = [];
  let maxAbs = 0;
  let minAbs = Infinity;
  let hasNonFinite = false;
  let hasNegInf = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      hasNonFinite = true;
      if (v === -Infinity) hasNegInf = true;
      continue;
    }
    finite.push(v);
    const m = Math.abs(v);
    if (m !== 0) {
      if (m > maxAbs) maxAbs = m;
      if (m < minAbs) minAbs = m;
    }
  }

  // The scientific-notation test runs in the array's own precision (NumPy compares float32
  // scalars with Python floats as float32), with a max cutoff of 10**min(8, finfo.precision).
  let expFormat = false;
  if (minAbs !== Infinity) {
    const cutoff = f32 ? 1e6 : 1e8;
    const small = f32 ? Math.fround(1e-4) : 1e-4;
    const ratio = f32 ? Math.fround(maxAbs / minAbs) : maxAbs / minAbs;
    expFormat = maxAbs >= cutoff || minAbs < small || ratio > 1000;
  }

  let padLeft = 0;
  let padRight = 0;
  let fracDigits = 0;
  let expDigits = -1;
  if (finite.length > 0 && expFormat) {
    // A first pass at full (unique) precision finds the common number of fraction and exponent digits.
    for (const v of finite) {
      const s = formatScientific(v, f32, { precision, minDigits: -1, trim: ".", padLeft: -1, expDigits: -1 });
      const e = s.indexOf("e");
      const [whole = "", frac = ""] = s.slice(0, e).split(".");
      padLeft = Math.max(padLeft, whole.length);
      fracDigits = Math.max(fracDigits, frac.length);
      expDigits = Math.max(expDigits, s.length - e - 2);
    }
    padRight = expDigits + 2 + fracDigits;
  } else if (finite.length > 0) {
    for (const v of finite) {
      const s = formatPositional(v, f32, { precision, minDigits: -1, trim: ".", padLeft: -1, padRight: -1 });
      const [whole = "", frac = ""] = s.split(".");
      padLeft = Math.max(padLeft, whole.length);
      padRight = Math.max(padRight, frac.length);
    }
  }
  if (hasNonFinite) {
    // nan and inf are right-aligned to the full width of the finite values (after the ".").
    const offset = padRight + 1;
    padLeft = Math.max(padLeft, 3 - offset, 3 + (hasNegInf ? 1 : 0) - offset);
  }

  const width = padLeft + padRight + 1;
  return (v) => {
    if (Number.isNaN(v)) return "nan".padStart(width, " ");
    if (v === Infinity) return "inf".padStart(width, " ");
    if (v === -Infinity) return "-inf".padStart(width, " ");
    return expFormat
      ? formatScientific(v, f32, { precision: fracDigits, minDigits: fracDigits, trim: "k", padLeft, expDigits })
      : formatPositional(v, f32, { precision, minDigits: 0, trim: ".", padLeft, padRight });
  };
}

// ---------------------------------------------------------------------------------------------
// Dragon4 (Steele & White, Burger & Dybvig), as NumPy runs it: shortest digits that identify the
// value within its own precision ("unique" mode), optionally cut off after a number of digits and
// rounded there, with IEEE unbiased rounding of the margins (isEven).

/** A finite float as sign * mantissa * 2^exponent. */
interface FloatParts {
  negative: boolean;
  mantissa: bigint;
  exponent: number;
  /** The gap to the next lower float is half the gap to the next higher one (a power of two). */
  unequalMargins: boolean;
}

const scratch = new DataView(new ArrayBuffer(8));

function decompose(x: number, f32: boolean): FloatParts {
  if (f32) {
    scratch.setFloat32(0, x);
    const bits = scratch.getUint32(0);
    const expField = (bits >>> 23) & 0xff;
    const frac = bits & 0x7fffff;
    const negative = bits >>> 31 === 1;
    if (expField === 0) return { negative, mantissa: BigInt(frac), exponent: -149, unequalMargins: false };
    return { negative, mantissa: BigInt(frac | 0x800000), exponent: expField - 150, unequalMargins: expField !== 1 && frac === 0 };
  }
  scratch.setFloat64(0, x);
  const hi = scratch.getUint32(0);
  const lo = scratch.getUint32(4);
  const expField = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  const negative = hi >>> 31 === 1;
  if (expField === 0) return { negative, mantissa: frac, exponent: -1074, unequalMargins: false };
  return { negative, mantissa: frac | (1n << 52n), exponent: expField - 1075, unequalMargins: expField !== 1 && frac === 0n };
}

type CutoffMode = "total" | "fraction";

interface Digits {
  /** Decimal digits, the first one not necessarily nonzero when a fraction cutoff forces leading zeros. */
  digits: string;
  /** Base-10 exponent of the first digit. */
  exponent: number;
}

/**
 * Digits of |x| in unique mode. `cutoffMax` (-1: none) stops after that many digits (total) or
 * that many places after the decimal point (fraction), rounding half to even there;
 * `cutoffMin` (-1: none) keeps going until at least that many, even past uniqueness.
 */
function dragon4(p: FloatParts, mode: CutoffMode, cutoffMax: number, cutoffMin: number): Digits {
  if (p.mantissa === 0n) return { digits: "0", exponent: 0 };
  // value = num / den; the margins are half the distance to the neighbouring floats, over den.
  // Everything is scaled by 4 * 2^max(0, -exponent) so that all four are integers.
  const shift = Math.max(0, -p.exponent);
  let num = p.mantissa << BigInt(p.exponent + shift + 2);
  let den = 1n << BigInt(shift + 2);
  let marginHigh = 1n << BigInt(p.exponent + shift + 1);
  let marginLow = p.unequalMargins ? 1n << BigInt(p.exponent + shift) : marginHigh;

  // k = floor(log10(value)) + 1, from an estimate that is exact or one too small.
  const bitLength = p.mantissa.toString(2).length;
  let k = Math.ceil((bitLength - 1 + p.exponent) * 0.30102999566398119521 - 0.69);
  while (compareScaled(num, den, k) >= 0) k++;
  while (compareScaled(num, den, k - 1) < 0) k--;
  // A fraction cutoff above the first digit starts the digits at the cutoff (leading zeros).
  if (mode === "fraction" && cutoffMax >= 0 && k <= -cutoffMax) k = -cutoffMax + 1;
  if (k >= 0) den *= 10n ** BigInt(k);
  else {
    const f = 10n ** BigInt(-k);
    num *= f;
    marginLow *= f;
    marginHigh *= f;
  }

  const cutoffMaxExp = cutoffMax < 0 ? -Infinity : mode === "total" ? k - cutoffMax : -cutoffMax;
  const cutoffMinExp = cutoffMin < 0 ? k : Math.min(k, mode === "total" ? k - cutoffMin : -cutoffMin);
  const even = (p.mantissa & 1n) === 0n;
  let digits = "";
  let exp = k;
  let digit = 0;
  let low = false;
  let high = false;
  for (;;) {
    exp--;
    num *= 10n;
    marginLow *= 10n;
    marginHigh *= 10n;
    const q = num / den;
    digit = Number(q);
    num -= q * den;
    // low: rounding this digit down still identifies the value; high: rounding it up does.
    low = even ? num <= marginLow : num < marginLow;
    const up = num + marginHigh;
    high = even ? up >= den : up > den;
    if (((low || high) && exp <= cutoffMinExp) || exp === cutoffMaxExp) break;
    digits += String(digit);
  }

  let roundDown = low;
  if (low === high) {
    // Both (or, at a cutoff, neither) directions are allowed: take the nearer, ties to even.
    const twice = 2n * num;
    roundDown = twice < den || (twice === den && digit % 2 === 0);
  }
  let exponent = k - 1;
  if (roundDown) digits += String(digit);
  else if (digit < 9) digits += String(digit + 1);
  else {
    // Carry through trailing nines; all nines become a single 1 one decade up.
    let end = digits.length;
    while (end > 0 && digits[end - 1] === "9") end--;
    if (end === 0) {
      digits = "1";
      exponent += 1;
    } else {
      digits = digits.slice(0, end - 1) + String(Number(digits[end - 1]) + 1);
    }
  }
  return { digits, exponent };
}

/** Compares num/den with 10^k. */
function compareScaled(num: bigint, den: bigint, k: number): number {
  const a = k >= 0 ? num : num * 10n ** BigInt(-k);
  const b = k >= 0 ? den * 10n ** BigInt(k) : den;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Trailing-zero handling, as NumPy's trim argument: "k" keeps zeros (pads to minDigits), "." strips them but keeps the point. */
type Trim = "k" | ".";

interface PositionalOptions {
  precision: number;
  minDigits: number;
  trim: Trim;
  padLeft: number;
  padRight: number;
}

/** np.format_float_positional(x, unique=True, fractional=True, ...) for a finite x. */
function formatPositional(x: number, f32: boolean, o: PositionalOptions): string {
  const p = decompose(x, f32);
  const { digits, exponent } = dragon4(p, "fraction", o.precision, o.minDigits);
  let whole: string;
  let frac: string;
  if (exponent >= 0) {
    const wholeDigits = exponent + 1;
    whole = digits.length <= wholeDigits ? digits.padEnd(wholeDigits, "0") : digits.slice(0, wholeDigits);
    frac = digits.slice(wholeDigits);
  } else {
    whole = "0";
    frac = "0".repeat(-(exponent + 1)) + digits;
  }
  if (o.trim === "k") frac = frac.padEnd(Math.max(0, o.minDigits), "0");
  else frac = frac.replace(/0+$/, "");
  let s = `${p.negative ? "-" : ""}${whole}.${frac}`;
  if (o.padRight >= frac.length) s += " ".repeat(o.padRight - frac.length);
  const left = whole.length + (p.negative ? 1 : 0);
  if (o.padLeft > left) s = " ".repeat(o.padLeft - left) + s;
  return s;
}

interface ScientificOptions {
  precision: number;
  minDigits: number;
  trim: Trim;
  padLeft: number;
  expDigits: number;
}

/** np.format_float_scientific(x, unique=True, ...) for a finite x. */
function formatScientific(x: number, f32: boolean, o: ScientificOptions): string {
  const p = decompose(x, f32);
  const { digits, exponent } = dragon4(p, "total", o.precision < 0 ? -1 : o.precision + 1, o.minDigits < 0 ? -1 : o.minDigits + 1);
  let frac = digits.slice(1);
  if (o.trim === "k") frac = frac.padEnd(Math.max(0, o.minDigits), "0");
  else frac = frac.replace(/0+$/, "");
  const expText = String(Math.abs(exponent)).padStart(o.expDigits < 0 ? 2 : Math.min(o.expDigits, 5), "0");
  const sign = p.negative ? "-" : "";
  const pad = o.padLeft > 1 + sign.length ? " ".repeat(o.padLeft - 1 - sign.length) : "";
  return `${pad}${sign}${digits[0]}.${frac}e${exponent < 0 ? "-" : "+"}${expText}`;
}
