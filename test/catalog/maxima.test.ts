/** Absurd sizes in catalog references are refused with the field and its upper limit (exit 2), not an exhausted heap. */
import { describe, expect, it } from 'vitest';
import { CATALOG_MAXIMA, loadCatalog, resolveDevice, resolveLink, resolveModel } from '../../src/catalog/index.ts';
import { errorOf } from '../support/errors.ts';

describe('catalog maxima', () => {
  it('a billion layers is an absurd size at $.model.layers', () => {
    const e = errorOf(() => resolveModel({ id: 'mixtral-8x7b', layers: 1_000_000_000 }, '$.model'));
    expect(e.path).toBe('$.model.layers');
    expect(e.rule).toBe('must be at most 1000 (absurd size)');
    expect(e.exitCode).toBe(2);
  });

  it('the limits themselves are accepted', () => {
    const m = resolveModel({ id: 'mixtral-8x7b', layers: CATALOG_MAXIMA.layers }, '$.model');
    expect(m.layers).toBe(1000);
  });

  it.each([
    ['hiddenSize', 2_000_000],
    ['ffnHiddenSize', 1e7],
    ['vocabSize', 1e8],
    ['maxContext', 1e9],
  ])('model %s = %d is refused at its path', (field, value) => {
    const e = errorOf(() => resolveModel({ id: 'llama-2-7b', [field]: value }, '$.model'));
    expect(e.path).toBe(`$.model.${field}`);
    expect(e.rule).toMatch(/must be at most \d+ \(absurd size\)/);
  });

  it('expert counts inside the moe block are capped', () => {
    const e = errorOf(() =>
      resolveModel(
        {
          id: 'mixtral-8x7b',
          moe: { experts: 1e6, topK: 2, sharedExperts: 0, expertFfnHiddenSize: 14336, denseLayers: 0 },
        },
        '$.model',
      ),
    );
    expect(e.path).toBe('$.model.moe.experts');
    expect(e.rule).toMatch(/at most 65536/);
  });

  it('device and link magnitudes are capped', () => {
    const d = errorOf(() => resolveDevice({ id: 'rtx-3090', memoryBytes: 1e308 }, '$.device'));
    expect(d.path).toBe('$.device.memoryBytes');
    expect(d.rule).toMatch(/at most 1000000000000000 \(absurd size\)/);
    const l = errorOf(() => resolveLink({ id: 'datacenter', latencySeconds: 1e308 }, '$.link'));
    expect(l.path).toBe('$.link.latencySeconds');
    const u = errorOf(() => resolveLink({ id: 'datacenter', uplinkBitsPerSecond: 1e20 }, '$.link'));
    expect(u.path).toBe('$.link.uplinkBitsPerSecond');
  });

  it('every dataset entry is within the limits (the catalog loads)', () => {
    const c = loadCatalog();
    expect(c.models.size).toBeGreaterThan(0);
    for (const m of c.models.values()) expect(m.layers).toBeLessThanOrEqual(CATALOG_MAXIMA.layers);
    for (const d of c.devices.values())
      expect(d.peakFlopsPerSecond).toBeLessThanOrEqual(CATALOG_MAXIMA.peakFlopsPerSecond);
  });
});
