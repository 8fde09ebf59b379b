/**
 * The seed paper's numbers (and three cross-checks from other papers) recomputed from the cost
 * model and the catalog, each with its published value and tolerance. `edgeplan reproduce` prints
 * them; test/cost/golden.test.ts asserts them. The catalog is passed in (cost/ imports nothing
 * above it), so any object with the model and device maps will do.
 */
import type { DeviceSpec } from './device.ts';
import { computeEnergyJoules } from './energy.ts';
import { inferenceMemory } from './inference-memory.ts';
import { layerTable } from './layers.ts';
import {
  activationBytesPerToken,
  embeddingParams,
  kvBytesPerToken,
  layerParams,
  totalParams,
  type ModelSpec,
} from './model.ts';
import { bytesPerTrainableParam, TRAINING_ACCOUNTINGS } from './training.ts';
import { GB, GIB, MB } from './units.ts';

export interface Reproduction {
  readonly name: string;
  /** The claim in words, with where it comes from. */
  readonly claim: string;
  readonly expected: number;
  readonly obtained: number;
  /** Allowed |obtained − expected|, in `unit`. */
  readonly tolerance: number;
  readonly unit: string;
  readonly pass: boolean;
  /** How the obtained value was computed. */
  readonly how: string;
}

export interface ReproductionCatalog {
  readonly models: ReadonlyMap<string, ModelSpec>;
  readonly devices: ReadonlyMap<string, DeviceSpec>;
}

function get<T>(map: ReadonlyMap<string, T>, id: string, what: string): T {
  const v = map.get(id);
  if (v === undefined) throw new Error(`reproduction needs ${what} "${id}" in the catalog`);
  return v;
}

function result(
  name: string,
  claim: string,
  expected: number,
  obtained: number,
  tolerance: number,
  unit: string,
  how: string,
): Reproduction {
  return { name, claim, expected, obtained, tolerance, unit, pass: Math.abs(obtained - expected) <= tolerance, how };
}

/** 7e9 parameters × 12 B (seed-12 accounting) — the seed uses the nominal 7B, not a real count. */
export function fullFinetuneMemory(): Reproduction {
  const bytes = 7e9 * bytesPerTrainableParam(TRAINING_ACCOUNTINGS['seed-12']);
  return result(
    'seed-full-finetune-memory',
    'full fine-tuning of a 7B model at 16-bit needs ≈ 84 GB (seed §I)',
    84,
    bytes / GB,
    0.84,
    'GB',
    "7e9 params × 12 B (16-bit weights + 16-bit grads + two fp32 Adam moments); Llama-2-7B's real 6.74B parameters give 80.9 GB",
  );
}

/** GPT-3 XL hidden states at the cut for 100 samples × 1024 tokens at fp16. */
export function smashedDataGpt3(catalog: ReproductionCatalog): Reproduction {
  const model = get(catalog.models, 'gpt3-xl', 'model');
  const bytes = 100 * 1024 * activationBytesPerToken(model, 'fp16');
  return result(
    'seed-smashed-data-gpt3',
    'smashed data ≈ 420 MB per round for GPT-3, 100 samples × 1024 tokens (seed §III)',
    419.4,
    bytes / MB,
    4.194,
    'MB',
    '100 × 1024 tokens × d_model 2048 × 2 B (GPT-3 XL, fp16)',
  );
}

/** FasterTransformer's running memory for FP16 GPT 6.7B, batch 64, 512 + 32 tokens. */
export function fasterTransformerMemory(catalog: ReproductionCatalog): Reproduction {
  const model = get(catalog.models, 'gpt-6.7b', 'model');
  const m = inferenceMemory({ ...model, dtype: 'fp16' }, { batch: 64, inputTokens: 512, outputTokens: 32 });
  return result(
    'seed-fastertransformer-gpt-6.7b-memory',
    'FP16 GPT 6.7B, 512 input + 32 output tokens, batch 64 needs ≈ 41.84 GB of running memory (seed §VI-A, FasterTransformer)',
    41.84,
    m.totalBytes / GB,
    4.184,
    'GB',
    `weights ${(m.weightBytes / GB).toFixed(2)} GB + KV ${(m.kvBytes / GB).toFixed(2)} GB (64 × 544 tokens) + work buffers ${(m.workBufferBytes / GB).toFixed(2)} GB (FasterTransformer's prefill buffers)`,
  );
}

/**
 * LLaMA-7B decode on an M1 Max under the "LLM in a Flash" setting: DRAM limited to half the
 * model, so the weights do not fit and every token streams them from flash at ≈ 6 GB/s.
 */
