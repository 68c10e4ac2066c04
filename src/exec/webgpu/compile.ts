/**
 * The WebGPU compiler: `compileWebGPU(graph) -> GpuExecutable`. Each fused node becomes one WGSL
 * kernel (generateWgsl of its region spec), each other node a one-op kernel (generateOpWgsl for ops
 * that are not elementwise, reductions or matmul); pipelines are created here, once, so shader
 * errors name their node. A run records every dispatch into one command buffer (one compute pass),
 * submits it inside one error scope, and returns without waiting for the GPU.
 *
 * Memory: intermediates are planned as on the CPU (memory-plan.ts liveness and slot sharing, with
 * every element 4 bytes and no in-place writes, since a WGSL binding cannot be read-only and
 * writable at once); each slot is one GPU buffer held by the executable and reused by every run.
 * Results are fresh pooled buffers the caller owns. Constants are uploaded once.
 *
 * Control flow (control.ts): `for` and `scan` compile their body region with this compiler (its
 * own plan and slots) and record it trip-count times into the same command buffer between compute
 * passes; `cond` and `while` need a GPU value on the host and are a DeviceError.
 */
import { ValueError } from "../../ir/errors.js";
import type { Graph, Node } from "../../ir/graph.js";
import "../../ir/ops/index.js";
import { FUSED_KINDS, type FusedKind } from "../../ir/ops/fused.js";
import { getOp } from "../../ir/registry.js";
import { formatType, type TensorType } from "../../ir/types.js";
import { regionSpec } from "../cpu/compile.js";
import { type MemoryPlan, type PlanStep, planMemory } from "../cpu/memory-plan.js";
import type { GpuStorage } from "./buffers.js";
import { generateWgsl } from "./codegen.js";
import { VIEW_OPS } from "./eager.js";
import { type ControlStep, compileControl, type RegionEncoder } from "./control.js";
import { acquireScratch, checkTypes, encode, opKernel, prepare, type PreparedKernel, wgslLimits } from "./kernels.js";
import { label, type WebGPURuntime } from "./runtime.js";
import { gpuBytes, upload } from "./transfer.js";

export interface GpuKernelInfo {
  readonly node: string;
  readonly op: string;
  /** The generated WGSL of each pass, and the kernel's structural hash. */
  readonly source: string;
  readonly hash: string;
}

export interface GpuExecutable extends RegionEncoder {
  /** Runs the graph on GPU buffers matching its parameters; returns fresh result buffers (one reference each). */
  run(inputs: readonly GpuStorage[]): GpuStorage[];
  /**
   * Records the graph's work into `enc` (no submit, no error scope), writing result r into
   * `outputs[r]` (distinct buffers, none of them an input): how a loop runs its compiled body.
   */
  encodeInto(enc: GPUCommandEncoder, inputs: readonly GpuStorage[], outputs: readonly GpuStorage[]): void;
  readonly kernels: readonly GpuKernelInfo[];
  readonly plan: MemoryPlan;
  /** Releases the executable's slot buffers, scratch and constants. */
  dispose(): void;
}

/**
 * A kernel; a view (reshape of an intermediate: the result is the operand's buffer); or a copy
 * (a reshape whose result the caller receives, which must not share a slot reused by later runs).
 */
type Step =
  | { readonly kind: "kernel"; readonly kernel: PreparedKernel; readonly inputs: readonly string[]; readonly outputs: readonly string[]; readonly scratch: readonly GpuStorage[] }
  | { readonly kind: "view" | "copy"; readonly inputs: readonly [string]; readonly outputs: readonly [string]; readonly bytes: number }
  /** A `for` or `scan` node (control.ts): records its loop between compute passes. */
  | { readonly kind: "control"; readonly control: ControlStep; readonly inputs: readonly string[]; readonly outputs: readonly string[] };

const nodeName = (node: Node, i: number): string => node.results[0]?.name ?? `node ${i}`;

/** Every element is 4 bytes on the GPU: plan with a 4-byte dtype of the same element count. */
const planType = (t: TensorType): TensorType => ({ dtype: "int32", shape: t.shape });

