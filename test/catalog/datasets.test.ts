/**
 * Every dataset entry validates, names a source, and carries the numbers of its public config or
 * datasheet (REFERENCE-FACTS.md). Parameter totals are checked against the published counts of
 * the released checkpoints, which exercises the whole per-layer parameter formula.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DATASETS_DIR,
  deviceSpecSchema,
  linkSpecSchema,
  loadCatalog,
  modelSpecSchema,
  profileSchema,
} from '../../src/catalog/index.ts';
import { activeLayerParams, embeddingParams, headParams, layerParams, totalParams } from '../../src/cost/model.ts';
import { GIB } from '../../src/cost/units.ts';

function raw(file: string, key: string): Record<string, unknown>[] {
  const doc = JSON.parse(readFileSync(join(DATASETS_DIR, file), 'utf8')) as Record<string, unknown>;
  return doc[key] as Record<string, unknown>[];
}

const datasets: Array<[string, string, { safeParse(v: unknown): { success: boolean } }]> = [
  ['models.json', 'models', modelSpecSchema],
  ['devices.json', 'devices', deviceSpecSchema],
  ['links.json', 'links', linkSpecSchema],
  ...readdirSync(join(DATASETS_DIR, 'profiles'))
    .filter((f) => f.endsWith('.json'))
    .map((f): [string, string, typeof profileSchema] => [join('profiles', f), 'profiles', profileSchema]),
];

describe('datasets', () => {
  for (const [file, key, schema] of datasets) {
    it(`${file}: every entry validates and names a source`, () => {
      const entries = raw(file, key);
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) {
        expect(schema.safeParse(e).success, `${file} ${String(e.id)}`).toBe(true);
        expect(typeof e.source, `${file} ${String(e.id)} source`).toBe('string');
        // A source names a document: an author/organisation or standard, not a placeholder.
        expect(String(e.source).length, `${file} ${String(e.id)} source`).toBeGreaterThan(20);
        expect(String(e.source)).not.toMatch(/\b(TODO|TBD|placeholder|fixme)\b/i);
      }
    });
  }

  it('loads the catalog with unique ids', () => {
    const c = loadCatalog();
    expect(c.models.size).toBe(raw('models.json', 'models').length);
    expect(c.devices.size).toBe(raw('devices.json', 'devices').length);
    expect(c.links.size).toBe(raw('links.json', 'links').length);
  });

  it('has every model, device and link the issue lists', () => {
    const c = loadCatalog();
    for (const id of [
      'gpt2-small',
      'gpt2-medium',
      'gpt2-large',
      'gpt2-xl',
      'gpt3-xl',
      'gpt-6.7b',
      'llama-7b',
      'llama-2-7b',
      'llama-2-13b',
      'llama-2-70b',
      'llama-3-8b',
      'mixtral-8x7b',
      'deepseek-v3',
      'opt-13b',
    ])
      expect(c.models.has(id), id).toBe(true);
    for (const id of [
      'h100-sxm',
      'a100-80gb',
      'rtx-3090',
      'jetson-agx-orin-32gb',
      'jetson-agx-orin-64gb',
      'jetson-orin-nx-16gb',
      'phone',
      'apple-m1-max',
    ])
      expect(c.devices.has(id), id).toBe(true);
    for (const id of ['5g-peak', '5g-user-experienced', '6g-user-experienced', '6g-peak', 'edge-lan', 'datacenter'])
      expect(c.links.has(id), id).toBe(true);
  });
});

describe('model configs match the released checkpoints', () => {
  // Parameter counts of the released checkpoints (Hugging Face model cards / safetensors totals).
  const published: Array<[string, number, number]> = [
    ['gpt2-small', 124_439_808, 0],
    ['gpt2-medium', 354_823_168, 0],
    ['gpt2-large', 774_030_080, 0],
    ['gpt2-xl', 1_557_611_200, 0],
    ['llama-7b', 6_738_415_616, 0],
    ['llama-2-7b', 6_738_415_616, 0],
    ['llama-2-13b', 13_015_864_320, 0],
    ['llama-2-70b', 68_976_648_192, 0],
    ['llama-3-8b', 8_030_261_248, 0],
    ['llama-3.2-1b', 1_235_814_400, 0],
    ['mixtral-8x7b', 46_702_792_704, 0],
    // OPT learns 2050 positions (offset 2); the catalog plans with maxContext 2048.
    ['opt-13b', 12_853_473_280, 2 * 5120],
    // Nominal sizes from the papers.
    ['gpt3-xl', 1.3e9, 0.02 * 1.3e9],
    ['gpt-6.7b', 6.7e9, 0.01 * 6.7e9],
    ['deepseek-v3', 671e9, 0.005 * 671e9],
  ];
  const c = loadCatalog();
  for (const [id, count, slack] of published) {
    it(`${id} has ${count.toLocaleString('en')} parameters`, () => {
      const m = c.models.get(id);
      expect(m).toBeDefined();
      if (m) expect(Math.abs(totalParams(m) - count)).toBeLessThanOrEqual(slack);
    });
  }

  it('MoE active parameters match the published active counts', () => {
    const active = (id: string): number => {
      const m = c.models.get(id);
      if (!m) throw new Error(id);
      let s = embeddingParams(m) + headParams(m);
      for (let l = 1; l <= m.layers; l++) s += activeLayerParams(m, l);
      return s;
    };
    expect(active('mixtral-8x7b') / 1e9).toBeCloseTo(12.9, 1); // Mistral: 12.9B active
    expect(Math.abs(active('deepseek-v3') / 1e9 - 37)).toBeLessThan(1); // DeepSeek: 37B active
  });

  it('architectures match REFERENCE-FACTS', () => {
    const arch: Array<[string, number, number, number, number, number, number]> = [
      // id, layers, hidden, heads, kvHeads, ffn, vocab
      ['gpt2-small', 12, 768, 12, 12, 3072, 50257],
      ['gpt2-xl', 48, 1600, 25, 25, 6400, 50257],
      ['gpt3-xl', 24, 2048, 16, 16, 8192, 50257],
      ['gpt-6.7b', 32, 4096, 32, 32, 16384, 50257],
      ['llama-2-7b', 32, 4096, 32, 32, 11008, 32000],
      ['llama-2-13b', 40, 5120, 40, 40, 13824, 32000],
      ['llama-2-70b', 80, 8192, 64, 8, 28672, 32000],
      ['llama-3-8b', 32, 4096, 32, 8, 14336, 128256],
      ['mixtral-8x7b', 32, 4096, 32, 8, 14336, 32000],
      ['deepseek-v3', 61, 7168, 128, 128, 18432, 129280],
      ['opt-13b', 40, 5120, 40, 40, 20480, 50272],
    ];
    for (const [id, layers, hidden, heads, kvHeads, ffn, vocab] of arch) {
      const m = c.models.get(id);
      expect(m, id).toBeDefined();
      if (!m) continue;
      expect([m.layers, m.hiddenSize, m.heads, m.kvHeads, m.ffnHiddenSize, m.vocabSize], id).toEqual([
        layers,
        hidden,
        heads,
        kvHeads,
        ffn,
        vocab,
      ]);
    }
    expect(c.models.get('deepseek-v3')?.moe).toMatchObject({
      experts: 256,
      topK: 8,
      sharedExperts: 1,
      expertFfnHiddenSize: 2048,
      denseLayers: 3,
    });
    expect(c.models.get('mixtral-8x7b')?.moe).toMatchObject({ experts: 8, topK: 2 });
  });
});

describe('devices and links match their datasheets', () => {
  const c = loadCatalog();
  it('devices', () => {
    const spec: Array<[string, number, number, number, number]> = [
      // id, peak FLOP/s, memory, bandwidth, active power
      ['h100-sxm', 989e12, 80e9, 3.35e12, 700],
      ['a100-80gb', 312e12, 80e9, 2.039e12, 400],
      ['rtx-3090', 71e12, 24e9, 936e9, 350],
      ['jetson-agx-orin-64gb', 42.5e12, 64e9, 204.8e9, 60],
      ['jetson-agx-orin-32gb', 30.9e12, 32e9, 204.8e9, 40],
      ['jetson-orin-nx-16gb', 15.5e12, 16e9, 102.4e9, 25],
      ['phone', 17.5e12, 8e9, 51.2e9, 5],
    ];
    for (const [id, flops, mem, bw, watts] of spec) {
      const d = c.devices.get(id);
      expect(d, id).toBeDefined();
      if (d)
        expect([d.peakFlopsPerSecond, d.memoryBytes, d.memoryBandwidthBytesPerSecond, d.activePowerWatts], id).toEqual([
          flops,
          mem,
          bw,
          watts,
        ]);
    }
    expect(c.devices.get('apple-m1-max')?.storageReadBytesPerSecond).toBe(6e9);
  });

  it('links', () => {
    const spec: Array<[string, number, number, number]> = [
      ['5g-peak', 10e9, 20e9, 4e-3],
      ['5g-user-experienced', 50e6, 100e6, 4e-3],
      ['edge-lan', 950e6, 950e6, 2.1e-3],
      ['edge-cloud', 10e6, 10e6, 2.1e-3],
      ['datacenter', 25e9, 25e9, 1e-5],
    ];
    for (const [id, up, down, lat] of spec) {
      const l = c.links.get(id);
      expect(l, id).toBeDefined();
      if (l) expect([l.uplinkBitsPerSecond, l.downlinkBitsPerSecond, l.latencySeconds], id).toEqual([up, down, lat]);
    }
  });
});

describe('EdgeShard profiles', () => {
  const c = loadCatalog();
  // Published ranges (ms): embedding, decoder layer min–max, norm + head.
  const published: Array<[string, number, number, number, number, number]> = [
    ['jetson-orin-nx-16gb', 0.476, 5.63, 6.4, 0.594 + 4.888, 14e9],
    ['jetson-agx-orin-32gb', 0.627, 5.16, 5.5, 0.885 + 3.597, 29e9],
    ['rtx-3090', 0.077, 0.76, 0.83, 0.201 + 0.447, 22e9],
  ];
  for (const [deviceId, emb, lo, hi, head, usable] of published) {
    it(`llama-2-7b on ${deviceId}`, () => {
      const p = [...c.profiles.values()].find((x) => x.modelId === 'llama-2-7b' && x.deviceId === deviceId);
      expect(p).toBeDefined();
      if (!p) return;
      const model = c.models.get(p.modelId);
      expect(model).toBeDefined();
      expect(c.devices.has(p.deviceId)).toBe(true);
      expect(p.layerSeconds.length).toBe(model?.layers);
      expect((p.embeddingSeconds ?? 0) * 1e3).toBeCloseTo(emb, 6);
      expect((p.headSeconds ?? 0) * 1e3).toBeCloseTo(head, 6);
      for (const s of p.layerSeconds) {
        expect(s * 1e3).toBeGreaterThanOrEqual(lo);
        expect(s * 1e3).toBeLessThanOrEqual(hi);
      }
      expect(p.usableMemoryBytes).toBe(usable);
      expect((p.layerMemoryBytes ?? 0) / GIB).toBeCloseTo(0.754, 3);
      expect((p.embeddingMemoryBytes ?? 0) / GIB).toBeCloseTo(0.488, 3);
      // The GiB reading is the one consistent with the fp32 parameter count.
      if (model)
        expect(
          Math.abs((p.layerMemoryBytes ?? 0) - layerParams(model, 1) * 4) / (p.layerMemoryBytes ?? 1),
        ).toBeLessThan(0.001);
      expect(p.activationBytesPerHop).toBe(4 * 4096 * 4);
    });
  }
});
