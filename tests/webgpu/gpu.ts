/**
 * Starts the webgpu device once for the webgpu tests. Without an adapter the tests skip (one line
 * on stderr says why), unless SYMTENSOR_REQUIRE_WEBGPU=1, where a missing adapter fails them.
 */
import { initWebGPU, type WebGPUInfo } from "../../src/trace/device.js";

async function start(): Promise<WebGPUInfo | undefined> {
  try {
    return await initWebGPU();
  } catch (err) {
    if (process.env["SYMTENSOR_REQUIRE_WEBGPU"] === "1") throw err;
    process.stderr.write(`webgpu tests skipped: no WebGPU adapter (${err instanceof Error ? err.message.split("\n")[0] : String(err)}); set SYMTENSOR_REQUIRE_WEBGPU=1 to fail instead\n`);
    return undefined;
  }
}

export const gpuInfo = await start();
export const hasGpu = gpuInfo !== undefined;
