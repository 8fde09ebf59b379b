/**
 * Memory of one model under one runtime, inference or training, as a breakdown: weights, KV cache,
 * prefill workspace, logits, runtime overhead and, for training, gradients, optimizer state and
 * stored activations. `edgeplan memory` prints it; the measurement reproduction compares it with
 * published figures; families use its parts (workspace, overhead, KV allocation).
 */
import { inferenceWorkBufferBytes } from './inference-memory.ts';
import {
  activationDtypeOf,
  embeddingParams,
  headParams,
  kvBytesPerToken,
  layerParams,
  modelWeightBytes,
  type ModelSpec,
} from './model.ts';
import { allocatedKvTokens, runtimeOverheadBytes, type RuntimeSpec } from './runtime.ts';
import {
  loraParamsOfLayer,
  trainingActivationBytesPerSample,
  type LoraConfig,
  type Recomputation,
  type TrainingAccounting,
} from './training.ts';
import { bytesPerValue } from './units.ts';

/** fp32: logits are upcast for the softmax / loss in every runtime we model. */
const FP32_BYTES = 4;

export interface InferenceMemoryQuery {
  readonly model: ModelSpec;
  readonly runtime: RuntimeSpec;
  /** A unified-memory or CPU device: no CUDA context. */
  readonly unifiedMemory: boolean;
  readonly batch: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
}

export interface MemoryBreakdown {
  readonly weightBytes: number;
  readonly kvBytes: number;
  readonly workspaceBytes: number;
  readonly logitsBytes: number;
  readonly runtimeOverheadBytes: number;
  readonly adapterBytes: number;
  readonly gradientBytes: number;
  readonly optimizerBytes: number;
  readonly activationBytes: number;
  /** Everything the process holds on the device. */
  readonly totalBytes: number;
  /** What the framework allocates itself (total minus the runtime overhead): torch's peak-allocated scope. */
  readonly allocatedBytes: number;
}

/**
 * Values per prompt token live at the peak of one layer's prefill with fused attention: the FFN
 * intermediates (gate, up and their product for gated FFNs; fc1 and its activation otherwise) plus
 * the layer input and the residual stream. Layers run one at a time, so this does not grow with depth.
 */
function intermediateValuesPerToken(model: ModelSpec): number {
  const ffn = model.moe ? model.moe.expertFfnHiddenSize * (model.moe.topK + model.moe.sharedExperts) : 0;
  const inner = Math.max(model.ffnHiddenSize, ffn);
  return (model.ffnKind === 'gated' ? 3 : 2) * inner + 2 * model.hiddenSize;
}

/**
 * Prefill workspace of `batch` prompts of `promptTokens` tokens under the runtime's attention kernel.
 * Chunked prefill bounds the tokens one forward processes (and the s² of the scores).
 */
export function prefillWorkspaceBytes(
  model: ModelSpec,
  runtime: RuntimeSpec,
  batch: number,
  promptTokens: number,
): number {
  if (runtime.attention === 'fastertransformer') return inferenceWorkBufferBytes(model, batch, promptTokens);
  const act = bytesPerValue(activationDtypeOf(model));
  const chunk = runtime.prefillChunkTokens ?? Infinity;
  const budget = Math.max(runtime.prefillTokenBudget ?? Infinity, Math.min(promptTokens, chunk));
  const tokensPerForward = Math.min(batch * promptTokens, chunk, budget);
  const perToken = tokensPerForward * intermediateValuesPerToken(model) * act;
  if (runtime.attention === 'fused') return perToken;
  // Eager attention: one layer's scores for each sequence of the forward, in the model format and in fp32.
  const queries = Math.min(promptTokens, chunk);
  const sequences = Math.max(1, Math.floor(tokensPerForward / queries));
  return perToken + sequences * model.heads * queries * promptTokens * (act + FP32_BYTES);
}

/** KV bytes of `batch` sequences of `tokens` tokens each, as the runtime allocates them. */
export function allocatedKvBytes(model: ModelSpec, runtime: RuntimeSpec, batch: number, tokens: number): number {
  return batch * allocatedKvTokens(runtime, tokens) * kvBytesPerToken(model);
}

/** Logits of the sampled positions: the head's output and its fp32 upcast. */
function inferenceLogitsBytes(model: ModelSpec, batch: number): number {
  return batch * model.vocabSize * (bytesPerValue(activationDtypeOf(model)) + FP32_BYTES);
}

export function inferenceMemoryBreakdown(q: InferenceMemoryQuery): MemoryBreakdown {
  const weightBytes = modelWeightBytes(q.model);
  const kvBytes = allocatedKvBytes(q.model, q.runtime, q.batch, q.promptTokens + q.outputTokens);
  const workspaceBytes = q.promptTokens > 0 ? prefillWorkspaceBytes(q.model, q.runtime, q.batch, q.promptTokens) : 0;
  const logitsBytes = inferenceLogitsBytes(q.model, q.batch);
  const runtimeOverhead = runtimeOverheadBytes(q.runtime, q.unifiedMemory);
  const allocatedBytes = weightBytes + kvBytes + workspaceBytes + logitsBytes;
  return {
    weightBytes,
    kvBytes,
    workspaceBytes,
    logitsBytes,
    runtimeOverheadBytes: runtimeOverhead,
    adapterBytes: 0,
    gradientBytes: 0,
    optimizerBytes: 0,
    activationBytes: 0,
    totalBytes: allocatedBytes + runtimeOverhead,
    allocatedBytes,
  };
}

