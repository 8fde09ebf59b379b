import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getBackend } from '../../../src/backends/registry.ts';
import { pipelinePlacementFormulation as F } from '../../../src/formulations/pipeline-placement/index.ts';
import type { PipelineProblem } from '../../../src/formulations/pipeline-placement/schema.ts';
import type { ExactContext } from '../../../src/formulations/types.ts';
import { bruteForce, close, inferenceInstance, trainingInstance } from './helpers.ts';

const context: ExactContext = { mipGap: 1e-9, solveMilp: () => Promise.reject(new Error('the exact method needs no MILP')) };

async function exactObjective(problem: PipelineProblem): Promise<number> {
  const r = await F.exact!.solve(problem, context);
  if (!r.decision) {
    expect(r.termination).toBe('infeasible');
    return Infinity;
  }
  expect(r.termination).toBe('optimal');
  const e = F.evaluate(problem, r.decision);
  expect(e.violations).toEqual([]);
  expect(e.feasible).toBe(true);
  expect(close(e.objective, r.bound as number, 1e-9)).toBe(true);
  return e.objective;
}

const anyInstance = fc.oneof(inferenceInstance(), trainingInstance(), trainingInstance(4, 6, true));

describe('pipeline-placement exact method', () => {
  it('returns feasible decisions whose objective is the evaluated one and equals brute force', async () => {
    await fc.assert(
      fc.asyncProperty(anyInstance, async (raw) => {
        const p = F.parse(raw);
        const ex = await exactObjective(p);
        const bf = bruteForce(p);
        if (bf.objective === Infinity) expect(ex).toBe(Infinity);
        else expect(close(ex, bf.objective, 1e-9)).toBe(true);
      }),
      { numRuns: 120, seed: 11 },
    );
  }, 60_000);

  it('listed server order: the chain DP equals brute force over order-respecting placements', async () => {
    await fc.assert(
      fc.asyncProperty(anyInstance, async (raw) => {
        const p = F.parse({ ...raw, serverOrder: 'listed' });
        const ex = await exactObjective(p);
        expect(close(ex, bruteForce(p).objective, 1e-9) || (ex === Infinity && bruteForce(p).objective === Infinity)).toBe(true);
      }),
      { numRuns: 60, seed: 12 },
    );
  });

  it('is never worse than any feasible peer', async () => {
    await fc.assert(
      fc.asyncProperty(anyInstance, async (raw) => {
        const p = F.parse(raw);
        const ex = await exactObjective(p);
        for (const peer of F.baselines) {
          const d = peer.run(p);
          if (!d) continue;
          const e = F.evaluate(p, d);
          if (e.feasible) expect(ex).toBeLessThanOrEqual(e.objective * (1 + 1e-12));
        }
      }),
      { numRuns: 80, seed: 13 },
    );
  });

  it('more memory, a faster device, faster links and an extra server never make the optimum worse', async () => {
    await fc.assert(
      fc.asyncProperty(anyInstance, fc.integer({ min: 0, max: 3 }), async (raw, which) => {
        if ('stages' in raw) return; // an exact stage count makes an extra server optional, not free
        const base = await exactObjective(F.parse(raw));
        const servers = raw.servers as { memoryBytes: number }[];
        const j = which % servers.length;
        const moreMemory = structuredClone(raw);
        (moreMemory.servers as { memoryBytes: number }[])[j].memoryBytes *= 2;
        expect(await exactObjective(F.parse(moreMemory))).toBeLessThanOrEqual(base * (1 + 1e-12));
        const fasterDevice = structuredClone(raw);
        const target = (fasterDevice.servers as Record<string, unknown>[])[j];
        const profile = target.profile as { layerSeconds: number[]; headSeconds: number } | undefined;
        if (profile) {
          profile.layerSeconds = profile.layerSeconds.map((x) => x / 2);
          profile.headSeconds /= 2;
        } else {
          target.device = { id: target.device as string, peakFlopsPerSecond: 2e15, memoryBandwidthBytesPerSecond: 5e12 };
        }
        expect(await exactObjective(F.parse(fasterDevice))).toBeLessThanOrEqual(base * (1 + 1e-12));
        const faster = structuredClone(raw);
        const m = faster.links.bitsPerSecondMatrix as (number | null)[][];
        for (const row of m) for (let k = 0; k < row.length; k++) if (row[k] !== null) row[k] = (row[k] as number) * 3;
        expect(await exactObjective(F.parse(faster))).toBeLessThanOrEqual(base * (1 + 1e-12));
        const extra = structuredClone(raw);
        const n = servers.length;
        (extra.servers as unknown[]).push({ ...structuredClone(servers[j]), name: `extra` });
        const grow = (mat: (number | null)[][], fill: number | null): (number | null)[][] => [...mat.map((row, i) => [...row, i === n ? null : fill]), Array.from({ length: n + 1 }, (_, k) => (k === n ? null : fill))];
        extra.links = {
          bitsPerSecondMatrix: grow(raw.links.bitsPerSecondMatrix as (number | null)[][], 1e9),
          latencySecondsMatrix: grow(raw.links.latencySecondsMatrix as (number | null)[][], 1e-3).map((row) => row.map((x) => x ?? 0)),
        };
        if ('maxStages' in extra) delete (extra as { maxStages?: number }).maxStages;
        if ('maxStages' in raw) return;
        expect(await exactObjective(F.parse(extra))).toBeLessThanOrEqual(base * (1 + 1e-12));
      }),
      { numRuns: 40, seed: 14 },
    );
  });
});

