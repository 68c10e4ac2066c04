// Reached from traced code through a namespace import.
import type { Tensor } from "symtensor";

export function peek(x: Tensor): number {
  return x.numpy().size; // expect: ST001
}
