import { describe, expect, it } from "vitest";
import { ModuleBuilder } from "../../src/exec/wasm/emit.js";

function instantiate(mb: ModuleBuilder, memory?: WebAssembly.Memory): WebAssembly.Instance {
  const bytes = mb.bytes();
  expect(WebAssembly.validate(bytes)).toBe(true);
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), memory ? { env: { memory } } : {});
}

describe("wasm emitter", () => {
  it("emits scalar arithmetic with negative and large constants", () => {
    const mb = new ModuleBuilder();
    mb.func("f", ["i32", "i32"], ["i32"], (f) => {
      f.localGet(0);
      f.localGet(1);
      f.i32.mul();
      f.i32.const(-123456789);
      f.i32.add();
    });
    mb.func("g", ["f64"], ["f64"], (f) => {
      f.localGet(0);
      f.f64.const(0.1);
      f.f64.mul();
    });
    mb.func("h", ["f32"], ["i32"], (f) => {
      f.localGet(0);
      f.i32.truncSatF32S();
    });
    const e = instantiate(mb).exports as { f: (a: number, b: number) => number; g: (x: number) => number; h: (x: number) => number };
    expect(e.f(1000, 3)).toBe(3000 - 123456789);
    expect(e.f(2 ** 30, 4)).toBe(-123456789);
    expect(e.g(3)).toBe(3 * 0.1);
    expect(e.h(Infinity)).toBe(2 ** 31 - 1);
    expect(e.h(NaN)).toBe(0);
  });

  it("runs a SIMD loop over shared memory with forRange, and calls between functions", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    const mb = new ModuleBuilder({ memory: { shared: true, initial: 1, maximum: 4 } });
    const twice = mb.declare(undefined, ["v128"], ["v128"]);
    mb.func("add", ["i32", "i32", "i32", "i32"], [], (f) => {
      // add(a, b, out, n): out[i] = 2 * (a[i] + b[i]) for n floats, n a multiple of 4
      const i = f.local("i32");
      const nBytes = f.local("i32");
      f.localGet(3);
      f.i32.const(4);
      f.i32.mul();
      f.localSet(nBytes);
      f.forRange(i, 0, { local: nBytes }, 16, () => {
        f.localGet(2);
        f.localGet(i);
        f.i32.add();
        f.localGet(0);
        f.localGet(i);
        f.i32.add();
        f.v128.load();
        f.localGet(1);
        f.localGet(i);
        f.i32.add();
        f.v128.load();
        f.f32x4.add();
        f.call(twice);
        f.v128.store();
      });
    });
    mb.define(twice, (f) => {
      f.localGet(0);
      f.f32x4.const(2, 2, 2, 2);
      f.f32x4.mul();
    });
    const e = instantiate(mb, memory).exports as { add: (a: number, b: number, o: number, n: number) => void };
    const heap = new Float32Array(memory.buffer);
    for (let i = 0; i < 12; i++) {
      heap[i] = i;
      heap[16 + i] = 0.5 * i;
    }
    e.add(0, 64, 128, 12);
    for (let i = 0; i < 12; i++) expect(heap[32 + i]).toBe(2 * (i + 0.5 * i));
    e.add(0, 64, 256, 0);
    expect(heap[64]).toBe(0);
  });

  it("encodes lanes, shuffles and blocks with results", () => {
    const mb = new ModuleBuilder();
    mb.func("hsum", ["f32", "f32", "f32", "f32"], ["f32"], (f) => {
      const v = f.local("v128");
      f.localGet(0);
      f.f32x4.splat();
      for (let k = 1; k < 4; k++) {
        f.localGet(k);
        f.f32x4.replaceLane(k);
      }
      f.localTee(v);
      f.localGet(v);
      f.localGet(v);
      f.i8x16.shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]);
      f.f32x4.add();
      f.localTee(v);
      f.localGet(v);
      f.localGet(v);
      f.i8x16.shuffle([4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11]);
      f.f32x4.add();
      f.f32x4.extractLane(0);
    });
    mb.func("pick", ["i32"], ["i32"], (f) => {
      f.localGet(0);
      f.if("i32");
      f.i32.const(7);
      f.else();
      f.i32.const(-1);
      f.end();
    });
    const e = instantiate(mb).exports as { hsum: (...x: number[]) => number; pick: (x: number) => number };
    expect(e.hsum(1, 2, 3, 4.5)).toBe(10.5);
    expect(e.pick(1)).toBe(7);
    expect(e.pick(0)).toBe(-1);
  });

  it("refuses unclosed blocks and undefined functions", () => {
    const mb = new ModuleBuilder();
    mb.func("bad", [], [], (f) => f.block());
    expect(() => mb.bytes()).toThrow(/unclosed/);
    const mb2 = new ModuleBuilder();
    mb2.declare("x", [], []);
    expect(() => mb2.bytes()).toThrow(/never defined/);
  });
});
