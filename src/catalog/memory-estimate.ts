/**
 * What `edgeplan memory` answers, in the manner of `accelerate estimate-memory`: the memory
 * breakdown of a model under a runtime, whether it fits a device's usable memory (the runtime's
 * share of it: vLLM's gpu_memory_utilization), and the largest batch that fits.
 */
import type { DeviceSpec } from '../cost/device.ts';
import { inferenceMemoryBreakdown, trainingMemoryBreakdown, type MemoryBreakdown } from '../cost/memory.ts';
import type { ModelSpec } from '../cost/model.ts';
import type { RuntimeSpec } from '../cost/runtime.ts';
import { TRAINING_ACCOUNTINGS, type LoraConfig, type Recomputation, type TrainingAccountingName } from '../cost/training.ts';

export { inferenceMemoryBreakdown, trainingMemoryBreakdown, type MemoryBreakdown } from '../cost/memory.ts';
export { RUNTIME_IDS, type RuntimeSpec } from '../cost/runtime.ts';
export { generationSeconds } from '../cost/runtime-time.ts';
export { loadCatalog, resolveRuntime, type RuntimeRef } from './index.ts';

export interface MemoryEstimateQuery {
  readonly model: ModelSpec;
  readonly runtime: RuntimeSpec;
  readonly device: DeviceSpec | null;
  readonly mode: 'inference' | 'training';
  readonly batch: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly trained: 'full' | 'lora';
  readonly lora?: LoraConfig;
  readonly accounting: TrainingAccountingName;
  readonly recomputation: Recomputation;
}

export interface MemoryEstimate {
  readonly breakdown: MemoryBreakdown;
  /** Device memory × the runtime's memory utilisation; null without a device. */
  readonly usableBytes: number | null;
  readonly fits: boolean | null;
  /** Largest batch whose total fits the usable memory (0: not even one sequence); null without a device. */
  readonly largestBatch: number | null;
}

/** Larger batches than this are reported as this (a bound, not a search without end). */
export const MAX_REPORTED_BATCH = 1_000_000;

export function memoryBreakdown(q: MemoryEstimateQuery, batch = q.batch): MemoryBreakdown {
  const unifiedMemory = q.device?.unifiedMemory === true;
  if (q.mode === 'inference')
    return inferenceMemoryBreakdown({
      model: q.model,
      runtime: q.runtime,
      unifiedMemory,
      batch,
      promptTokens: q.promptTokens,
      outputTokens: q.outputTokens,
    });
  return trainingMemoryBreakdown({
    model: q.model,
    runtime: q.runtime,
    unifiedMemory,
    batch,
    sequenceLength: q.promptTokens + q.outputTokens,
    trained: q.trained,
    ...(q.lora ? { lora: q.lora } : {}),
    accounting: TRAINING_ACCOUNTINGS[q.accounting],
    recomputation: q.recomputation,
  });
}

/** The breakdown, the fit, and the largest fitting batch (memory grows with the batch, so a bisection finds it). */
export function estimateMemory(q: MemoryEstimateQuery): MemoryEstimate {
  const breakdown = memoryBreakdown(q);
  if (q.device === null) return { breakdown, usableBytes: null, fits: null, largestBatch: null };
  const usable = q.device.memoryBytes * q.runtime.memoryUtilization;
  const fitsAt = (b: number): boolean => memoryBreakdown(q, b).totalBytes <= usable;
  let largest = 0;
  if (fitsAt(1)) {
    let lo = 1;
    let hi = 2;
    while (hi <= MAX_REPORTED_BATCH && fitsAt(hi)) {
      lo = hi;
      hi *= 2;
    }
    if (hi > MAX_REPORTED_BATCH) largest = MAX_REPORTED_BATCH;
    else {
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (fitsAt(mid)) lo = mid;
        else hi = mid;
      }
      largest = lo;
    }
  }
  return { breakdown, usableBytes: usable, fits: breakdown.totalBytes <= usable, largestBatch: largest };
}
