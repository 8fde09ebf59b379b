/**
 * Models from Hugging Face `config.json` files (issue 18): the architecture fields a checkpoint ships with, turned into
 * the inline model fields the catalog resolves (layers, hidden size, heads, KV heads, head dim, FFN, vocabulary,
 * context, MoE, MLA, dtype), so that a model not in the catalog need not be typed in by hand.
 *
 * Supported `model_type`s: llama (Llama 1/2/3/3.1/3.2), mistral, mixtral, qwen2, qwen2_moe, gemma, gemma2, phi3, gpt2,
 * opt, gpt_neox, deepseek_v2, deepseek_v3. Anything else is refused with the fields edgeplan would need.
 *
 * The cost model's ModelSpec cannot hold a few small tensors some architectures carry: Qwen2's q/k/v biases (no o or
 * FFN bias), Gemma-2's two extra norms per layer, OPT's two offset rows of learned positions, DeepSeek-V3's per-expert
 * routing-bias vector, and DeepSeek's multi-token-prediction module (not part of the served model). `hfParameterCount`
 * adds them back so that it equals the released checkpoint; the cost model sees the rest (below 0.01 % of the total
 * for every supported model; docs/huggingface.md).
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { totalParams, type ModelSpec } from '../cost/model.ts';
import type { DType } from '../cost/units.ts';

export const HF_MODEL_TYPES = [
  'llama',
  'mistral',
  'mixtral',
  'qwen2',
  'qwen2_moe',
  'gemma',
  'gemma2',
  'phi3',
  'gpt2',
  'opt',
  'gpt_neox',
  'deepseek_v2',
  'deepseek_v3',
] as const;
export type HfModelType = (typeof HF_MODEL_TYPES)[number];

/** The model fields a problem file may write inline (catalog `modelRefSchema`), from a config: a ModelSpec without the
 * optional KV / activation / adapter formats, which a config.json does not state. */
export type HfModelFields = Omit<ModelSpec, 'kvDtype' | 'activationDtype' | 'adapterDtype'>;

type Config = Readonly<Record<string, unknown>>;

/** Fields edgeplan reads, by architecture family: what an unknown model_type would need to provide. */
const NEEDED = [
  'num_hidden_layers',
  'hidden_size',
  'num_attention_heads',
  'num_key_value_heads',
  'intermediate_size',
  'vocab_size',
  'max_position_embeddings',
  'tie_word_embeddings',
  'torch_dtype',
];

const DTYPE_OF: Readonly<Record<string, DType>> = { float32: 'fp32', float16: 'fp16', bfloat16: 'bf16' };

