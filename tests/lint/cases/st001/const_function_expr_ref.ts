// ST001: a const holding a function expression, passed to fn by name.
import { fn, type Tensor } from "symtensor";

const norm = function (x: Tensor): Tensor {
  const rows = x.tolist(); // expect: ST001
  return x.div(Array.isArray(rows) ? rows.length : 1);
};

export const traced = fn(norm);
