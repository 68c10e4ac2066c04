// fn and jit come from ./barrel.ts: both resolve to symtensor's fn.
import { fn, jit, type Tensor } from "./barrel.js";

export const f = fn((x: Tensor) => x.numpy()); // expect: ST001
export const g = jit((x: Tensor) => x.item()); // expect: ST001
