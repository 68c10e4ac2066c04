/**
 * The debugPrint kernel hands the value to a sink and returns its input unchanged. The sink is
 * installed by the layer that knows how to format values (src/trace/debug.ts), so this layer stays
 * free of formatting code.
 */
import type { TypedArray } from "../../../ir/dtype.js";
import type { TensorType } from "../../../ir/types.js";
import { registerCpuKernel } from "../backend.js";

export type DebugSink = (label: string, data: TypedArray, type: TensorType) => void;

let sink: DebugSink = (label, data) => console.log(`${label}:`, data);

export function setDebugSink(s: DebugSink): DebugSink {
  const prev = sink;
  sink = s;
  return prev;
}

registerCpuKernel("debugPrint", (inputs, attrs) => {
  const x = inputs[0]!;
  sink(String(attrs["label"]), x.data, x.type);
  return [x.data];
});
