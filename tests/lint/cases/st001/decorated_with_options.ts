// ST001: @fn({ name }) on a method; the decorator call resolves to fn.
import { fn, type Tensor } from "symtensor";

export class Classifier {
  @fn({ name: "classify" })
  classify(x: Tensor): Tensor {
    const best = x.argmax().item(); // expect: ST001
    return x.mul(Number(best));
  }
}
