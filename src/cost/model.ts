/**
 * Transformer architecture and the per-layer quantities every family needs: parameters,
 * forward FLOPs per token, activation bytes at a cut and KV bytes per token.
 * Layers are numbered 1..L; the embedding sits before layer 1 and norm + head after layer L.
 */
import { bytesPerValue, isFloat16OrWider, isGguf, Q6_K_BITS, weightBytesPerParam, type DType } from './units.ts';

export interface MoeSpec {
  /** Routed experts per MoE layer. */
  readonly experts: number;
  /** Experts each token is routed to. */
  readonly topK: number;
  /** Always-active shared experts per MoE layer. */
  readonly sharedExperts: number;
  /** Hidden size of one routed (and shared) expert's FFN. */
  readonly expertFfnHiddenSize: number;
  /** The first `denseLayers` layers use the dense FFN instead of experts (DeepSeek-V3: 3). */
  readonly denseLayers: number;
}

/** Multi-head latent attention (DeepSeek-V2/V3): what the KV cache and attention weights are made of. */
export interface MlaSpec {
  readonly qLoraRank: number;
  readonly kvLoraRank: number;
  readonly qkNopeHeadDim: number;
  readonly qkRopeHeadDim: number;
  readonly vHeadDim: number;
}

export interface ModelSpec {
  readonly id: string;
  readonly name: string;
  readonly layers: number;
  readonly hiddenSize: number;
  readonly heads: number;
  /** Equal to `heads` for multi-head attention, fewer for grouped-query attention. */
  readonly kvHeads: number;
  readonly headDim: number;
  /** Dense FFN inner size (for MoE models: the dense layers' FFN). */
  readonly ffnHiddenSize: number;
  /** `mlp`: up + down (GPT); `gated`: gate + up + down (Llama, SwiGLU). */
  readonly ffnKind: 'mlp' | 'gated';
  readonly vocabSize: number;
  readonly maxContext: number;
  /** Learned absolute position embeddings (GPT-2/3) add maxContext × hidden parameters. */
  readonly positionEmbedding: 'learned' | 'rotary';
  /** Linear layers carry biases (GPT-2/3, OPT). */
  readonly bias: boolean;
  /** The output head reuses the embedding matrix. */
  readonly tiedEmbeddings: boolean;
  readonly moe?: MoeSpec;
  readonly mla?: MlaSpec;
  /**
   * Format the weight matrices are stored in (`weightDtype` in problem files; `dtype` is its older
   * name). Embedding and head follow `embeddingDtypeOf`.
   */
  readonly dtype: DType;
  /** KV-cache format; default `defaultTensorDtype(dtype)` (16-bit unless the weights are wider). */
  readonly kvDtype?: DType;
  /** Format of the hidden states crossing a cut or a pipeline hop (the smashed data); same default. */
  readonly activationDtype?: DType;
  /** Format LoRA adapters are stored and trained in (default: the same 16-bit default). */
  readonly adapterDtype?: DType;
  readonly source: string;
}

/**
 * The format runtimes keep KV cache, activations and adapters in when not told otherwise: the
 * weights' own format when it is a 16- or 32-bit float, fp16 for quantized weights (vLLM with AWQ
 * or GPTQ, llama.cpp with Q4/Q8 and TensorRT-LLM weight-only all cache K/V in 16 bits; fp8 or q8_0
 * KV is an explicit option: vLLM `kv_cache_dtype="fp8"`, llama.cpp `-ctk q8_0`).
 */
export function defaultTensorDtype(weightDtype: DType): DType {
  return isFloat16OrWider(weightDtype) ? weightDtype : 'fp16';
}

export function kvDtypeOf(model: ModelSpec): DType {
  return model.kvDtype ?? defaultTensorDtype(model.dtype);
}

export function activationDtypeOf(model: ModelSpec): DType {
  return model.activationDtype ?? defaultTensorDtype(model.dtype);
}

export function adapterDtypeOf(model: ModelSpec): DType {
  return model.adapterDtype ?? defaultTensorDtype(model.dtype);
}

