import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import { modelCaching } from '../../../src/formulations/model-caching/index.ts';
import { generateTrace, replay } from '../../../src/formulations/model-caching/replay.ts';
import type { Problem } from '../../../src/formulations/model-caching/schema.ts';
import { bruteForce, smallInstance, solveMilp } from './helpers.ts';

const parse = (raw: unknown): Problem => modelCaching.parse(raw);
const load = (file: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../problems/model-caching/${file}`, import.meta.url), 'utf8'));
const close = (a: number, b: number, tol = 1e-6): boolean =>
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

describe('model-caching: properties on generated instances', () => {
  it('the MILP decision passes evaluate, its objective is evaluate’s, equals brute force and beats every baseline', async () => {
    await fc.assert(
      fc.asyncProperty(smallInstance, async (raw) => {
        const problem = parse(raw);
        const { objective } = await solveMilp(raw);
        expect(close(objective, bruteForce(problem))).toBe(true);
        const e = { objective };
        const sense = problem.objective === 'hit-ratio' ? 1 : -1;
        for (const b of modelCaching.baselines) {
          const d = b.run(problem);
          if (!d) continue;
          const be = modelCaching.evaluate(problem, d);
          expect(be.feasible).toBe(true);
          expect(sense * e.objective).toBeGreaterThanOrEqual(sense * be.objective - 1e-9);
        }
      }),
      { numRuns: 20, seed: 42 },
    );
  });

  it('the exact method equals the MILP wherever it applies (single covering server per request)', async () => {
    const separable = smallInstance.map((raw) => {
      const users = (raw.users as { servers?: string[]; links?: unknown[] }[]).map((u) =>
        u.servers ? { ...u, servers: u.servers.slice(0, 1) } : { ...u, links: u.links?.slice(0, 1) },
      );
      return { ...raw, users };
    });
    await fc.assert(
      fc.asyncProperty(separable, async (raw) => {
        const problem = parse(raw);
        expect(modelCaching.exact!.notApplicable(problem)).toBeNull();
        const exact = await solve(raw, { backend: 'exact' });
        expect(exact.termination).toBe('optimal');
        const { objective } = await solveMilp(raw);
        expect(close(exact.solution!.objective, objective)).toBe(true);
        expect(close(exact.solution!.objective, exact.solution!.bound!)).toBe(true);
      }),
      { numRuns: 20, seed: 7 },
    );
  });

  it('parameter sharing never lowers the optimum, and more storage never hurts', async () => {
    await fc.assert(
      fc.asyncProperty(smallInstance, async (raw) => {
        const sense = raw.objective === 'hit-ratio' ? 1 : -1;
        const shared = (await solveMilp(raw)).objective;
        const unshared = (await solveMilp({ ...raw, parameterSharing: false })).objective;
        expect(sense * shared).toBeGreaterThanOrEqual(sense * unshared - 1e-9);
        const bigger = {
          ...raw,
          servers: (raw.servers as { id: string; storageBytes: number }[]).map((s) => ({
            ...s,
            storageBytes: s.storageBytes + 3e9,
          })),
        };
        expect(sense * (await solveMilp(bigger)).objective).toBeGreaterThanOrEqual(sense * shared - 1e-9);
      }),
      { numRuns: 12, seed: 3 },
    );
  });
});

describe('model-caching: parameter sharing', () => {
  it('lets strictly more fine-tuned variants fit on one server (Llama-2-7B, bottom 24 of 32 layers shared)', () => {
    const raw = load('fine-tune-family.json') as Record<string, unknown>;
    const problem = parse(raw);
    // 30 GB server: each full variant is 13.48 GB, so two fit without sharing; with sharing the
    // 9.96 GB bottom is stored once and each variant adds 3.52 GB, so five fit.
    const [shared, top] = [problem.blocks[0].sizeBytes, problem.blocks[1].sizeBytes];
    expect(shared / 1e9).toBeCloseTo(9.96, 1);
    expect(top / 1e9).toBeCloseTo(3.52, 1);
    const fit = (sharing: boolean) => {
      const p = parse({ ...raw, parameterSharing: sharing });
      let k = 0;
      while (
        k < p.models.length &&
        modelCaching.evaluate(p, { cached: { 'mec-a': p.models.slice(0, k + 1).map((m) => m.id) } }).feasible
      )
        k++;
      return k;
    };
    expect(fit(false)).toBe(2);
    expect(fit(true)).toBe(5);
  });

  it('two LoRA variants of one base store the base once', () => {
    const problem = parse({
      kind: 'model-caching',
      families: [{ type: 'lora', id: 'l', model: 'llama-2-7b', adapters: 2, rank: 8 }],
      servers: [{ id: 's', storageBytes: 14e9 }],
      users: [{ id: 'u', servers: ['s'], requests: { 'l/lora-1': 0.5, 'l/lora-2': 0.5 } }],
    });
    const e = modelCaching.evaluate(problem, { cached: { s: ['l/lora-1', 'l/lora-2'] } });
    expect(e.feasible).toBe(true);
    expect(e.objective).toBeCloseTo(1, 12);
  });
});

describe('model-caching: examples', () => {
  it('the popularity-skew example is solved to optimality and beats every baseline', async () => {
    const problem = parse(load('popularity-skew.json'));
    const { objective } = await solveMilp(load('popularity-skew.json'));
    const e = { objective };
    for (const b of modelCaching.baselines)
      expect(e.objective).toBeGreaterThanOrEqual(modelCaching.evaluate(problem, b.run(problem)!).objective - 1e-9);
  });

  it('computed coverage follows the latency bound: download plus on-device decode', () => {
    const problem = parse(load('fine-tune-family.json'));
    // orin-1 reaches mec-a over 6G (0.54 s download + ≈ 6 s of decode) but mec-b only over 5G peak (5.4 s + 6 s > 8 s).
    expect(problem.latencySeconds[0][0][0]).not.toBeNull();
    expect(problem.latencySeconds[0][1][0]).toBeNull();
  });
});

describe('model-caching: online replay', () => {
  const problem = parse({
    kind: 'model-caching',
    blocks: [
      { id: 'a', sizeBytes: 1 },
      { id: 'b', sizeBytes: 1 },
      { id: 'c', sizeBytes: 1 },
    ],
    models: [
      { id: 'A', blocks: ['a'] },
      { id: 'B', blocks: ['b'] },
      { id: 'C', blocks: ['c'] },
    ],
    servers: [{ id: 's', storageBytes: 2 }],
    users: [{ id: 'u', servers: ['s'], requests: { A: 1, B: 1, C: 1 } }],
  });
  const trace = [0, 1, 0, 2, 1, 0, 0, 2].map((model) => ({ user: 0, model }));

  it('LRU follows recency by hand: A B A C B A A C → hits at 3 and 7', () => {
    // cache after each: A | A B | A B (hit) | A C (evict B) | C B (evict A) | B A (evict C) | B A (hit) | A C (evict B)
    const r = replay(problem, trace, { kind: 'lru' }, 4);
    expect(r.hits).toBe(2);
    expect(r.windows.map((w) => w.hitRatio)).toEqual([0.25, 0.25]);
  });

  it('least age of context keeps the frequently used model that LRU evicts', () => {
    // At request 5 (B), LRU evicts A (used at 3) ... LAoC with slow decay keeps A (used twice) and evicts C.
    const r = replay(problem, trace, { kind: 'laoc', decay: 0.99 }, 8);
    expect(r.hits).toBeGreaterThan(replay(problem, trace, { kind: 'lru' }, 8).hits);
  });

  it('a static cache’s long-run hit ratio matches evaluate’s expected hit ratio', () => {
    const p = parse(load('popularity-skew.json'));
    const decision = modelCaching.baselines[0].run(p)!;
    const expected = modelCaching.evaluate(p, decision).objective;
    const r = replay(p, generateTrace(p, 20000, 9), { kind: 'static', name: 'greedy', decision });
    expect(Math.abs(r.hitRatio - expected)).toBeLessThan(4 * Math.sqrt((expected * (1 - expected)) / 20000));
  });
});

describe('model-caching: bad input', () => {
  const base = {
    kind: 'model-caching',
    blocks: [{ id: 'a', sizeBytes: 1e9 }],
    models: [{ id: 'A', blocks: ['a'] }],
    servers: [{ id: 's', storageBytes: 2e9 }],
    users: [{ id: 'u', servers: ['s'], requests: { A: 1 } }],
  };
  const cases: [string, unknown, string][] = [
    ['undeclared block', { ...base, models: [{ id: 'A', blocks: ['zz'] }] }, '$.models[0].blocks[0]'],
    [
      'unknown server',
      { ...base, users: [{ id: 'u', servers: ['nope'], requests: { A: 1 } }] },
      '$.users[0].servers[0]',
    ],
    ['negative storage', { ...base, servers: [{ id: 's', storageBytes: -1 }] }, '$.servers[0].storageBytes'],
    [
      'unknown model requested',
      { ...base, users: [{ id: 'u', servers: ['s'], requests: { Q: 1 } }] },
      '$.users[0].requests["Q"]',
    ],
    [
      'probability above one',
      { ...base, users: [{ id: 'u', servers: ['s'], requests: { A: 2 } }] },
      '$.users[0].requests.A',
    ],
    ['extra field', { ...base, colour: 'red' }, '$.colour'],
    ['latency objective without cloud', { ...base, objective: 'expected-latency' }, '$.cloudLatencySeconds'],
    [
      'unknown catalog model',
      { ...base, families: [{ type: 'lora', id: 'f', model: 'llama-2-7', adapters: 1, rank: 4 }] },
      '$.families[0].model',
    ],
  ];
  it.each(cases)('%s → InputError at the JSON path', (_name, raw, path) => {
    try {
      parse(raw);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).path).toBe(path);
    }
  });
});
