/**
 * The one dispatch point. Every op, from every public function and method, goes through `bind`:
 * it validates operands and attributes with the op's registry rule, then runs the op now on the
 * operands' device. (Tracing will hook in here: an operand of an active trace records the op
 * instead of running it.)
 */
import { DeviceError } from "../ir/errors.js";
import { type Attrs, getOp } from "../ir/registry.js";
import type { HostBuffer } from "../exec/backend.js";
import { backendFor } from "./device.js";
import { EagerTensor, type Tensor } from "./tensor.js";

function asEager(t: Tensor, op: string, i: number): EagerTensor {
  if (t instanceof EagerTensor) return t;
  throw new DeviceError(`${op}: operand ${i} is not an eager tensor`);
}

export function bind(opName: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor[] {
  const op = getOp(opName);
  const eager = inputs.map((t, i) => asEager(t, opName, i));
  const outTypes = op.infer(eager.map((t) => t.type), attrs);
  const device = eager[0]?.device ?? "cpu";
  for (const [i, t] of eager.entries()) {
    if (t.device !== device) {
      throw new DeviceError(`${opName}: operand ${i} is on ${t.device} but operand 0 is on ${device}; move it with .to("${device}")`);
    }
  }
  const buffers: HostBuffer[] = eager.map((t) => ({ data: t.buffer(), type: t.type }));
  const outs = backendFor(device).execute(op, buffers, attrs, outTypes);
  return outs.map((data, i) => new EagerTensor(data, outTypes[i]!, device));
}

export function bind1(opName: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor {
  return bind(opName, inputs, attrs)[0]!;
}
