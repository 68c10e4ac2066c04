// ST102: fn(...) inside a method body.
import { fn, type Tensor } from "symtensor";

export class Trainer {
  run(x: Tensor): Tensor {
    const step = fn((t: Tensor) => t.exp()); // expect: ST102
    return step(x);
  }
}
