/**
 * Elementwise WGSL kernels against the CPU code generator: every elementwise op of the registry on
 * every dtype it accepts (random data with NaN, infinities, signed zeros and integer edge values),
 * then fused DAGs with broadcasting and several outputs.
 */
import { describe, expect, it } from "vitest";
import type { KernelSpec } from "../../src/exec/cpu/codegen-fused.js";
import { generateWgsl, gpuStorageDType, type WgslLimits } from "../../src/exec/webgpu/codegen.js";
import type { DType } from "../../src/ir/dtype.js";
import { DTypeError } from "../../src/ir/errors.js";
import { listOps, type Attrs } from "../../src/ir/registry.js";
import { deviceLimits, hasGpu, runKernel } from "./helpers/gpu.js";
import { cpuSpec, host, input, mismatch, randomData, size, SpecBuilder, t, type Tolerance } from "./helpers/specs.js";

const GPU_DTYPES: DType[] = ["bool", "uint8", "int32", "float32"];

/** Float tolerances per op: + - * / agree to ~1 ulp; transcendental functions are looser (GPU f32 vs JS float64). */
const TOL: Record<string, Tolerance> = {
  exp: { rtol: 1e-5, atol: 1e-30 },
  expm1: { rtol: 1e-5, atol: 1e-30 },
  log: { rtol: 1e-5, atol: 1e-6 },
  log1p: { rtol: 1e-5, atol: 1e-6 },
  sin: { rtol: 1e-5, atol: 1e-6 },
  cos: { rtol: 1e-5, atol: 1e-6 },
  tan: { rtol: 1e-5, atol: 1e-6 },
  asin: { rtol: 1e-5, atol: 1e-6 },
  acos: { rtol: 1e-5, atol: 1e-6 },
  atan: { rtol: 1e-5, atol: 1e-6 },
  atan2: { rtol: 1e-5, atol: 1e-6 },
  sinh: { rtol: 1e-5, atol: 1e-30 },
  cosh: { rtol: 1e-5, atol: 1e-30 },
  tanh: { rtol: 1e-5, atol: 1e-7 },
  sigmoid: { rtol: 1e-5, atol: 1e-7 },
  erf: { rtol: 1e-5, atol: 1e-7 },
  gelu: { rtol: 1e-5, atol: 1e-7 },
  pow: { rtol: 1e-5, atol: 1e-6 },
  mod: { rtol: 1e-5, atol: 1e-6 },
  floorDiv: { rtol: 1e-5, atol: 1e-6 },
};
const BASIC: Tolerance = { rtol: 2e-6, atol: 1e-37 };

const N = 997;

/** Every (op, operand dtypes, attributes) case: all dtypes each op's rule accepts, all cast targets, both gelu forms. */
function cases(): { name: string; op: string; ins: DType[]; attrs: Attrs }[] {
  const out: { name: string; op: string; ins: DType[]; attrs: Attrs }[] = [];
  for (const def of listOps()) {
    if (def.kind !== "elementwise") continue;
    const arity = def.arity as number;
    for (const d of GPU_DTYPES) {
      const ins = def.name === "where" ? ["bool" as DType, d, d] : new Array<DType>(arity).fill(d);
      const attrSets: Attrs[] = def.name === "cast" ? GPU_DTYPES.map((to) => ({ dtype: to })) : def.name === "gelu" ? [{ approximate: false }, { approximate: true }] : [{}];
      for (const attrs of attrSets) {
        try {
          def.infer(ins.map((x) => t(x, [N])), attrs);
        } catch {
          continue; // the op does not accept this dtype
        }
        out.push({ name: `${def.name}(${ins.join(", ")})${Object.keys(attrs).length ? ` ${JSON.stringify(attrs)}` : ""}`, op: def.name, ins, attrs });
      }
    }
  }
  return out;
}

