/**
 * The lazy registry (issue 18, fast start): its static table must agree with the families it loads, and a family
 * is only usable after it is loaded.
 */
import { describe, expect, it, vi } from 'vitest';
import { getFormulation, InputError, kindTitle, listKinds, loadFormulation } from '../../src/api.ts';

describe('kind registry', () => {
  it('has, for every kind, the title its family declares, and the family of that kind', async () => {
    for (const kind of listKinds()) {
      const f = await loadFormulation(kind);
      expect(f.kind).toBe(kind);
      expect(kindTitle(kind)).toBe(f.title);
      expect(getFormulation(kind)).toBe(f);
    }
  });

  it('refuses unknown kinds as bad input at $.kind, with close matches', async () => {
    await expect(loadFormulation('pipeline-placment')).rejects.toThrow(InputError);
    expect(() => getFormulation('pipeline-placment')).toThrow(/did you mean "pipeline-placement"/);
    expect(() => kindTitle('nope')).toThrow(InputError);
  });

  it('loads nothing until asked, and then only the kind asked for', async () => {
    vi.resetModules();
    const fresh = await import('../../src/formulations/registry.ts');
    expect(fresh.listKinds()).toEqual(listKinds());
    expect(() => fresh.getFormulation('milp')).toThrow(/not loaded yet/);
    await fresh.loadKindOf({ kind: 'milp', variables: [] });
    expect(fresh.getFormulation('milp').kind).toBe('milp');
    expect(() => fresh.getFormulation('fleet-serving')).toThrow(/not loaded yet/);
    await fresh.loadKindOf({ kind: 'no-such-kind' });
    await fresh.loadKindOf(null);
    // Concurrent loads share one import.
    const [a, b] = await Promise.all([fresh.loadFormulation('model-caching'), fresh.loadFormulation('model-caching')]);
    expect(a).toBe(b);
  });
});

describe('the light API entries', () => {
  it('export nothing that src/api.ts does not export as the very same value', async () => {
    const full: Record<string, unknown> = await import('../../src/api.ts');
    for (const light of [await import('../../src/api-core.ts'), await import('../../src/api-kinds.ts')]) {
      for (const [name, value] of Object.entries(light)) expect(full[name], name).toBe(value);
    }
  });

  it('readProblem loads the kind, then parses', async () => {
    const { readProblem } = await import('../../src/api-core.ts');
    const problem = await readProblem({
      kind: 'milp',
      sense: 'max',
      variables: [{ name: 'x', type: 'binary' }],
      objective: { x: 1 },
      constraints: [],
    });
    expect(problem.kind).toBe('milp');
    await expect(readProblem({ kind: 'nope' })).rejects.toMatchObject({ name: 'InputError', path: '$.kind' });
  });
});