/**
 * Format of the embedding table: AWQ, GPTQ, fp8 and int8 weight-only checkpoints keep
 * `embed_tokens` and `lm_head` in 16 bits (AutoAWQ, AutoGPTQ and vLLM quantize linear layers
 * only); GGUF quantizes the token embedding in the file's own type.
 */
export function embeddingDtypeOf(model: ModelSpec): DType {
  return isGguf(model.dtype) ? model.dtype : defaultTensorDtype(model.dtype);
}

/** Bytes per parameter of the output matrix: GGUF keeps it in Q6_K (Q8_0 files in Q8_0), others as the embedding. */
function headMatrixBytesPerParam(model: ModelSpec): number {
  if (model.dtype === 'q4_0' || model.dtype === 'q4_k_m') return Q6_K_BITS / 8;
  return weightBytesPerParam(embeddingDtypeOf(model));
}

export function isMoeLayer(model: ModelSpec, layer: number): boolean {
  return model.moe !== undefined && layer > model.moe.denseLayers;
}

function ffnMatrices(model: ModelSpec): number {
  return model.ffnKind === 'gated' ? 3 : 2;
}

/** Parameters of the attention block of one layer (projections, biases). */
export function attentionParams(model: ModelSpec): number {
  const h = model.hiddenSize;
  if (model.mla) {
    const m = model.mla;
    const qk = m.qkNopeHeadDim + m.qkRopeHeadDim;
    return (
      h * m.qLoraRank +
      m.qLoraRank * model.heads * qk +
      h * (m.kvLoraRank + m.qkRopeHeadDim) +
      m.kvLoraRank * model.heads * (m.qkNopeHeadDim + m.vHeadDim) +
      model.heads * m.vHeadDim * h +
      m.qLoraRank +
      m.kvLoraRank
    );
  }
  const q = model.heads * model.headDim;
  const kv = model.kvHeads * model.headDim;
  const weights = h * q + 2 * h * kv + q * h;
  const biases = model.bias ? q + 2 * kv + h : 0;
  return weights + biases;
}

/** Parameters of one expert (or one dense FFN of the given inner size). */
export function ffnParams(model: ModelSpec, innerSize: number): number {
  const weights = ffnMatrices(model) * model.hiddenSize * innerSize;
  const biases = model.bias ? innerSize * (ffnMatrices(model) - 1) + model.hiddenSize : 0;
  return weights + biases;
}

export function expertParams(model: ModelSpec): number {
  if (!model.moe) return 0;
  return ffnParams(model, model.moe.expertFfnHiddenSize);
}

/** Two layer norms per block (RMSNorm: scale only; LayerNorm: scale and bias). */
function normParams(model: ModelSpec): number {
  return (model.bias ? 4 : 2) * model.hiddenSize;
}

/** All parameters stored for decoder layer `layer` (every expert of an MoE layer counted). */
export function layerParams(model: ModelSpec, layer: number): number {
  const base = attentionParams(model) + normParams(model);
  if (isMoeLayer(model, layer)) {
    const moe = model.moe as MoeSpec;
    const router = model.hiddenSize * moe.experts;
    return base + (moe.experts + moe.sharedExperts) * expertParams(model) + router;
  }
  return base + ffnParams(model, model.ffnHiddenSize);
}

/** Parameters touched by one token in layer `layer` (top-k routed + shared experts for MoE). */
export function activeLayerParams(model: ModelSpec, layer: number): number {
  const base = attentionParams(model) + normParams(model);
  if (isMoeLayer(model, layer)) {
    const moe = model.moe as MoeSpec;
    return base + (moe.topK + moe.sharedExperts) * expertParams(model) + model.hiddenSize * moe.experts;
  }
  return base + ffnParams(model, model.ffnHiddenSize);
}

export function embeddingParams(model: ModelSpec): number {
  const pos = model.positionEmbedding === 'learned' ? model.maxContext * model.hiddenSize : 0;
  return model.vocabSize * model.hiddenSize + pos;
}

/** Final norm plus output head (zero head parameters when tied to the embedding). */
export function headParams(model: ModelSpec): number {
  const norm = (model.bias ? 2 : 1) * model.hiddenSize;
  return norm + (model.tiedEmbeddings ? 0 : model.vocabSize * model.hiddenSize);
}

