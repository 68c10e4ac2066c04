// No diagnostics: fn(...) in class field initializers (instance and static) and a decorator.
import { fn, type Tensor } from "symtensor";

export class Model {
  step = fn((x: Tensor) => x.exp());
  static shared = fn((x: Tensor) => x.neg());

  @fn()
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}
