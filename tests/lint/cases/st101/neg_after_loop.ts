// No diagnostics: accumulate in tensors inside the loop, convert once after it.
import { stack, tensor, type Tensor } from "symtensor";

export function total(batches: number[][]): number {
  const parts: Tensor[] = [];
  for (const b of batches) parts.push(tensor(b).reduceSum());
  return stack(parts).reduceSum().item() as number;
}
