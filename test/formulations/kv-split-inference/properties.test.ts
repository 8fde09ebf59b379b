import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { F, bruteForce, close, noMilp, smallInstance } from './helpers.ts';

const exactContext = { mipGap: 1e-9, solveMilp: noMilp };

type Backend = 'highs' | 'glpk' | 'jslp';

/** One backend through the solve chain: evaluate's objective of its decision, or null for a verified "infeasible". */
async function milpOptimum(raw: unknown, backend: Backend): Promise<number | null> {
  const report = await solve(raw, { backend, mipGap: 1e-9, timeLimitSeconds: 60 });
  if (report.termination === 'infeasible') return null;
  expect(report.solution, `${backend}: ${report.termination}`).not.toBeNull();
  expect(report.solution?.evaluation.violations).toEqual([]);
  return report.solution?.objective ?? NaN;
}

describe('kv-split-inference: exact method, baselines and brute force', () => {
  it('the exact method equals brute force wherever it applies; baselines are feasible and never better', async () => {
    await fc.assert(
      fc.asyncProperty(smallInstance(), async (raw) => {
        const problem = F.parse(raw);
        const brute = bruteForce(problem);
        for (const b of F.baselines) {
          const d = b.run(problem);
          if (d === null) {
            expect(typeof b.whyNoDecision?.(problem)).toBe('string');
            continue;
          }
          const ev = F.evaluate(problem, d);
          expect(ev.feasible).toBe(true);
          expect(brute).not.toBeNull();
          if (brute) expect(ev.objective).toBeGreaterThanOrEqual(brute.objective - 1e-12);
        }
        if (brute === null) expect(F.explainInfeasible?.(problem).length ?? 0).toBeGreaterThan(10);
        const exact = F.exact;
        if (!exact || exact.notApplicable(problem) !== null) return;
        const result = await exact.solve(problem, exactContext);
        if (brute === null) {
          expect(result.termination).toBe('infeasible');
          return;
        }
        expect(result.termination).toBe('optimal');
        if (!result.decision) throw new Error('optimal without a decision');
        const ev = F.evaluate(problem, result.decision);
        expect(ev.violations).toEqual([]);
        expect(close(ev.objective, brute.objective)).toBe(true);
        expect(close(result.bound ?? NaN, ev.objective)).toBe(true);
      }),
      { numRuns: 60, seed: 20261122 },
    );
  });

  it('the exact method equals brute force on max-objective instances (server memory and SLOs binding)', async () => {
    await fc.assert(
      fc.asyncProperty(smallInstance({ objective: 'max', admission: false, maxUsers: 3 }), async (raw) => {
        const problem = F.parse(raw);
        const brute = bruteForce(problem);
        const result = await F.exact?.solve(problem, exactContext);
        if (!result) throw new Error('no exact method');
        if (brute === null) expect(result.termination).toBe('infeasible');
        else {
          expect(result.termination).toBe('optimal');
          if (!result.decision) throw new Error('optimal without a decision');
          expect(close(F.evaluate(problem, result.decision).objective, brute.objective)).toBe(true);
        }
      }),
      { numRuns: 40, seed: 31337 },
    );
  });

  it('the exact method applies to every max-objective instance without admission', () => {
    fc.assert(
      fc.property(smallInstance({ objective: 'max', admission: false }), (raw) => {
        expect(F.exact?.notApplicable(F.parse(raw))).toBeNull();
      }),
      { numRuns: 20, seed: 7 },
    );
  });
});

describe('kv-split-inference: the MILP on every backend equals brute force', () => {
  const cases: readonly [Backend, number, number][] = [
    ['highs', 24, 3],
    ['glpk', 20, 2],
    ['jslp', 8, 1],
  ];
  for (const [backend, numRuns, maxUsers] of cases) {
    it(`${backend}`, async () => {
      await fc.assert(
        fc.asyncProperty(smallInstance({ maxUsers }), async (raw) => {
          const problem = F.parse(raw);
          const brute = bruteForce(problem);
          const milp = await milpOptimum(raw, backend);
          if (brute === null) expect(milp).toBeNull();
          else {
            expect(milp).not.toBeNull();
            if (milp !== null) expect(close(milp, brute.objective, 1e-6)).toBe(true);
          }
        }),
        { numRuns, seed: 424242 },
      );
    }, 120_000);
  }
});

describe('kv-split-inference: metamorphic truths (exact method)', () => {
  const optimum = async (raw: Record<string, unknown>): Promise<number> => {
    const problem = F.parse(raw);
    const result = await F.exact?.solve(problem, exactContext);
    if (!result || result.decision === null) return Infinity;
    return F.evaluate(problem, result.decision).objective;
  };
  const scaleServer = (raw: Record<string, unknown>, fields: Record<string, number>): Record<string, unknown> => {
    const server = raw.server as { device: Record<string, unknown> };
    return { ...raw, server: { ...server, device: { ...server.device, ...fields } } };
  };

  it('more server memory, a faster server and faster links never make the optimum worse', async () => {
    await fc.assert(
      fc.asyncProperty(
        smallInstance({ objective: 'max', admission: false }),
        fc.double({ min: 1, max: 3, noNaN: true }),
        async (raw, factor) => {
          const base = await optimum(raw);
          const device = (raw.server as { device: { memoryBytes: number } }).device;
          const moreMemory = await optimum(scaleServer(raw, { memoryBytes: device.memoryBytes * factor }));
          expect(moreMemory).toBeLessThanOrEqual(base * (1 + 1e-12));
          const faster = await optimum(
            scaleServer(raw, {
              peakFlopsPerSecond: 71e12 * factor,
              memoryBandwidthBytesPerSecond: 936e9 * factor,
              computeEfficiency: 0.5,
              bandwidthEfficiency: 0.8,
            }),
          );
          const sameSpeed = await optimum(
            scaleServer(raw, {
              peakFlopsPerSecond: 71e12,
              memoryBandwidthBytesPerSecond: 936e9,
              computeEfficiency: 0.5,
              bandwidthEfficiency: 0.8,
            }),
          );
          expect(faster).toBeLessThanOrEqual(sameSpeed * (1 + 1e-12));
          const users = raw.users as Record<string, unknown>[];
          const fasterLinks = {
            ...raw,
            users: users.map((u) => ({
              ...u,
              link: { id: String(u.link), uplinkBitsPerSecond: 1e10 * factor, downlinkBitsPerSecond: 2e10 * factor },
            })),
          };
          const slowerLinks = {
            ...raw,
            users: users.map((u) => ({
              ...u,
              link: { id: String(u.link), uplinkBitsPerSecond: 1e10, downlinkBitsPerSecond: 2e10 },
            })),
          };
          expect(await optimum(fasterLinks)).toBeLessThanOrEqual((await optimum(slowerLinks)) * (1 + 1e-12));
        },
      ),
      { numRuns: 25, seed: 99 },
    );
  });

  it('removing a user never makes the slowest-user optimum worse', async () => {
    await fc.assert(
      fc.asyncProperty(smallInstance({ objective: 'max', admission: false, maxUsers: 4 }), async (raw) => {
        const users = raw.users as unknown[];
        fc.pre(users.length >= 2);
        const all = await optimum(raw);
        const fewer = await optimum({ ...raw, users: users.slice(1) });
        expect(fewer).toBeLessThanOrEqual(all * (1 + 1e-12));
      }),
      { numRuns: 25, seed: 5 },
    );
  });
});
