/**
 * The WebGPU runtime: finding an adapter (navigator.gpu in a browser, the `webgpu` package's Dawn
 * in Node, loaded lazily so CPU-only users never pay for it), the device and its limits, error
 * capture, and the pipeline cache.
 *
 * Errors: GPU work is asynchronous, so a failing dispatch cannot throw where it was encoded. Each
 * submitted command buffer (and each pipeline creation) runs inside one validation and one
 * out-of-memory error scope; the scopes are popped at once and their promises settle later. The
 * first error is kept (with the op and kernel of the work that caused it) and thrown by the next
 * synchronization point (`settle()`: readbacks, `to("cpu")`), never as an unhandled rejection.
 * Errors outside any scope (internal errors) arrive through `onuncapturederror`; a lost device is
 * reported by `device.lost` and makes every later GPU call throw at once.
 */
import { DeviceError, WebGPUError, type WebGPUErrorKind } from "../../ir/errors.js";
import { BufferPool } from "./buffers.js";

/** What codegen needs to know about the device (a subset of GPUSupportedLimits). */
export interface WebGPULimits {
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxBufferSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
}

export interface WebGPUInfo {
  /** Adapter description (vendor, architecture, device, description), as the adapter reports it. */
  readonly adapter: { readonly vendor: string; readonly architecture: string; readonly device: string; readonly description: string };
  readonly limits: WebGPULimits;
  readonly features: readonly string[];
  /** Where the GPU came from: the browser's navigator.gpu or the `webgpu` package (Dawn) in Node. */
  readonly source: "navigator" | "node-webgpu";
}

export interface InitWebGPUOptions {
  /** Passed to requestAdapter (default: "high-performance"). */
  readonly powerPreference?: "low-power" | "high-performance";
  /** Node only: options for the `webgpu` package's create() (e.g. ["backend=vulkan"]). */
  readonly dawnOptions?: readonly string[];
  /** Use this GPU object instead of navigator.gpu / the `webgpu` package. */
  readonly gpu?: GPU;
}

/** Where a piece of GPU work came from, for error messages. */
export interface WorkContext {
  readonly op: string;
  readonly kernel?: string | undefined;
}

/** Buffer usage and map-mode flags (numeric: the GPUBufferUsage globals may be absent in Node). */
export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const MAP_READ = 0x1;

/** Labels carry `st:<op>:<kernel>` so an error in a many-kernel command buffer names its kernel. */
export function label(ctx: WorkContext): string {
  return `st:${ctx.op}:${ctx.kernel ?? "-"}`;
}

function contextFromMessage(message: string, fallback: WorkContext): WorkContext {
  const m = /st:([^:"\s]+):([^"\s\]]+)/.exec(message);
  if (!m) return fallback;
  return { op: m[1]!, kernel: m[2] === "-" ? undefined : m[2] };
}

export class WebGPURuntime {
  readonly pool: BufferPool;
  readonly limits: WebGPULimits;
  readonly info: WebGPUInfo;
  /** The first GPU error not yet reported; thrown by the next settle(). */
  private firstError: WebGPUError | undefined;
  /** Pops of error scopes still in flight. */
  private readonly pending = new Set<Promise<void>>();
  private lostError: WebGPUError | undefined;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();