describe.skipIf(!hasGpu)("webgpu elementwise codegen", () => {
  const limits = hasGpu ? deviceLimits() : undefined;

  it.each(cases())("$name matches the CPU", async ({ op, ins, attrs }) => {
    const types = ins.map((d) => t(d, [N]));
    const b = new SpecBuilder(types);
    const y = b.add(op, types.map((_, k) => input(k)), attrs);
    const spec = b.build("elementwise", [y]);
    const data = types.map((ty, k) => randomData(ty.dtype, N, 17 * k + op.length));
    const want = cpuSpec(spec, data);
    const got = await runKernel(generateWgsl(spec, limits!), data.map((d, k) => host(types[k]!, d)), spec.outputs);
    const tol = TOL[op] ?? BASIC;
    const msg = mismatch(got[0]!, want[0]!, spec.outputs[0]!, tol, (i) => data.map((d) => d[i]).join(", "));
    expect(msg).toBeUndefined();
  });

  async function check(spec: KernelSpec, seed: number, tol: Tolerance = BASIC, lim: WgslLimits = limits!): Promise<void> {
    const data = spec.inputs.map((ty, k) => randomData(ty.dtype, size(ty.shape), seed + k));
    const want = cpuSpec(spec, data);
    const got = await runKernel(generateWgsl(spec, lim), data.map((d, k) => host(spec.inputs[k]!, d)), spec.outputs);
    spec.outputs.forEach((o, i) => expect(mismatch(got[i]!, want[i]!, o, tol), `output ${i}`).toBeUndefined());
  }

  /** x f32[4,1,5], y f32[3,1], z i32[5]: a broadcast DAG with bool, int and float values and four outputs of three shapes. */
  function dag(): KernelSpec {
    const b = new SpecBuilder([t("float32", [4, 1, 5]), t("float32", [3, 1]), t("int32", [5])]);
    const a = b.add("add", [input(0), input(1)]);
    const zf = b.add("cast", [input(2)], { dtype: "float32" });
    const c = b.add("mul", [a, zf]);
    const d = b.add("tanh", [c]);
    const e = b.add("greater", [d, b.add("sin", [input(0)])]);
    const f = b.add("where", [e, c, input(0)]);
    const g = b.add("add", [input(2), b.add("cast", [e], { dtype: "int32" })]);
    return b.build("elementwise", [d, e, f, g, input(1)].slice(0, 4));
  }

  it("computes a fused broadcast DAG with several outputs", async () => {
    await check(dag(), 3, { rtol: 1e-5, atol: 1e-6 });
  });

  it("writes outputs smaller than the iteration space and yields inputs directly", async () => {
    const b = new SpecBuilder([t("float32", [4, 3, 5]), t("float32", [3, 1]), t("uint8", [1, 5])]);
    const s = b.add("sub", [input(0), input(1)]);
    const n = b.add("neg", [input(2)]);
    await check(b.build("elementwise", [s, input(1), n]), 5);
  });

  it("splits a large dispatch over two grid dimensions", async () => {
    // 12000 elements are 3000 quads of 4 (one invocation each): 12 workgroups of 256.
    const b = new SpecBuilder([t("float32", [12000]), t("float32", [12000])]);
    const spec = b.build("elementwise", [b.add("mul", [input(0), input(1)])]);
    const small = { ...limits!, maxComputeWorkgroupsPerDimension: 5 };
    expect(generateWgsl(spec, small).passes[0]!.workgroups).toEqual([5, 3, 1]);
    await check(spec, 9, BASIC, small);
  });

  it("moves 4 elements per invocation with vec4 loads, a partial last quad and broadcast operands", async () => {
    for (const n of [9, 13, 14, 15, 16, 1001]) {
      const b = new SpecBuilder([t("float32", [n]), t("float32", []), t("int32", [n])]);
      const y = b.add("add", [b.add("tanh", [b.add("mul", [input(0), input(1)])]), b.add("sigmoid", [input(0)])]);
      const spec = b.build("elementwise", [y, b.add("greater", [y, input(1)]), b.add("neg", [input(2)])]);
      const code = generateWgsl(spec, limits!).passes[0]!.code;
      expect(code).toContain("array<vec4<f32>>");
      expect(code).toContain("array<vec4<u32>>");
      await check(spec, 20 + n, { rtol: 1e-5, atol: 1e-6 });
    }
    // Rows of 8 (two quads): row-broadcast, column-broadcast and full operands; outputs of three shapes.
    const b = new SpecBuilder([t("float32", [5, 8]), t("float32", [5, 1]), t("int32", [8]), t("uint8", [5, 8])]);
    const d = b.add("sub", [input(0), input(1)]);
    const e = b.add("mul", [d, b.add("cast", [input(2)], { dtype: "float32" })]);
    const spec = b.build("elementwise", [e, b.add("exp", [input(1)]), b.add("add", [input(2), input(2)]), b.add("maximum", [input(3), b.add("cast", [input(2)], { dtype: "uint8" })])]);
    expect(generateWgsl(spec, limits!).passes[0]!.code).toContain("array<vec4<f32>>");
    await check(spec, 31, { rtol: 1e-5, atol: 1e-6 });
    // Rows of 6 do not hold whole quads: the scalar form.
    const s = new SpecBuilder([t("float32", [4, 6]), t("float32", [4, 1])]);
    const ss = s.build("elementwise", [s.add("div", [input(0), input(1)])]);
    expect(generateWgsl(ss, limits!).passes[0]!.code).not.toContain("vec4");
    await check(ss, 37);
  });

  it("handles 0-d tensors, transposed-like strides and empty results", async () => {
    const b = new SpecBuilder([t("float32", []), t("int32", [2, 1, 3]), t("int32", [1, 4, 1])]);
    const m = b.add("mul", [input(1), input(2)]);
    const s = b.add("cast", [m], { dtype: "float32" });
    await check(b.build("elementwise", [b.add("add", [s, input(0)]), b.add("floorDiv", [input(1), input(2)])]), 11);
    const e = new SpecBuilder([t("float32", [0, 3])]);
    expect(generateWgsl(e.build("elementwise", [e.add("exp", [input(0)])]), limits!).passes).toEqual([]);
  });

  it("caches kernels by structure", () => {
    const k1 = generateWgsl(dag(), limits!);
    const k2 = generateWgsl(dag(), limits!);
    expect(k2).toBe(k1);
    expect(k1.hash).toMatch(/^[0-9a-f]{14}$/);
  });

  it("rejects float64 with a DTypeError naming the device", () => {
    expect(() => gpuStorageDType("float64")).toThrow(DTypeError);
    expect(() => gpuStorageDType("float64")).toThrow(/webgpu/);
    const b = new SpecBuilder([t("float64", [3])]);
    const spec = b.build("elementwise", [b.add("exp", [input(0)])]);
    expect(() => generateWgsl(spec, limits!)).toThrow(DTypeError);
  });
});
