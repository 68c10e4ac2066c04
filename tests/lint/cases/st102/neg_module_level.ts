// No diagnostics: fn(...) at module top level, called in a loop.
import { fn, tensor, type Tensor } from "symtensor";

const step = fn((x: Tensor) => x.mul(2));

export const outs: Tensor[] = [];
for (const v of [1, 2, 3]) outs.push(step(tensor([v])));
