/**
 * Hugging Face config.json import (issue 18): the configs of released checkpoints (fields as published in each
 * repository's config.json) give the published parameter totals exactly, and the cost model's count within 0.01 %.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandHuggingFace, hfParameterCount, modelFromHfConfig } from '../../src/catalog/hf.ts';
import { resolveModel } from '../../src/catalog/index.ts';
import { totalParams } from '../../src/cost/model.ts';
import { InputError, parseProblem } from '../../src/api.ts';

const llama = { model_type: 'llama', torch_dtype: 'float16', rms_norm_eps: 1e-5 };
/** [config, published total, source of the total]. */
const CHECKPOINTS: Record<string, [Record<string, unknown>, number]> = {
  // Totals: the safetensors parameter counts Hugging Face shows on each model page.
  'gpt2 (124M)': [
    { model_type: 'gpt2', n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_positions: 1024, n_inner: null },
    124_439_808,
  ],
  'Llama-2-7b': [
    {
      ...llama,
      hidden_size: 4096,
      intermediate_size: 11008,
      num_attention_heads: 32,
      num_key_value_heads: 32,
      num_hidden_layers: 32,
      vocab_size: 32000,
      max_position_embeddings: 4096,
      tie_word_embeddings: false,
    },
    6_738_415_616,
  ],
  'Meta-Llama-3-8B': [
    {
      ...llama,
      torch_dtype: 'bfloat16',
      hidden_size: 4096,
      intermediate_size: 14336,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      num_hidden_layers: 32,
      vocab_size: 128256,
      max_position_embeddings: 8192,
      tie_word_embeddings: false,
    },
    8_030_261_248,
  ],
  'Llama-3.2-1B': [
    {
      ...llama,
      torch_dtype: 'bfloat16',
      hidden_size: 2048,
      intermediate_size: 8192,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      head_dim: 64,
      num_hidden_layers: 16,
      vocab_size: 128256,
      max_position_embeddings: 131072,
      tie_word_embeddings: true,
    },
    1_235_814_400,
  ],
  'Mistral-7B-v0.1': [
    {
      model_type: 'mistral',
      torch_dtype: 'bfloat16',
      hidden_size: 4096,
      intermediate_size: 14336,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      num_hidden_layers: 32,
      vocab_size: 32000,
      max_position_embeddings: 32768,
      tie_word_embeddings: false,
    },
    7_241_732_096,
  ],
  'Mixtral-8x7B-v0.1': [
    {
      model_type: 'mixtral',
      torch_dtype: 'bfloat16',
      hidden_size: 4096,
      intermediate_size: 14336,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      num_hidden_layers: 32,
      vocab_size: 32000,
      max_position_embeddings: 32768,
      num_local_experts: 8,
      num_experts_per_tok: 2,
      tie_word_embeddings: false,
    },
    46_702_792_704,
  ],
  'Qwen2.5-7B': [
    {
      model_type: 'qwen2',
      torch_dtype: 'bfloat16',
      hidden_size: 3584,
      intermediate_size: 18944,
      num_attention_heads: 28,
      num_key_value_heads: 4,
      num_hidden_layers: 28,
      vocab_size: 152064,
      max_position_embeddings: 131072,
      tie_word_embeddings: false,
    },
    7_615_616_512,
  ],
  'gemma-7b': [
    {
      model_type: 'gemma',
      torch_dtype: 'bfloat16',
      hidden_size: 3072,
      intermediate_size: 24576,
      num_attention_heads: 16,
      num_key_value_heads: 16,
      head_dim: 256,
      num_hidden_layers: 28,
      vocab_size: 256000,
      max_position_embeddings: 8192,
    },
    8_537_680_896,
  ],
  'Phi-3-mini-4k-instruct': [
    {
      model_type: 'phi3',
      torch_dtype: 'bfloat16',
      hidden_size: 3072,
      intermediate_size: 8192,
      num_attention_heads: 32,
      num_key_value_heads: 32,
      num_hidden_layers: 32,
      vocab_size: 32064,
      max_position_embeddings: 4096,
      tie_word_embeddings: false,
    },
    3_821_079_552,
  ],
  'opt-125m': [
    {
      model_type: 'opt',
      torch_dtype: 'float16',
      hidden_size: 768,
      ffn_dim: 3072,
      num_attention_heads: 12,
      num_hidden_layers: 12,
      vocab_size: 50272,
      max_position_embeddings: 2048,
      word_embed_proj_dim: 768,
    },
    125_239_296,
  ],
  'pythia-160m (GPT-NeoX)': [
    {
      model_type: 'gpt_neox',
      torch_dtype: 'float16',
      hidden_size: 768,
      intermediate_size: 3072,
      num_attention_heads: 12,
      num_hidden_layers: 12,
      vocab_size: 50304,
      max_position_embeddings: 2048,
      tie_word_embeddings: false,
    },
    162_322_944,
  ],
};

