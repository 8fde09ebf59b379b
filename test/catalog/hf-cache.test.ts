/**
 * `hf:` models are read once per file while the file is unchanged (src/catalog/hf.ts readHfConfigFile): a problem
 * resolves its model many times in one run, and an edited config is read again.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { resolveModel } from '../../src/catalog/index.ts';
import { expandHuggingFace } from '../../src/catalog/hf.ts';
import { tinyLlamaConfig } from '../support/hf-problem.ts';

// Every module's readFileSync goes through this spy (it still reads): the test counts the reads of one path.
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, readFileSync: vi.fn(real.readFileSync) };
});

const dir = fs.mkdtempSync(join(tmpdir(), 'edgeplan-hf-cache-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const readsOf = (file: string): number =>
  vi.mocked(fs.readFileSync).mock.calls.filter(([p]) => p === file).length;

describe('hf: config files read once while unchanged', () => {
  it('resolving the same hf: model again does not read the file again', () => {
    const file = join(dir, 'tiny', 'config.json');
    fs.mkdirSync(join(dir, 'tiny'));
    fs.writeFileSync(file, tinyLlamaConfig(22));
    for (let k = 0; k < 5; k++) expect(resolveModel(`hf:${file}`, '$.model').layers).toBe(22);
    // A `huggingFace` block in a problem shares the cache: the same file is not read for it either.
    const expanded = expandHuggingFace({ model: { huggingFace: 'tiny/config.json' } }, dir) as {
      model: { layers: number };
    };
    expect(expanded.model.layers).toBe(22);
    expect(readsOf(file)).toBe(1);
  });

  it('an edited file (new modification time) is read again and its new values are used', () => {
    const file = join(dir, 'edited.json');
    fs.writeFileSync(file, tinyLlamaConfig(22));
    fs.utimesSync(file, new Date(1_700_000_000_000), new Date(1_700_000_000_000));
    expect(resolveModel(`hf:${file}`, '$.model').layers).toBe(22);
    // Same size on purpose (22 → 24 layers): only the modification time tells the edit apart.
    fs.writeFileSync(file, tinyLlamaConfig(24));
    fs.utimesSync(file, new Date(1_700_000_100_000), new Date(1_700_000_100_000));
    expect(resolveModel(`hf:${file}`, '$.model').layers).toBe(24);
    expect(resolveModel(`hf:${file}`, '$.model').layers).toBe(24);
    expect(readsOf(file)).toBe(2);
  });

  it('a file that disappears is a one-line error at the path, not the cached value', () => {
    const file = join(dir, 'gone.json');
    fs.writeFileSync(file, tinyLlamaConfig(22));
    expect(resolveModel(`hf:${file}`, '$.model').layers).toBe(22);
    fs.rmSync(file);
    expect(() => resolveModel(`hf:${file}`, '$.model')).toThrow(/^\$\.model: .*gone\.json: no such file$/);
  });
});
