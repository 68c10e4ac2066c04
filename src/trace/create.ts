/** Building tensors from host data, and the creation functions (zeros, arange, eye...). */
import { allocateTensorData } from "../exec/wasm/executor.js";
import { allocate, type DType, dtypeOfTypedArray, isFloat, parseDType, type TypedArray } from "../ir/dtype.js";
import { DTypeError, ValueError } from "../ir/errors.js";
import { checkShape, describe, sizeOf } from "../ir/shape.js";
import { convertScalar, NDArray } from "../interop/ndarray.js";
import { checkDevice, countHostToDevice } from "./device.js";
import { bind1 } from "./dispatch.js";
import { currentTrace } from "./symbolic.js";
import { EagerTensor, type Device, Tensor, tensorOn, uploadHost } from "./tensor.js";

export type NestedArray = number | boolean | readonly NestedArray[];
/** Anything `tensor()` accepts. */
export type TensorData = NestedArray | TypedArray | ArrayBufferView | NDArray | Tensor;

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
}

interface HostData {
  values: ArrayLike<number>;
  shape: number[];
  /** The dtype the data has on its own (NDArray/TypedArray/Tensor), or its default for JS values. */
  dtype: DType;
  /** JS numbers and booleans (not typed data): checked for range when converted. */
  fromJs: boolean;
}

/** Reads nested JS arrays into a flat list and a shape, rejecting ragged or non-numeric data. */
export function readNested(data: NestedArray, where: string): { values: number[]; shape: number[]; allBool: boolean } {
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values: number[] = [];
  let allBool = true;
  const walk = (x: unknown, axis: number, path: string): void => {
    if (axis === shape.length) {
      if (typeof x === "number") {
        allBool = false;
        values.push(x);
      } else if (typeof x === "boolean") values.push(x ? 1 : 0);
      else if (Array.isArray(x)) throw new ValueError(`${where}: ragged nested array: element ${path} is an array, but its siblings are scalars (expected shape [${shape.join(",")}])`, "ST405");
      else throw new ValueError(`${where}: element ${path} is ${describe(x)}; tensor data must be numbers or booleans`, "ST405");
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[axis]) {
      const got = Array.isArray(x) ? `length ${x.length}` : describe(x);
      throw new ValueError(`${where}: ragged nested array: element ${path || "[]"} has ${got}, expected length ${shape[axis]} (shape [${shape.join(",")}])`, "ST405");
    }
    for (let i = 0; i < x.length; i++) walk(x[i], axis + 1, `${path}[${i}]`);
  };
  walk(data, 0, "");
  if (values.length === 0) allBool = false;
  return { values, shape, allBool };
}

function readHostData(data: TensorData, where: string): HostData {
  if (data instanceof Tensor) {
    const a = data.numpy();
    return { values: a.data, shape: [...a.shape], dtype: a.dtype, fromJs: false };
  }
  if (data instanceof NDArray) return { values: data.data, shape: [...data.shape], dtype: data.dtype, fromJs: false };
  if (ArrayBuffer.isView(data)) return readTypedArray(data, where);
  if (typeof data === "number" || typeof data === "boolean" || Array.isArray(data)) {
    const { values, shape, allBool } = readNested(data as NestedArray, where);
    return { values, shape, dtype: allBool ? "bool" : "float32", fromJs: true };
  }
  throw new ValueError(`${where}: cannot make a tensor from ${describe(data)}; pass numbers, booleans, nested arrays, a TypedArray, an NDArray or a Tensor`, "ST405");
}

function readTypedArray(a: ArrayBufferView, where: string): HostData {
  const own = dtypeOfTypedArray(a);
  if (own && !(a instanceof Uint8ClampedArray)) return { values: a as TypedArray, shape: [(a as TypedArray).length], dtype: own, fromJs: false };
  if (a instanceof Uint8ClampedArray) return { values: a, shape: [a.length], dtype: "uint8", fromJs: false };
  if (a instanceof Int8Array || a instanceof Int16Array || a instanceof Uint16Array) {
    return { values: a, shape: [a.length], dtype: "int32", fromJs: false };
  }
  if (a instanceof Uint32Array) {
    for (const v of a) {
      if (v > 2147483647) throw new DTypeError(`${where}: Uint32Array value ${v} does not fit int32, the widest integer dtype; cast to Float64Array first if you need it`);
    }
    return { values: a, shape: [a.length], dtype: "int32", fromJs: false };
  }
  throw new DTypeError(`${where}: ${describe(a)} has no matching dtype (supported: Float32Array, Float64Array, Int32Array, Uint8Array, and Int8/Int16/Uint16/Uint32/Uint8Clamped arrays, which are widened)`);
}