describe('Hugging Face configs give the released checkpoints’ parameter counts', () => {
  for (const [name, [config, published]] of Object.entries(CHECKPOINTS)) {
    it(`${name}: ${published.toLocaleString('en')}`, () => {
      const spec = resolveModel(modelFromHfConfig(config, '$.model.huggingFace', name), '$.model');
      expect(hfParameterCount(config, spec)).toBe(published);
      expect(Math.abs(totalParams(spec) - published) / published).toBeLessThan(1e-4);
    });
  }

  it('DeepSeek-V3 (MLA + 256 routed, 1 shared expert, 3 dense layers): 671B without the MTP module', () => {
    const config = {
      model_type: 'deepseek_v3',
      torch_dtype: 'bfloat16',
      hidden_size: 7168,
      intermediate_size: 18432,
      moe_intermediate_size: 2048,
      num_hidden_layers: 61,
      num_attention_heads: 128,
      num_key_value_heads: 128,
      n_shared_experts: 1,
      n_routed_experts: 256,
      num_experts_per_tok: 8,
      first_k_dense_replace: 3,
      moe_layer_freq: 1,
      q_lora_rank: 1536,
      kv_lora_rank: 512,
      qk_nope_head_dim: 128,
      qk_rope_head_dim: 64,
      v_head_dim: 128,
      vocab_size: 129280,
      max_position_embeddings: 163840,
      tie_word_embeddings: false,
      num_nextn_predict_layers: 1,
    };
    const spec = resolveModel(modelFromHfConfig(config, '$', 'DeepSeek-V3'), '$.model');
    expect(spec.mla?.kvLoraRank).toBe(512);
    expect(spec.moe).toMatchObject({ experts: 256, topK: 8, sharedExperts: 1, denseLayers: 3 });
    // The technical report's 671B total (the 685B of the repository includes the 14B MTP module).
    expect(hfParameterCount(config, spec) / 1e9).toBeCloseTo(671, 0);
  });

  it('Qwen2-MoE: the shared expert becomes shared experts of the routed size', () => {
    const fields = modelFromHfConfig(
      {
        model_type: 'qwen2_moe',
        hidden_size: 2048,
        intermediate_size: 5632,
        moe_intermediate_size: 1408,
        shared_expert_intermediate_size: 5632,
        num_experts: 60,
        num_experts_per_tok: 4,
        num_attention_heads: 16,
        num_key_value_heads: 16,
        num_hidden_layers: 24,
        vocab_size: 151936,
        max_position_embeddings: 8192,
      },
      '$',
      'Qwen1.5-MoE-A2.7B',
    );
    expect(fields.moe).toMatchObject({ experts: 60, topK: 4, sharedExperts: 4, expertFfnHiddenSize: 1408 });
  });
});

describe('bad configs and file references', () => {
  it('an unknown model_type names the supported types and the missing fields', () => {
    try {
      modelFromHfConfig({ model_type: 'mamba', hidden_size: 768 }, '$.model.huggingFace', 'x');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).path).toBe('$.model.huggingFace.model_type');
      expect((error as InputError).rule).toMatch(/"mamba" is not supported \(supported: llama, mistral/);
      expect((error as InputError).rule).toMatch(/lacks num_hidden_layers, num_attention_heads/);
    }
  });

  it('a missing field is named with its path', () => {
    expect(() => modelFromHfConfig({ model_type: 'llama', hidden_size: 4096 }, '$.m', 'x')).toThrow(
      /num_attention_heads/,
    );
  });

  it('a problem file names its config relative to itself; the CLI path expands it before parsing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hf-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(CHECKPOINTS['Llama-2-7b'][0]));
    const raw = {
      kind: 'pipeline-placement',
      model: { huggingFace: 'config.json', dtype: 'fp16' },
      mode: { kind: 'inference-latency', promptTokens: 128 },
      servers: [
        { name: 'a', device: 'rtx-3090' },
        { name: 'b', device: 'a100-80gb' },
      ],
      links: { default: 'edge-lan' },
    };
    const expanded = expandHuggingFace(raw, dir) as { model: { layers: number } };
    expect(expanded.model.layers).toBe(32);
    const problem = parseProblem(expanded);
    expect((problem.problem as { model: { layers: number } }).model.layers).toBe(32);
    expect(resolveModel(`hf:${join(dir, 'config.json')}`, '$.model').hiddenSize).toBe(4096);
  });
});
