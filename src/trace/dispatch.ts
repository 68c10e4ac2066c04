/**
 * The one dispatch point. Every op, from every public function and method, goes through `bind`:
 * it validates operands and attributes with the op's registry rule, then either records the op into
 * the active trace (when an operand is symbolic) or runs it now on the operands' device.
 */
import { DeviceError } from "../ir/errors.js";
import { type Attrs, getOp, type OpDef } from "../ir/registry.js";
import type { HostBuffer } from "../exec/backend.js";
import type { TensorType } from "../ir/types.js";
import { executeEagerWasm } from "../exec/wasm/eager.js";
import { executeOnGpu } from "../exec/webgpu/eager.js";
import { requireWebGPU } from "../exec/webgpu/runtime.js";
import { backendFor } from "./device.js";
import { currentTrace, escapedTracerError, SymbolicTensor, type Trace, userCallSite } from "./symbolic.js";
import { EagerTensor, type Tensor } from "./tensor.js";
import { tensor } from "./create.js";

function asEager(t: Tensor, op: string, i: number): EagerTensor {
  if (t instanceof EagerTensor) return t;
  throw new DeviceError(`${op}: operand ${i} is not an eager tensor`);
}

/** The trace an op must be recorded into, or undefined to run it eagerly. */
function traceFor(opName: string, inputs: readonly Tensor[]): Trace | undefined {
  let symbolic: SymbolicTensor | undefined;
  for (const t of inputs) if (t instanceof SymbolicTensor) symbolic ??= t;
  if (!symbolic) return undefined;
  const trace = currentTrace();
  for (const t of inputs) {
    if (!(t instanceof SymbolicTensor)) continue;
    if (!t.trace.active || t.trace !== trace) {
      const usedIn = trace ? `while tracing \`${trace.functionName}\` (by ${opName})` : `in eager code (by ${opName}) after its trace ended`;
      throw escapedTracerError(t, usedIn);
    }
  }
  return trace;
}

function record(trace: Trace, op: OpDef, inputs: readonly Tensor[], attrs: Attrs): Tensor[] {
  const operands = inputs.map((t) => (t instanceof SymbolicTensor ? t.value : trace.constant(asEager(t, op.name, 0))));
  const outTypes = op.infer(operands.map((v) => v.type), attrs);
  return trace.record(op.name, operands.map((v) => v.name), attrs, outTypes, userCallSite());
}

export function bind(opName: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor[] {
  const op = getOp(opName);
  const trace = traceFor(opName, inputs);
  if (trace) return record(trace, op, inputs, attrs);
  const eager = inputs.map((t, i) => asEager(t, opName, i));
  const outTypes = op.infer(eager.map((t) => t.type), attrs);
  let device = eager[0]?.device ?? "cpu";
  for (let i = 1; i < eager.length; i++) {
    if (eager[i]!.device !== device) {
      device = "webgpu";
      break;
    }
  }
  if (device !== "cpu") return runOnGpu(op, eager, attrs, outTypes);
  const buffers: HostBuffer[] = eager.map((t) => ({ data: t.buffer(), type: t.type }));
  const outs = executeEagerWasm(op, buffers, attrs, outTypes) ?? backendFor(device).execute(op, buffers, attrs, outTypes);
  return outs.map((data, i) => new EagerTensor(data, outTypes[i]!, device));
}

/**
 * An op with an operand on the webgpu device runs there. A cpu operand is allowed only as a
 * scalar (rank 0, what JS numbers become: `x.mul(2)`), uploaded for the op, as PyTorch lets CPU
 * scalars join CUDA tensors; any other mix is a DeviceError naming both devices.
 */
function runOnGpu(op: OpDef, eager: readonly EagerTensor[], attrs: Attrs, outTypes: readonly TensorType[]): Tensor[] {
  const rt = requireWebGPU(op.name);
  const gpuAt = eager.findIndex((t) => t.device === "webgpu");
  const uploaded: EagerTensor[] = [];
  try {
    const inputs = eager.map((t, i) => {
      if (t.device === "webgpu") return { storage: t.gpuStorage(), type: t.type };
      if (t.rank !== 0) {
        throw new DeviceError(`${op.name}: operand ${i} is on ${t.device} but operand ${gpuAt} is on webgpu; move it with \`await t.to("webgpu")\` (only scalars move implicitly)`);
      }
      const u = scalarOnGpu(t);
      uploaded.push(u);
      return { storage: u.gpuStorage(), type: t.type };
    });
    const outs = executeOnGpu(rt, op, inputs, attrs, outTypes);
    return outs.map((s, i) => EagerTensor.onGpu(s, outTypes[i]!));
  } finally {
    for (const u of uploaded) u.dispose();
  }
}

function scalarOnGpu(t: EagerTensor): EagerTensor {
  return tensor(t, { device: "webgpu" }) as EagerTensor;
}

export function bind1(opName: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor[][number] {
  return bind(opName, inputs, attrs)[0]!;
}
