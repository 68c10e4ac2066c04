// No diagnostics: module-level eager tensors that traced code closes over are constants; converting
// them while tracing is legal.
import { fn, tensor, type Tensor } from "symtensor";

const W = tensor([[1, 2], [3, 4]]);
const weights = { bias: tensor([0.5, 0.5]) };

export const f = fn((x: Tensor) => {
  const w = W.numpy();
  const scale = W.reduceMax().shape.length;
  const b = weights.bias.tolist();
  return x.mul(w.size + scale + (Array.isArray(b) ? b.length : 0));
});