function reader(config: Config, path: string) {
  const at = (key: string): string => `${path}.${key}`;
  const int = (key: string, fallback?: number): number => {
    const value = config[key];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      throw new InputError(at(key), `required field of a ${String(config.model_type)} config.json is missing`);
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new InputError(at(key), `must be a non-negative whole number, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const value = config[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean')
      throw new InputError(at(key), `must be true or false, got ${JSON.stringify(value)}`);
    return value;
  };
  return { int, bool, at };
}

/** A config.json object → inline model fields. `label` names the model (file path or repository). */
export function modelFromHfConfig(config: unknown, path: string, label: string): HfModelFields {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new InputError(path, 'a Hugging Face config must be a JSON object (the contents of config.json)');
  }
  const c = config as Config;
  const type = c.model_type;
  if (typeof type !== 'string' || !(HF_MODEL_TYPES as readonly string[]).includes(type)) {
    const missing = NEEDED.filter((k) => c[k] === undefined);
    throw new InputError(
      `${path}.model_type`,
      `model_type ${JSON.stringify(type ?? null)} is not supported (supported: ${HF_MODEL_TYPES.join(', ')}); ` +
        `write the model inline with layers, hiddenSize, heads, kvHeads, headDim, ffnHiddenSize, ffnKind, vocabSize, ` +
        `maxContext` +
        (missing.length > 0 ? ` (this config lacks ${missing.join(', ')})` : ''),
    );
  }
  const { int, bool } = reader(c, path);
  const dtypeText = typeof c.torch_dtype === 'string' ? c.torch_dtype : 'bfloat16';
  const dtype = DTYPE_OF[dtypeText] ?? 'bf16';
  // A checkpoint's config.json sits in a folder named after the model (the repository's last part).
  const fromPath =
    basename(label) === 'config.json' ? basename(dirname(label)) || label : label.replace(/\.json$/i, '');
  const name = typeof c._name_or_path === 'string' && c._name_or_path !== '' ? c._name_or_path : fromPath;
  const base = { id: `hf:${label}`, name, source: `Hugging Face config.json (${label}), model_type ${type}`, dtype };

  if (type === 'gpt2') {
    const hidden = int('n_embd');
    return {
      ...base,
      layers: int('n_layer'),
      hiddenSize: hidden,
      heads: int('n_head'),
      kvHeads: int('n_head'),
      headDim: hidden / int('n_head'),
      ffnHiddenSize: int('n_inner', 4 * hidden),
      ffnKind: 'mlp',
      vocabSize: int('vocab_size'),
      maxContext: int('n_positions'),
      positionEmbedding: 'learned',
      bias: true,
      tiedEmbeddings: bool('tie_word_embeddings', true),
      dtype: DTYPE_OF[dtypeText] ?? 'fp32',
    };
  }
  if (type === 'opt') {
    const hidden = int('hidden_size');
    const projection = int('word_embed_proj_dim', hidden);
    if (projection !== hidden) {
      throw new InputError(
        `${path}.word_embed_proj_dim`,
        `${projection} differs from hidden_size ${hidden} (OPT-350m's project_in/out): ` +
          'not expressible in the cost model',
      );
    }
    return {
      ...base,
      layers: int('num_hidden_layers'),
      hiddenSize: hidden,
      heads: int('num_attention_heads'),
      kvHeads: int('num_attention_heads'),
      headDim: hidden / int('num_attention_heads'),
      ffnHiddenSize: int('ffn_dim'),
      ffnKind: 'mlp',
      vocabSize: int('vocab_size'),
      maxContext: int('max_position_embeddings'),
      positionEmbedding: 'learned',
      bias: true,
      tiedEmbeddings: bool('tie_word_embeddings', true),
      dtype: DTYPE_OF[dtypeText] ?? 'fp16',
    };
  }

  const hidden = int('hidden_size');
  const heads = int('num_attention_heads');
  const common = {
    ...base,
    layers: int('num_hidden_layers'),
    hiddenSize: hidden,
    heads,
    kvHeads: int('num_key_value_heads', heads),
    headDim: int('head_dim', hidden / heads),
    vocabSize: int('vocab_size'),
    maxContext: int('max_position_embeddings'),
  };
  if (type === 'gpt_neox') {
    return {
      ...common,
      kvHeads: heads,
      headDim: hidden / heads,
      ffnHiddenSize: int('intermediate_size'),
      ffnKind: 'mlp',
      positionEmbedding: 'rotary',
      bias: true,
      tiedEmbeddings: bool('tie_word_embeddings', false),
    };
  }
  const gated = {
    ...common,
    ffnKind: 'gated' as const,
    positionEmbedding: 'rotary' as const,
    bias: false,
  };
  switch (type) {
    case 'llama':
    case 'mistral':
    case 'qwen2':
    case 'phi3':
      return { ...gated, ffnHiddenSize: int('intermediate_size'), tiedEmbeddings: bool('tie_word_embeddings', false) };
    case 'gemma':
    case 'gemma2':
      return { ...gated, ffnHiddenSize: int('intermediate_size'), tiedEmbeddings: bool('tie_word_embeddings', true) };
    case 'mixtral':
      return {
        ...gated,
        ffnHiddenSize: int('intermediate_size'),
        tiedEmbeddings: bool('tie_word_embeddings', false),
        moe: {
          experts: int('num_local_experts'),
          topK: int('num_experts_per_tok'),
          sharedExperts: 0,
          expertFfnHiddenSize: int('intermediate_size'),
          denseLayers: 0,
        },
      };
    case 'qwen2_moe': {
      const expert = int('moe_intermediate_size');
      const shared = int('shared_expert_intermediate_size', 0);
      if (shared % expert !== 0) {
        throw new InputError(
          `${path}.shared_expert_intermediate_size`,
          `${shared} is not a multiple of moe_intermediate_size ${expert}: the cost model's shared experts have ` +
            "the routed experts' size",
        );
      }
      if (int('decoder_sparse_step', 1) !== 1 || (Array.isArray(c.mlp_only_layers) && c.mlp_only_layers.length > 0)) {
        throw new InputError(
          `${path}.decoder_sparse_step`,
          'only every-layer MoE (step 1, no mlp_only_layers) is supported',
        );
      }
      return {
        ...gated,
        ffnHiddenSize: int('intermediate_size'),
        tiedEmbeddings: bool('tie_word_embeddings', false),
        moe: {
          experts: int('num_experts'),
          topK: int('num_experts_per_tok'),
          sharedExperts: shared / expert,
          expertFfnHiddenSize: expert,
          denseLayers: 0,
        },
      };
    }
    case 'deepseek_v2':
    case 'deepseek_v3': {
      if (c.q_lora_rank === null || c.q_lora_rank === undefined) {
        throw new InputError(
          `${path}.q_lora_rank`,
          "null (DeepSeek-V2-Lite: uncompressed queries) is not expressible in the cost model's MLA",
        );
      }
      if (int('moe_layer_freq', 1) !== 1) {
        throw new InputError(`${path}.moe_layer_freq`, 'only every-layer MoE after the dense layers is supported');
      }
      return {
        ...gated,
        ffnHiddenSize: int('intermediate_size'),
        tiedEmbeddings: bool('tie_word_embeddings', false),
        headDim: int('v_head_dim'),
        moe: {
          experts: int('n_routed_experts'),
          topK: int('num_experts_per_tok'),
          sharedExperts: int('n_shared_experts', 0),
          expertFfnHiddenSize: int('moe_intermediate_size'),
          denseLayers: int('first_k_dense_replace', 0),
        },
        mla: {
          qLoraRank: int('q_lora_rank'),
          kvLoraRank: int('kv_lora_rank'),
          qkNopeHeadDim: int('qk_nope_head_dim'),
          qkRopeHeadDim: int('qk_rope_head_dim'),
          vHeadDim: int('v_head_dim'),
        },
      };
    }
  }
  throw new InputError(`${path}.model_type`, `model_type ${type} has no reader`);
}

