/**
 * Time of a whole model's forward pass under a runtime: the roofline of every row (layers.ts) with
 * the runtime's per-layer host time in place of the device's generic per-call default, plus its
 * per-step time (scheduler, sampling). Used by `edgeplan memory`'s speed line and by the
 * measurement reproduction; families use `withRuntimeOverheads` on their devices.
 */
import type { DeviceSpec } from './device.ts';
import { layerTable, type Workload } from './layers.ts';
import { kvBytesPerTokenPerLayer, type ModelSpec } from './model.ts';
import { runtimeUsableBytes, type RuntimeSpec } from './runtime.ts';
import { isFloat16OrWider } from './units.ts';

/**
 * The device as the runtime drives it: the runtime's host time replaces the device's generic
 * per-call overhead. Families that add per-call overhead to each row get the runtime's figure
 * (a conservative sum: it ignores the overlap `forwardSeconds` accounts for).
 */
export function withRuntimeOverheads(device: DeviceSpec, runtime: RuntimeSpec | null): DeviceSpec {
  if (runtime === null) return device;
  return { ...device, perCallOverheadSeconds: runtime.perLayerOverheadSeconds };
}

/**
 * The device as a runtime leaves it to a family that prices work with the roofline and checks
 * memory against `memoryBytes`: memory is the runtime's share minus its fixed overhead (weights
 * beyond it stream from storage, the roofline's rule; never below 0) and each layer call costs the
 * runtime's host time. Null: the device as given.
 */
export function deviceUnderRuntime(device: DeviceSpec, runtime: RuntimeSpec | null): DeviceSpec {
  if (runtime === null) return device;
  const memoryBytes = Math.max(0, runtimeUsableBytes(device.memoryBytes, runtime, device.unifiedMemory === true));
  return withRuntimeOverheads({ ...device, memoryBytes }, runtime);
}

/** NCCL all-reduce of one small activation over NVLink; tensor parallelism pays two per layer (assumed). */
export const TENSOR_PARALLEL_ALLREDUCE_SECONDS = 25e-6;

/**
 * One forward pass of the whole model: each decoder layer takes the longer of its GPU time (the
 * roofline, plus the quantized-kernel overhead, plus the extra KV passes) and the runtime's host
 * time — launches are asynchronous, so host and GPU overlap; then the per-step time.
 */
function forwardSeconds(model: ModelSpec, device: DeviceSpec, runtime: RuntimeSpec, w: Workload, tp: number): number {
  const t = layerTable(model, { ...device, perCallOverheadSeconds: 0 }, w);
  const quantized = !isFloat16OrWider(model.dtype) ? runtime.quantizedLayerOverheadSeconds : 0;
  const kvExtra =
    ((runtime.decodeKvPasses - 1) * w.batch * w.contextTokens * kvBytesPerTokenPerLayer(model)) /
    (device.memoryBandwidthBytesPerSecond * device.bandwidthEfficiency);
  const allreduce = tp > 1 ? 2 * TENSOR_PARALLEL_ALLREDUCE_SECONDS : 0;
  let s = runtime.perStepOverheadSeconds;
  for (const row of t.rows) {
    const gpu = row.seconds + (row.kind === 'decoder' ? quantized + kvExtra + allreduce : 0);
    s += row.kind === 'decoder' ? Math.max(gpu, runtime.perLayerOverheadSeconds) : gpu;
  }
  return s;
}

/** `count` devices acting as one (tensor parallelism): summed FLOP/s, bandwidth and memory. */
export function aggregateDevice(device: DeviceSpec, count: number): DeviceSpec {
  if (count === 1) return device;
  return {
    ...device,
    id: `${device.id}x${count}`,
    peakFlopsPerSecond: device.peakFlopsPerSecond * count,
    memoryBandwidthBytesPerSecond: device.memoryBandwidthBytesPerSecond * count,
    memoryBytes: device.memoryBytes * count,
  };
}

/** One decode step of `batch` sequences holding `contextTokens` tokens each. */
export function decodeStepSeconds(
  model: ModelSpec,
  device: DeviceSpec,
  runtime: RuntimeSpec,
  batch: number,
  contextTokens: number,
  tensorParallel = 1,
): number {
  return forwardSeconds(model, device, runtime, { batch, tokens: 1, contextTokens, logitsTokens: 1 }, tensorParallel);
}

/** Prefill of `batch` prompts of `promptTokens` tokens (chunked prefill: one forward per chunk). */
export function prefillSeconds(
  model: ModelSpec,
  device: DeviceSpec,
  runtime: RuntimeSpec,
  batch: number,
  promptTokens: number,
  tensorParallel = 1,
): number {
  // Prefill reads the cache it writes once: the decode-path extra passes do not apply.
  const once: RuntimeSpec = { ...runtime, decodeKvPasses: 1 };
  const chunk = runtime.prefillChunkTokens ?? promptTokens;
  let s = 0;
  for (let done = 0; done < promptTokens; done += chunk) {
    const tokens = Math.min(chunk, promptTokens - done);
    const w = { batch, tokens, contextTokens: done + tokens, logitsTokens: 1 };
    s += forwardSeconds(model, device, once, w, tensorParallel);
  }
  return s;
}

export interface GenerationTime {
  readonly prefillSeconds: number;
  /** Sum of the decode steps (outputTokens − 1 after the token prefill produces; at least 0). */
  readonly decodeSeconds: number;
  /** Mean decode step. */
  readonly decodeStepSeconds: number;
  readonly totalSeconds: number;
}

/**
 * A whole request: prefill (which yields the first token) then one step per further token. Decode
 * steps grow linearly with the context (KV read and attention FLOPs), so their sum is estimated
 * from three points (Simpson's rule: exact for a linear step time, and the max() of the roofline
 * bends at most once).
 */
export function generationSeconds(
  model: ModelSpec,
  device: DeviceSpec,
  runtime: RuntimeSpec,
  batch: number,
  promptTokens: number,
  outputTokens: number,
  tensorParallel = 1,
): GenerationTime {
  const pre = promptTokens > 0 ? prefillSeconds(model, device, runtime, batch, promptTokens, tensorParallel) : 0;
  const steps = Math.max(outputTokens - (promptTokens > 0 ? 1 : 0), 0);
  if (steps === 0) return { prefillSeconds: pre, decodeSeconds: 0, decodeStepSeconds: 0, totalSeconds: pre };
  const first = promptTokens + 1;
  const last = promptTokens + steps;
  const step = (c: number): number => decodeStepSeconds(model, device, runtime, batch, Math.max(1, c), tensorParallel);
  const mean = (step(first) + 4 * step((first + last) / 2) + step(last)) / 6;
  const decode = mean * steps;
  return { prefillSeconds: pre, decodeSeconds: decode, decodeStepSeconds: mean, totalSeconds: pre + decode };
}