  constructor(
    readonly device: GPUDevice,
    info: WebGPUInfo,
  ) {
    this.info = info;
    this.limits = info.limits;
    this.pool = new BufferPool(device, this.limits);
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.record(kindOf(ev.error), ev.error.message, { op: "unknown" });
    };
    void device.lost.then((lost) => {
      const e = new WebGPUError("device-lost", `webgpu: the device was lost (${lost.reason}): ${lost.message}. Tensors on it are gone; call initWebGPU() again for a new device`);
      this.lostError = e;
      this.firstError ??= e;
    });
  }

  get isLost(): boolean {
    return this.lostError !== undefined;
  }

  /** Throws at once if the device is lost (GPU calls would otherwise fail silently). */
  checkAlive(): void {
    if (this.lostError) throw this.lostError;
  }

  private record(kind: WebGPUErrorKind, message: string, ctx: WorkContext): void {
    if (this.firstError) return;
    const c = contextFromMessage(message, ctx);
    const what = c.kernel ? `${c.op} (kernel ${c.kernel})` : c.op;
    this.firstError = new WebGPUError(kind, `webgpu: ${kind} error in ${what}: ${message}`, c.op, c.kernel);
  }

  /**
   * Runs `body` (which encodes and submits GPU work, or creates pipelines) inside error scopes.
   * Synchronous exceptions from the body (Dawn throws TypeError for malformed descriptors) become
   * a WebGPUError now; GPU-side errors are recorded when the scopes settle.
   */
  scoped<T>(ctx: WorkContext, body: () => T): T {
    this.checkAlive();
    const device = this.device;
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    let result: T;
    try {
      result = body();
    } catch (err) {
      this.popScopes(ctx);
      if (err instanceof WebGPUError || err instanceof DeviceError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new WebGPUError("validation", `webgpu: ${ctx.op}${ctx.kernel ? ` (kernel ${ctx.kernel})` : ""} failed: ${message}`, ctx.op, ctx.kernel);
    }
    this.popScopes(ctx);
    return result;
  }

  private popScopes(ctx: WorkContext): void {
    const onError = (e: GPUError | null): void => {
      if (e) this.record(kindOf(e), e.message, ctx);
    };
    // Every pop is observed here, so a failing one never becomes an unhandled rejection.
    const p = Promise.all([this.device.popErrorScope().then(onError), this.device.popErrorScope().then(onError)]).then(
      () => undefined,
      (err: unknown) => this.record("internal", err instanceof Error ? err.message : String(err), ctx),
    );
    this.pending.add(p);
    void p.then(() => this.pending.delete(p));
  }

  /** Waits for every error scope opened so far; throws the first GPU error since the last settle. */
  async settle(): Promise<void> {
    if (this.pending.size > 0) await Promise.all([...this.pending]);
    const e = this.firstError;
    if (e) {
      // A lost device stays lost; other errors are reported once.
      if (e !== this.lostError) this.firstError = undefined;
      throw e;
    }
  }

  /** The bind group layout of `n` storage buffers, the first `inputs` of them read-only. */
  layout(kinds: readonly ("read" | "write")[]): GPUBindGroupLayout {
    const key = kinds.map((k) => (k === "read" ? "r" : "w")).join("");
    let l = this.layouts.get(key);
    if (!l) {
      l = this.device.createBindGroupLayout({
        label: `st:layout:${key}`,
        entries: kinds.map((k, binding) => ({ binding, visibility: 4 /* COMPUTE */, buffer: { type: k === "read" ? "read-only-storage" : "storage" } })),
      });
      this.layouts.set(key, l);
    }
    return l;
  }

  /** The pipeline for one pass of a kernel, compiled once per (kernel key, pass). */
  pipeline(key: string, code: string, entryPoint: string, kinds: readonly ("read" | "write")[], ctx: WorkContext): GPUComputePipeline {
    const k = `${key}#${entryPoint}`;
    let p = this.pipelines.get(k);
    if (!p) {
      p = this.scoped(ctx, () => {
        const module = this.device.createShaderModule({ label: label(ctx), code });
        const layout = this.device.createPipelineLayout({ label: label(ctx), bindGroupLayouts: [this.layout(kinds)] });
        return this.device.createComputePipeline({ label: label(ctx), layout, compute: { module, entryPoint } });
      });
      this.pipelines.set(k, p);
    }
    return p;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }
}

function kindOf(e: GPUError): WebGPUErrorKind {
  const name = e.constructor?.name ?? "";
  if (name.includes("OutOfMemory")) return "out-of-memory";
  if (name.includes("Internal")) return "internal";
  return "validation";
}

// ---- initialization ------------------------------------------------------------------------------

