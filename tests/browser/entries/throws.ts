/** An entry that fails with a symtensor error, to check that failures come back with the message. */
import { matmul, tensor } from "../../../src/index.js";

export default async function main(): Promise<never> {
  // [2,3] @ [2,2] is a shape mismatch: symtensor throws a ShapeError.
  matmul(tensor([[1, 2, 3], [4, 5, 6]]), tensor([[1, 2], [3, 4]]));
  throw new Error("unreachable: matmul accepted mismatched shapes");
}
