/** Shape arithmetic shared by op rules and kernels. All functions validate and throw typed errors. */
import { ShapeError, ValueError } from "./errors.js";

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major element strides. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function isNonNegInt(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 0;
}

/** Validates a user-supplied shape: an array of non-negative integers. */
export function checkShape(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape)) {
    throw new ValueError(`${where}: shape must be an array of non-negative integers, got ${describe(shape)}`);
  }
  for (const [i, d] of shape.entries()) {
    if (!isNonNegInt(d)) {
      throw new ValueError(
        `${where}: shape[${i}] must be a non-negative integer, got ${describe(d)} (shape ${describe(shape)})`,
      );
    }
  }
  return [...(shape as number[])];
}

export function describe(x: unknown): string {
  if (typeof x === "number") return Number.isNaN(x) ? "NaN" : String(x);
  if (typeof x === "string") return JSON.stringify(x);
  if (Array.isArray(x)) return `[${x.map(describe).join(", ")}]`;
  if (x === null || x === undefined) return String(x);
  if (typeof x === "object") return x.constructor?.name ?? "object";
  return String(x);
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], where = "broadcast"): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new ShapeError(
        `${where}: shapes [${a.join(",")}] and [${b.join(",")}] cannot be broadcast together ` +
          `(dimension ${i - rank} is ${da} vs ${db})`,
      );
    }
  }
  return out;
}

/** Element strides for reading `shape` as if it were broadcast to `target` (0 on broadcast dims). */
export function broadcastStrides(shape: readonly number[], target: readonly number[]): number[] {
  const own = stridesOf(shape);
  const off = target.length - shape.length;
  return target.map((_, i) => {
    const j = i - off;
    if (j < 0) return 0;
    return shape[j] === 1 ? 0 : own[j]!;
  });
}

/** Normalizes a possibly negative axis, validating it against the rank. */
export function normalizeAxis(axis: unknown, rank: number, where: string): number {
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new ValueError(`${where}: axis must be an integer, got ${describe(axis)}`);
  }
  if (axis < -rank || axis >= rank) {
    throw new ValueError(`${where}: axis ${axis} is out of range for a tensor of rank ${rank} (valid: ${-rank}..${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalizes `axis?: number | number[]` for reductions: undefined means every axis. Sorted, unique. */
export function normalizeAxes(axis: unknown, rank: number, where: string): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  const out = list.map((a) => normalizeAxis(a, rank, where));
  const set = new Set(out);
  if (set.size !== out.length) throw new ValueError(`${where}: repeated axis in ${describe(axis)}`);
  return [...set].sort((x, y) => x - y);
}

/** Validates a permutation of 0..rank-1 (negative entries allowed). */
export function normalizePerm(perm: unknown, rank: number, where: string): number[] {
  if (!Array.isArray(perm) || perm.length !== rank) {
    throw new ValueError(`${where}: perm must list each of the ${rank} axes once, got ${describe(perm)}`);
  }
  const out = perm.map((p) => normalizeAxis(p, rank, where));
  if (new Set(out).size !== rank) throw new ValueError(`${where}: perm ${describe(perm)} repeats an axis`);
  return out;
}
