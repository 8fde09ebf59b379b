import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check, solve } from '../../../src/api.ts';
import { pipelinePlacementFormulation as F } from '../../../src/formulations/pipeline-placement/index.ts';
import { bruteForce, close, inferenceInstance, trainingInstance } from './helpers.ts';

type Method = 'exact' | 'highs' | 'glpk' | 'jslp';

/** The optimum by one method through the solve chain (Infinity when it proves infeasibility). */
export async function optimum(raw: unknown, backend: Method): Promise<number> {
  const r = await solve(raw, { backend, mipGap: 1e-9, timeLimitSeconds: 60 });
  if (r.termination === 'infeasible') return Infinity;
  const why = `${backend}: ${r.attempts.map((a) => [a.message, ...a.notes].join(' ')).join('; ')}`;
  // GLPK and jslp expose no bound; the chain's bound probe (a cut-off row ~1e-6 relative below the
  // claim) sits inside GLPK's absolute primal tolerance when the objective is a few ms, so it may
  // leave a true optimum "not proven" — the objective is still compared with the exact optimum.
  if (backend === 'glpk' || backend === 'jslp') expect(['optimal', 'numerical_error'], why).toContain(r.termination);
  else expect(r.termination, why).toBe('optimal');
  expect(r.solution!.evaluation.feasible).toBe(true);
  if (backend === 'exact') expect(close(r.solution!.objective, r.solution!.bound!, 1e-9)).toBe(true);
  return r.solution!.objective;
}

const sameOptimum = (a: number, b: number, rel = 1e-9): boolean =>
  (a === Infinity && b === Infinity) || close(a, b, rel);

const anyInstance = fc.oneof(inferenceInstance(), trainingInstance(), trainingInstance(4, 6, true));

describe('pipeline-placement exact method', () => {
  it('equals brute force over every ordered server subset and split', async () => {
    await fc.assert(
      fc.asyncProperty(anyInstance, async (raw) => {
        expect(sameOptimum(await optimum(raw, 'exact'), bruteForce(F.parse(raw)).objective)).toBe(true);
      }),
      { numRuns: 100, seed: 11 },
    );
  }, 60_000);

  it('listed server order: the chain DP equals brute force over order-respecting placements', async () => {
    await fc.assert(
      fc.asyncProperty(anyInstance, async (raw) => {
        const listed = { ...raw, serverOrder: 'listed' };
        expect(sameOptimum(await optimum(listed, 'exact'), bruteForce(F.parse(listed)).objective)).toBe(true);
      }),
      { numRuns: 50, seed: 12 },
    );
  });

  it('is never worse than any feasible peer', async () => {
    await fc.assert(
      fc.asyncProperty(anyInstance, async (raw) => {
        const ex = await optimum(raw, 'exact');
        const p = F.parse(raw);
        for (const peer of F.baselines) {
          const d = peer.run(p);
          if (!d) continue;
          const c = check(raw, d);
          if (c.feasible) expect(ex).toBeLessThanOrEqual(c.objective * (1 + 1e-12));
        }
      }),
      { numRuns: 60, seed: 13 },
    );
  });

  it('more memory, a faster device, faster links and an extra server never make the optimum worse', async () => {
    await fc.assert(
      fc.asyncProperty(anyInstance, fc.integer({ min: 0, max: 3 }), async (raw, which) => {
        if ('stages' in raw) return; // an exact stage count makes an extra server optional, not free
        const base = await optimum(raw, 'exact');
        const servers = raw.servers as { memoryBytes: number }[];
        const j = which % servers.length;
        const moreMemory = structuredClone(raw);
        (moreMemory.servers as { memoryBytes: number }[])[j].memoryBytes *= 2;
        expect(await optimum(moreMemory, 'exact')).toBeLessThanOrEqual(base * (1 + 1e-12));
        const fasterDevice = structuredClone(raw);
        const target = (fasterDevice.servers as Record<string, unknown>[])[j];
        const profile = target.profile as { layerSeconds: number[]; headSeconds: number } | undefined;
        if (profile) {
          profile.layerSeconds = profile.layerSeconds.map((x) => x / 2);
          profile.headSeconds /= 2;
        } else {
          target.device = {
            id: target.device as string,
            peakFlopsPerSecond: 2e15,
            memoryBandwidthBytesPerSecond: 5e12,
          };
        }
        expect(await optimum(fasterDevice, 'exact')).toBeLessThanOrEqual(base * (1 + 1e-12));
        const faster = structuredClone(raw);
        const m = faster.links.bitsPerSecondMatrix as (number | null)[][];
        for (const row of m) for (let k = 0; k < row.length; k++) if (row[k] !== null) row[k] = (row[k] as number) * 3;
        expect(await optimum(faster, 'exact')).toBeLessThanOrEqual(base * (1 + 1e-12));
        if ('maxStages' in raw) return;
        const extra = structuredClone(raw);
        const n = servers.length;
        (extra.servers as unknown[]).push({ ...structuredClone(servers[j]), name: `extra` });
        const grow = (mat: (number | null)[][], fill: number | null): (number | null)[][] => [
          ...mat.map((row, i) => [...row, i === n ? null : fill]),
          Array.from({ length: n + 1 }, (_, k) => (k === n ? null : fill)),
        ];
        extra.links = {
          bitsPerSecondMatrix: grow(raw.links.bitsPerSecondMatrix as (number | null)[][], 1e9),
          latencySecondsMatrix: grow(raw.links.latencySecondsMatrix as (number | null)[][], 1e-3).map((row) =>
            row.map((x) => x ?? 0),
          ),
        };
        expect(await optimum(extra, 'exact')).toBeLessThanOrEqual(base * (1 + 1e-12));
      }),
      { numRuns: 30, seed: 14 },
    );
  });
});

