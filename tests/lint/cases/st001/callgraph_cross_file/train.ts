// The traced function trainStep calls loss (./loss.ts), which calls accuracy (./metrics.ts).
import { fn, type Tensor } from "symtensor";
import { loss } from "./loss.js";

export const trainStep = fn((x: Tensor, y: Tensor) => {
  return loss(x, y);
});
