// No diagnostics: converting the result of a traced function after the call returns.
import { fn, tensor, type Tensor } from "symtensor";

const square = fn((x: Tensor) => x.square());

export const out = square(tensor([1, 2, 3])).numpy();
export const total = square(tensor([4])).item();

export function run(x: Tensor): number[] {
  const y = square(x);
  return Array.from(y.numpy().data);
}
