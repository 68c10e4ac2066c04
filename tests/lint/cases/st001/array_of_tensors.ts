// ST001: elements of arrays and tuples of tensors are tensors when accessed.
import { fn, type Tensor } from "symtensor";

export const f = fn((xs: Tensor[], pair: [Tensor, Tensor], ro: readonly Tensor[]) => {
  const a = xs[0]!.numpy(); // expect: ST001
  const b = pair[1].item(); // expect: ST001
  const c = ro[ro.length - 1]!.tolist(); // expect: ST001
  return [a, b, c];
});
