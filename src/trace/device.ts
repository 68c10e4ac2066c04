/**
 * Devices: their names, the default device, and transfer accounting.
 *
 * "cpu" runs synchronously on typed arrays. "webgpu" runs on the GPU (after `await initWebGPU()`);
 * its data is read back asynchronously (`await t.numpyAsync()`). Ops run on their operands'
 * device; new tensors go to the default device unless an option names one.
 */
import { DeviceError } from "../ir/errors.js";
import { describe } from "../ir/shape.js";
import type { Backend } from "../exec/backend.js";
import { cpuBackend } from "../exec/cpu/backend.js";
import type { GpuMemoryStats } from "../exec/webgpu/buffers.js";
import { webgpuRuntime } from "../exec/webgpu/runtime.js";
import type { Device } from "./tensor.js";

export const DEVICES: readonly Device[] = ["cpu", "webgpu"];

let defaultDevice: Device = "cpu";

/** The device tensor(), creation functions and fn() use when no `device` option is given. */
export function getDefaultDevice(): Device {
  return defaultDevice;
}

export function setDefaultDevice(device: Device): void {
  defaultDevice = checkDevice(device, "setDefaultDevice");
}

export function checkDevice(device: unknown, where: string): Device {
  if (device === undefined) return defaultDevice;
  if (device === "cpu" || device === "webgpu") return device;
  throw new DeviceError(`${where}: unknown device ${describe(device)}; available devices: ${DEVICES.join(", ")}`);
}

/** The synchronous backend of a host device (only "cpu" has one). */
export function backendFor(device: Device): Backend {
  if (device !== "cpu") throw new DeviceError(`the ${device} device has no synchronous host backend`);
  return cpuBackend;
}

// ---- transfer accounting --------------------------------------------------------------------------

export interface TransferCounter {
  count: number;
  bytes: number;
}

export interface DeviceTransferStats {
  /** Copies of host data into a tensor on this device (tensor(), to(device), fn arguments moved). */
  readonly hostToDevice: TransferCounter;
  /** Copies of a tensor's data out to the host (numpy(), numpyAsync(), data(), to("cpu")). */
  readonly deviceToHost: TransferCounter;
  /** Times the host waited for the device (a GPU readback; always 0 on the cpu). */
  syncs: number;
}

export type TransferStats = { [D in Device]: DeviceTransferStats };

const fresh = (): DeviceTransferStats => ({ hostToDevice: { count: 0, bytes: 0 }, deviceToHost: { count: 0, bytes: 0 }, syncs: 0 });

let stats: TransferStats = { cpu: fresh(), webgpu: fresh() };

/** Counts a copy from the host into a tensor on `device`. */
export function countHostToDevice(device: Device, bytes: number): void {
  const c = stats[device].hostToDevice;
  c.count++;
  c.bytes += bytes;
}

/** Counts a copy out of a tensor on `device` to the host; `sync` when the host waited for it. */
export function countDeviceToHost(device: Device, bytes: number, sync: boolean): void {
  const s = stats[device];
  s.deviceToHost.count++;
  s.deviceToHost.bytes += bytes;
  if (sync) s.syncs++;
}

/** A snapshot of the transfer counters, per device, since start or the last reset. */
export function transferStats(): TransferStats {
  const copy = (s: DeviceTransferStats): DeviceTransferStats => ({ hostToDevice: { ...s.hostToDevice }, deviceToHost: { ...s.deviceToHost }, syncs: s.syncs });
  return { cpu: copy(stats.cpu), webgpu: copy(stats.webgpu) };
}

export function resetTransferStats(): void {
  stats = { cpu: fresh(), webgpu: fresh() };
}

// ---- the webgpu device ----------------------------------------------------------------------------

export { initWebGPU, type InitWebGPUOptions, type WebGPUInfo, type WebGPULimits } from "../exec/webgpu/runtime.js";
export type { GpuMemoryStats } from "../exec/webgpu/buffers.js";

/** Live and pooled GPU buffers (all zero before initWebGPU()). */
export function gpuMemoryStats(): GpuMemoryStats {
  return webgpuRuntime()?.pool.stats() ?? { liveBuffers: 0, liveBytes: 0, pooledBuffers: 0, pooledBytes: 0, created: 0 };
}

/**
 * Waits until the GPU has finished all work submitted so far (counted as a sync), and reports any
 * GPU error it raised. A no-op before initWebGPU().
 */
export async function synchronize(): Promise<void> {
  const rt = webgpuRuntime();
  if (!rt) return;
  rt.checkAlive();
  await rt.device.queue.onSubmittedWorkDone();
  stats.webgpu.syncs++;
  await rt.settle();
}
