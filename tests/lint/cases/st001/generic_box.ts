// ST001: a generic interface instantiated with Tensor; Map<string, Tensor> lookups.
import { fn, type Tensor } from "symtensor";

interface Box<T> {
  readonly value: T;
}

export const f = fn((b: Box<Tensor>, m: Map<string, Tensor>) => {
  const v = b.value.numpy(); // expect: ST001
  const w = m.get("w")!.item(); // expect: ST001
  return [v, w];
});
