/** CPU kernels for linalg ops: matmul and dot (batched gemm), conv2d and pools (conv.ts). */
import { allocate } from "../../../ir/dtype.js";
import { convGeometry, dotPlan, poolGeometry } from "../../../ir/ops/linalg.js";
import { sizeOf } from "../../../ir/shape.js";
import type { HostBuffer } from "../../backend.js";
import { registerCpuKernel } from "../backend.js";
import { conv2dKernel, pool2dKernel } from "./conv.js";
import { matmulInto } from "../codegen-matmul.js";
import { gemm } from "./matmul.js";

registerCpuKernel("matmul", (inputs, _attrs, outTypes) => {
  const [a, b] = inputs as [HostBuffer, HostBuffer];
  const dtype = outTypes[0]!.dtype;
  const c = allocate(dtype, sizeOf(outTypes[0]!.shape));
  // One batch walk for eager and compiled matmul, so both give the same bits.
  matmulInto(a.type, b.type, dtype)(a.data, b.data, c);
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
