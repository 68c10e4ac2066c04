// ST002 in a decorated method.
import { fn, type Tensor } from "symtensor";

export class Scaler {
  @fn()
  apply(x: Tensor): Tensor {
    const k = (x.reduceMax() as unknown as number) * 0.5; // expect: ST002
    return x.mul(k);
  }
}
