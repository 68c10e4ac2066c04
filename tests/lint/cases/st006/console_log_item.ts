// ST001 and ST006 on one line: logging a converted value while tracing.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => {
  const loss = x.square().reduceMean();
  console.log(loss.item()); // expect: ST001, ST006
  return loss;
});
