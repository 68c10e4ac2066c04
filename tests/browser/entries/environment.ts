/** Reports what the worker's environment offers: isolation, SharedArrayBuffer, WASM, WebGPU. */
export interface BrowserEnvironment {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: string;
  wasmThreads: boolean;
  largeSyncWasmModule: boolean;
  webgpu: { available: boolean; adapter: string | null; error?: string };
  userAgent: string;
}

/** A valid module of more than 4 KB (one function with a long body): the size Chrome's main thread refuses to compile synchronously. */
function bigModule(): Uint8Array<ArrayBuffer> {
  const body: number[] = [0x00]; // no locals
  for (let i = 0; i < 2100; i++) body.push(0x01, 0x01); // nop nop
  body.push(0x0b); // end
  const size = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const code = [0x01, ...size(body.length), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
    0x03, 0x02, 0x01, 0x00, // function section
    0x0a, ...size(code.length), ...code, // code section
  ]);
}

interface GpuLike {
  requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null>;
}

export default async function main(): Promise<BrowserEnvironment> {
  let wasmThreads = false;
  try {
    // Chrome constructs shared memories even without isolation; what threads need is to send one
    // to another worker, which throws a DataCloneError unless the page is cross-origin isolated.
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const channel = new MessageChannel();
    channel.port1.postMessage(memory);
    channel.port1.close();
    wasmThreads = true;
  } catch {
    wasmThreads = false;
  }
  let largeSyncWasmModule = false;
  try {
    new WebAssembly.Module(bigModule());
    largeSyncWasmModule = true;
  } catch {
    largeSyncWasmModule = false;
  }
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike }).gpu;
  const webgpu: BrowserEnvironment["webgpu"] = { available: gpu !== undefined, adapter: null };
  if (gpu) {
    try {
      const adapter = await gpu.requestAdapter();
      if (adapter) {
        const info = adapter.info ?? {};
        webgpu.adapter = [info.vendor, info.architecture, info.description].filter((s) => s).join(" / ") || "(no adapter info)";
      }
    } catch (e) {
      webgpu.error = String(e);
    }
  }
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated,
    sharedArrayBuffer: typeof SharedArrayBuffer,
    wasmThreads,
    largeSyncWasmModule,
    webgpu,
    userAgent: globalThis.navigator.userAgent,
  };
}
