// ST001: fn imported under another name.
import { fn as trace, type Tensor } from "symtensor";

export const f = trace((x: Tensor) => x.item()); // expect: ST001
