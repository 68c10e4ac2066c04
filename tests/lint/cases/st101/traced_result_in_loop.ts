// ST101: converting the result of a traced call on every iteration of a training loop.
import { fn, tensor, type Tensor } from "symtensor";

const step = fn((x: Tensor) => x.square().reduceMean());

export function train(batches: number[][]): number[] {
  const losses: number[] = [];
  for (const b of batches) {
    const loss = step(tensor(b));
    losses.push(loss.item() as number); // expect: ST101
  }
  return losses;
}
