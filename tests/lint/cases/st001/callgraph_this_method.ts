// ST001 in a helper method reached from a decorated method through this.helper(...).
import { fn, type Tensor } from "symtensor";

export class Layer {
  @fn()
  forward(x: Tensor): Tensor {
    return x.mul(this.scaleOf(x));
  }

  scaleOf(t: Tensor): number {
    return t.numpy().size; // expect: ST001
  }
}
