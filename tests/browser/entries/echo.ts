/** Returns its input with a computed field: checks that `input` reaches the entry intact. */
import { reduceSum, tensor } from "../../../src/index.js";

export default async function main(input: { values: number[]; label: string }): Promise<{ label: string; sum: number; values: number[] }> {
  return { label: input.label, sum: Number(reduceSum(tensor(input.values, { dtype: "float64" })).item()), values: input.values };
}
