/**
 * Matmul into a caller's buffer: the geometry (batch offsets, the folded-batch case) is resolved
 * once, then each call is a list of `gemm` calls. Compiled graphs write into planned buffers; the
 * eager matmul kernel (src/exec/cpu/kernels/linalg.ts) uses it with a fresh buffer, so both give
 * the same bits.
 */
import type { DType, TypedArray } from "../../ir/dtype.js";
import { matmulPlan } from "../../ir/ops/linalg.js";
import { sizeOf } from "../../ir/shape.js";
import type { TensorType } from "../../ir/types.js";
import { gemm } from "./kernels/matmul.js";

export type MatmulInto = (a: TypedArray, b: TypedArray, c: TypedArray) => void;

/** c = a @ b for these operand types (validated by matmulPlan); c is fully overwritten. */
export function matmulInto(aType: TensorType, bType: TensorType, dtype: DType): MatmulInto {
  const { m, n, k, batch, aBatchStrides, bBatchStrides } = matmulPlan(aType, bType);
  const count = sizeOf(batch);
  if (count * m * n === 0) return () => {};
  // b shared by the whole batch and a dense: the batch folds into the rows of one gemm.
  if (bBatchStrides.every((s) => s === 0) && sizeOf(aType.shape) === count * m * k) {
    const rows = count * m;
    return (a, b, c) => gemm(dtype, a, 0, k, b, 0, n, c, 0, n, rows, n, k);
  }
  // The batch offsets are static: list them once instead of walking an odometer every run.
  const aOffs = new Int32Array(count);
  const bOffs = new Int32Array(count);
  const rank = batch.length;
  const idx = new Int32Array(rank);
  let aOff = 0;
  let bOff = 0;
  for (let t = 0; t < count; t++) {
    aOffs[t] = aOff;
    bOffs[t] = bOff;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      aOff += aBatchStrides[d]!;
      bOff += bBatchStrides[d]!;
      if (idx[d]! < batch[d]!) break;
      aOff -= aBatchStrides[d]! * batch[d]!;
      bOff -= bBatchStrides[d]! * batch[d]!;
      idx[d] = 0;
    }
  }
  const mn = m * n;
  return (a, b, c) => {
    for (let t = 0; t < count; t++) gemm(dtype, a, aOffs[t]!, k, b, bOffs[t]!, n, c, t * mn, n, m, n, k);
  };
}