export function totalParams(model: ModelSpec): number {
  let s = embeddingParams(model) + headParams(model);
  for (let l = 1; l <= model.layers; l++) s += layerParams(model, l);
  return s;
}

/** Bytes of `params` weights stored in `dtype`, quantization scales included. */
export function weightBytes(params: number, dtype: DType): number {
  return params * weightBytesPerParam(dtype);
}

export function layerWeightBytes(model: ModelSpec, layer: number): number {
  return weightBytes(layerParams(model, layer), model.dtype);
}

/** Bytes of the embedding table (and learned positions) in `embeddingDtypeOf`. */
export function embeddingWeightBytes(model: ModelSpec): number {
  return weightBytes(embeddingParams(model), embeddingDtypeOf(model));
}

/** Bytes of the final norm's weight (and bias), in the model's default tensor format; the head reads them all. */
export function finalNormWeightBytes(model: ModelSpec): number {
  return (model.bias ? 2 : 1) * model.hiddenSize * bytesPerValue(defaultTensorDtype(model.dtype));
}

/**
 * Bytes of the final norm and the output matrix. A tied head stores nothing of its own, except in
 * GGUF files, where llama.cpp's converter writes the tied matrix again as `output.weight`.
 */
export function headWeightBytes(model: ModelSpec): number {
  const norm = finalNormWeightBytes(model);
  const matrix = model.vocabSize * model.hiddenSize;
  if (model.tiedEmbeddings) return norm + (isGguf(model.dtype) ? matrix * headMatrixBytesPerParam(model) : 0);
  return norm + matrix * headMatrixBytesPerParam(model);
}

/** Bytes one full read of the output matrix moves (a tied head reads the embedding table). */
export function headMatrixReadBytes(model: ModelSpec): number {
  return model.vocabSize * model.hiddenSize * headMatrixBytesPerParam(model);
}

/** Every weight the model stores: embedding, decoder layers and head. */
export function modelWeightBytes(model: ModelSpec): number {
  let s = embeddingWeightBytes(model) + headWeightBytes(model);
  for (let l = 1; l <= model.layers; l++) s += layerWeightBytes(model, l);
  return s;
}

/**
 * Attention FLOPs per token per attended position: 2·(query-key width) for QKᵀ plus 2·(value
 * width) for AV. Equal widths give 4·heads·headDim; MLA's keys (nope + rope dims) are wider
 * than its values, so the two products are counted separately.
 */
function attentionFlopsPerPosition(model: ModelSpec): number {
  if (model.mla)
    return 2 * model.heads * (model.mla.qkNopeHeadDim + model.mla.qkRopeHeadDim) + 2 * model.heads * model.mla.vHeadDim;
  return 4 * model.heads * model.headDim;
}

/**
 * Forward FLOPs for one token in layer `layer` attending over `contextTokens` positions:
 * 2 per active weight (multiply-add) plus 4·(heads·headDim)·context for QKᵀ and AV.
 */
export function layerForwardFlopsPerToken(model: ModelSpec, layer: number, contextTokens: number): number {
  return 2 * activeLayerParams(model, layer) + attentionFlopsPerPosition(model) * contextTokens;
}

/** Output head FLOPs per token (the logits matmul); the embedding lookup is free. */
export function headForwardFlopsPerToken(model: ModelSpec): number {
  return 2 * model.vocabSize * model.hiddenSize;
}

/** Bytes of the hidden state crossing a cut, per token (the smashed data). */
export function activationBytesPerToken(model: ModelSpec, dtype: DType = activationDtypeOf(model)): number {
  return model.hiddenSize * bytesPerValue(dtype);
}

/** KV-cache bytes one token adds in one layer: 2·kvHeads·headDim values (MLA: latent + rope key). */
export function kvBytesPerTokenPerLayer(model: ModelSpec, dtype: DType = kvDtypeOf(model)): number {
  if (model.mla) return (model.mla.kvLoraRank + model.mla.qkRopeHeadDim) * bytesPerValue(dtype);
  return 2 * model.kvHeads * model.headDim * bytesPerValue(dtype);
}

export function kvBytesPerToken(model: ModelSpec, dtype: DType = kvDtypeOf(model)): number {
  return model.layers * kvBytesPerTokenPerLayer(model, dtype);
}