/**
 * The parameter count of the released checkpoint: the cost model's count of `spec` plus the small tensors it cannot
 * hold (file comment). DeepSeek's multi-token-prediction layers (`num_nextn_predict_layers`) are not counted: they
 * are not part of the served model, and the published totals (671B for V3) exclude them.
 */
export function hfParameterCount(config: unknown, spec: ModelSpec): number {
  const c = config as Config;
  const layers = spec.layers;
  let extra = 0;
  switch (c.model_type) {
    case 'qwen2':
      extra = layers * (spec.heads * spec.headDim + 2 * spec.kvHeads * spec.headDim);
      break;
    case 'qwen2_moe': {
      // q/k/v biases and the shared expert's sigmoid gate (hidden → 1) per layer.
      extra = layers * (spec.heads * spec.headDim + 2 * spec.kvHeads * spec.headDim + spec.hiddenSize);
      break;
    }
    case 'gemma2':
      extra = layers * 2 * spec.hiddenSize;
      break;
    case 'opt':
      extra = 2 * spec.hiddenSize;
      break;
    case 'deepseek_v3':
      extra = (layers - (spec.moe?.denseLayers ?? 0)) * (spec.moe?.experts ?? 0);
      break;
    default:
      extra = 0;
  }
  return totalParams(spec) + extra;
}

/**
 * Parsed config files by absolute path, with the modification time and size they had when read. A problem resolves
 * its model many times in one run (parse, warm start, every sweep point, compare's rows, the bench's repeats): the
 * file is read and parsed once, and read again only when it changed on disk (edited: another mtime or size).
 * Values are deep-frozen, since every caller shares them.
 */
const configCache = new Map<string, { readonly mtimeMs: number; readonly size: number; readonly config: unknown }>();

function deepFreeze(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Reads a config.json file (path relative to `baseDir`), once while it is unchanged (configCache); one-line errors. */
export function readHfConfigFile(file: string, baseDir: string, path: string): unknown {
  const full = resolve(baseDir, file);
  const unreadable = (error: unknown): InputError => {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    return new InputError(path, `${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code})`}`);
  };
  let stamp: { mtimeMs: number; size: number };
  try {
    const stat = statSync(full);
    stamp = { mtimeMs: stat.mtimeMs, size: stat.size };
  } catch (error) {
    throw unreadable(error);
  }
  const cached = configCache.get(full);
  if (cached !== undefined && cached.mtimeMs === stamp.mtimeMs && cached.size === stamp.size) return cached.config;
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (error) {
    throw unreadable(error);
  }
  let config: unknown;
  try {
    config = deepFreeze(JSON.parse(text) as unknown);
  } catch {
    throw new InputError(path, `${file}: not valid JSON (a Hugging Face config.json is expected)`);
  }
  configCache.set(full, { ...stamp, config });
  return config;
}

/** `hf:path/to/config.json` (relative to `baseDir`) → inline model fields. */
export function modelFromHfReference(ref: string, path: string, baseDir = process.cwd()): HfModelFields {
  const file = ref.slice('hf:'.length);
  return modelFromHfConfig(readHfConfigFile(file, baseDir, path), path, file);
}

/**
 * A problem's JSON with every `{"huggingFace": <file or config object>, …overrides}` model replaced by the inline
 * model fields (overrides such as dtype win) and every `"hf:<file>"` made absolute against `baseDir` (the problem
 * file's directory). Returns the input unchanged when it has neither.
 */
export function expandHuggingFace(raw: unknown, baseDir: string, path = '$'): unknown {
  if (Array.isArray(raw)) return raw.map((item, i) => expandHuggingFace(item, baseDir, `${path}[${i}]`));
  if (typeof raw !== 'object' || raw === null) return raw;
  const record = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // defineProperty: a key named __proto__ stays an own key, as JSON.parse made it.
  const set = (key: string, value: unknown): void => {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  };
  for (const [key, value] of Object.entries(record)) {
    const at = `${path}.${key}`;
    if (key === 'model' && typeof value === 'string' && value.startsWith('hf:')) {
      set(key, `hf:${resolve(baseDir, value.slice(3))}`);
    } else if (key === 'model' && typeof value === 'object' && value !== null && 'huggingFace' in value) {
      const { huggingFace, ...overrides } = value as Record<string, unknown>;
      const config =
        typeof huggingFace === 'string' ? readHfConfigFile(huggingFace, baseDir, `${at}.huggingFace`) : huggingFace;
      const label = typeof huggingFace === 'string' ? huggingFace : 'inline config';
      set(key, { ...modelFromHfConfig(config, `${at}.huggingFace`, label), ...overrides });
    } else set(key, expandHuggingFace(value, baseDir, at));
  }
  return out;
}
