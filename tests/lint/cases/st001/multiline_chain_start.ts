// ST001: a conversion in a longer function, after some legal code.
import { fn, matmul, type Tensor } from "symtensor";

export const f = fn((x: Tensor, w: Tensor) => {
  const h = matmul(x, w).relu();
  const shape = h.shape;
  const rank = shape.length;
  const debug = h.reduceMax().item(); // expect: ST001
  return { h, rank, debug };
});