/**
 * The GPU object from `create()` must stay strongly reachable for the life of the device: if V8
 * collects it while a mapAsync is pending, Dawn crashes. Module-level, never cleared.
 */
const keepAlive: unknown[] = [];
let runtime: WebGPURuntime | undefined;
let starting: Promise<WebGPURuntime> | undefined;

interface NodeProcess {
  env: Record<string, string | undefined>;
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
}

const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

async function findGpu(opts: InitWebGPUOptions): Promise<{ gpu: GPU; source: WebGPUInfo["source"] }> {
  if (opts.gpu) return { gpu: opts.gpu, source: "navigator" };
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, source: "navigator" };
  const proc = nodeProcess();
  if (!proc) throw new DeviceError("initWebGPU: this environment has no WebGPU (navigator.gpu is undefined)");
  // Without a GPU driver, SwiftShader (Debian's chromium package) gives a working Vulkan device.
  if (proc.env["VK_ICD_FILENAMES"] === undefined) {
    const fs = proc.getBuiltinModule?.("node:fs") as { existsSync(p: string): boolean } | undefined;
    if (fs?.existsSync(SWIFTSHADER_ICD)) proc.env["VK_ICD_FILENAMES"] = SWIFTSHADER_ICD;
  }
  let mod: { create(options: string[]): GPU; globals: object };
  try {
    // A variable specifier keeps bundlers from inlining the optional peer dependency.
    const name = "webgpu";
    mod = (await import(/* @vite-ignore */ name)) as typeof mod;
  } catch (err) {
    throw new DeviceError(`initWebGPU: WebGPU in Node needs the optional peer dependency "webgpu" (npm install webgpu): ${err instanceof Error ? err.message : String(err)}`);
  }
  const gpu = mod.create([...(opts.dawnOptions ?? [])]);
  keepAlive.push(gpu);
  return { gpu, source: "node-webgpu" };
}

const LIMIT_NAMES = [
  "maxComputeWorkgroupSizeX",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
] as const;

async function start(opts: InitWebGPUOptions): Promise<WebGPURuntime> {
  const { gpu, source } = await findGpu(opts);
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? "high-performance" });
  if (!adapter) throw new DeviceError("initWebGPU: no WebGPU adapter is available (no GPU driver; in Node without a GPU, install Debian's chromium package for SwiftShader's Vulkan driver)");
  // Ask for the adapter's own limits: the defaults (128 MiB bindings) are far below what GPUs allow.
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMIT_NAMES) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredLimits });
  keepAlive.push(device);
  const limits = Object.fromEntries(LIMIT_NAMES.map((n) => [n, device.limits[n]])) as unknown as WebGPULimits;
  const ai = adapter.info;
  const info: WebGPUInfo = {
    adapter: { vendor: ai?.vendor ?? "", architecture: ai?.architecture ?? "", device: ai?.device ?? "", description: ai?.description ?? "" },
    limits: Object.freeze(limits),
    features: [...adapter.features].map(String).sort(),
    source,
  };
  return new WebGPURuntime(device, info);
}

/**
 * Starts the WebGPU device (idempotent: later calls return the same device; after a device loss,
 * a new one). Throws DeviceError when no adapter is available.
 */
export async function initWebGPU(opts: InitWebGPUOptions = {}): Promise<WebGPUInfo> {
  if (runtime && !runtime.isLost) return runtime.info;
  starting ??= start(opts).finally(() => {
    starting = undefined;
  });
  runtime = await starting;
  return runtime.info;
}

/** The running device, or undefined before initWebGPU() has finished. */
export function webgpuRuntime(): WebGPURuntime | undefined {
  return runtime;
}

/** The running device; DeviceError naming initWebGPU() when there is none. */
export function requireWebGPU(where: string): WebGPURuntime {
  if (!runtime) throw new DeviceError(`${where}: the "webgpu" device is not started; call \`await initWebGPU()\` first`);
  runtime.checkAlive();
  return runtime;
}
