/**
 * Training memory and compute: optimizer-state accountings, LoRA adapters, activation memory
 * (Korthikanti et al. 2022) and the FLOPs multipliers of frozen and trainable layers.
 */
import { isMoeLayer, type ModelSpec } from './model.ts';

/** Bytes per trainable parameter for weights, gradients and optimizer state. */
export interface TrainingAccounting {
  readonly weightBytes: number;
  readonly gradientBytes: number;
  readonly optimizerBytes: number;
}

/**
 * `seed-12`: 16-bit weights + 16-bit grads + two fp32 Adam moments (the seed's 84 GB for 7B).
 * `mixed-16`: the same plus an fp32 master copy (mixed-precision Adam, 16 B/param).
 * `fp32-adam`: fp32 weights, grads and two moments.
 */
export const TRAINING_ACCOUNTINGS = {
  'seed-12': { weightBytes: 2, gradientBytes: 2, optimizerBytes: 8 },
  'mixed-16': { weightBytes: 2, gradientBytes: 2, optimizerBytes: 12 },
  'fp32-adam': { weightBytes: 4, gradientBytes: 4, optimizerBytes: 8 },
} as const satisfies Record<string, TrainingAccounting>;
export type TrainingAccountingName = keyof typeof TRAINING_ACCOUNTINGS;

export function bytesPerTrainableParam(a: TrainingAccounting): number {
  return a.weightBytes + a.gradientBytes + a.optimizerBytes;
}

/** Memory for `params` parameters that are trained in full. */
export function trainableStateBytes(params: number, accounting: TrainingAccounting): number {
  return params * bytesPerTrainableParam(accounting);
}

/** Which of a layer's matrices carry LoRA adapters. */
export const LORA_TARGETS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraConfig {
  readonly rank: number;
  readonly targets: readonly LoraTarget[];
}

function matrixShape(model: ModelSpec, target: LoraTarget): [number, number] | null {
  const h = model.hiddenSize;
  const q = model.heads * model.headDim;
  const kv = model.kvHeads * model.headDim;
  const f = model.ffnHiddenSize;
  switch (target) {
    case 'q':
      return [h, q];
    case 'k':
    case 'v':
      return [h, kv];
    case 'o':
      return [q, h];
    case 'gate':
      return model.ffnKind === 'gated' ? [h, f] : null;
    case 'up':
      return [h, f];
    case 'down':
      return [f, h];
  }
}

/**
 * Adapter parameters of one layer: rank·(d_in + d_out) per adapted matrix (A is r×d_in, B is
 * d_out×r). FORMULATIONS.md writes 2·r·(d_in + d_out), which is the same count in 16-bit bytes.
 */
export function loraParamsPerLayer(model: ModelSpec, lora: LoraConfig): number {
  let s = 0;
  for (const t of lora.targets) {
    const shape = matrixShape(model, t);
    if (shape) s += lora.rank * (shape[0] + shape[1]);
  }
  return s;
}

/** Forward FLOPs per token the adapters add in one layer (x·A then ·B). */
export function loraForwardFlopsPerToken(model: ModelSpec, lora: LoraConfig): number {
  return 2 * loraParamsPerLayer(model, lora);
}

const FFN_TARGETS: readonly LoraTarget[] = ['gate', 'up', 'down'];

/**
 * Adapter parameters of decoder layer `layer` (1-based) with one adapter per expert: in an MoE
 * layer every routed and shared expert has its own FFN matrices, each of the expert FFN size, so
 * an FFN target carries (experts + shared experts) adapters (Mixtral, r = 8 on up/down: 8 ×
 * 294,912). Dense layers (and non-MoE models) count as `loraParamsPerLayer`.
 */
export function loraParamsOfLayer(model: ModelSpec, lora: LoraConfig, layer: number): number {
  return loraLayerCount(model, lora, layer, 'stored');
}

/** Adapter parameters one token passes through in layer `layer`: attention adapters plus its top-k and shared experts'. */
export function loraActiveParamsOfLayer(model: ModelSpec, lora: LoraConfig, layer: number): number {
  return loraLayerCount(model, lora, layer, 'active');
}

function loraLayerCount(model: ModelSpec, lora: LoraConfig, layer: number, which: 'stored' | 'active'): number {
  if (model.moe === undefined || !isMoeLayer(model, layer)) return loraParamsPerLayer(model, lora);
  const moe = model.moe;
  const attention = loraParamsPerLayer(model, {
    rank: lora.rank,
    targets: lora.targets.filter((t) => !FFN_TARGETS.includes(t)),
  });
  const expertModel: ModelSpec = { ...model, ffnHiddenSize: moe.expertFfnHiddenSize };
  const perExpert = loraParamsPerLayer(expertModel, {
    rank: lora.rank,
    targets: lora.targets.filter((t) => FFN_TARGETS.includes(t)),
  });
  const experts = (which === 'stored' ? moe.experts : moe.topK) + moe.sharedExperts;
  return attention + experts * perExpert;
}

export type Recomputation = 'none' | 'selective' | 'full';

/**
 * Activation bytes one layer keeps for the backward pass, per sample of `seqLen` tokens, at
 * 16-bit (Korthikanti et al. 2022, no tensor parallelism): s·h·(34 + 5·a·s/h) without
 * recomputation; 34·s·h with selective (attention) recomputation; 2·s·h (the layer input only)
 * with full recomputation.
 */
export function trainingActivationBytesPerSample(
  model: ModelSpec,
  seqLen: number,
  recomputation: Recomputation = 'none',
): number {
  const s = seqLen;
  const h = model.hiddenSize;
  const a = model.heads;
  switch (recomputation) {
    case 'none':
      return s * h * (34 + (5 * a * s) / h);
    case 'selective':
      return 34 * s * h;
    case 'full':
      return 2 * s * h;
  }
}

/**
 * What a layer does during a training step, which fixes its compute relative to a forward pass
 * and whether it keeps activations:
 * - `forward-only`: below the lowest trainable layer; no backward at all, no stored activations.
 * - `backprop-frozen`: frozen but above a trainable layer; back-propagates activation gradients
 *   (≈ 1× forward) but computes no weight gradients.
 * - `lora`: frozen base with trainable adapters: activation gradients plus adapter gradients.
 * - `full`: all weights trained: activation and weight gradients (≈ 2× forward).
 */
export type LayerTrainingRole = 'forward-only' | 'backprop-frozen' | 'lora' | 'full';

/** Total training FLOPs of a layer as a multiple of its forward FLOPs. */
export function trainingFlopsMultiplier(role: LayerTrainingRole): number {
  switch (role) {
    case 'forward-only':
      return 1;
    case 'backprop-frozen':
    case 'lora':
      return 2;
    case 'full':
      return 3;
  }
}

/** Whether the layer must keep its activations for a backward pass. */
export function storesActivations(role: LayerTrainingRole): boolean {
  return role !== 'forward-only';
}

/**
 * Roles of layers 1..L given the frozen prefix 1..F and how the rest is trained.
 * Layers at or below F are frozen; a frozen layer is forward-only when no trainable layer lies
 * below it, which — for a frozen prefix — is always the case.
 */
export function layerRoles(layers: number, frozenPrefix: number, trained: 'full' | 'lora'): LayerTrainingRole[] {
  const roles: LayerTrainingRole[] = [];
  for (let l = 1; l <= layers; l++) roles.push(l <= frozenPrefix ? 'forward-only' : trained);
  return roles;
}
