import type { DType } from './units.ts';

/**
 * Devices and the roofline time model: a piece of work takes the longer of its compute time and
 * its memory-traffic time. Weights that do not fit in memory are streamed from storage.
 */

export interface DeviceSpec {
  readonly id: string;
  readonly name: string;
  /** Dense 16-bit peak (tensor cores where the device has them). */
  readonly peakFlopsPerSecond: number;
  /** Memory usable for model state (weights, KV, activations). */
  readonly memoryBytes: number;
  readonly memoryBandwidthBytesPerSecond: number;
  /** Sustained read rate of the storage weights are streamed from when they do not fit. */
  readonly storageReadBytesPerSecond: number;
  /** Fraction of peak FLOPs achieved on transformer layers (fitted by `edgeplan calibrate`). */
  readonly computeEfficiency: number;
  /** Fraction of peak memory bandwidth achieved. */
  readonly bandwidthEfficiency: number;
  /** Fixed cost per layer call (kernel launches, framework overhead). */
  readonly perCallOverheadSeconds: number;
  /** Board power while computing. */
  readonly activePowerWatts: number;
  /** Radio power while transmitting (phones, Jetsons with modems); 0 for wired servers. */
  readonly transmitPowerWatts: number;
  /** Unified memory (Jetson, Apple silicon, phones) or a CPU device: runtimes hold no CUDA context. */
  readonly unifiedMemory?: boolean;
  readonly source: string;
}

/** A unit of work on a device: FLOPs and bytes read from memory, plus weights it needs resident. */
export interface Work {
  readonly flops: number;
  /** Bytes moved through memory other than the weights (KV cache, activations). */
  readonly memoryTrafficBytes: number;
  /** Weight bytes read by this work (each once). */
  readonly weightBytes: number;
  /** Layer calls, each paying the per-call overhead. */
  readonly calls: number;
}

export interface RooflineTime {
  readonly seconds: number;
  readonly computeSeconds: number;
  readonly memorySeconds: number;
  readonly storageSeconds: number;
  readonly overheadSeconds: number;
  readonly bound: 'compute' | 'memory' | 'storage';
}

/**
 * Roofline time of `work` on `device`. `residentWeightBytes` is the device's whole weight
 * footprint: when it exceeds memory, every weight byte is read from storage each pass — a cyclic
 * scan larger than the cache gets no LRU hits — which is how LLaMA-7B reaches ≈ 2.3 s/token on
 * an M1 Max reading ≈ 13.5 GB from ≈ 6 GB/s flash.
 */
export function rooflineTime(device: DeviceSpec, work: Work, residentWeightBytes = work.weightBytes): RooflineTime {
  const computeSeconds = work.flops / (device.peakFlopsPerSecond * device.computeEfficiency);
  const memorySeconds =
    (work.memoryTrafficBytes + work.weightBytes) / (device.memoryBandwidthBytesPerSecond * device.bandwidthEfficiency);
  const streams = residentWeightBytes > device.memoryBytes;
  const storageSeconds = streams ? work.weightBytes / device.storageReadBytesPerSecond : 0;
  const overheadSeconds = work.calls * device.perCallOverheadSeconds;
  const top = Math.max(computeSeconds, memorySeconds, storageSeconds);
  const bound = top === storageSeconds && streams ? 'storage' : top === computeSeconds ? 'compute' : 'memory';
  return { seconds: top + overheadSeconds, computeSeconds, memorySeconds, storageSeconds, overheadSeconds, bound };
}

/** Measured per-layer times on one device that override the roofline where they exist. */
export interface MeasuredProfile {
  readonly id: string;
  readonly modelId: string;
  readonly deviceId: string;
  /** Conditions of the measurement (batch, tokens) — the profile applies to those only. */
  readonly batch: number;
  readonly tokens: number;
  readonly embeddingSeconds?: number;
  /** Index 0 is layer 1. */
  readonly layerSeconds: readonly number[];
  readonly headSeconds?: number;
  /** Memory the device has free for the model, when it differs from the device's spec. */
  readonly usableMemoryBytes?: number;
  readonly layerMemoryBytes?: number;
  readonly embeddingMemoryBytes?: number;
  readonly headMemoryBytes?: number;
  /** Bytes sent between devices at a layer boundary under the measured conditions. */
  readonly activationBytesPerHop?: number;
  /** Number format the profile was measured in (EdgeShard: fp32). */
  readonly dtype?: DType;
  readonly source: string;
}

