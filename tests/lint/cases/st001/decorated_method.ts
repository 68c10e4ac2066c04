// ST001: a method decorated with @fn().
import { fn, type Tensor } from "symtensor";

export class Model {
  @fn()
  forward(x: Tensor): Tensor {
    const host = x.numpy(); // expect: ST001
    return x.mul(host.size);
  }
}
