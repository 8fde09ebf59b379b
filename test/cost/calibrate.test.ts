/** Calibration recovers known rates from noisy synthetic timings, and rejects bad measurement files. */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.ts';
import {
  calibrateDevice,
  measurementPoint,
  parseMeasurements,
  parseMeasurementsCsv,
  type Measurement,
} from '../../src/cost/calibrate.ts';
import { rooflineTime, type DeviceSpec } from '../../src/cost/device.ts';
import { deviceSpecSchema } from '../../src/catalog/schemas.ts';
import { rowWork } from '../../src/cost/layers.ts';
import { InputError } from '../../src/errors.ts';
import { mulberry32 as rng } from '../../src/util/random.ts';

const catalog = loadCatalog();
const llama = catalog.models.get('llama-2-7b');
const rtx = catalog.devices.get('rtx-3090');
if (!llama || !rtx) throw new Error('catalog');

function gaussian(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Timings of `truth` for a sweep of layer calls, with multiplicative noise of `sigma`. */
function synthetic(truth: DeviceSpec, seed: number, sigma: number): Measurement[] {
  const u = rng(seed);
  const rows: Measurement[] = [];
  for (const layer of ['decoder', 'embedding', 'head'] as const)
    for (const batch of [1, 4, 16, 32])
      for (const tokens of [1, 8, 128, 512])
        for (const extra of [0, 512]) {
          const context = tokens + extra;
          const idx = layer === 'decoder' ? 1 : layer === 'embedding' ? 0 : llama!.layers + 1;
          const exact = rooflineTime(
            truth,
            rowWork(llama!, layer, idx, { batch, tokens, contextTokens: context }),
          ).seconds;
          rows.push({ layer, device: truth.id, batch, tokens, context, seconds: exact * (1 + sigma * gaussian(u)) });
        }
  return rows;
}

describe('calibrateDevice', () => {
  const truth: DeviceSpec = {
    ...rtx,
    computeEfficiency: 0.62,
    bandwidthEfficiency: 0.71,
    perCallOverheadSeconds: 3e-5,
  };

  it('recovers efficiencies and overhead from exact timings', () => {
    const { fit } = calibrateDevice(rtx, synthetic(truth, 1, 0), () => llama);
    expect(fit.computeEfficiency).toBeCloseTo(0.62, 6);
    expect(fit.bandwidthEfficiency).toBeCloseTo(0.71, 6);
    expect(fit.perCallOverheadSeconds).toBeCloseTo(3e-5, 10);
    expect(fit.maxRelativeError).toBeLessThan(1e-6);
    expect(fit.computeBoundPoints).toBeGreaterThan(0);
    expect(fit.memoryBoundPoints).toBeGreaterThan(0);
  });

  for (const seed of [7, 42, 2024]) {
    it(`recovers them within tolerance from timings with 3% noise (seed ${seed})`, () => {
      const rows = synthetic(truth, seed, 0.03);
      const { fit, device } = calibrateDevice(rtx, rows, () => llama, { measurementSource: 'synthetic.csv' });
      expect(Math.abs(fit.computeEfficiency - 0.62) / 0.62).toBeLessThan(0.03);
      expect(Math.abs(fit.bandwidthEfficiency - 0.71) / 0.71).toBeLessThan(0.03);
      expect(Math.abs(fit.perCallOverheadSeconds - 3e-5) / 3e-5).toBeLessThan(0.1);
      expect(fit.relativeRmse).toBeGreaterThan(0.015);
      expect(fit.relativeRmse).toBeLessThan(0.05);
      expect(fit.maxRelativeError).toBeLessThan(0.15);
      // The fitted entry is a valid device entry that names its source.
      expect(deviceSpecSchema.safeParse(device).success).toBe(true);
      expect(device.id).toBe('rtx-3090-calibrated');
      expect(device.source).toMatch(/synthetic\.csv/);
    });
  }

  it('keeps the prior for a rate the data cannot identify, and says so', () => {
    const decodeOnly = synthetic(truth, 3, 0.01).filter((m) => m.layer === 'decoder' && m.tokens === 1);
    const { fit } = calibrateDevice(rtx, decodeOnly, () => llama);
    expect(fit.warnings.some((w) => /no measurement is compute-bound/.test(w))).toBe(true);
    expect(Math.abs(fit.bandwidthEfficiency - 0.71) / 0.71).toBeLessThan(0.05);
    expect(fit.computeEfficiency).toBeLessThanOrEqual(rtx.computeEfficiency + 1e-12);
  });

  it('raises the peak when the measured rate beats the datasheet', () => {
    const fast: DeviceSpec = { ...rtx, peakFlopsPerSecond: 2 * rtx.peakFlopsPerSecond, computeEfficiency: 0.8 };
    const { fit, device } = calibrateDevice(rtx, synthetic(fast, 5, 0), () => llama);
    expect(fit.computeEfficiency).toBe(1);
    expect(device.peakFlopsPerSecond).toBeCloseTo(1.6 * rtx.peakFlopsPerSecond, -9);
    expect(fit.warnings.join(' ')).toMatch(/exceeds the spec peak/);
  });

  it('fits the EdgeShard RTX 3090 profile points (fp32) consistently', () => {
    const profile = [...catalog.profiles.values()].find((p) => p.deviceId === 'rtx-3090');
    if (!profile) throw new Error('profile');
    const rows: Measurement[] = [
      { layer: 'embedding', batch: 1, tokens: 4, context: 4, seconds: profile.embeddingSeconds ?? 0, dtype: 'fp32' },
      { layer: 'decoder', batch: 1, tokens: 4, context: 4, seconds: profile.layerSeconds[0], dtype: 'fp32' },
      { layer: 'head', batch: 1, tokens: 4, context: 4, seconds: profile.headSeconds ?? 0, dtype: 'fp32' },
    ];
    const { fit } = calibrateDevice(rtx, rows, () => llama);
    expect(fit.points).toBe(3);
    expect(fit.effectiveBytesPerSecond).toBeGreaterThan(0);
    // The decoder point is memory-bound: 809.5 MB of fp32 weights per layer call.
    expect(measurementPoint(llama, rows[1]).bytes).toBeGreaterThan(8e8);
  });
});

describe('measurement files', () => {
  it('parses CSV with comments, quotes and an optional context column', () => {
    const rows = parseMeasurementsCsv(
      '# run 1\nlayer,device,batch,tokens,seconds\n"decoder",rtx-3090,1,1,0.0006\n\nhead,rtx-3090,2,1,0.0003\n',
    );
    expect(rows).toEqual([
      { layer: 'decoder', device: 'rtx-3090', batch: 1, tokens: 1, context: 1, seconds: 0.0006 },
      { layer: 'head', device: 'rtx-3090', batch: 2, tokens: 1, context: 1, seconds: 0.0003 },
    ]);
  });

  it('parses JSON arrays and { measurements }', () => {
    const row = { layer: 'decoder', batch: 1, tokens: 4, context: 8, seconds: 0.001 };
    expect(parseMeasurements(JSON.stringify([row]), 'm.json')).toEqual([row]);
    expect(parseMeasurements(JSON.stringify({ measurements: [row] }), 'm.JSON')).toEqual([row]);
  });

  const bad: Array<[string, string, string, RegExp]> = [
    ['layer,batch,tokens,seconds\nattention,1,1,0.1\n', 'm.csv', '$[0].layer', /decoder/],
    ['layer,batch,tokens,seconds\ndecoder,1.5,1,0.1\n', 'm.csv', '$[0].batch', /line 2: must be a whole number/],
    ['layer,batch,tokens,seconds\ndecoder,1,1,-2\n', 'm.csv', '$[0].seconds', /positive/],
    ['layer,batch,tokens,seconds\ndecoder,1,1,fast\n', 'm.csv', '$[0].seconds', /not a number/],
    ['layer,batch,seconds\ndecoder,1,0.1\n', 'm.csv', '$', /lacks the column "tokens"/],
    ['layer,batch,tokens,seconds\ndecoder,1,1\n', 'm.csv', '$[0]', /3 fields/],
    ['[{"layer":"decoder","batch":1,"tokens":8,"context":4,"seconds":1}]', 'm.json', '$[0].context', /at least tokens/],
    [
      '{"measurements":[{"layer":"decoder","batch":1,"tokens":1,"seconds":1,"dtype":"fp12"}]}',
      'm.json',
      '$.measurements[0].dtype',
      /fp16/,
    ],
    ['{"measurements": 3}', 'm.json', '$.measurements', /array/],
    ['{oops', 'm.json', '$', /not valid JSON/],
  ];
  for (const [text, file, path, rule] of bad) {
    it(`rejects ${JSON.stringify(text).slice(0, 50)} at ${path}`, () => {
      try {
        parseMeasurements(text, file);
        expect.unreachable('expected an InputError');
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as InputError).path).toBe(path);
        expect((e as InputError).rule).toMatch(rule);
      }
    });
  }

  it('needs at least two measurements', () => {
    expect(() =>
      calibrateDevice(rtx, [{ layer: 'decoder', batch: 1, tokens: 1, context: 1, seconds: 1e-3 }], () => llama),
    ).toThrow(InputError);
  });
});
