// ST001: fields of an object parameter, nested fields included.
import { fn, type Tensor } from "symtensor";

interface Params {
  w: Tensor;
  layers: { dense: { b: Tensor } };
}

export const f = fn((x: Tensor, params: Params) => {
  const w = params.w.numpy(); // expect: ST001
  const b = params.layers.dense.b.tolist(); // expect: ST001
  return [x, w, b];
});
