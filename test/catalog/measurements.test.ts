/**
 * datasets/measurements/*.json: published measured rows the cost model is validated against
 * (format in docs/datasets.md). Every row validates, resolves its model and device through the
 * catalog, names its source, and passes physical sanity checks that catch transcription errors:
 * memory at least the weights, speeds under the device's bandwidth and compute rooflines, and
 * llama.cpp's printed weight sizes matching the catalog's parameter count at the format's bits.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DATASETS_DIR, loadCatalog, resolveDevice, resolveModel } from '../../src/catalog/index.ts';
import { measurementSchema } from '../../src/catalog/measurements.ts';
import { totalParams } from '../../src/cost/model.ts';
import { bytesPerValue, GIB } from '../../src/cost/units.ts';

type Measurement = z.infer<typeof measurementSchema>;

const files = readdirSync(join(DATASETS_DIR, 'measurements'))
  .filter((f) => f.endsWith('.json'))
  .sort();
const rows: Array<{ file: string; raw: unknown }> = files.flatMap((file) => {
  const doc = JSON.parse(readFileSync(join(DATASETS_DIR, 'measurements', file), 'utf8')) as {
    description?: unknown;
    measurements?: unknown[];
  };
  expect(typeof doc.description, file).toBe('string');
  return (doc.measurements ?? []).map((raw) => ({ file, raw }));
});
const parsed: Measurement[] = rows.map(({ raw }) => measurementSchema.parse(raw));
const catalog = loadCatalog();

describe('datasets/measurements', () => {
  it('every row validates, with unique ids across files', () => {
    for (const { file, raw } of rows) {
      const r = measurementSchema.safeParse(raw);
      expect(r.success, `${file} ${JSON.stringify(raw).slice(0, 80)} ${r.success ? '' : r.error.message}`).toBe(true);
    }
    const ids = parsed.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('holds at least 30 rows, with memory and speed rows from several runtimes', () => {
    expect(parsed.length).toBeGreaterThanOrEqual(30);
    const memory = parsed.filter((r) => r.measured.memoryBytes !== undefined && r.memoryScope !== 'weights');
    expect(memory.length).toBeGreaterThanOrEqual(30);
    // Small models at batch 1, where a fixed overhead dominates, are among them.
    expect(memory.some((r) => r.batch === 1 && totalParams(resolveModel(r.model, '$')) < 1e9)).toBe(true);
    const speed = parsed.filter(
      (r) => r.measured.decodeTokensPerSecond ?? r.measured.outputTokensPerSecondEndToEnd ?? r.measured.endToEndSeconds,
    );
    expect(new Set(speed.map((r) => r.runtime)).size).toBeGreaterThanOrEqual(3);
  });

  it("holds the seed's FasterTransformer point: GPT 6.7B, batch 64, 512 + 32 tokens, 41.84 GB", () => {
    const r = parsed.find((x) => x.runtime === 'fastertransformer' && x.batch === 64 && x.promptTokens === 512);
    expect(r?.measured.memoryBytes).toBe(41.84e9);
    expect(r?.outputTokens).toBe(32);
    expect(resolveModel(r?.model ?? '', '$').hiddenSize).toBe(4096);
  });

  it('every row resolves its model and device through the catalog and fits the context', () => {
    for (const r of parsed) {
      const m = resolveModel(r.model, `$.${r.id}.model`, catalog);
      resolveDevice(r.device, `$.${r.id}.device`, catalog);
      expect(r.promptTokens + r.outputTokens, r.id).toBeLessThanOrEqual(m.maxContext);
      expect(r.promptTokens + r.outputTokens, r.id).toBeGreaterThan(0);
    }
  });

  it('memory is at least the weights, and within the devices used', () => {
    for (const r of parsed) {
      const bytes = r.measured.memoryBytes;
      if (bytes === undefined) continue;
      const m = resolveModel(r.model, '$', catalog);
      const d = resolveDevice(r.device, '$', catalog);
      // Quantized checkpoints keep some tensors in 16 bits, so params × format bytes is a lower bound.
      // Printed sizes are rounded (llama-bench: to 0.01 GiB), hence the 0.5% slack.
      expect(bytes, r.id).toBeGreaterThanOrEqual(totalParams(m) * bytesPerValue(r.weightDtype) * 0.995);
      expect(bytes, r.id).toBeLessThanOrEqual(d.memoryBytes * r.deviceCount);
    }
  });

  it('speeds stay under the bandwidth and compute rooflines of the devices used', () => {
    for (const r of parsed) {
      const m = resolveModel(r.model, '$', catalog);
      const d = resolveDevice(r.device, '$', catalog);
      const weightBytes = totalParams(m) * bytesPerValue(r.weightDtype);
      const bandwidth = d.memoryBandwidthBytesPerSecond * r.deviceCount;
      const flops = d.peakFlopsPerSecond * r.deviceCount;
      // One decode step of the whole batch reads every weight at least once.
      const decode = r.measured.decodeTokensPerSecond ?? r.measured.outputTokensPerSecondEndToEnd;
      if (decode !== undefined) expect((decode / r.batch) * weightBytes, r.id).toBeLessThanOrEqual(bandwidth);
      // Prefill costs at least 2 FLOPs per parameter per token.
      const prefill = r.measured.prefillTokensPerSecond;
      if (prefill !== undefined) expect(prefill * 2 * totalParams(m), r.id).toBeLessThanOrEqual(flops);
      const total = r.measured.endToEndSeconds;
      if (total !== undefined) {
        const steps = Math.max(r.outputTokens, 1);
        expect(total, r.id).toBeGreaterThanOrEqual((steps * weightBytes) / bandwidth);
      }
    }
  });

  it("llama.cpp's printed weight sizes match the catalog's parameters at the format's bits per weight", () => {
    // Effective bits per weight of the GGUF block formats, scales included: Q4_0 and Q8_0 store one fp16 scale
    // per 32 weights; Q4_K_M mixes Q4_K (4.5) with Q6_K (6.5625) blocks. llama.cpp's quantizer stores the
    // output matrix in Q6_K unless the format is Q8_0 or F16, and a tied embedding is stored a second time
    // as that output matrix.
    const body: Record<string, [number, number]> = {
      F16: [16, 16],
      Q8_0: [8.5, 8.5],
      Q4_0: [4.5, 4.5],
      Q4_K_M: [4.5, 5],
    };
    const output: Record<string, number> = { F16: 16, Q8_0: 8.5, Q4_0: 6.5625, Q4_K_M: 6.5625 };
    const rowsWeights = parsed.filter((r) => r.memoryScope === 'weights');
    expect(rowsWeights.length).toBeGreaterThan(0);
    for (const r of rowsWeights) {
      const m = resolveModel(r.model, '$', catalog);
      const head = m.vocabSize * m.hiddenSize;
      const rest = totalParams(m) - (m.tiedEmbeddings ? 0 : head);
      const [lo, hi] = body[r.weightFormat] ?? [0, 0];
      const bytes = (bpw: number): number => (rest * bpw + head * (output[r.weightFormat] ?? 0)) / 8;
      // The printed size is rounded to 0.01 GiB, and norms are kept in fp32: 1% either way.
      expect(r.measured.memoryBytes ?? 0, r.id).toBeGreaterThanOrEqual(bytes(lo) * 0.99);
      expect(r.measured.memoryBytes ?? 0, r.id).toBeLessThanOrEqual(bytes(hi) * 1.01);
    }
  });

  it('Qwen memory rows read the published GiB figures', () => {
    const r = parsed.find((x) => x.id === 'qwen2.5-7b-bf16-in1-transformers-a100x1');
    expect(r?.measured.memoryBytes).toBe(Math.round(14.38 * GIB));
    expect(r?.measured.outputTokensPerSecondEndToEnd).toBe(40.38);
  });
});
