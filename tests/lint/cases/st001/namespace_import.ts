// ST001: fn through a namespace import.
import * as st from "symtensor";

export const f = st.fn((x: st.Tensor) => x.tolist()); // expect: ST001
