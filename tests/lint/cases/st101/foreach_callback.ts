// ST101: in the callbacks of Array.prototype.forEach / map / reduce on arrays.
import { type Tensor } from "symtensor";

export function report(ts: Tensor[]): number {
  ts.forEach((t) => console.log(t.item())); // expect: ST101
  const sizes = ts.map((t) => t.numpy().size); // expect: ST101
  const total = ts.reduce((acc, t) => acc + (t.item() as number), 0); // expect: ST101
  return sizes.length + total;
}