describe('pipeline-placement MILP', () => {
  it('HiGHS agrees with the exact method on small instances (with and without the warm start)', async () => {
    const highs = getBackend('highs');
    await fc.assert(
      fc.asyncProperty(fc.oneof(inferenceInstance(3, 5), trainingInstance(3, 5), trainingInstance(3, 5, true)), fc.boolean(), async (raw, warm) => {
        const p = F.parse(raw);
        const ex = await exactObjective(p);
        const c = F.compile!(p);
        const r = await highs.solve(c.model, { mipGap: 1e-9, warmStart: warm ? c.warmStart : undefined });
        if (ex === Infinity) {
          expect(r.termination).toBe('infeasible');
          return;
        }
        expect(r.termination).toBe('optimal');
        const d = c.decode(r.solution!.values);
        const e = F.evaluate(p, d);
        expect(e.feasible).toBe(true);
        expect(close(e.objective, ex, 1e-6)).toBe(true);
        expect(close(r.solution!.objective, e.objective, 1e-6)).toBe(true);
      }),
      { numRuns: 40, seed: 21 },
    );
  }, 120_000);

  it('every backend agrees on tiny instances', async () => {
    const samples = fc.sample(fc.oneof(inferenceInstance(2, 3), trainingInstance(2, 3)), { numRuns: 6, seed: 22 });
    for (const raw of samples) {
      const p = F.parse(raw);
      const ex = await exactObjective(p);
      const c = F.compile!(p);
      for (const name of ['highs', 'glpk', 'jslp'] as const) {
        const r = await getBackend(name).solve(c.model, { mipGap: 1e-9, timeLimitSeconds: 30 });
        if (ex === Infinity) {
          expect(r.termination, name).toBe('infeasible');
          continue;
        }
        expect(r.termination, name).toBe('optimal');
        const e = F.evaluate(p, c.decode(r.solution!.values));
        expect(e.feasible, name).toBe(true);
        expect(close(e.objective, ex, 1e-6), `${name}: ${e.objective} vs ${ex}`).toBe(true);
      }
    }
  }, 120_000);

  it('activation-heavy 1F1B instances exercise the position-dependent memory rows', async () => {
    const samples = fc.sample(trainingInstance(3, 5, true), { numRuns: 30, seed: 24 });
    const withRows = samples.filter((raw) => F.compile!(F.parse(raw)).model.constraints.some((r) => r.name.startsWith('inflight_')));
    expect(withRows.length).toBeGreaterThan(3);
    const highs = getBackend('highs');
    for (const raw of withRows) {
      const p = F.parse(raw);
      const ex = await exactObjective(p);
      const c = F.compile!(p);
      const r = await highs.solve(c.model, { mipGap: 1e-9 });
      if (ex === Infinity) {
        expect(r.termination).toBe('infeasible');
        continue;
      }
      const e = F.evaluate(p, c.decode(r.solution!.values));
      expect(e.feasible).toBe(true);
      expect(close(e.objective, ex, 1e-6)).toBe(true);
    }
  }, 120_000);

  it('the warm start is a feasible column vector with the baseline\'s objective', () => {
    const samples = fc.sample(fc.oneof(inferenceInstance(), trainingInstance()), { numRuns: 40, seed: 23 });
    let checked = 0;
    for (const raw of samples) {
      const p = F.parse(raw);
      const c = F.compile!(p);
      if (!c.warmStart) continue;
      checked++;
      const x = c.warmStart;
      const m = c.model;
      m.variables.forEach((v, i) => {
        expect(x[i]).toBeGreaterThanOrEqual(v.lower - 1e-9);
        expect(x[i]).toBeLessThanOrEqual(v.upper + 1e-9);
      });
      for (const row of m.constraints) {
        const act = row.terms.reduce((s, t) => s + t.coefficient * x[t.variable], 0);
        expect(act, row.name).toBeGreaterThanOrEqual(row.lower - 1e-7 * Math.max(1, Math.abs(row.lower)));
        expect(act, row.name).toBeLessThanOrEqual(row.upper + 1e-7 * Math.max(1, Math.abs(row.upper)));
      }
      const obj = m.objective.reduce((s, t) => s + t.coefficient * x[t.variable], m.objectiveConstant);
      const e = F.evaluate(p, c.decode(x));
      expect(e.feasible).toBe(true);
      expect(close(obj, e.objective, 1e-9)).toBe(true);
    }
    expect(checked).toBeGreaterThan(10);
  });
});
