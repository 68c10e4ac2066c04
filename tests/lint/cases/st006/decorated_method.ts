// ST006 in a decorated method.
import { fn, type Tensor } from "symtensor";

export class Dropout {
  @fn()
  apply(x: Tensor): Tensor {
    const keep = Math.random() > 0.5; // expect: ST006
    return keep ? x : x.mul(0);
  }
}
