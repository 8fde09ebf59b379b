/**
 * The seed paper's numbers (REFERENCE-FACTS "Numbers from the seed paper") and the cross-checks,
 * recomputed by the cost model from the catalog. Each test states the arithmetic it expects so a
 * change in the model that moves a number shows which step moved.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.ts';
import { inferenceMemory } from '../../src/cost/inference-memory.ts';
import { layerTable } from '../../src/cost/layers.ts';
import { kvBytesPerToken, totalParams } from '../../src/cost/model.ts';
import {
  allReproductions,
  edgeShardEmbeddingMemory,
  edgeShardLayerMemory,
  fasterTransformerMemory,
  fullFinetuneMemory,
  llamaLayerParams,
  llamaOnM1Max,
  optKvPerToken,
  phoneBattery,
  phoneEnergyPerToken,
  phoneJoulesPerToken,
  smashedDataGpt3,
} from '../../src/cost/reproductions.ts';
import { bytesPerTrainableParam, trainableStateBytes, TRAINING_ACCOUNTINGS } from '../../src/cost/training.ts';
import { GB } from '../../src/cost/units.ts';

const catalog = loadCatalog();

function within(obtained: number, expected: number, relative: number): void {
  expect(Math.abs(obtained - expected) / expected).toBeLessThanOrEqual(relative);
}

describe('seed paper numbers', () => {
  it('84 GB ± 1% for full fine-tuning of 7B at 16-bit (nominal 7e9 × 12 B)', () => {
    expect(bytesPerTrainableParam(TRAINING_ACCOUNTINGS['seed-12'])).toBe(12);
    within(trainableStateBytes(7e9, TRAINING_ACCOUNTINGS['seed-12']) / GB, 84, 0.01);
    const r = fullFinetuneMemory();
    expect(r.pass).toBe(true);
    // The real Llama-2-7B count (6,738,415,616) under the same accounting is 80.86 GB: the seed's
    // figure uses the nominal size, which is why the golden test uses 7e9.
    const llama = catalog.models.get('llama-2-7b');
    expect(llama).toBeDefined();
    if (llama)
      expect(trainableStateBytes(totalParams(llama), TRAINING_ACCOUNTINGS['seed-12']) / GB).toBeCloseTo(80.861, 3);
    // Mixed precision with an fp32 master copy costs a third more.
    expect(trainableStateBytes(7e9, TRAINING_ACCOUNTINGS['mixed-16']) / GB).toBeCloseTo(112, 6);
  });

  it('419.4 MB ± 1% of smashed data for GPT-3 XL, 100 × 1024 tokens at fp16', () => {
    const r = smashedDataGpt3(catalog);
    expect(r.obtained).toBeCloseTo((100 * 1024 * 2048 * 2) / 1e6, 9);
    within(r.obtained, 419.4, 0.01);
    expect(r.pass).toBe(true);
  });

  it('41.84 GB ± 10% for FP16 GPT 6.7B, batch 64, 512 + 32 tokens (FasterTransformer)', () => {
    const model = catalog.models.get('gpt-6.7b');
    expect(model).toBeDefined();
    if (!model) return;
    const m = inferenceMemory(model, { batch: 64, inputTokens: 512, outputTokens: 32 });
    // REFERENCE-FACTS: weights ≈ 13.4 GB, KV 2·32·4096·2 B per token × 64 × 544 ≈ 18.3 GB.
    within(m.weightBytes / GB, 13.4, 0.01);
    expect(m.kvBytes).toBe(2 * 32 * 4096 * 2 * 64 * 544);
    // Work buffers are what is left: positive, and far below the KV cache at this shape.
    expect(m.workBufferBytes).toBeGreaterThan(0);
    expect(m.workBufferBytes).toBeLessThan(m.kvBytes);
    within(m.totalBytes / GB, 41.84, 0.1);
    expect(fasterTransformerMemory(catalog).pass).toBe(true);
  });

  it('work buffers grow with batch and prompt, not with output length', () => {
    const model = catalog.models.get('gpt-6.7b');
    if (!model) throw new Error('gpt-6.7b');
    const base = inferenceMemory(model, { batch: 64, inputTokens: 512, outputTokens: 32 });
    expect(inferenceMemory(model, { batch: 32, inputTokens: 512, outputTokens: 32 }).workBufferBytes).toBeCloseTo(
      base.workBufferBytes / 2,
      0,
    );
    expect(inferenceMemory(model, { batch: 64, inputTokens: 512, outputTokens: 64 }).workBufferBytes).toBe(
      base.workBufferBytes,
    );
    expect(inferenceMemory(model, { batch: 64, inputTokens: 1024, outputTokens: 32 }).workBufferBytes).toBeGreaterThan(
      2 * base.workBufferBytes,
    );
  });

  it('2.3 s/token ± 15% for LLaMA-7B on an M1 Max streaming weights from flash', () => {
    const r = llamaOnM1Max(catalog);
    within(r.obtained, 2.3, 0.15);
    expect(r.pass).toBe(true);
    // With the whole 32 GB of DRAM the weights fit and decode is bandwidth-bound: ≈ 40 ms.
    const model = catalog.models.get('llama-7b');
    const device = catalog.devices.get('apple-m1-max');
    if (!model || !device) throw new Error('catalog');
    const inMemory = layerTable(model, device, { batch: 1, tokens: 1, contextTokens: 1 });
    expect(inMemory.streamsFromStorage).toBe(false);
    expect(inMemory.totals.seconds).toBeLessThan(0.05);
    // Streaming is what makes the 2.3 s: the time is the streamed bytes over the flash rate.
    expect(r.obtained).toBeGreaterThan(40 * inMemory.totals.seconds);
  });

  it('1% ± 0.1 of a 50 kJ battery for 700 tokens at 0.7 J/token (7B int8 on the phone)', () => {
    const e = phoneEnergyPerToken(catalog);
    // Memory-bound decode: ≈ 6.6 GB of int8 weights at 0.9 × 51.2 GB/s, at 5 W.
    expect(e.seconds).toBeGreaterThan(0.13);
    expect(e.seconds).toBeLessThan(0.16);
    within(e.joules, 0.7, 0.1);
    expect(phoneJoulesPerToken(catalog).pass).toBe(true);
    const b = phoneBattery(catalog);
    expect(Math.abs(b.obtained - 1)).toBeLessThanOrEqual(0.1);
    expect(b.pass).toBe(true);
  });
});

describe('cross-checks', () => {
  it('OPT-13B: 800 KiB (819,200 B) of KV cache per token — vLLM\'s "KB" is KiB', () => {
    const opt = catalog.models.get('opt-13b');
    if (!opt) throw new Error('opt-13b');
    expect(kvBytesPerToken(opt)).toBe(819_200);
    expect(optKvPerToken(catalog).pass).toBe(true);
  });

  it('Llama-2-7B: 202.4M parameters per decoder layer', () => {
    const r = llamaLayerParams(catalog);
    expect(r.obtained * 1e6).toBe(4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096);
    expect(r.pass).toBe(true);
  });

  it('EdgeShard: 0.754 GiB per fp32 decoder layer and 0.488 GiB for the embedding', () => {
    expect(edgeShardLayerMemory(catalog).pass).toBe(true);
    expect(edgeShardEmbeddingMemory(catalog).pass).toBe(true);
    // Read as decimal GB the figure would be 0.81, not 0.754.
    expect((edgeShardLayerMemory(catalog).obtained * 2 ** 30) / 1e9).toBeCloseTo(0.8095, 3);
  });

  it('every reproduction passes and reports its tolerance in its own unit', () => {
    const all = allReproductions(catalog);
    expect(all.length).toBe(10);
    expect(new Set(all.map((r) => r.name)).size).toBe(all.length);
    for (const r of all) {
      expect(r.pass, `${r.name}: ${r.obtained} vs ${r.expected} ± ${r.tolerance} ${r.unit}`).toBe(true);
      expect(r.tolerance).toBeGreaterThan(0);
      expect(r.claim.length).toBeGreaterThan(10);
    }
  });

  it('a reproduction fails when the catalog moves the number', () => {
    const phone = catalog.devices.get('phone');
    if (!phone) throw new Error('phone');
    const hot = { ...catalog, devices: new Map([...catalog.devices, ['phone', { ...phone, activePowerWatts: 10 }]]) };
    expect(phoneBattery(hot).pass).toBe(false);
  });
});
