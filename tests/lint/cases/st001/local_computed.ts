// ST001: values computed inside traced scope, by methods and by op functions.
import { fn, reduceSum, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const y = x.exp();
  const a = y.numpy(); // expect: ST001
  const b = reduceSum(x).item(); // expect: ST001
  const parts = x.unstack(0);
  const c = parts[0]!.tolist(); // expect: ST001
  return [a, b, c];
});
