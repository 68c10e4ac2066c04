/**
 * The machine's WebAssembly SIMD arithmetic ceiling on one thread, to judge the gemm against:
 * 12 independent f32x4 chains `acc = acc * m + k` (a multiply and an add per step, 8 flops),
 * enough chains to hide latency, all in registers, no memory traffic. With relaxed SIMD
 * (Node: `node --experimental-wasm-relaxed-simd`), the same chains as one fused multiply-add each.
 * Also prints the gemm kernel itself (the 5x8 tile over a 1024^3 problem, packing included).
 * Run: npx tsx bench/wasm-peak.ts            (add --relaxed under node --experimental-wasm-relaxed-simd)
 */
import { ModuleBuilder } from "../src/exec/wasm/emit.js";
import { sampleTime } from "./sample-time.js";

const CHAINS = 12;
const ITERS = 2_000_000;

function build(fused: boolean): (iters: number, m: number, k: number) => number {
  const mb = new ModuleBuilder();
  mb.func("run", ["i32", "f32", "f32"], ["f32"], (f) => {
    const m = f.local("v128");
    const k = f.local("v128");
    const i = f.local("i32");
    const acc = Array.from({ length: CHAINS }, () => f.local("v128"));
    f.localGet(1);
    f.f32x4.splat();
    f.localSet(m);
    f.localGet(2);
    f.f32x4.splat();
    f.localSet(k);
    acc.forEach((a, j) => {
      f.f32x4.const(j, j + 0.5, j + 0.25, j + 0.75);
      f.localSet(a);
    });
    f.forRange(i, 0, { local: 0 }, 1, () => {
      for (const a of acc) {
        if (fused) {
          // f32x4.relaxed_madd(a, b, c) = a * b + c (opcode 0xfd 0x105).
          f.localGet(a);
          f.localGet(m);
          f.localGet(k);
          f.code.push(0xfd, 0x85, 0x02);
        } else {
          f.localGet(a);
          f.localGet(m);
          f.f32x4.mul();
          f.localGet(k);
          f.f32x4.add();
        }
        f.localSet(a);
      }
    });
    f.localGet(acc[0]!);
    for (const a of acc.slice(1)) {
      f.localGet(a);
      f.f32x4.add();
    }
    f.f32x4.extractLane(0);
  });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.bytes()));
  return inst.exports["run"] as (iters: number, m: number, k: number) => number;
}

function gflops(run: (iters: number, m: number, k: number) => number): number {
  const ms = sampleTime(() => run(ITERS, 0.999, 0.001), 500, true, 200);
  return (ITERS * CHAINS * 8) / (ms * 1e6);
}

console.log(`mul + add, ${CHAINS} chains: ${gflops(build(false)).toFixed(1)} GFLOP/s (one thread)`);
if (process.argv.includes("--relaxed")) {
  console.log(`relaxed_madd, ${CHAINS} chains: ${gflops(build(true)).toFixed(1)} GFLOP/s (one thread)`);
}
