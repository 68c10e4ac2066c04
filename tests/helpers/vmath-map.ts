/**
 * A module that maps one vmath function over float32 arrays, for the vmath tests and bench:
 * unary `map(in, out, bytes)` or, for pow, `map(x, y, out, bytes)`, one 16-byte vector per step.
 */
import type { MemoryImport } from "../../src/exec/wasm/emit.js";
import { ModuleBuilder } from "../../src/exec/wasm/emit.js";
import { emitVMath, hoistVMathConstants, type VMathFn } from "../../src/exec/wasm/vmath.js";

export interface MapOptions {
  /** Hoist the function's constants (and these extra functions') out of the loop. */
  readonly hoist?: readonly VMathFn[];
  /** Emit the expansion twice (the first result dropped): the second must not disturb the first's locals. */
  readonly twice?: boolean;
  /** Also store x itself at out + keepOffset. */
  readonly keepOffset?: number;
}

export function vmathMapBytes(fn: VMathFn, memory: MemoryImport, opts: MapOptions = {}): Uint8Array<ArrayBuffer> {
  const binary = fn === "pow";
  const mb = new ModuleBuilder({ memory });
  mb.func("map", binary ? ["i32", "i32", "i32", "i32"] : ["i32", "i32", "i32"], [], (f) => {
    const [xIn, yIn, out, bytes] = binary ? [0, 1, 2, 3] : [0, -1, 1, 2];
    const i = f.local("i32");
    const v = f.local("v128");
    const w = binary ? f.local("v128") : undefined;
    const consts = opts.hoist ? hoistVMathConstants(f, [fn, ...opts.hoist]) : undefined;
    const load = (base: number, into: number): void => {
      f.localGet(base);
      f.localGet(i);
      f.i32.add();
      f.v128.load();
      f.localSet(into);
    };
    f.forRange(i, 0, { local: bytes }, 16, () => {
      f.localGet(out);
      f.localGet(i);
      f.i32.add();
      load(xIn, v);
      if (w !== undefined) load(yIn, w);
      if (opts.twice) {
        emitVMath(f, fn, v, w, consts);
        f.drop();
      }
      emitVMath(f, fn, v, w, consts);
      f.v128.store();
      if (opts.keepOffset !== undefined) {
        f.localGet(out);
        f.localGet(i);
        f.i32.add();
        f.localGet(v);
        f.v128.store(opts.keepOffset);
      }
    });
  });
  return mb.bytes();
}
