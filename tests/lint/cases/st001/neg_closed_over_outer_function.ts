// A tensor declared in an enclosing non-traced function is eager: converting it is legal. (The
// fn(...) inside a function body is ST102.)
import { fn, tensor, type Tensor } from "symtensor";

export function build(values: number[]) {
  const w = tensor(values);
  return fn((x: Tensor) => { // expect: ST102
    const host = w.numpy();
    return x.mul(host.size);
  });
}
