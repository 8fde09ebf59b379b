/** Bad model/device/link references fail with an InputError naming the JSON path and the rule. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  closeMatches,
  modelRefSchema,
  resolveDevice,
  resolveLink,
  resolveModel,
  type ModelRef,
} from '../../src/catalog/index.ts';
import { main } from '../../src/cli/main.ts';
import { errorOf } from '../support/errors.ts';

const inlineModel = {
  id: 'tiny',
  name: 'tiny test model',
  layers: 4,
  hiddenSize: 256,
  heads: 4,
  ffnHiddenSize: 1024,
  ffnKind: 'mlp',
  vocabSize: 1000,
  maxContext: 512,
  positionEmbedding: 'learned',
  bias: true,
  tiedEmbeddings: true,
  dtype: 'fp16',
} as const;

describe('bad model input', () => {
  it('non-integer layer count', () => {
    const e = errorOf(() => resolveModel({ id: 'llama-2-7b', layers: 31.5 }, '$.model'));
    expect(e.path).toBe('$.model.layers');
    expect(e.rule).toMatch(/whole number/);
    expect(e.exitCode).toBe(2);
  });

  it('heads not dividing the hidden size of an inline model without headDim', () => {
    const e = errorOf(() => resolveModel({ ...inlineModel, heads: 3 }, '$.clients[2].model'));
    expect(e.path).toBe('$.clients[2].model.heads');
    expect(e.rule).toMatch(/heads \(3\) must divide hiddenSize \(256\)/);
  });

  it('an inline model derives headDim and kvHeads when heads divide the hidden size', () => {
    const m = resolveModel(inlineModel, '$.model');
    expect(m.headDim).toBe(64);
    expect(m.kvHeads).toBe(4);
    expect(m.source).toMatch(/inline/);
  });

  it('kv heads not dividing heads', () => {
    const e = errorOf(() => resolveModel({ ...inlineModel, kvHeads: 3 }, '$.model'));
    expect(e.path).toBe('$.model.kvHeads');
  });

  it('an unknown dtype', () => {
    const e = errorOf(() => resolveModel({ id: 'llama-2-7b', dtype: 'fp12' } as unknown as ModelRef, '$.model'));
    expect(e.path).toBe('$.model.dtype');
    expect(e.rule).toMatch(/fp16/);
  });

  it('a missing field of an inline model', () => {
    const { vocabSize: _omit, ...partial } = inlineModel;
    const e = errorOf(() => resolveModel({ ...partial, id: undefined }, '$.model'));
    expect(e.path).toBe('$.model.vocabSize');
    expect(e.rule).toMatch(/required/);
  });

  it('an unknown id lists close matches', () => {
    const e = errorOf(() => resolveModel('llama-2-7', '$.model'));
    expect(e.path).toBe('$.model');
    expect(e.rule).toMatch(/unknown model "llama-2-7"; did you mean "llama-2-7b"/);
  });

  it('an unknown id inside an override object points at the id', () => {
    const e = errorOf(() => resolveModel({ id: 'lama-2-7b', dtype: 'int8' }, '$.model'));
    expect(e.path).toBe('$.model.id');
    expect(e.rule).toMatch(/did you mean "llama-2-7b"/);
  });

  it('an unknown id with nothing close lists the known ids', () => {
    const e = errorOf(() => resolveModel('zzzzzzzzzzzzzzzzzzzz', '$.model'));
    expect(e.rule).toMatch(/known models: .*gpt2-small/);
  });
});

describe('bad device and link input', () => {
  it('negative memory', () => {
    const e = errorOf(() => resolveDevice({ id: 'rtx-3090', memoryBytes: -1 }, '$.servers[0].device'));
    expect(e.path).toBe('$.servers[0].device.memoryBytes');
    expect(e.rule).toMatch(/positive/);
  });

  it('an efficiency above 1', () => {
    const e = errorOf(() => resolveDevice({ id: 'rtx-3090', computeEfficiency: 1.5 }, '$.device'));
    expect(e.path).toBe('$.device.computeEfficiency');
  });

  it('NaN and infinite values', () => {
    expect(
      errorOf(() => resolveDevice({ id: 'rtx-3090', memoryBandwidthBytesPerSecond: Number.NaN }, '$.device')).path,
    ).toBe('$.device.memoryBandwidthBytesPerSecond');
    expect(
      errorOf(() => resolveLink({ id: 'edge-lan', uplinkBitsPerSecond: Number.POSITIVE_INFINITY }, '$.link')).path,
    ).toBe('$.link.uplinkBitsPerSecond');
  });

  it('unknown device id with a close match', () => {
    const e = errorOf(() => resolveDevice('rtx3090', '$.device'));
    expect(e.rule).toMatch(/did you mean "rtx-3090"/);
  });

  it('overrides keep the catalog entry and say so in the source', () => {
    const d = resolveDevice({ id: 'rtx-3090', memoryBytes: 20e9 }, '$.device');
    expect(d.memoryBytes).toBe(20e9);
    expect(d.memoryBandwidthBytesPerSecond).toBe(936e9);
    expect(d.source).toMatch(/overridden.*memoryBytes/);
  });
});

describe('closeMatches', () => {
  it('ranks by edit distance and substring', () => {
    expect(closeMatches('gpt2', ['gpt2-small', 'gpt2-xl', 'llama-2-7b'])).toEqual(['gpt2-xl', 'gpt2-small']);
    expect(closeMatches('h100', ['h100-sxm', 'a100-80gb'])[0]).toBe('h100-sxm');
  });
});

describe('reference schemas report the offending field, not the union', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ id: 'llama-2-7b', layers: 31.5 }, 'layers', /whole number/],
    [{ id: 'llama-2-7b', dtype: 'fp12' }, 'dtype', /must be one of "fp32"/],
    [{ id: 'llama-2-7b', ffnKind: 'swiglu' }, 'ffnKind', /"mlp", "gated"/],
    [
      {
        id: 'mixtral-8x7b',
        moe: { experts: 8, topK: 2.5, sharedExperts: 0, expertFfnHiddenSize: 14336, denseLayers: 0 },
      },
      'moe.topK',
      /whole number/,
    ],
    [{ id: 'llama-2-7b', hiddenSize: -4096 }, 'hiddenSize', /positive/],
  ];
  for (const [value, path, rule] of cases) {
    it(`${JSON.stringify(value).slice(0, 60)} → ${path}`, () => {
      const r = modelRefSchema.safeParse(value);
      expect(r.success).toBe(false);
      if (r.success) return;
      expect(r.error.issues[0].path.join('.')).toBe(path);
      expect(r.error.issues[0].message).toMatch(rule);
    });
  }
});

describe('bad catalog references through `edgeplan solve`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeplan-catalog-'));
  const example = JSON.parse(
    readFileSync(new URL('../../problems/split-finetune/gpt2-medium-3-clients.json', import.meta.url), 'utf8'),
  ) as Record<string, unknown>;
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'non-integer layers',
      { model: { id: 'gpt2-medium', layers: 23.5 } },
      /^edgeplan: \$\.model\.layers: must be a whole number/,
    ],
    ['unknown dtype', { model: { id: 'gpt2-medium', dtype: 'fp12' } }, /^edgeplan: \$\.model\.dtype: must be one of/],
    [
      'unknown id',
      { model: 'gpt2-medum' },
      /^edgeplan: \$\.model: unknown model "gpt2-medum"; did you mean "gpt2-medium"/,
    ],
    [
      'negative memory',
      { server: { device: { id: 'rtx-3090', memoryBytes: -1 } } },
      /^edgeplan: \$\.server\.device\.memoryBytes: must be positive/,
    ],
  ];
  for (const [name, patch, expected] of cases) {
    it(name, async () => {
      const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
      writeFileSync(file, JSON.stringify({ ...example, ...patch }));
      let err = '';
      const code = await main(['solve', file], {
        stdout: () => undefined,
        stderr: (t) => (err += t),
        cwd: dir,
        env: {},
      });
      expect(code).toBe(2);
      expect(err).toMatch(expected);
    });
  }
});
