// Reached from traced code through the barrel ./index.ts.
import type { Tensor } from "symtensor";

export function normOf(x: Tensor): number {
  return x.square().reduceSum().sqrt().item() as number; // expect: ST001
}
