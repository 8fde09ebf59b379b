/**
 * llama-bench results as calibration input (issue 18). The rows are shaped exactly like `llama-bench -o json` /
 * `-o csv` output; the timings are generated from a known device (rates and overhead chosen here) through the same cost model,
 * so the fit must recover them — and say when the data under-determine it.
 */
import { describe, expect, it } from 'vitest';
import { resolveModel } from '../../src/catalog/index.ts';
import {
  calibrateDevice,
  llamaBenchRows,
  measurementPoint,
  measurementsFromLlamaBench,
  parseMeasurements,
  type Measurement,
} from '../../src/cost/calibrate.ts';
import { resolveDevice } from '../../src/catalog/index.ts';
import { InputError } from '../../src/errors.ts';

const model = resolveModel('llama-2-7b', '$');
const device = resolveDevice('rtx-3090', '$');
// The "true" device the timings come from.
const TRUE = { flops: 60e12, bytes: 700e9, overhead: 20e-6 };

/** llama-bench's avg_ts for a row, from the true device through the cost model (q4_0 weights, as named). */
function tokensPerSecond(nPrompt: number, nGen: number): number {
  const m: Measurement =
    nGen > 0
      ? { layer: 'model', batch: 1, tokens: 1, context: Math.ceil(nGen / 2), seconds: 1, dtype: 'q4_0' }
      : { layer: 'model', batch: 1, tokens: nPrompt, context: nPrompt, seconds: 1, dtype: 'q4_0' };
  const p = measurementPoint(model, m);
  const calls = model.layers + 2;
  const seconds = calls * (TRUE.overhead + Math.max(p.flops / TRUE.flops, p.bytes / TRUE.bytes));
  return (nGen > 0 ? 1 : nPrompt) / seconds;
}

function row(nPrompt: number, nGen: number): Record<string, unknown> {
  const ts = tokensPerSecond(nPrompt, nGen);
  return {
    build_commit: 'b1a2c3d',
    build_number: 5000,
    model_filename: 'llama-2-7b.Q4_0.gguf',
    model_type: 'llama 7B Q4_0',
    model_size: 3825065984,
    model_n_params: 6738415616,
    n_batch: 2048,
    n_ubatch: 512,
    n_gpu_layers: 99,
    n_prompt: nPrompt,
    n_gen: nGen,
    avg_ns: Math.round((1e9 * (nPrompt + nGen)) / ts),
    avg_ts: ts,
  };
}

function fit(rows: Record<string, unknown>[]) {
  const ms = parseMeasurements(JSON.stringify(rows), 'bench.json');
  return calibrateDevice(device, ms, () => model);
}

describe('llama-bench input', () => {
  it('JSON with pp64, pp256, pp512 and tg128 recovers FLOP/s, bandwidth and overhead', () => {
    const result = fit([row(64, 0), row(256, 0), row(512, 0), row(0, 128)]);
    expect(result.fit.effectiveFlopsPerSecond / TRUE.flops).toBeCloseTo(1, 3);
    expect(result.fit.effectiveBytesPerSecond / TRUE.bytes).toBeCloseTo(1, 3);
    expect(result.fit.perCallOverheadSeconds / TRUE.overhead).toBeCloseTo(1, 2);
    expect(result.fit.warnings.join(' ')).not.toMatch(/under-determined/);
  });

  it("the default pp512 + tg128 is under-determined: says so and holds the device's overhead", () => {
    const result = fit([row(512, 0), row(0, 128)]);
    expect(result.fit.warnings.join(' ')).toMatch(/under-determined: 2 measurement/);
    expect(result.fit.perCallOverheadSeconds).toBe(device.perCallOverheadSeconds);
    expect(result.fit.maxRelativeError).toBeLessThan(1e-9);
  });

  it('CSV (-o csv, quoted header) and JSON lines (-o jsonl) read the same rows', () => {
    const rows = [row(512, 0), row(0, 128)];
    const keys = Object.keys(rows[0]);
    const csv = [keys.map((k) => `"${k}"`).join(','), ...rows.map((r) => keys.map((k) => `"${r[k]}"`).join(','))];
    const fromCsv = parseMeasurements(csv.join('\n'), 'bench.csv');
    const fromJsonl = parseMeasurements(rows.map((r) => JSON.stringify(r)).join('\n'), 'bench.jsonl');
    const fromJson = parseMeasurements(JSON.stringify(rows), 'bench.json');
    expect(fromCsv).toEqual(fromJson);
    expect(fromJsonl).toEqual(fromJson);
    expect(fromJson[0]).toMatchObject({ layer: 'model', tokens: 512, dtype: 'q4_0' });
    expect(fromJson[1]).toMatchObject({ layer: 'model', tokens: 1, context: 64 });
  });

  it('a file with no tg rows is refused with the reason; pg rows too', () => {
    expect(() => measurementsFromLlamaBench([row(512, 0)])).toThrow(/no tg rows/);
    const pg = { ...row(512, 0), n_gen: 128 };
    expect(() => measurementsFromLlamaBench([pg, row(0, 128)])).toThrow(InputError);
    expect(llamaBenchRows('layer,batch,tokens,seconds\ndecoder,1,1,0.001')).toBeNull();
  });
});
