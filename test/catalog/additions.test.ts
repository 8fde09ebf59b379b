/**
 * The issue-15 catalog additions: every model's parameter count equals its released checkpoint's
 * published total, up to the terms the schema cannot express (Qwen2.5's QKV biases, Gemma 2's extra
 * norms), which are checked to the parameter; every device carries its datasheet numbers, and
 * figures that are not the vendor's say so in their source.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/index.ts';
import { totalParams, type ModelSpec } from '../../src/cost/model.ts';

const c = loadCatalog();

function model(id: string): ModelSpec {
  const m = c.models.get(id);
  if (!m) throw new Error(`model ${id} missing from datasets/models.json`);
  return m;
}

/** Attention QKV biases (Qwen2): q + k + v bias vectors per layer. */
const qkvBias = (m: ModelSpec): number => m.layers * (m.heads + 2 * m.kvHeads) * m.headDim;
/** Gemma 2's post-attention and post-FFN RMSNorms: two more scale vectors per layer. */
const extraNorms = (m: ModelSpec): number => m.layers * 2 * m.hiddenSize;

// id, published total (safetensors parameter count of the released checkpoint), what the schema cannot express
const published: Array<[string, number, (m: ModelSpec) => number]> = [
  ['mistral-7b', 7_241_732_096, () => 0],
  ['qwen2.5-0.5b', 494_032_768, qkvBias],
  ['qwen2.5-1.5b', 1_543_714_304, qkvBias],
  ['qwen2.5-3b', 3_085_938_688, qkvBias],
  ['qwen2.5-7b', 7_615_616_512, qkvBias],
  ['qwen2.5-14b', 14_770_033_664, qkvBias],
  ['qwen2.5-32b', 32_763_876_352, qkvBias],
  ['qwen2.5-72b', 72_706_203_648, qkvBias],
  ['phi-3-mini', 3_821_079_552, () => 0],
  ['gemma-2-2b', 2_614_341_888, extraNorms],
  ['gemma-2-9b', 9_241_705_984, extraNorms],
  ['llama-3.1-8b', 8_030_261_248, () => 0],
  ['llama-3.1-70b', 70_553_706_496, () => 0],
  ['llama-3-70b', 70_553_706_496, () => 0],
];