export function llamaOnM1Max(catalog: ReproductionCatalog): Reproduction {
  const model = { ...get(catalog.models, 'llama-7b', 'model'), dtype: 'fp16' as const };
  const base = get(catalog.devices, 'apple-m1-max', 'device');
  const device: DeviceSpec = { ...base, memoryBytes: (totalParams(model) * 2) / 2 };
  const table = layerTable(model, device, { batch: 1, tokens: 1, contextTokens: 1 });
  return result(
    'seed-llama-7b-m1-max-token-time',
    'LLaMA-7B takes ≈ 2.3 s per token on an Apple M1 Max (seed §I, from Alizadeh et al. 2024)',
    2.3,
    table.totals.seconds,
    0.345,
    's/token',
    `roofline with weights streamed from flash: ${(table.totals.weightBytes / GB).toFixed(2)} GB fp16 at ${(device.storageReadBytesPerSecond / GB).toFixed(0)} GB/s, DRAM limited to half the model as in LLM in a Flash`,
  );
}

/** Energy per decoded token of a 7B model at int8 on the `phone` device. */
export function phoneEnergyPerToken(catalog: ReproductionCatalog): { joules: number; seconds: number } {
  const model: ModelSpec = { ...get(catalog.models, 'llama-2-7b', 'model'), dtype: 'int8' };
  const phone = get(catalog.devices, 'phone', 'device');
  const table = layerTable(model, phone, { batch: 1, tokens: 1, contextTokens: 1 });
  return { joules: computeEnergyJoules(phone, table.totals.seconds), seconds: table.totals.seconds };
}

export function phoneJoulesPerToken(catalog: ReproductionCatalog): Reproduction {
  const e = phoneEnergyPerToken(catalog);
  return result(
    'seed-phone-joules-per-token',
    'a 7B model uses 0.7 J per token (seed §I, from MobileLLM)',
    0.7,
    e.joules,
    0.07,
    'J/token',
    `Llama-2-7B at int8 on the phone: ${(e.seconds * 1e3).toFixed(1)} ms/token (memory-bound) × ${get(catalog.devices, 'phone', 'device').activePowerWatts} W`,
  );
}

export function phoneBattery(catalog: ReproductionCatalog): Reproduction {
  const e = phoneEnergyPerToken(catalog);
  const batteryJoules = 50e3;
  return result(
    'seed-phone-battery',
    '700 tokens use ≈ 1% of a ≈ 50 kJ phone battery (seed §I)',
    1.0,
    ((700 * e.joules) / batteryJoules) * 100,
    0.1,
    '% of battery',
    `700 tokens × ${e.joules.toFixed(3)} J / 50 kJ`,
  );
}

/** vLLM's "800 KB" KV cache per OPT-13B token is 800 KiB: 2 × 40 layers × 5120 × 2 B. */
export function optKvPerToken(catalog: ReproductionCatalog): Reproduction {
  const model = get(catalog.models, 'opt-13b', 'model');
  return result(
    'vllm-opt-13b-kv-per-token',
    'OPT-13B holds 800 KB of KV cache per token (Kwon et al. 2023, vLLM) — KiB: 819,200 B',
    800,
    kvBytesPerToken(model, 'fp16') / 1024,
    0.8,
    'KiB',
    '2 (K and V) × 40 layers × 5120 × 2 B',
  );
}

export function llamaLayerParams(catalog: ReproductionCatalog): Reproduction {
  const model = get(catalog.models, 'llama-2-7b', 'model');
  return result(
    'llama-2-7b-layer-params',
    'a Llama-2-7B decoder layer has 202.4M parameters',
    202.4,
    layerParams(model, 1) / 1e6,
    0.1,
    'M params',
    '4·4096² (attention) + 3·4096·11008 (SwiGLU FFN) + 2·4096 (RMSNorm)',
  );
}

/** EdgeShard's 0.754 "GB" per fp32 decoder layer is GiB: 202.4M × 4 B = 809.5 MB = 0.754 GiB. */
export function edgeShardLayerMemory(catalog: ReproductionCatalog): Reproduction {
  const model = get(catalog.models, 'llama-2-7b', 'model');
  return result(
    'edgeshard-layer-memory',
    'EdgeShard profiles 0.754 GB per fp32 Llama-2-7B decoder layer — GiB',
    0.754,
    (layerParams(model, 1) * 4) / GIB,
    0.001,
    'GiB',
    '202.4M params × 4 B / 2^30',
  );
}

export function edgeShardEmbeddingMemory(catalog: ReproductionCatalog): Reproduction {
  const model = get(catalog.models, 'llama-2-7b', 'model');
  return result(
    'edgeshard-embedding-memory',
    'EdgeShard profiles 0.488 GB for the fp32 Llama-2-7B embedding (and head) — GiB',
    0.488,
    (embeddingParams(model) * 4) / GIB,
    0.001,
    'GiB',
    '32000 × 4096 × 4 B / 2^30',
  );
}

/** Every reproduction, seed rows first. */
export function allReproductions(catalog: ReproductionCatalog): Reproduction[] {
  return [
    fullFinetuneMemory(),
    smashedDataGpt3(catalog),
    fasterTransformerMemory(catalog),
    llamaOnM1Max(catalog),
    phoneJoulesPerToken(catalog),
    phoneBattery(catalog),
    optKvPerToken(catalog),
    llamaLayerParams(catalog),
    edgeShardLayerMemory(catalog),
    edgeShardEmbeddingMemory(catalog),
  ];
}