export function compileWebGPU(rt: WebGPURuntime, graph: Graph): GpuExecutable {
  const where = `compile @${graph.name} for webgpu`;
  const types = new Map<string, TensorType>();
  for (const p of graph.params) types.set(p.name, p.type);
  for (const c of graph.constants) types.set(c.name, c.type);
  checkTypes(`${where}: parameters`, graph.params.map((p) => p.type));
  const constantNames = new Set(graph.constants.map((c) => c.name));
  const resultNames = new Set(graph.results);

  const owned: GpuStorage[] = [];
  // Loop steps own their compiled bodies and carry buffers.
  const controls: ControlStep[] = [];
  const releaseAll = (): void => {
    for (const s of owned) s.release();
    for (const c of controls) c.dispose();
  };
  const steps: Step[] = [];
  const kernels: GpuKernelInfo[] = [];
  try {
    graph.nodes.forEach((node, i) => {
      const at = `${where}: ${nodeName(node, i)} = ${node.op}(...)`;
      const op = getOp(node.op);
      let kernelInputs: readonly string[] = node.operands;
      let prepared: PreparedKernel;
      const opLabel = `${node.op}@${nodeName(node, i)}`;
      if (VIEW_OPS.has(node.op) && node.operands.length === 1 && node.results.length === 1) {
        const out = node.results[0]!;
        checkTypes(at, [out.type]);
        types.set(out.name, out.type);
        steps.push({ kind: resultNames.has(out.name) ? "copy" : "view", inputs: [node.operands[0]!], outputs: [out.name], bytes: gpuBytes(out.type) });
        kernels.push({ node: nodeName(node, i), op: node.op, source: "", hash: "" });
        return;
      }
      if (op.kind === "fused") {
        const kind = node.attrs["kind"];
        if (typeof kind !== "string" || !(FUSED_KINDS as readonly string[]).includes(kind) || node.regions?.length !== 1) {
          throw new ValueError(`${at}: malformed fused node (kind ${JSON.stringify(kind ?? null)}, ${node.regions?.length ?? 0} regions)`);
        }
        const { spec, inputs } = regionSpec(kind as FusedKind, node, node.regions[0]!, types, constantNames, at);
        checkTypes(at, [...spec.inputs, ...spec.outputs]);
        prepared = prepare(rt, generateWgsl(spec, wgslLimits(rt)), opLabel);
        kernelInputs = inputs;
      } else if (node.regions?.length) {
        checkTypes(at, node.results.map((r) => r.type));
        const control = compileControl(rt, node, types, graph.constants, at, (g) => compileWebGPU(rt, g));
        controls.push(control);
        for (const r of node.results) types.set(r.name, r.type);
        steps.push({ kind: "control", control, inputs: node.operands, outputs: node.results.map((r) => r.name) });
        kernels.push({ node: nodeName(node, i), op: node.op, source: "", hash: "" });
        return;
      } else {
        const inTypes = node.operands.map((o) => types.get(o)!);
        prepared = prepare(rt, opKernel(rt, op, inTypes, node.attrs, node.results.map((r) => r.type), at), opLabel);
      }
      for (const r of node.results) types.set(r.name, r.type);
      const scratch = acquireScratch(rt, prepared);
      owned.push(...scratch);
      steps.push({ kind: "kernel", kernel: prepared, inputs: kernelInputs, outputs: node.results.map((r) => r.name), scratch });
      kernels.push({ node: nodeName(node, i), op: node.op, source: prepared.kernel.passes.map((p) => p.code).join("\n"), hash: prepared.kernel.hash });
    });

    const planSteps: PlanStep[] = steps.map((s) => ({
      reads: s.inputs,
      writes: s.outputs.map((name) =>
        s.kind === "view"
          ? { name, type: planType(types.get(name)!), storage: "kernel" as const, mayAlias: s.inputs }
          : { name, type: planType(types.get(name)!), storage: "planned" as const, inPlace: [] },
      ),
    }));
    const plan = planMemory(
      {
        params: graph.params.map((p) => ({ name: p.name, type: planType(p.type) })),
        constants: graph.constants.map((c) => ({ name: c.name, type: planType(c.type) })),
        steps: planSteps,
        results: graph.results,
      },
      { inPlace: false },
    );

    // The value table: one slot per name; constants, slot buffers and empty values are bound once.
    const slotOf = new Map<string, number>();
    for (const name of types.keys()) slotOf.set(name, slotOf.size);
    const base: (GpuStorage | undefined)[] = new Array(slotOf.size).fill(undefined);
    for (const c of graph.constants) {
      const s = upload(rt, c.data, c.type, `${where}: constant ${c.name}`);
      owned.push(s);
      base[slotOf.get(c.name)!] = s;
    }
    const slotBuffers = plan.slotBytes.map((bytes, k) => {
      const s = rt.pool.acquire(Math.max(4, bytes), `${where}: buffer slot ${k}`);
      owned.push(s);
      return s;
    });
    const freshNames: string[] = [];
    for (const v of plan.values) {
      const p = v.placement;
      if (p.kind === "slot") base[slotOf.get(v.name)!] = slotBuffers[p.slot]!;
      else if (p.kind === "empty") {
        const s = rt.pool.acquire(4, `${where}: empty ${v.name}`);
        owned.push(s);
        base[slotOf.get(v.name)!] = s;
      } else if (p.kind === "output") freshNames.push(v.name);
    }
    const paramSlots = graph.params.map((p) => slotOf.get(p.name)!);
    const fresh = freshNames.map((n) => ({ slot: slotOf.get(n)!, type: types.get(n)! }));
    const resultSlots = graph.results.map((r) => slotOf.get(r)!);
    const stepSlots = steps.map((s) => ({ ins: s.inputs.map((n) => slotOf.get(n)!), outs: s.outputs.map((n) => slotOf.get(n)!) }));
    const resultBytes = graph.results.map((r) => gpuBytes(types.get(r)!));
    const freshSlots = new Set(fresh.map((f) => f.slot));
    const ctx = { op: `@${graph.name}` };
    let disposed = false;

    /** Records every step into `enc` over the value table `env` (one compute pass per run of kernels). */
    const record = (enc: GPUCommandEncoder, env: (GpuStorage | undefined)[]): void => {
      // One compute pass for consecutive kernels; a copy or a loop ends it (copies are encoder commands).
      let pass: GPUComputePassEncoder | undefined;
      for (let i = 0; i < steps.length; i++) {
        const s = steps[i]!;
        const io = stepSlots[i]!;
        if (s.kind === "kernel") {
          pass ??= enc.beginComputePass({ label: label(ctx) });
          encode(rt, pass, s.kernel, io.ins.map((k) => env[k]!), io.outs.map((k) => env[k]!), s.scratch);
        } else if (s.kind === "view") env[io.outs[0]!] = env[io.ins[0]!];
        else if (s.kind === "control") {
          pass?.end();
          pass = undefined;
          s.control.encode(enc, io.ins.map((k) => env[k]!), io.outs.map((k) => env[k]!));
        } else if (s.bytes > 0) {
          pass?.end();
          pass = undefined;
          enc.copyBufferToBuffer(env[io.ins[0]!]!.buffer, 0, env[io.outs[0]!]!.buffer, 0, s.bytes);
        }
      }
      pass?.end();
    };

    return {
      kernels,
      plan,
      run(inputs) {
        if (disposed) throw new ValueError(`compiled @${graph.name} (webgpu): run() after dispose()`);
        if (inputs.length !== paramSlots.length) throw new ValueError(`compiled @${graph.name} (webgpu): expected ${paramSlots.length} arguments, got ${inputs.length}`);
        const env = base.slice();
        for (let k = 0; k < paramSlots.length; k++) env[paramSlots[k]!] = inputs[k]!;
        const made: GpuStorage[] = [];
        try {
          for (const f of fresh) {
            const s = rt.pool.acquire(gpuBytes(f.type), `@${graph.name}: result ${formatType(f.type)}`);
            made.push(s);
            env[f.slot] = s;
          }
          if (steps.length > 0) {
            rt.scoped(ctx, () => {
              const enc = rt.device.createCommandEncoder({ label: label(ctx) });
              record(enc, env);
              rt.device.queue.submit([enc.finish()]);
            });
          } else rt.checkAlive();
          // Each result is one reference the caller owns (a returned parameter or constant is shared).
          return resultSlots.map((k) => env[k]!.retain());
        } finally {
          for (const s of made) s.release();
        }
      },
      encodeInto(enc, inputs, outputs) {
        if (disposed) throw new ValueError(`compiled @${graph.name} (webgpu): encodeInto() after dispose()`);
        if (inputs.length !== paramSlots.length || outputs.length !== resultSlots.length) {
          throw new ValueError(`compiled @${graph.name} (webgpu): expected ${paramSlots.length} inputs and ${resultSlots.length} outputs, got ${inputs.length} and ${outputs.length}`);
        }
        const env = base.slice();
        for (let k = 0; k < paramSlots.length; k++) env[paramSlots[k]!] = inputs[k]!;
        // A result computed by a step is written straight into its output buffer; the rest (a
        // parameter, a constant, a result returned twice) are copied there afterwards.
        const copied: number[] = [];
        const bound = new Set<number>();
        resultSlots.forEach((slot, r) => {
          if (freshSlots.has(slot) && !bound.has(slot)) {
            bound.add(slot);
            env[slot] = outputs[r]!;
          } else copied.push(r);
        });
        record(enc, env);
        for (const r of copied) {
          if (resultBytes[r]! > 0) enc.copyBufferToBuffer(env[resultSlots[r]!]!.buffer, 0, outputs[r]!.buffer, 0, resultBytes[r]!);
        }
      },
      dispose() {
        if (disposed) return;
        disposed = true;
        releaseAll();
      },
    };
  } catch (err) {
    releaseAll();
    throw err;
  }
}

