/**
 * Runtime profiles (datasets/runtimes.json): what an inference or training runtime adds to the
 * tensors of the model — a fixed per-process overhead, the prefill workspace its attention kernels
 * need, how it allocates the KV cache, the share of device memory it claims, and the per-layer and
 * per-step time of its kernel launches and scheduler. Every value carries its source in the file.
 */

/**
 * How prefill attention is computed, which decides the workspace:
 * - `fastertransformer`: FasterTransformer's context decoder (score buffers heads·s² in the model
 *   format and again in fp32, plus the s² mask; inference-memory.ts);
 * - `materialized-scores`: eager PyTorch attention, one layer's heads·s² scores at a time, in the
 *   model format and upcast to fp32 for the softmax;
 * - `fused`: FlashAttention-style kernels (vLLM, TensorRT-LLM, sdpa, llama.cpp with flash-attn):
 *   no s² buffer, only the per-token intermediates of one layer.
 */
export const ATTENTION_WORKSPACES = ['fastertransformer', 'materialized-scores', 'fused'] as const;
export type AttentionWorkspace = (typeof ATTENTION_WORKSPACES)[number];

export const KV_ALLOCATIONS = ['contiguous', 'paged'] as const;
export type KvAllocation = (typeof KV_ALLOCATIONS)[number];

export interface RuntimeSpec {
  readonly id: string;
  readonly name: string;
  /**
   * Bytes the process holds on a discrete GPU besides tensors: CUDA context, cuBLAS workspaces,
   * NCCL buffers, CUDA graphs, allocator reserve. Not part of `torch.cuda.max_memory_allocated`.
   */
  readonly gpuOverheadBytes: number;
  /** The same on a unified-memory or CPU device (no CUDA context; Metal or CPU buffers). */
  readonly unifiedOverheadBytes: number;
  readonly attention: AttentionWorkspace;
  /** `contiguous`: each sequence's cache for its whole length up front; `paged`: blocks of `kvBlockTokens`. */
  readonly kvAllocation: KvAllocation;
  readonly kvBlockTokens: number;
  /**
   * Fraction of device memory the runtime claims (vLLM's gpu_memory_utilization, 0.9 by default);
   * weights, overhead, workspace and KV must fit in it. 1 for runtimes that allocate on demand.
   */
  readonly memoryUtilization: number;
  /** Prefill tokens processed per forward at most (chunked prefill); null: the whole prompt at once. */
  readonly prefillChunkTokens: number | null;
  /**
   * Whole prompts the scheduler batches into one prefill forward, up to this many tokens (at least
   * one prompt); null: every prompt of the batch at once (static batching).
   */
  readonly prefillTokenBudget: number | null;
  /**
   * Host time per decoder layer per forward pass (Python dispatch, kernel launches). Launches are
   * asynchronous, so a layer takes the longer of its GPU time and this (runtime-time.ts).
   */
  readonly perLayerOverheadSeconds: number;
  /**
   * GPU time per decoder layer that quantized matmul kernels add beyond their bandwidth time
   * (dequantization setup, low occupancy at small batch), serial with the layer's work.
   */
  readonly quantizedLayerOverheadSeconds: number;
  /** Times a decode step moves the whole KV cache (1: paged/fused kernels read it once). */
  readonly decodeKvPasses: number;
  /** Time per forward pass outside the layers: scheduling, sampling, logits processing. */
  readonly perStepOverheadSeconds: number;
  readonly source: string;
  /** Where each number comes from, by field name. */
  readonly sources: Readonly<Record<string, string>>;
}

/** Runtime ids issue 15 names; datasets/runtimes.json must define each. */
export const RUNTIME_IDS = [
  'vllm',
  'tensorrt-llm',
  'fastertransformer',
  'llama.cpp',
  'transformers',
  'transformers-eager',
  'pytorch-training',
] as const;

/** Fixed overhead of `runtime` on a device with (`unified`) or without unified memory. */
export function runtimeOverheadBytes(runtime: RuntimeSpec, unified: boolean): number {
  return unified ? runtime.unifiedOverheadBytes : runtime.gpuOverheadBytes;
}

/** Tokens of KV cache a sequence of `tokens` tokens is allocated under the runtime's allocation. */
export function allocatedKvTokens(runtime: RuntimeSpec, tokens: number): number {
  if (runtime.kvAllocation === 'contiguous') return tokens;
  return Math.ceil(tokens / runtime.kvBlockTokens) * runtime.kvBlockTokens;
}

/*
 * What every family uses to honour an optional `runtime` (issue 15 item 2). `null` means "no runtime
 * modelled": the whole device is usable, the KV cache holds exactly its tokens, no workspace, no
 * fixed overhead — the behaviour before runtimes existed, kept as the default so that problems
 * without a `runtime` keep their answers. One code path: families call these, never re-derive them.
 */

/**
 * Memory a model may use on a device under a runtime: the share the runtime claims (vLLM's
 * gpu_memory_utilization) minus its fixed per-process overhead (CUDA context, workspaces, CUDA
 * graphs; smaller on unified-memory devices), once per worker process. May be ≤ 0: nothing fits.
 */
export function runtimeUsableBytes(
  memoryBytes: number,
  runtime: RuntimeSpec | null,
  unifiedMemory: boolean,
  processes = 1,
): number {
  if (runtime === null) return memoryBytes;
  // A tensor-parallel group of g GPUs runs g worker processes, each with its own context.
  return memoryBytes * runtime.memoryUtilization - processes * runtimeOverheadBytes(runtime, unifiedMemory);
}

/** KV tokens a sequence of `tokens` tokens is allocated (paged runtimes round up to whole blocks). */
export function runtimeKvTokens(runtime: RuntimeSpec | null, tokens: number): number {
  return runtime === null ? tokens : allocatedKvTokens(runtime, tokens);
}

/** Per-forward-pass host time outside the layers (scheduler, sampling); 0 without a runtime. */
export function runtimeStepSeconds(runtime: RuntimeSpec | null): number {
  return runtime === null ? 0 : runtime.perStepOverheadSeconds;
}
