// ST001: @st.fn() through a namespace import.
import * as st from "symtensor";

export class Net {
  @st.fn()
  run(x: st.Tensor): st.Tensor {
    const v = x.reduceMean().item(); // expect: ST001
    return x.sub(v as number);
  }
}
