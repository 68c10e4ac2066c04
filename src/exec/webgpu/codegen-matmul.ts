/**
 * Matmul kernels (`kind: "matmul"` specs: a matmul of two inputs, then an elementwise epilogue).
 *
 * Tiled GEMM with workgroup memory and register blocking. One workgroup computes a BM x BN tile of
 * one batch matrix; each of its threads a TM x TN block held in vec4 registers. Per step of BK
 * along k the workgroup stages an A tile (stored transposed, k-major, rows padded by 4 so the
 * transposing stores hit distinct banks) and a B tile in workgroup memory; each thread then reads
 * TM/4 + TN/4 vec4s per k and does TM*TN multiply-adds. The next tile's global loads are issued
 * into registers before the current tile is consumed (register prefetch), so their latency hides
 * behind the arithmetic. A thread's rows are 4-row groups spread BM/(TM/4) apart (columns alike),
 * so the vec4 reads of a warp are contiguous (conflict-free) and its stores coalesce.
 * Global loads are vec4 when the row length allows (K % 4 for A, N % 4 for B), else four scalar
 * loads; edges (M, N, K not multiples of the tile) load zeros and skip stores.
 * The inner loops are fully unrolled in the generated code, and accumulators are separate
 * variables, not an array, so no index needs a bounds clamp.
 * Options the sweep compares (MATMUL_CANDIDATES; defaults unchanged): `aRows` keeps the A tile
 * row-major in workgroup memory (one vec4 store per quad, vec4 reads of 4 k values of one row), and
 * `vecStore` writes the plain product as vec4 column quads, skipping the scalar epilogue.
 *
 * The epilogue (bias, activation, casts) runs on each accumulator before its one store: a WGSL
 * function of (value, batch, row, column) that loads the epilogue's other inputs at their
 * broadcast offsets and writes every yield.
 *
 * Accumulation is in the storage type: float32 in f32 (the CPU accumulates in float64, so results
 * differ by the f32 rounding of a k-term sum), int32 in wrapping i32, uint8 in u32 then & 255,
 * bool as a count of true products then != 0.
 */
import { ValueError } from "../../ir/errors.js";
import { matmulPlan } from "../../ir/ops/linalg.js";
import { sizeOf } from "../../ir/shape.js";
import type { KernelSpec } from "../cpu/codegen-fused.js";
import { needed, nodeLines, stridesIn, valueName } from "./codegen-body.js";
import type { WgslBinding, WgslLimits, WgslPass } from "./codegen.js";
import { type BindingDecl, cdiv, declareBindings, storageType, type WgslScalar } from "./wgsl-common.js";
import { Helpers } from "./wgsl-scalar.js";

/** One tiling: tile BM x BN x BK, TM x TN per thread (multiples of 4). */
export interface MatmulConfig {
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  readonly tm: number;
  readonly tn: number;
  /**
   * Two tile buffers in workgroup memory (one barrier per k step instead of two). Off by default:
   * on an H200 the 128x128 tile ran at 38.6 TFLOP/s double-buffered vs 45.8 single (4096-8192).
   */
  readonly double?: boolean;
  /**
   * Store the A tile row-major (m-major, as it is in global memory) instead of transposed: one vec4
   * store per loaded quad instead of four scalar stores, and per 4 k steps a thread reads TM vec4s
   * of A (4 k values of one row each) instead of 4 * TM/4. Off by default (a candidate for the sweep).
   */
  readonly aRows?: boolean;
  /**
   * Store results as vec4 (4 consecutive columns per store) when the epilogue is the plain product
   * (float32 or int32, one contiguous output) and N % 4 == 0; otherwise scalar stores through the
   * epilogue. Off by default (a candidate for the sweep).
   */
  readonly vecStore?: boolean;
}

