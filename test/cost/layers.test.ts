/** The per-layer table and the contiguous-range helper that families and `edgeplan profile` share. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findProfile, loadCatalog } from '../../src/catalog/index.ts';
import type { DeviceSpec } from '../../src/cost/device.ts';
import {
  expectedExpertsTouched,
  layerTable,
  meanAttendedContext,
  rangeCost,
  rangeSeconds,
  rowWork,
} from '../../src/cost/layers.ts';
import { headWeightBytes, kvBytesPerTokenPerLayer, totalParams, type ModelSpec } from '../../src/cost/model.ts';

const catalog = loadCatalog();
function model(id: string): ModelSpec {
  const m = catalog.models.get(id);
  if (!m) throw new Error(id);
  return m;
}
function device(id: string): DeviceSpec {
  const d = catalog.devices.get(id);
  if (!d) throw new Error(id);
  return d;
}

describe('layerTable', () => {
  const llama = model('llama-2-7b');
  const rtx = device('rtx-3090');

  it('has embedding, L decoder rows and the head, and totals that match the model', () => {
    const t = layerTable(llama, rtx, { batch: 1, tokens: 1, contextTokens: 128 });
    expect(t.rows.length).toBe(llama.layers + 2);
    expect(t.rows[0].kind).toBe('embedding');
    expect(t.rows[llama.layers + 1].kind).toBe('head');
    expect(t.totals.params).toBe(totalParams(llama));
    expect(t.totals.weightBytes).toBe(totalParams(llama) * 2);
    expect(t.totals.kvBytes).toBe(llama.layers * 128 * kvBytesPerTokenPerLayer(llama));
    expect(t.totals.memoryBytes).toBe(t.totals.weightBytes + t.totals.kvBytes);
    expect(t.totals.seconds).toBeCloseTo(
      t.rows.reduce((s, r) => s + r.seconds, 0),
      12,
    );
  });

  it('decode at batch 1 is memory-bound on a GPU and prefill of a long prompt is compute-bound', () => {
    const decode = layerTable(llama, rtx, { batch: 1, tokens: 1, contextTokens: 1 });
    expect(decode.rows[1].roofline.bound).toBe('memory');
    // One decode step reads ≈ 13.2 GB of decoder + head weights at 0.8 × 936 GB/s ≈ 18 ms.
    expect(decode.totals.seconds).toBeGreaterThan(0.015);
    expect(decode.totals.seconds).toBeLessThan(0.02);
    const prefill = layerTable(llama, rtx, { batch: 8, tokens: 512, contextTokens: 512 });
    expect(prefill.rows[1].roofline.bound).toBe('compute');
  });

  it('activation bytes at a cut are batch × tokens × hidden × bytes; after the head, token ids', () => {
    const t = layerTable(llama, rtx, { batch: 3, tokens: 5, contextTokens: 9, logitsTokens: 1 });
    expect(t.rows[4].activationBytes).toBe(3 * 5 * 4096 * 2);
    expect(t.rows[0].activationBytes).toBe(3 * 5 * 4096 * 2);
    expect(t.rows[llama.layers + 1].activationBytes).toBe(3 * 1 * 4);
    expect(t.rows[4].kvBytes).toBe(3 * 9 * 2 * 32 * 128 * 2);
  });

  it('attention FLOPs follow the causal mean context', () => {
    expect(meanAttendedContext({ batch: 1, tokens: 1, contextTokens: 100 })).toBe(100);
    expect(meanAttendedContext({ batch: 1, tokens: 9, contextTokens: 9 })).toBe(5);
    const short = rowWork(llama, 'decoder', 1, { batch: 1, tokens: 1, contextTokens: 1 }).flops;
    const long = rowWork(llama, 'decoder', 1, { batch: 1, tokens: 1, contextTokens: 1001 }).flops;
    expect(long - short).toBe(4 * 32 * 128 * 1000);
  });

  it('uses a measured profile only at its own conditions', () => {
    const profile = findProfile('llama-2-7b', 'rtx-3090', catalog);
    expect(profile).toBeDefined();
    if (!profile) return;
    const fp32 = { ...llama, dtype: 'fp32' as const };
    const at = layerTable(fp32, rtx, { batch: 1, tokens: 4, contextTokens: 4 }, { profile });
    expect(at.profile?.applied).toBe(true);
    expect(at.rows[1].timeSource).toBe('profile');
    expect(at.rows[1].seconds).toBe(profile.layerSeconds[0]);
    expect(at.rows[0].seconds).toBe(profile.embeddingSeconds);
    const otherBatch = layerTable(fp32, rtx, { batch: 2, tokens: 4, contextTokens: 4 }, { profile });
    expect(otherBatch.profile?.applied).toBe(false);
    expect(otherBatch.profile?.reason).toMatch(/batch 1 × 4 tokens/);
    expect(otherBatch.rows[1].timeSource).toBe('roofline');
    const fp16 = layerTable(llama, rtx, { batch: 1, tokens: 4, contextTokens: 4 }, { profile });
    expect(fp16.profile?.reason).toMatch(/fp32/);
  });

  it('streams weights from storage when the model does not fit', () => {
    const small: DeviceSpec = { ...rtx, memoryBytes: 8e9 };
    const t = layerTable(llama, small, { batch: 1, tokens: 1, contextTokens: 1 });
    expect(t.streamsFromStorage).toBe(true);
    expect(t.rows[1].roofline.bound).toBe('storage');
    expect(t.rows[1].seconds).toBeCloseTo(
      t.rows[1].weightBytes / rtx.storageReadBytesPerSecond + rtx.perCallOverheadSeconds,
      9,
    );
  });

  it('MoE layers read only the experts the tokens touch', () => {
    expect(expectedExpertsTouched(8, 2, 1)).toBeCloseTo(2, 12);
    expect(expectedExpertsTouched(8, 2, 1000)).toBeCloseTo(8, 6);
    const mixtral = model('mixtral-8x7b');
    const one = rowWork(mixtral, 'decoder', 1, { batch: 1, tokens: 1, contextTokens: 1 }).weightBytes;
    const many = rowWork(mixtral, 'decoder', 1, { batch: 64, tokens: 1, contextTokens: 1 }).weightBytes;
    expect(many / one).toBeGreaterThan(3);
  });

  it('rejects a workload that makes no sense', () => {
    expect(() => layerTable(llama, rtx, { batch: 0, tokens: 1, contextTokens: 1 })).toThrow(/batch/);
    expect(() => layerTable(llama, rtx, { batch: 1, tokens: 8, contextTokens: 4 })).toThrow(/contextTokens/);
  });
});

describe('rangeCost', () => {
  const gpt = model('gpt2-medium');
  const orin = device('jetson-agx-orin-64gb');
  const work = { batch: 4, tokens: 128, contextTokens: 128 };

  it('two ranges that split the model add up to the whole table (same residency)', () => {
    const whole = layerTable(gpt, orin, work);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: gpt.layers }), (cut) => {
        const opts = { residentBytes: whole.totals.memoryBytes };
        const a = rangeCost(gpt, orin, work, { first: 1, last: cut, embedding: true }, opts);
        const b = rangeCost(gpt, orin, work, { first: cut + 1, last: gpt.layers, head: true }, opts);
        expect(a.seconds + b.seconds).toBeCloseTo(whole.totals.seconds, 12);
        expect(a.params + b.params).toBe(whole.totals.params);
        expect(a.kvBytes + b.kvBytes).toBe(whole.totals.kvBytes);
        if (cut >= 1) expect(a.outputActivationBytes).toBe(4 * 128 * 1024 * 2);
      }),
      { numRuns: 30 },
    );
  });

  it('is monotone in the range and decides streaming by what the range holds', () => {
    const llama = model('llama-2-7b');
    const nx = device('jetson-orin-nx-16gb');
    const d = { batch: 1, tokens: 1, contextTokens: 1 };
    const small = rangeCost(llama, nx, d, { first: 1, last: 8 });
    const all = rangeCost(llama, nx, d, { first: 1, last: 32, embedding: true, head: true });
    expect(small.streamsFromStorage).toBe(false);
    expect(all.streamsFromStorage).toBe(false); // 13.5 GB fits in 16 GB
    const fp32 = { ...llama, dtype: 'fp32' as const };
    expect(rangeCost(fp32, nx, d, { first: 1, last: 32 }).streamsFromStorage).toBe(true);
    expect(rangeSeconds(llama, nx, d, { first: 1, last: 9 })).toBeGreaterThan(small.seconds);
    expect(rangeCost(llama, nx, d, { first: 5, last: 4 }).seconds).toBe(0);
  });
});

describe('rowWork head', () => {
  it('reads the stored head (final norm and matrix) in the bytes memory counts, whatever the activation format', () => {
    const base = model('llama-2-7b');
    const workload = { batch: 1, tokens: 1, contextTokens: 128, logitsTokens: 1 };
    for (const activationDtype of ['fp16', 'fp32'] as const) {
      const m: ModelSpec = { ...base, activationDtype };
      expect(rowWork(m, 'head', base.layers, workload).weightBytes).toBe(headWeightBytes(m));
    }
  });
});