describe('issue-15 models match their released checkpoints', () => {
  for (const [id, count, missing] of published) {
    it(`${id}: ${count.toLocaleString('en')} parameters`, () => {
      const m = model(id);
      // Exact once the unexpressible terms are added back; the documented tolerance is that term,
      // at most 0.006% of the total (Qwen2.5-0.5B).
      expect(totalParams(m) + missing(m)).toBe(count);
      expect((count - totalParams(m)) / count).toBeLessThan(6e-5);
    });
  }

  it('architectures are the config.json values', () => {
    // id, layers, hidden, heads, kvHeads, headDim, ffn, vocab, maxContext, tied
    const arch: Array<[string, number, number, number, number, number, number, number, number, boolean]> = [
      ['mistral-7b', 32, 4096, 32, 8, 128, 14336, 32000, 32768, false],
      ['qwen2.5-0.5b', 24, 896, 14, 2, 64, 4864, 151936, 32768, true],
      ['qwen2.5-1.5b', 28, 1536, 12, 2, 128, 8960, 151936, 32768, true],
      ['qwen2.5-3b', 36, 2048, 16, 2, 128, 11008, 151936, 32768, true],
      ['qwen2.5-7b', 28, 3584, 28, 4, 128, 18944, 152064, 131072, false],
      ['qwen2.5-14b', 48, 5120, 40, 8, 128, 13824, 152064, 131072, false],
      ['qwen2.5-32b', 64, 5120, 40, 8, 128, 27648, 152064, 131072, false],
      ['qwen2.5-72b', 80, 8192, 64, 8, 128, 29568, 152064, 131072, false],
      ['phi-3-mini', 32, 3072, 32, 32, 96, 8192, 32064, 4096, false],
      ['gemma-2-2b', 26, 2304, 8, 4, 256, 9216, 256000, 8192, true],
      ['gemma-2-9b', 42, 3584, 16, 8, 256, 14336, 256000, 8192, true],
      ['llama-3.1-8b', 32, 4096, 32, 8, 128, 14336, 128256, 131072, false],
      ['llama-3.1-70b', 80, 8192, 64, 8, 128, 28672, 128256, 131072, false],
      ['llama-3-70b', 80, 8192, 64, 8, 128, 28672, 128256, 8192, false],
    ];
    for (const [id, layers, hidden, heads, kv, hd, ffn, vocab, ctx, tied] of arch) {
      const m = model(id);
      expect(
        [m.layers, m.hiddenSize, m.heads, m.kvHeads, m.headDim, m.ffnHiddenSize, m.vocabSize, m.maxContext],
        id,
      ).toEqual([layers, hidden, heads, kv, hd, ffn, vocab, ctx]);
      expect(m.tiedEmbeddings, id).toBe(tied);
      expect([m.ffnKind, m.positionEmbedding, m.bias], id).toEqual(['gated', 'rotary', false]);
      expect(m.source, id).toMatch(/config\.json/);
      expect(m.source, id).toMatch(/huggingface\.co\//);
    }
  });

  it('sources name what the schema leaves out', () => {
    for (const id of ['qwen2.5-0.5b', 'qwen2.5-72b']) expect(model(id).source).toMatch(/QKV bias/);
    for (const id of ['gemma-2-2b', 'gemma-2-9b']) expect(model(id).source).toMatch(/sliding.window/);
    expect(model('mistral-7b').source).toMatch(/sliding_window/);
  });
});

describe('issue-15 devices match their datasheets', () => {
  // id, dense 16-bit peak FLOP/s, memory bytes, memory bandwidth B/s, active power W
  const spec: Array<[string, number, number, number, number]> = [
    ['rtx-4090', 165.2e12, 24e9, 1008e9, 450],
    ['l40s', 362.05e12, 48e9, 864e9, 350],
    ['l4', 121e12, 24e9, 300e9, 72],
    ['a10', 125e12, 24e9, 600e9, 150],
    ['t4', 65e12, 16e9, 320e9, 70],
    ['v100-sxm2-32gb', 125e12, 32e9, 900e9, 300],
    ['h100-pcie', 756e12, 80e9, 2.0e12, 350],
    ['h200-sxm', 989e12, 141e9, 4.8e12, 700],
    ['jetson-orin-nano-8gb', 10.24e12, 8e9, 68e9, 15],
    ['jetson-orin-nano-8gb-super', 16.7e12, 8e9, 102e9, 25],
    ['raspberry-pi-5-8gb', 307.2e9, 8e9, 17.07e9, 7],
    ['snapdragon-8-gen-3', 22.5e12, 12e9, 76.8e9, 5],
    ['apple-a17-pro', 17.5e12, 8e9, 51.2e9, 5],
    ['apple-m4-ipad-pro', 19e12, 8e9, 120e9, 10],
    ['dimensity-9300', 24e12, 16e9, 76.8e9, 5],
    ['apple-m2-ultra', 27.2e12, 192e9, 800e9, 100],
  ];
  for (const [id, flops, mem, bw, watts] of spec) {
    it(id, () => {
      const d = c.devices.get(id);
      expect(d, id).toBeDefined();
      if (!d) return;
      expect([d.peakFlopsPerSecond, d.memoryBytes, d.memoryBandwidthBytesPerSecond, d.activePowerWatts]).toEqual([
        flops,
        mem,
        bw,
        watts,
      ]);
      // Efficiencies and overheads are never the vendor's: every source says which numbers are assumed.
      expect(d.source).toMatch(/assumed/i);
    });
  }

  it('peaks that are derived or third-party are marked unsure', () => {
    for (const id of [
      'jetson-orin-nano-8gb',
      'jetson-orin-nano-8gb-super',
      'snapdragon-8-gen-3',
      'apple-a17-pro',
      'apple-m4-ipad-pro',
      'dimensity-9300',
    ])
      expect(c.devices.get(id)?.source, id).toMatch(/unsure/);
  });

  it('radios: edge devices transmit, servers do not', () => {
    for (const id of ['rtx-4090', 'l40s', 'l4', 'a10', 't4', 'v100-sxm2-32gb', 'h100-pcie', 'h200-sxm'])
      expect(c.devices.get(id)?.transmitPowerWatts, id).toBe(0);
    for (const id of ['snapdragon-8-gen-3', 'apple-a17-pro', 'dimensity-9300', 'raspberry-pi-5-8gb'])
      expect(c.devices.get(id)?.transmitPowerWatts, id).toBeGreaterThan(0);
  });
});
