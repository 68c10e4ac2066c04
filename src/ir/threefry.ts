/**
 * Threefry-2x32 with 20 rounds (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011; the Random123 reference `threefry2x32_20`), the block function behind
 * symtensor's counter-based random numbers. It maps a 64-bit key and a 64-bit counter (each as two
 * 32-bit words) to two pseudo-random 32-bit words. Same function as JAX's `threefry_2x32`.
 *
 * All arithmetic is on 32-bit words held in JS numbers: `+` then `| 0` wraps, `>>> 0` reads the
 * unsigned pattern. No BigInt, no allocation: the caller passes the output array and offset.
 */

/** Key-schedule parity constant (C240 in the paper). */
export const THREEFRY_PARITY = 0x1bd11bda;

/** Rotation amounts of the 2x32 variant, applied round r with R[r % 8]. */
export const THREEFRY_ROTATIONS: readonly number[] = [13, 15, 26, 6, 17, 29, 16, 24];

/**
 * Writes threefry2x32_20(key = [k0, k1], counter = [c0, c1]) into out[o] and out[o + 1] as int32
 * bit patterns (read them with `>>> 0` for the unsigned value). Inputs may be signed or unsigned
 * 32-bit patterns.
 */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number, out: Int32Array | Uint32Array, o: number): void {
  const ks0 = k0 | 0;
  const ks1 = k1 | 0;
  const ks2 = (THREEFRY_PARITY ^ ks0 ^ ks1) | 0;
  let x0 = (c0 + ks0) | 0;
  let x1 = (c1 + ks1) | 0;
  // Five groups of four rounds, each followed by a key injection (s = 1..5). Unrolled by hand
  // because the rotation amounts must be constants for the JIT to emit plain rotates.
  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks1) | 0; x1 = (x1 + ks2 + 1) | 0;

  x0 = (x0 + x1) | 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + ks2) | 0; x1 = (x1 + ks0 + 2) | 0;

  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks0) | 0; x1 = (x1 + ks1 + 3) | 0;

  x0 = (x0 + x1) | 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + ks1) | 0; x1 = (x1 + ks2 + 4) | 0;

  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks2) | 0; x1 = (x1 + ks0 + 5) | 0;

  out[o] = x0;
  out[o + 1] = x1;
}

/**
 * Word k of the stream of `key` in counter domain `domain`: word k & 1 of
 * threefry2x32(key, [k >>> 1, domain]). Fills `out[0..n)` with words 0..n-1 (n < 2^33).
 */
export function threefryStream(k0: number, k1: number, domain: number, out: Int32Array | Uint32Array): void {
  const n = out.length;
  const full = n - (n % 2);
  for (let k = 0; k < full; k += 2) threefry2x32(k0, k1, k / 2, domain, out, k);
  if (full < n) {
    // An odd tail: compute the last block into scratch and keep its first word.
    const tmp = new Int32Array(2);
    threefry2x32(k0, k1, full / 2, domain, tmp, 0);
    out[n - 1] = tmp[0]!;
  }
}
