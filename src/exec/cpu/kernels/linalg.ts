/** CPU kernels for linalg ops: matmul and dot (batched gemm), conv2d and pools (conv.ts). */
import { allocate } from "../../../ir/dtype.js";
import { convGeometry, dotPlan, matmulPlan, poolGeometry } from "../../../ir/ops/linalg.js";
import { sizeOf } from "../../../ir/shape.js";
import type { HostBuffer } from "../../backend.js";
import { registerCpuKernel } from "../backend.js";
import { conv2dKernel, pool2dKernel } from "./conv.js";
import { gemm } from "./matmul.js";

registerCpuKernel("matmul", (inputs, _attrs, outTypes) => {
  const [a, b] = inputs as [HostBuffer, HostBuffer];
  const dtype = outTypes[0]!.dtype;
  const { m, n, k, batch, aBatchStrides, bBatchStrides } = matmulPlan(a.type, b.type);
  const count = sizeOf(batch);
  const c = allocate(dtype, count * m * n);
  if (c.length === 0) return [c];
  // When b is shared by the whole batch and a is a dense stack, the batch folds into the rows
  // of one big gemm (a [B, m, k] @ [k, n] is [B*m, k] @ [k, n]).
  if (bBatchStrides.every((s) => s === 0) && a.data.length === count * m * k) {
    gemm(dtype, a.data, 0, k, b.data, 0, n, c, 0, n, count * m, n, k);
    return [c];
  }
  const rank = batch.length;
  const idx = new Int32Array(rank);
  let aOff = 0;
  let bOff = 0;
  for (let t = 0; t < count; t++) {
    gemm(dtype, a.data, aOff, k, b.data, bOff, n, c, t * m * n, n, m, n, k);
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
  return [c];
});

registerCpuKernel("dot", (inputs, _attrs, outTypes) => {
  const [a, b] = inputs as [HostBuffer, HostBuffer];
  const dtype = outTypes[0]!.dtype;
  const { p, q, k, n } = dotPlan(a.type, b.type);
  const c = allocate(dtype, p * q * n);
  if (c.length === 0) return [c];
  // Output [p, q, n]: the j-th matrix of b fills columns j*n..(j+1)*n of every output row.
  for (let j = 0; j < q; j++) gemm(dtype, a.data, 0, k, b.data, j * k * n, n, c, j * n, q * n, p, n, k);
  return [c];
});

registerCpuKernel("conv2d", (inputs, attrs, outTypes) => {
  const [x, f] = inputs as [HostBuffer, HostBuffer];
  const g = convGeometry(x.type, f.type, attrs);
  return [conv2dKernel(outTypes[0]!.dtype, x.data, f.data, g, g.outC)];
});

registerCpuKernel("maxPool2d", (inputs, attrs, outTypes) => {
  const x = inputs[0]!;
  return [pool2dKernel("max", outTypes[0]!.dtype, x.data, poolGeometry("maxPool2d", x.type, attrs))];
});

registerCpuKernel("avgPool2d", (inputs, attrs, outTypes) => {
  const x = inputs[0]!;
  return [pool2dKernel("avg", outTypes[0]!.dtype, x.data, poolGeometry("avgPool2d", x.type, attrs))];
});
