// normOf is imported from the barrel and called in traced scope.
import { fn, type Tensor } from "symtensor";
import { normOf } from "./index.js";

export const normalize = fn((x: Tensor) => x.div(normOf(x)));
