// ST001: .numpy() on the parameter of an inline arrow passed to fn.
import { fn, type Tensor } from "symtensor";

export const f = fn((x: Tensor) => x.numpy()); // expect: ST001
