// ST003 in a decorated method, on a computed tensor.
import { fn, stack, type Tensor } from "symtensor";

export class Rows {
  @fn()
  normalize(x: Tensor): Tensor {
    const out: Tensor[] = [];
    for (const r of x.transpose()) out.push(r.div(r.reduceSum())); // expect: ST003
    return stack(out);
  }
}
