/**
 * Times `f` for the kernel micro-benchmarks: three warm-up calls, then at least 5 samples and
 * `minMs` of sampling. The machine is shared, so `fastest` reports the fastest sample (closest to
 * the kernel's own speed) instead of the median.
 */
export function sampleTime(f: () => void, minMs: number, fastest: boolean, maxSamples = 5000): number {
  for (let i = 0; i < 3; i++) f();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 5 || performance.now() - start < minMs) {
    const t0 = performance.now();
    f();
    samples.push(performance.now() - t0);
    if (samples.length > maxSamples) break;
  }
  samples.sort((a, b) => a - b);
  return fastest ? samples[0]! : samples[samples.length >> 1]!;
}
