import { DeviceError } from "../ir/errors.js";
import { describe } from "../ir/shape.js";
import type { Backend } from "../exec/backend.js";
import { cpuBackend } from "../exec/cpu/backend.js";
import type { Device } from "./tensor.js";

const BACKENDS: Record<Device, Backend> = { cpu: cpuBackend };

export const DEFAULT_DEVICE: Device = "cpu";

export function checkDevice(device: unknown, where: string): Device {
  if (device === undefined) return DEFAULT_DEVICE;
  if (typeof device === "string" && device in BACKENDS) return device as Device;
  throw new DeviceError(`${where}: unknown device ${describe(device)}; available devices: ${Object.keys(BACKENDS).join(", ")}`);
}

export function backendFor(device: Device): Backend {
  return BACKENDS[device];
}