/** Converts JS values into `dtype`, refusing values the dtype cannot hold (as NumPy 2 does). */
function fillFromJs(values: ArrayLike<number>, dtype: DType, where: string): TypedArray {
  const out = allocate(dtype, values.length);
  if (isFloat(dtype) || dtype === "bool") {
    for (let i = 0; i < values.length; i++) out[i] = convertScalar(values[i]!, dtype);
    return out;
  }
  const lo = dtype === "uint8" ? 0 : -2147483648;
  const hi = dtype === "uint8" ? 255 : 2147483647;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new ValueError(`${where}: cannot convert ${describe(v)} to ${dtype}`);
    const t = Math.trunc(v);
    if (t < lo || t > hi) throw new ValueError(`${where}: value ${v} is out of range for ${dtype} (${lo}..${hi})`);
    out[i] = t;
  }
  return out;
}

/**
 * Converts host data into a freshly allocated typed array of `dtype` (default: the data's own),
 * with its shape. The one conversion path behind `tensor()` and `asarray()`.
 */
export function toHostArray(data: TensorData, dtype: DType | undefined, where: string): { data: TypedArray; shape: number[]; dtype: DType } {
  const host = readHostData(data, where);
  const to = dtype === undefined ? host.dtype : parseDType(dtype, where);
  let out: TypedArray;
  if (host.fromJs) out = fillFromJs(host.values, to, where);
  else {
    // Written whole below; large arrays go where the WebAssembly kernels read them in place.
    out = allocateTensorData(to, host.values.length, false);
    if (to === host.dtype) out.set(host.values);
    else for (let i = 0; i < out.length; i++) out[i] = convertScalar(host.values[i]!, to, host.dtype);
  }
  return { data: out, shape: host.shape, dtype: to };
}

/**
 * Makes an eager tensor from host data. Always copies, so later changes to `data` never reach
 * the tensor. JS numbers default to float32, booleans to bool; typed data keeps its own dtype.
 */
export function tensor(data: TensorData, options: TensorOptions = {}): Tensor {
  const where = "tensor";
  const device = deviceFor(options.device, where);
  if (data instanceof EagerTensor && options.dtype === undefined) {
    if (data.device === device) {
      // Same device: share the (immutable) buffer.
      return device === "cpu" ? new EagerTensor(data.buffer(), data.type, device) : EagerTensor.onGpu(data.gpuStorage().retain(), data.type);
    }
    // cpu -> webgpu uploads; webgpu -> cpu needs a readback, so buffer() throws DeviceSyncError.
    if (device === "webgpu") return EagerTensor.onGpu(uploadHost(data.buffer(), data.type, where), data.type);
    data.buffer();
  }
  if (data instanceof Tensor && !(data instanceof EagerTensor)) {
    // A symbolic tensor inside a trace: its value does not exist yet, so convert in the graph.
    const dtype = options.dtype === undefined ? data.dtype : parseDType(options.dtype, where);
    return dtype === data.dtype ? data : bind1("cast", [data], { dtype });
  }
  const host = toHostArray(data, options.dtype, where);
  if (device === "cpu") countHostToDevice("cpu", host.data.byteLength);
  return tensorOn(host.data, { dtype: host.dtype, shape: host.shape }, device, where);
}

/** A tensor whose values are already in a freshly allocated typed array (no copy). */
export function fromBuffer(data: TypedArray, shape: readonly number[], dtype: DType, device: Device = "cpu"): Tensor {
  return tensorOn(data, { dtype, shape }, device, "fromBuffer");
}

interface CreationOptions {
  dtype?: DType;
  device?: Device;
}