describe('pipeline-placement MILP', () => {
  it('HiGHS agrees with the exact method on small instances', async () => {
    const samples = fc.sample(fc.oneof(inferenceInstance(3, 5), trainingInstance(3, 5), trainingInstance(3, 5, true)), {
      numRuns: 25,
      seed: 21,
    });
    for (const raw of samples)
      expect(sameOptimum(await optimum(raw, 'highs'), await optimum(raw, 'exact'), 1e-6)).toBe(true);
  }, 120_000);

  it('every backend agrees on tiny instances', async () => {
    const samples = fc.sample(fc.oneof(inferenceInstance(2, 3), trainingInstance(2, 3)), { numRuns: 6, seed: 22 });
    for (const raw of samples) {
      const ex = await optimum(raw, 'exact');
      for (const name of ['highs', 'glpk', 'jslp'] as const)
        expect(sameOptimum(await optimum(raw, name), ex, 1e-6), name).toBe(true);
    }
  }, 120_000);

  it('activation-heavy 1F1B instances exercise the position-dependent memory rows', async () => {
    const samples = fc.sample(trainingInstance(3, 5, true), { numRuns: 30, seed: 24 });
    const withRows = samples.filter((raw) =>
      F.compile!(F.parse(raw)).model.constraints.some((r) => r.name.startsWith('inflight_')),
    );
    expect(withRows.length).toBeGreaterThan(3);
    for (const raw of withRows.slice(0, 8))
      expect(sameOptimum(await optimum(raw, 'highs'), await optimum(raw, 'exact'), 1e-6)).toBe(true);
  }, 120_000);

  it("encode: a peer's decision is a column vector that satisfies every row, with check's objective", () => {
    const samples = fc.sample(fc.oneof(inferenceInstance(), trainingInstance()), { numRuns: 40, seed: 23 });
    let checked = 0;
    for (const raw of samples) {
      const p = F.parse(raw);
      const c = F.compile!(p);
      for (const peer of F.baselines) {
        const d = peer.run(p);
        if (!d) continue;
        const report = check(raw, d);
        const x = c.encode!(d);
        if (!report.feasible) {
          expect(x).toBeNull();
          continue;
        }
        expect(x).not.toBeNull();
        checked++;
        const m = c.model;
        m.variables.forEach((v, i) => {
          expect(x![i]).toBeGreaterThanOrEqual(v.lower - 1e-9);
          expect(x![i]).toBeLessThanOrEqual(v.upper + 1e-9);
        });
        for (const row of m.constraints) {
          const act = row.terms.reduce((s, t) => s + t.coefficient * x![t.variable], 0);
          expect(act, row.name).toBeGreaterThanOrEqual(row.lower - 1e-7 * Math.max(1, Math.abs(row.lower)));
          expect(act, row.name).toBeLessThanOrEqual(row.upper + 1e-7 * Math.max(1, Math.abs(row.upper)));
        }
        const obj = m.objective.reduce((s, t) => s + t.coefficient * x![t.variable], m.objectiveConstant);
        expect(close(obj, report.objective, 1e-9)).toBe(true);
      }
    }
    expect(checked).toBeGreaterThan(30);
  });
});
