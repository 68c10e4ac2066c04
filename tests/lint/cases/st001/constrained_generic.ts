// ST001: a type parameter constrained to Tensor is a tensor (its apparent type is Tensor).
import { fn, type Tensor } from "symtensor";

function peek<T extends Tensor>(x: T): number {
  return x.numpy().size; // expect: ST001
}

export const f = fn(peek);
