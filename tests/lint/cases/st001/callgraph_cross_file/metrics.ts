// Reached from trainStep via loss: the conversion is in traced scope.
import type { Tensor } from "symtensor";

export function accuracy(x: Tensor, y: Tensor): number {
  const hits = x.argmax(1).equal(y.argmax(1)).cast("float32").reduceMean();
  return hits.item() as number; // expect: ST001
}
