// No diagnostics: a callee reached from traced code converts a module-level eager tensor.
import { fn, tensor, type Tensor } from "symtensor";

const VOCAB = tensor([10, 20, 30]);

function vocabSize(): number {
  return VOCAB.numpy().size;
}

export const f = fn((x: Tensor) => x.mul(vocabSize()));
