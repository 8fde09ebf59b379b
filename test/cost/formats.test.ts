/**
 * Number formats per tensor class (issue 15 item 1): quantized weights with their scales, 16-bit KV
 * and activations by default, embedding and head as runtimes store them, datasets/quantization.json
 * in step with src/cost/units.ts, and the catalog's weightDtype / kvDtype fields.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASETS_DIR, loadCatalog, resolveModel, resolveRuntime } from '../../src/catalog/index.ts';
import { InputError } from '../../src/errors.ts';
import {
  activationBytesPerToken,
  embeddingWeightBytes,
  headWeightBytes,
  kvBytesPerToken,
  modelWeightBytes,
  totalParams,
} from '../../src/cost/model.ts';
import { bytesPerValue, DTYPES, weightBitsPerParam } from '../../src/cost/units.ts';

const catalog = loadCatalog();
const llama3 = catalog.models.get('llama-3-8b');
if (!llama3) throw new Error('catalog lacks llama-3-8b');

describe('number formats', () => {
  it('datasets/quantization.json states the same bits as units.ts, for every format', () => {
    const doc = JSON.parse(readFileSync(join(DATASETS_DIR, 'quantization.json'), 'utf8')) as {
      formats: Array<{ id: string; bitsPerValue: number; weightBitsPerParam: number; source: string }>;
    };
    expect(doc.formats.map((f) => f.id).sort()).toEqual([...DTYPES].sort());
    for (const f of doc.formats) {
      const d = DTYPES.find((x) => x === f.id);
      if (d === undefined) throw new Error(f.id);
      expect(bytesPerValue(d) * 8, f.id).toBeCloseTo(f.bitsPerValue, 10);
      expect(weightBitsPerParam(d), f.id).toBeCloseTo(f.weightBitsPerParam, 10);
      expect(f.source.length).toBeGreaterThan(10);
    }
  });

  it("int4 Llama-3-8B keeps a 16-bit KV cache: 24.16 GB for 30 users of 4096 + 2048 tokens (issue 15)", () => {
    const m = { ...llama3, dtype: 'int4' as const };
    expect(30 * 6144 * kvBytesPerToken(m)).toBe(24_159_191_040);
    // and 16-bit smashed data: a 4096-token prompt over a 10 Mbit/s uplink takes 26.84 s (+ latency)
    expect((4096 * activationBytesPerToken(m) * 8) / 10e6).toBeCloseTo(26.8435, 3);
    // fp8 KV only when asked
    expect(kvBytesPerToken({ ...m, kvDtype: 'fp8' })).toBe(kvBytesPerToken(m) / 2);
    // an fp32 model (EdgeShard) caches in fp32
    expect(kvBytesPerToken({ ...llama3, dtype: 'fp32' })).toBe(2 * kvBytesPerToken(llama3));
  });

  it('AWQ/GPTQ weights carry group-128 scales and keep embedding and head in 16 bits', () => {
    const m = { ...llama3, dtype: 'int4' as const };
    const emb = 128256 * 4096;
    expect(embeddingWeightBytes(m)).toBe(emb * 2);
    expect(headWeightBytes(m)).toBe(4096 * 2 + emb * 2);
    const decoder = totalParams(m) - 2 * emb - 4096;
    expect(modelWeightBytes(m)).toBeCloseTo(decoder * (4.15625 / 8) + 2 * emb * 2 + 4096 * 2, -1);
    // A plain 0.5 B/param count would be 8% light for Llama-3-8B.
    expect(modelWeightBytes(m) / (totalParams(m) * 0.5)).toBeGreaterThan(1.25);
  });

  it("GGUF keeps the output matrix in Q6_K and writes a tied embedding twice", () => {
    const qwen = catalog.models.get('qwen2.5-3b');
    if (!qwen) throw new Error('qwen2.5-3b');
    const m = { ...qwen, dtype: 'q4_0' as const };
    const matrix = qwen.vocabSize * qwen.hiddenSize;
    expect(headWeightBytes(m)).toBeCloseTo(qwen.hiddenSize * 2 + (matrix * 6.5625) / 8, 3);
    expect(headWeightBytes({ ...qwen, dtype: 'bf16' })).toBe(qwen.hiddenSize * 2);
  });

  it('a problem may write weightDtype and kvDtype; contradictions and unknown formats are InputErrors', () => {
    const m = resolveModel({ id: 'llama-3-8b', weightDtype: 'int4', kvDtype: 'fp8' }, '$.model');
    expect(m.dtype).toBe('int4');
    expect(m.kvDtype).toBe('fp8');
    expect(() => resolveModel({ id: 'llama-3-8b', weightDtype: 'int4', dtype: 'int8' }, '$.model')).toThrow(
      /\$\.model\.weightDtype.*contradicts/,
    );
    expect(() => resolveModel({ id: 'llama-3-8b', kvDtype: 'int3' }, '$.model')).toThrow(InputError);
  });

  it('every runtime id of the issue is in datasets/runtimes.json; an unknown one gets close matches', () => {
    for (const id of ['vllm', 'tensorrt-llm', 'fastertransformer', 'llama.cpp', 'transformers', 'pytorch-training'])
      expect(catalog.runtimes.has(id), id).toBe(true);
    for (const r of catalog.runtimes.values())
      for (const field of ['gpuOverheadBytes', 'attention', 'kvAllocation', 'memoryUtilization'])
        expect(r.sources[field], `${r.id}.${field}`).toBeTruthy();
    expect(catalog.runtimes.get('vllm')?.kvBlockTokens).toBe(16);
    expect(() => resolveRuntime('vlm', '$.server.runtime')).toThrow(/\$\.server\.runtime: unknown runtime "vlm"; did you mean "vllm"/);
  });
});
