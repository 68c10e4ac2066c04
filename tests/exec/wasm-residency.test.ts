/**
 * Tensor data in WebAssembly memory: dispose() gives a block back at once when no other tensor
 * holds it and it never escaped (a traced constant), so a synchronous loop that
 * disposes its results keeps them resident; shared and escaped blocks wait for the collector, and
 * everything that still holds them keeps reading the right values.
 */
import { describe, expect, it } from "vitest";
import * as st from "../../src/index.js";
import { residentTensorBytes } from "../../src/exec/wasm/executor.js";
import { getWasmRuntime } from "../../src/exec/wasm/runtime.js";
import type { EagerTensor } from "../../src/trace/tensor.js";

const rt = getWasmRuntime();
const resident = rt?.shared === true;
const N = 1 << 18; // 1 MiB of float32: well above the 16 KiB residency threshold
const MiB = 1 << 20;

const isResident = (t: st.Tensor): boolean => (t as EagerTensor).buffer().buffer instanceof SharedArrayBuffer;
const ramp = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => (i % 1000) - 500);

describe.skipIf(!resident)("resident tensor memory and dispose()", () => {
  it("frees a tensor's block on dispose()", () => {
    const before = residentTensorBytes();
    const x = st.tensor(ramp(N));
    expect(isResident(x)).toBe(true);
    expect(residentTensorBytes() - before).toBe(MiB);
    x.dispose();
    expect(residentTensorBytes()).toBe(before);
    expect(() => x.numpy()).toThrow(st.DisposedTensorError);
  });

  it("keeps a block while another tensor shares it (reshape shares the buffer)", () => {
    const before = residentTensorBytes();
    const x = st.tensor(ramp(N));
    const y = x.reshape([512, 512]);
    x.dispose();
    expect(residentTensorBytes() - before).toBe(MiB);
    const again = st.tensor(new Float32Array(N).fill(7)); // may reuse freed memory: must not land on y's
    const d = y.numpy().data as Float32Array;
    expect(d[0]).toBe(-500);
    expect(d[N - 1]).toBe(((N - 1) % 1000) - 500);
    y.dispose();
    again.dispose();
    expect(residentTensorBytes()).toBe(before);
  });

  it("never frees a block captured as a traced constant", () => {
    const c = st.tensor(ramp(N));
    const f = st.fn((a: st.Tensor) => a.add(c));
    const a = st.zeros([N]);
    expect((f(a).numpy().data as Float32Array)[3]).toBe(-497);
    const held = residentTensorBytes();
    c.dispose();
    expect(residentTensorBytes()).toBe(held);
    // Overwrite freshly allocated memory; the compiled constant must still read c's values.
    const noise = Array.from({ length: 4 }, () => st.tensor(new Float32Array(N).fill(99)));
    const out = f(a).numpy().data as Float32Array;
    expect(out[3]).toBe(-497);
    expect(out[N - 1]).toBe(((N - 1) % 1000) - 500);
    noise.forEach((t) => t.dispose());
  });

  it("gives scan results that do not alias xs (a slice returned as the carry outlives xs)", () => {
    const rows = 4;
    const flat = st.tensor(ramp(N));
    const xs = flat.reshape([rows, N / rows]);
    const [carry, ys] = st.scan((c: st.Tensor, x: st.Tensor) => [x, x.mul(1)], st.zeros([N / rows]), xs);
    const before = residentTensorBytes();
    flat.dispose();
    xs.dispose();
    expect(before - residentTensorBytes()).toBe(MiB); // xs's block is really gone
    const noise = Array.from({ length: 4 }, () => st.tensor(new Float32Array(N).fill(99)));
    const c = carry.numpy().data as Float32Array;
    const at = (r: number, j: number): number => ((r * (N / rows) + j) % 1000) - 500;
    expect([c[0], c[7], c[N / rows - 1]]).toEqual([at(rows - 1, 0), at(rows - 1, 7), at(rows - 1, N / rows - 1)]);
    expect((ys.numpy().data as Float32Array)[N / rows + 3]).toBe(at(1, 3));
    noise.forEach((t) => t.dispose());
  });

  it("keeps a loop's disposed results resident: memory stays flat, results stay right", () => {
    const f = st.fn((x: st.Tensor) => x.mul(2).add(1));
    const x = st.tensor(ramp(N));
    const start = residentTensorBytes();
    // 300 results of 1 MiB: more than twice the 128 MiB budget if nothing were freed.
    for (let i = 0; i < 300; i++) {
      const y = f(x);
      expect(isResident(y)).toBe(true);
      const d = y.numpy().data as Float32Array;
      if (d[5] !== 2 * -495 + 1 || d[N - 1] !== 2 * (((N - 1) % 1000) - 500) + 1) throw new Error(`wrong result in call ${i}`);
      y.dispose();
    }
    expect(residentTensorBytes()).toBe(start);
  });
});