/**
 * The device of a new tensor: the option, else the default device; but while tracing, host data
 * (the new tensor becomes a graph constant, and the compiled graph puts its constants on its own
 * device; a GPU tensor could not be read back into the graph synchronously).
 */
function deviceFor(device: Device | undefined, where: string): Device {
  return device === undefined && currentTrace() !== undefined ? "cpu" : checkDevice(device, where);
}

function opts(where: string, o: CreationOptions, fallback: DType): { dtype: DType; device: Device } {
  return {
    dtype: o.dtype === undefined ? fallback : parseDType(o.dtype, where),
    device: deviceFor(o.device, where),
  };
}

export function full(shape: readonly number[], value: number | boolean, options: CreationOptions = {}): Tensor {
  const s = checkShape(shape, "full");
  if (typeof value !== "number" && typeof value !== "boolean") throw new ValueError(`full: value must be a number or boolean, got ${describe(value)}`);
  const { dtype, device } = opts("full", options, typeof value === "boolean" ? "bool" : "float32");
  const data = allocate(dtype, sizeOf(s));
  const v = fillFromJs([Number(value)], dtype, "full")[0]!;
  data.fill(v);
  return tensorOn(data, { dtype, shape: s }, device, "full");
}

export const zeros = (shape: readonly number[], options: CreationOptions = {}): Tensor => full(shape, 0, options);
export const ones = (shape: readonly number[], options: CreationOptions = {}): Tensor => full(shape, 1, options);
// An eager tensor's twin is on its device; a symbolic one's is host data (a constant of the graph).
const likeOptions = (t: Tensor, options: CreationOptions): CreationOptions => ({ dtype: t.dtype, ...(t instanceof EagerTensor ? { device: t.device } : {}), ...options });
export const zerosLike = (t: Tensor, options: CreationOptions = {}): Tensor => full(t.shape, 0, likeOptions(t, options));
export const onesLike = (t: Tensor, options: CreationOptions = {}): Tensor => full(t.shape, 1, likeOptions(t, options));

function checkFinite(where: string, args: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(args)) {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ValueError(`${where}: ${name} must be a finite number, got ${describe(v)}`);
  }
}

/**
 * Evenly spaced values in [start, stop). `arange(5)` is [0..4]. Integer arguments give int32
 * (as JAX, NumPy and PyTorch do), any fractional argument gives float32.
 */
export function arange(start: number, stop?: number, step = 1, options: CreationOptions = {}): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  checkFinite("arange", { start, stop, step });
  if (step === 0) throw new ValueError("arange: step must not be zero");
  const allInt = [start, stop, step].every(Number.isInteger);
  const { dtype, device } = opts("arange", options, allInt ? "int32" : "float32");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = convertScalar(start + i * step, dtype);
  return tensorOn(data, { dtype, shape: [n] }, device, "arange");
}

/** `num` evenly spaced values from start to stop (inclusive unless endpoint is false), as NumPy. */
export function linspace(start: number, stop: number, num = 50, options: CreationOptions & { endpoint?: boolean } = {}): Tensor {
  checkFinite("linspace", { start, stop });
  if (!Number.isInteger(num) || num < 0) throw new ValueError(`linspace: num must be a non-negative integer, got ${describe(num)}`);
  const endpoint = options.endpoint ?? true;
  const { dtype, device } = opts("linspace", options, "float32");
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  const data = allocate(dtype, num);
  for (let i = 0; i < num; i++) data[i] = convertScalar(start + i * step, dtype);
  if (endpoint && num > 1) data[num - 1] = convertScalar(stop, dtype);
  return tensorOn(data, { dtype, shape: [num] }, device, "linspace");
}

/** An n x m matrix with ones on diagonal k. */
export function eye(n: number, m?: number, options: CreationOptions & { k?: number } = {}): Tensor {
  const cols = m ?? n;
  checkShape([n, cols], "eye");
  const k = options.k ?? 0;
  if (!Number.isInteger(k)) throw new ValueError(`eye: k must be an integer, got ${describe(k)}`);
  const { dtype, device } = opts("eye", options, "float32");
  const data = allocate(dtype, n * cols);
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < cols) data[i * cols + j] = 1;
  }
  return tensorOn(data, { dtype, shape: [n, cols] }, device, "eye");
}
