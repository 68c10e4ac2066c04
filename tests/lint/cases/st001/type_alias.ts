// ST001: tensors behind type aliases and a union alias.
import { fn, type Tensor } from "symtensor";

type Vec = Tensor;
type MaybeVec = Vec | null;

export const f = fn((x: Vec, y: MaybeVec) => {
  const a = x.numpy(); // expect: ST001
  const b = y?.tolist(); // expect: ST001
  return [a, b];
});
