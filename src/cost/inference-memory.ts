/**
 * Running memory of batched inference: weights + KV cache + work buffers. The work-buffer model is
 * the one of NVIDIA FasterTransformer's GPT (ParallelGpt and its context decoder/attention/FFN
 * layers), whose benchmark table gives the seed's 41.84 GB for FP16 GPT 6.7B at batch 64,
 * 512 input + 32 output tokens: buffers are sized for batch × input length and reused by every
 * layer, so they grow with batch and prompt but not with depth; the KV cache is allocated for the
 * whole input + output length up front.
 */
import { activationDtypeOf, kvBytesPerToken, totalParams, type ModelSpec } from './model.ts';
import { bytesPerValue } from './units.ts';

export interface InferenceShape {
  readonly batch: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface InferenceMemory {
  readonly weightBytes: number;
  readonly kvBytes: number;
  readonly workBufferBytes: number;
  readonly totalBytes: number;
}

/** Bytes of an fp32 value: FasterTransformer keeps a float copy of the attention scores. */
const FP32_BYTES = 4;

/**
 * Work buffers of a FasterTransformer-style prefill (the peak; decode-step buffers are per token
 * and negligible next to them). Per prompt token, in values of the activation format:
 * - decoder layer: normed input, attention output, layer output (3·h);
 * - attention: fused QKV output and its split copies (2·(q + 2·kv)), context before and after
 *   the head transpose (2·q);
 * - FFN inner activation (ffn; gated FFNs keep gate and up: 2·ffn);
 * - model level: context-decoder input and output (2·h);
 * plus, per sequence, the attention scores heads·s² in the model format and again in fp32, and
 * the s² attention mask. Not modelled: the CUDA context, cuBLAS workspace and allocator rounding
 * (a few hundred MB to a few GB in practice).
 */
export function inferenceWorkBufferBytes(model: ModelSpec, batch: number, inputTokens: number): number {
  // The buffers hold activations and attention scores: the activation format (16-bit under int4/int8
  // weights, as FasterTransformer's weight-only INT8/INT4 GEMMs keep fp16 activations), not the weights'.
  const beta = bytesPerValue(activationDtypeOf(model));
  const h = model.hiddenSize;
  const q = model.heads * model.headDim;
  const kv = model.kvHeads * model.headDim;
  const ffn = (model.ffnKind === 'gated' ? 2 : 1) * model.ffnHiddenSize;
  const perTokenValues = 3 * h + 2 * (q + 2 * kv) + 2 * q + ffn + 2 * h;
  const s = inputTokens;
  const tokens = batch * s;
  const scores = batch * model.heads * s * s * (beta + FP32_BYTES);
  const mask = batch * s * s * beta;
  return tokens * perTokenValues * beta + scores + mask;
}

/** Weights, KV cache for input + output tokens of every sequence, and work buffers. */
export function inferenceMemory(model: ModelSpec, shape: InferenceShape): InferenceMemory {
  const weightBytes = totalParams(model) * bytesPerValue(model.dtype);
  const kvBytes = shape.batch * (shape.inputTokens + shape.outputTokens) * kvBytesPerToken(model);
  const workBufferBytes = inferenceWorkBufferBytes(model, shape.batch, shape.inputTokens);
  return { weightBytes, kvBytes, workBufferBytes, totalBytes: weightBytes + kvBytes + workBufferBytes };
}