/**
 * Bytes the stage holding the head keeps for the loss: the logits of every token in the
 * activation format, their fp32 upcast for the cross-entropy, and the fp32 gradient of the logits
 * (PyTorch's log-softmax backward keeps all three alive at the peak).
 */
export function trainingLogitsBytes(model: ModelSpec, tokens: number): number {
  return storedLogitsBytes(model, tokens) + lossBufferBytes(model, tokens);
}

/** The logits of `tokens` tokens in the activation format, kept for the loss's backward. */
export function storedLogitsBytes(model: ModelSpec, tokens: number): number {
  return tokens * model.vocabSize * bytesPerValue(activationDtypeOf(model));
}

/** The loss's fp32 buffers for `tokens` tokens: the logits upcast for the cross-entropy and their fp32 gradient. */
export function lossBufferBytes(model: ModelSpec, tokens: number): number {
  return tokens * model.vocabSize * 2 * FP32_BYTES;
}

export interface TrainingMemoryQuery {
  readonly model: ModelSpec;
  readonly runtime: RuntimeSpec;
  readonly unifiedMemory: boolean;
  readonly batch: number;
  readonly sequenceLength: number;
  readonly trained: 'full' | 'lora';
  readonly lora?: LoraConfig;
  readonly accounting: TrainingAccounting;
  readonly recomputation: Recomputation;
}

/**
 * One training step on one device. Full training: every parameter carries the accounting's bytes
 * (weights, gradients, optimizer state); LoRA: the frozen base in its own format, the adapters in
 * the accounting. Stored activations follow Korthikanti et al. (training.ts); the head stage's
 * logits per `trainingLogitsBytes`.
 */
export function trainingMemoryBreakdown(q: TrainingMemoryQuery): MemoryBreakdown {
  const m = q.model;
  const a = q.accounting;
  const params = embeddingParams(m) + headParams(m) + sumLayers(m, (l) => layerParams(m, l));
  let weightBytes: number;
  let adapterBytes = 0;
  let gradientBytes: number;
  let optimizerBytes: number;
  if (q.trained === 'full') {
    weightBytes = params * a.weightBytes;
    gradientBytes = params * a.gradientBytes;
    optimizerBytes = params * a.optimizerBytes;
  } else {
    const lora = q.lora ?? { rank: 16, targets: ['q', 'v'] as const };
    const adapters = sumLayers(m, (l) => loraParamsOfLayer(m, lora, l));
    weightBytes = modelWeightBytes(m);
    // The trainable adapters carry the accounting's bytes (mixed-16: 16-bit copy, 16-bit grads, fp32 master + moments).
    adapterBytes = adapters * a.weightBytes;
    gradientBytes = adapters * a.gradientBytes;
    optimizerBytes = adapters * a.optimizerBytes;
  }
  const tokens = q.batch * q.sequenceLength;
  const perLayer = trainingActivationBytesPerSample(m, q.sequenceLength, q.recomputation) * q.batch;
  const activationBytes = perLayer * m.layers;
  // Full recomputation replays one layer's forward at a time: that layer's full activations are live again.
  const workspaceBytes =
    q.recomputation === 'full' ? trainingActivationBytesPerSample(m, q.sequenceLength, 'none') * q.batch : 0;
  const logitsBytes = trainingLogitsBytes(m, tokens);
  const runtimeOverhead = runtimeOverheadBytes(q.runtime, q.unifiedMemory);
  const allocatedBytes =
    weightBytes + adapterBytes + gradientBytes + optimizerBytes + activationBytes + workspaceBytes + logitsBytes;
  return {
    weightBytes,
    kvBytes: 0,
    workspaceBytes,
    logitsBytes,
    runtimeOverheadBytes: runtimeOverhead,
    adapterBytes,
    gradientBytes,
    optimizerBytes,
    activationBytes,
    totalBytes: allocatedBytes + runtimeOverhead,
    allocatedBytes,
  };
}

function sumLayers(model: ModelSpec, f: (layer: number) => number): number {
  let s = 0;
  for (let l = 1; l <= model.layers; l++) s += f(l);
  return s;
}

/**
 * Prefill workspace a family charges to the device that runs the prompt under `runtime` (null: not
 * modelled, 0). Layers run one at a time, so it is charged once per device, not per layer.
 */
export function runtimeWorkspaceBytes(
  model: ModelSpec,
  runtime: RuntimeSpec | null,
  batch: number,
  promptTokens: number,
): number {
  if (runtime === null || promptTokens <= 0 || batch <= 0) return 0;
  return prefillWorkspaceBytes(model, runtime, batch, promptTokens);
}