export const MATMUL_CONFIGS: Readonly<Record<"xlarge" | "large" | "medium" | "small", MatmulConfig>> = {
  // 16x8 per thread: the H200 sweep's best from 2048 to 8192 (45.2-46.7 TFLOP/s against 42.7-44.9
  // for 128x128; bench/results/h200/matmul-tiles.log).
  xlarge: { bm: 256, bn: 128, bk: 8, tm: 16, tn: 8 },
  // bk 16: half the barriers of bk 8; on an H200 at 2048-8192 it beat bk 8 by 2-4 % (bench/results/h200).
  large: { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8 },
  medium: { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
  small: { bm: 32, bn: 32, bk: 16, tm: 4, tn: 4 },
};

/**
 * Candidate tilings for the next GPU sweep (tests/webgpu/helpers/bench-matmul.ts), kept here so the
 * tests run every one of them on SwiftShader; none is chosen by `chooseConfig`.
 */
export const MATMUL_CANDIDATES: Readonly<Record<string, MatmulConfig>> = {
  "large-arows": { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8, aRows: true },
  "large-vst": { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8, vecStore: true },
  "large-k8-arows-vst": { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8, aRows: true, vecStore: true },
  "large-arows-vst": { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8, aRows: true, vecStore: true },
  "128x256-k8": { bm: 128, bn: 256, bk: 8, tm: 8, tn: 16 },
  "128x256-k8-vst": { bm: 128, bn: 256, bk: 8, tm: 8, tn: 16, aRows: true, vecStore: true },
};

const threadsOf = (c: MatmulConfig): number => (c.bm / c.tm) * (c.bn / c.tn);
/** Bytes of workgroup memory one tile buffer takes (A transposed is padded by 4 per k row). */
export const matmulSharedBytes = (c: MatmulConfig): number => 4 * c.bk * (c.bm + (c.aRows ? 0 : 4) + c.bn);
const sharedBytes = matmulSharedBytes;

/** The tiling for these sizes: the large tile when it still gives enough workgroups to fill a big GPU. */
export function chooseConfig(m: number, n: number, batch: number, limits: WgslLimits): MatmulConfig {
  const fits = (c: MatmulConfig) =>
    threadsOf(c) <= limits.maxComputeInvocationsPerWorkgroup && threadsOf(c) <= limits.maxComputeWorkgroupSizeX && sharedBytes(c) <= limits.maxComputeWorkgroupStorageSize;
  const { xlarge, large, medium, small } = MATMUL_CONFIGS;
  // The biggest tile that still gives enough workgroups to fill a large GPU.
  if (fits(xlarge) && cdiv(m, 256) * cdiv(n, 128) * batch >= 96) return xlarge;
  if (fits(large) && cdiv(m, 128) * cdiv(n, 128) * batch >= 96) return large;
  if (fits(medium) && (m > 32 || n > 32)) return medium;
  if (fits(small)) return small;
  throw new ValueError(`webgpu matmul: the device allows ${limits.maxComputeInvocationsPerWorkgroup} invocations per workgroup; the smallest matmul tiling needs ${threadsOf(small)}`);
}

const ZERO: Record<WgslScalar, string> = { f32: "0.0", i32: "0i", u32: "0u" };

/**
 * An A operand read through an address function instead of a row-major matrix (implicit GEMM):
 * `code` defines WGSL function(s) over the binding `A` (a scalar array of the storage type), and
 * `element(m, k)` is the expression for A[m][k] (zero outside the matrix included).
 */
export interface ImplicitA {
  readonly code: string;
  readonly element: (m: string, k: string) => string;
  readonly label: string;
}

export function genMatmul(spec: KernelSpec, limits: WgslLimits, where: string, config?: MatmulConfig, implicitA?: ImplicitA): { passes: WgslPass[]; scratch: number[] } {
  const mm = spec.nodes[0]!;
  const ra = mm.operands[0] as { input: number };
  const rb = mm.operands[1] as { input: number };
  const aType = spec.inputs[ra.input]!;
  const bType = spec.inputs[rb.input]!;
  const plan = matmulPlan(aType, bType);
  const { m: M, n: N, k: K, batch } = plan;
  const count = sizeOf(batch);
  const outShape = plan.outShape;
  if (count * M * N === 0 || spec.outputs.length === 0) return { passes: [], scratch: [] };
  if (count > limits.maxComputeWorkgroupsPerDimension) {
    throw new ValueError(`${where}: a batch of ${count} matrices exceeds the device's dispatch limit (${limits.maxComputeWorkgroupsPerDimension} per dimension)`);
  }
  const cfg = config ?? chooseConfig(M, N, count, limits);
  const { bm: BM, bn: BN, bk: BK, tm: TM, tn: TN } = cfg;
  const TX = BN / TN;
  const TY = BM / TM;
  const threads = TX * TY;
  const quadsA = (BM * BK) / 4;
  const quadsB = (BK * BN) / 4;
  if (quadsA % threads !== 0 || quadsB % threads !== 0 || TM % 4 !== 0 || TN % 4 !== 0) throw new Error(`matmul config ${JSON.stringify(cfg)} is inconsistent`);
  const T = storageType(mm.type.dtype);
  const V = `vec4<${T}>`;
  const vecA = K % 4 === 0 && !implicitA;
  const vecB = N % 4 === 0;
  const aRows = cfg.aRows ?? false;
  const AP = BM + 4; // padded row length of the transposed A tile
  // Every tile is whole (and every global load a vec4): no bounds checks anywhere.
  const exact = M % BM === 0 && N % BN === 0 && K % BK === 0 && vecA && vecB;
  // Two tile buffers when they fit: the next tile is stored while others still read the current one,
  // so each step needs one barrier instead of two.
  const double = (cfg.double ?? false) && 2 * sharedBytes(cfg) <= limits.maxComputeWorkgroupStorageSize;
  const SA = aRows ? (BM * BK) / 4 : (BK * AP) / 4; // vec4s per A tile buffer
  const SB = (BK * BN) / 4;

  // ---- epilogue: arrays addressed over the full space [batch..., M, N] (a missing M or N axis gets stride 0)
  const nb = batch.length;
  const toFull = (s: readonly number[]): number[] => {
    const st = [...s];
    if (aType.shape.length === 1) st.splice(batch.length, 0, 0); // no M axis in the result
    if (bType.shape.length === 1) st.push(0); // no N axis in the result
    return st;
  };
  const { nodes, inputs: epiInputs } = needed(spec, spec.yields, new Set([0]));
  for (const j of nodes) stridesIn(spec.nodes[j]!.type.shape, outShape, `body node ${j} (${spec.nodes[j]!.op.name})`, where);
  const epiStrides = epiInputs.map((k) => toFull(stridesIn(spec.inputs[k]!.shape, outShape, `input ${k}`, where)));
  const outStrides = spec.outputs.map((t, o) => toFull(stridesIn(t.shape, outShape, `result ${o}`, where)));
  // vec4 stores need the plain product (no epilogue work, no final masking) into one contiguous
  // output whose rows hold whole vec4s.
  const y0 = spec.yields[0];
  const vecStore =
    (cfg.vecStore ?? false) && spec.yields.length === 1 && y0 !== undefined && "node" in y0 && y0.node === 0 &&
    (mm.type.dtype === "float32" || mm.type.dtype === "int32") && spec.outputs[0]!.dtype === mm.type.dtype &&
    N % 4 === 0 && outStrides[0]![nb + 1] === 1 && (M === 1 || outStrides[0]![nb] === N);

  const h = new Helpers();
  const tiles = cdiv(K, BK);
  // With k = 0 the operands are never read: binding them would leave unused bindings.
  const decls: BindingDecl[] = tiles === 0 ? [] : [
    { name: "A", type: vecA ? V : T, write: false },
    { name: "B", type: vecB ? V : T, write: false },
  ];
  const bindings: WgslBinding[] = tiles === 0 ? [] : [
    { kind: "input", index: ra.input },
    { kind: "input", index: rb.input },
  ];
  // An epilogue may read the matmul operands too: through their own bindings, since A/B may be vec4-typed.
  epiInputs.forEach((k) => {
    decls.push({ name: `in${k}`, type: storageType(spec.inputs[k]!.dtype), write: false });
    bindings.push({ kind: "input", index: k });
  });
  spec.outputs.forEach((t, o) => {
    decls.push({ name: `out${o}`, type: vecStore ? V : storageType(t.dtype), write: true });
    bindings.push({ kind: "output", index: o });
  });

  // Batch coordinates of z, and one array's batch offset from them.
  const batchCoords = (pad: string): string => {
    let s = "";
    let rest = "z";
    for (let d = nb - 1; d >= 0; d--) {
      s += d === 0 ? `${pad}let z${d} = ${rest};\n` : `${pad}let z${d} = ${rest} % ${batch[d]}u;\n${pad}let zr${d} = ${rest} / ${batch[d]}u;\n`;
      rest = `zr${d}`;
    }
    return s;
  };
  const batchOffset = (strides: readonly number[]): string => {
    const terms = strides.slice(0, nb).flatMap((s, d) => (s === 0 || batch[d] === 1 ? [] : [`z${d} * ${s}u`]));
    return terms.length ? terms.join(" + ") : "0u";
  };
  const fullOffset = (s: readonly number[]): string => {
    const terms = [batchOffset(s)];
    if (s[nb] !== 0 && M > 1) terms.push(s[nb] === 1 ? "m" : `m * ${s[nb]}u`);
    if (s[nb + 1] !== 0 && N > 1) terms.push(s[nb + 1] === 1 ? "n" : `n * ${s[nb + 1]}u`);
    return terms.filter((x) => x !== "0u").join(" + ") || "0u";
  };
  const finalValue = (acc: string): string => {
    switch (mm.type.dtype) {
      case "uint8":
        return `(${acc} & 255u)`;
      case "bool":
        return `select(0u, 1u, ${acc} != 0u)`;
      default:
        return acc;
    }
  };
  let epi = `fn epilogue(acc: ${T}, z: u32, m: u32, n: u32) {\n${batchCoords("  ")}  let v0: ${T} = ${finalValue("acc")};\n`;
  epiInputs.forEach((k, i) => (epi += `  let x${k} = in${k}[${fullOffset(epiStrides[i]!)}];\n`));
  epi += nodeLines(spec, nodes, h, "  ", where);
  spec.yields.forEach((r, o) => (epi += `  out${o}[${fullOffset(outStrides[o]!)}] = ${valueName(r)};\n`));
  epi += "}\n";

  // ---- the main kernel ----------------------------------------------------------------------------------
  const aBatch = plan.aBatchStrides;
  const bBatch = plan.bBatchStrides;
  const pad = "  ";
  let main = `${batchCoords(pad)}${pad}let aBase = ${batchOffset(aBatch)};\n${pad}let bBase = ${batchOffset(bBatch)};\n`;
  main += `${pad}let tx = lid % ${TX}u;\n${pad}let ty = lid / ${TX}u;\n${pad}let m0 = wid.y * ${BM}u;\n${pad}let n0 = wid.x * ${BN}u;\n`;
  const rowGroups = TM / 4;
  const colGroups = TN / 4;
  for (let i = 0; i < TM; i++) for (let g = 0; g < colGroups; g++) main += `${pad}var c${i}_${g} = ${V}(${ZERO[T]});\n`;
  const qa = quadsA / threads;
  const qb = quadsB / threads;
  for (let q = 0; q < qa; q++) main += `${pad}var ra${q} = ${V}(${ZERO[T]});\n`;
  for (let q = 0; q < qb; q++) main += `${pad}var rb${q} = ${V}(${ZERO[T]});\n`;

  const kq = BK / 4; // quads per A tile row
  const bq = BN / 4; // quads per B tile row
  // Global -> registers for the tile starting at k0.
  const loadRegs = (p: string): string => {
    let s = "";
    for (let q = 0; q < qa; q++) {
      const idx = `(lid + ${q * threads}u)`;
      s += `${p}{\n${p}  let row = ${idx} / ${kq}u;\n${p}  let kk = k0 + (${idx} % ${kq}u) * 4u;\n${p}  let gm = m0 + row;\n`;
      if (implicitA) {
        s += `${p}  ra${q} = ${V}(${[0, 1, 2, 3].map((j) => implicitA.element("gm", j === 0 ? "kk" : `kk + ${j}u`)).join(", ")});\n`;
      } else if (exact) {
        s += `${p}  ra${q} = A[(aBase + gm * ${K}u + kk) / 4u];\n`;
      } else if (vecA) {
        s += `${p}  if (gm < ${M}u && kk < ${K}u) { ra${q} = A[(aBase + gm * ${K}u + kk) / 4u]; } else { ra${q} = ${V}(${ZERO[T]}); }\n`;
      } else {
        s += `${p}  let base = aBase + gm * ${K}u + kk;\n`;
        const comp = [0, 1, 2, 3].map((j) => `select(${ZERO[T]}, A[min(base + ${j}u, ${sizeOf(aType.shape) - 1}u)], gm < ${M}u && kk + ${j}u < ${K}u)`);
        s += `${p}  ra${q} = ${V}(${comp.join(", ")});\n`;
      }
      s += `${p}}\n`;
    }
    for (let q = 0; q < qb; q++) {
      const idx = `(lid + ${q * threads}u)`;
      s += `${p}{\n${p}  let kr = k0 + ${idx} / ${bq}u;\n${p}  let gn = n0 + (${idx} % ${bq}u) * 4u;\n`;
      if (exact) {
        s += `${p}  rb${q} = B[(bBase + kr * ${N}u + gn) / 4u];\n`;
      } else if (vecB) {
        s += `${p}  if (kr < ${K}u && gn < ${N}u) { rb${q} = B[(bBase + kr * ${N}u + gn) / 4u]; } else { rb${q} = ${V}(${ZERO[T]}); }\n`;
      } else {
        s += `${p}  let base = bBase + kr * ${N}u + gn;\n`;
        const comp = [0, 1, 2, 3].map((j) => `select(${ZERO[T]}, B[min(base + ${j}u, ${sizeOf(bType.shape) - 1}u)], kr < ${K}u && gn + ${j}u < ${N}u)`);
        s += `${p}  rb${q} = ${V}(${comp.join(", ")});\n`;
      }
      s += `${p}}\n`;
    }
    return s;
  };
  // Registers -> workgroup memory: A transposed (k-major), B as is.
  const storeRegs = (p: string, aOff: string, bOff: string): string => {
    let s = "";
    for (let q = 0; q < qa; q++) {
      const idx = `(lid + ${q * threads}u)`;
      if (aRows) {
        // Row-major: quad q of the tile is (row idx / kq, k quad idx % kq), stored where it was loaded.
        s += `${p}As[${aOff}lid + ${q * threads}u] = ra${q};\n`;
        continue;
      }
      s += `${p}{\n${p}  let row = ${idx} / ${kq}u;\n${p}  let kb = (${idx} % ${kq}u) * 4u;\n`;
      for (let j = 0; j < 4; j++) {
        s += `${p}  { let e = (kb + ${j}u) * ${AP}u + row; As[${aOff}e / 4u][e % 4u] = ra${q}[${j}]; }\n`;
      }
      s += `${p}}\n`;
    }
    for (let q = 0; q < qb; q++) s += `${p}Bs[${bOff}lid + ${q * threads}u] = rb${q};\n`;
    return s;
  };
  const compute = (p: string, aOff: string, bOff: string): string => {
    let s = "";
    const comps = ["x", "y", "z", "w"];
    if (aRows) {
      // Per quad of k: one vec4 of A per accumulator row (its k..k+3), then 4 k steps of FMAs.
      for (let k4 = 0; k4 < BK / 4; k4++) {
        for (let i = 0; i < TM; i++) {
          const r = Math.floor(i / 4) * (BM / rowGroups) + (i % 4); // tile row, less ty * 4
          s += `${p}let ar${k4}_${i} = As[${aOff}${r * kq + k4}u + ty * ${4 * kq}u];\n`;
        }
        for (let kk = 0; kk < 4; kk++) {
          const k = 4 * k4 + kk;
          for (let g = 0; g < colGroups; g++) s += `${p}let b${k}_${g} = Bs[${bOff}${(k * BN) / 4 + (g * BN) / colGroups / 4}u + tx];\n`;
          for (let i = 0; i < TM; i++) {
            for (let g = 0; g < colGroups; g++) s += `${p}c${i}_${g} += ${V}(ar${k4}_${i}.${comps[kk]}) * b${k}_${g};\n`;
          }
        }
      }
      return s;
    }
    for (let k = 0; k < BK; k++) {
      for (let g = 0; g < rowGroups; g++) s += `${p}let a${k}_${g} = As[${aOff}${(k * AP) / 4 + (g * BM) / rowGroups / 4}u + ty];\n`;
      for (let g = 0; g < colGroups; g++) s += `${p}let b${k}_${g} = Bs[${bOff}${(k * BN) / 4 + (g * BN) / colGroups / 4}u + tx];\n`;
      for (let i = 0; i < TM; i++) {
        const a = `a${k}_${Math.floor(i / 4)}.${comps[i % 4]}`;
        for (let g = 0; g < colGroups; g++) s += `${p}c${i}_${g} += ${V}(${a}) * b${k}_${g};\n`;
      }
    }
    return s;
  };
  if (tiles > 0 && double) {
    // Step t reads buffer t % 2 and fills the other one; the barrier ending step t - 1 came after
    // every read of that other buffer, so one barrier per step suffices.
    main += `${pad}var k0 = 0u;\n${loadRegs(pad)}${storeRegs(pad, "", "")}${pad}workgroupBarrier();\n`;
    main += `${pad}for (var t = 0u; t < ${tiles}u; t++) {\n`;
    main += `${pad}  let ca = (t & 1u) * ${SA}u;\n${pad}  let cb = (t & 1u) * ${SB}u;\n`;
    main += `${pad}  k0 = (t + 1u) * ${BK}u;\n${pad}  if (t + 1u < ${tiles}u) {\n${loadRegs(pad + "    ")}${pad}  }\n`;
    main += compute(pad + "  ", "ca + ", "cb + ");
    main += `${pad}  if (t + 1u < ${tiles}u) {\n${storeRegs(pad + "    ", `${SA}u - ca + `, `${SB}u - cb + `)}${pad}  }\n${pad}  workgroupBarrier();\n${pad}}\n`;
  } else if (tiles > 0) {
    main += `${pad}var k0 = 0u;\n${loadRegs(pad)}${storeRegs(pad, "", "")}${pad}workgroupBarrier();\n`;
    main += `${pad}for (var t = 0u; t < ${tiles}u; t++) {\n`;
    main += `${pad}  k0 = (t + 1u) * ${BK}u;\n${pad}  if (t + 1u < ${tiles}u) {\n${loadRegs(pad + "    ")}${pad}  }\n`;
    main += compute(pad + "  ", "", "");
    main += `${pad}  workgroupBarrier();\n${pad}  if (t + 1u < ${tiles}u) {\n${storeRegs(pad + "    ", "", "")}${pad}  }\n${pad}  workgroupBarrier();\n${pad}}\n`;
  }
  // Stores through the epilogue, skipping rows and columns past the matrix.
  for (let i = 0; i < TM; i++) {
    const row = `m0 + ${Math.floor(i / 4) * (BM / rowGroups) + (i % 4)}u + ty * 4u`;
    main += `${pad}{\n${pad}  let m = ${row};\n${pad}  ${exact ? "" : `if (m < ${M}u) `}{\n`;
    if (vecStore) {
      // N % 4 == 0: a column quad is wholly inside or wholly past the matrix.
      const ob = batchOffset(outStrides[0]!);
      for (let g = 0; g < colGroups; g++) {
        const n = `n0 + ${g * (BN / colGroups)}u + tx * 4u`;
        const store = `out0[(${ob === "0u" ? "" : `${ob} + `}m * ${N}u + n) / 4u] = c${i}_${g};`;
        main += `${pad}    { let n = ${n}; ${exact ? store : `if (n < ${N}u) { ${store} }`} }\n`;
      }
      main += `${pad}  }\n${pad}}\n`;
      continue;
    }
    for (let g = 0; g < colGroups; g++) {
      for (let j = 0; j < 4; j++) {
        const n = `n0 + ${g * (BN / colGroups) + j}u + tx * 4u`;
        main += exact
          ? `${pad}    epilogue(c${i}_${g}[${j}], z, m, ${n});\n`
          : `${pad}    { let n = ${n}; if (n < ${N}u) { epilogue(c${i}_${g}[${j}], z, m, n); } }\n`;
      }
    }
    main += `${pad}  }\n${pad}}\n`;
  }

  const bufs = double ? 2 : 1;
  const shared = `var<workgroup> As: array<${V}, ${bufs * SA}>;\nvar<workgroup> Bs: array<${V}, ${bufs * SB}>;\n`;
  const code =
    `// ${implicitA ? implicitA.label + " as " : ""}matmul [${M}x${K}] x [${K}x${N}], batch [${batch.join(",")}], tile ${BM}x${BN}x${BK}, ${TM}x${TN} per thread${double ? ", double-buffered" : ""}${aRows ? ", A rows" : ""}${vecStore ? ", vec4 stores" : ""}${exact ? ", whole tiles" : ""}\n` +
    `${declareBindings(decls)}${shared}${h.code()}${tiles > 0 && implicitA ? implicitA.code : ""}${vecStore ? "" : epi}` +
    `@compute @workgroup_size(${threads})\nfn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {\n  let z = wid.z;\n${main}}\n`;
  return { passes: [{ code, entryPoint: "main", workgroups: [cdiv(N, BN), cdiv(M, BM), count], bindings }], scratch: [] };
}
