// ST001: subclasses of Tensor (EagerTensor, SymbolicTensor) are tensors.
import { fn, type EagerTensor, type SymbolicTensor } from "symtensor";

export const f = fn((x: EagerTensor) => x.numpy()); // expect: ST001
export const g = fn((x: SymbolicTensor) => x.item()); // expect: ST001
