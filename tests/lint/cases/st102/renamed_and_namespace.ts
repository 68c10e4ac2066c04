// ST102: through a renamed import and a namespace import.
import { fn as trace, type Tensor } from "symtensor";
import * as st from "symtensor";

export function build() {
  return trace((x: Tensor) => x.neg()); // expect: ST102
}

for (const k of [1, 2]) {
  st.fn((x: Tensor) => x.mul(k)); // expect: ST102
}
