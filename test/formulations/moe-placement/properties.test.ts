import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { aggregateLayerBound } from '../../../src/formulations/moe-placement/bound.ts';
import { replicaCapacity } from '../../../src/formulations/moe-placement/cost.ts';
import { compileProblem } from '../../../src/formulations/moe-placement/milp.ts';
import type { MoePlacementProblem } from '../../../src/formulations/moe-placement/schema.ts';
import { checkMilpSolution } from '../../../src/milp/check.ts';
import { objectiveValue } from '../../../src/milp/model.ts';
import { bruteForceNoReplication, context, formulation as F, relClose, tinyRaw, type TinySpec } from './helpers.ts';

const DEVICES = ['a100-80gb', 'rtx-3090', 'jetson-agx-orin-64gb'];
const LINKS = ['datacenter', '5g-urllc', 'edge-lan'];

/** Tiny instances; `replicas` undefined means "limited by memory only". */
function tinySpec(options: { maxLayers: number; maxExperts: number; maxServers: number; replication: boolean }): fc.Arbitrary<TinySpec> {
  return fc
    .record({
      layers: fc.integer({ min: 1, max: options.maxLayers }),
      experts: fc.integer({ min: 2, max: options.maxExperts }),
      serverCount: fc.integer({ min: 2, max: options.maxServers }),
      batchTokens: fc.constantFrom(8, 64, 512),
      flops: fc.constantFrom(1e8, 1e10, 1e11),
      seed: fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 40, maxLength: 40 }),
      devices: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
      links: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
      slots: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 4, maxLength: 4 }),
      home: fc.boolean(),
      extra: fc.integer({ min: 0, max: 2 }),
    })
    .map((r) => {
      const loads = Array.from({ length: r.layers }, (_, l) => Array.from({ length: r.experts }, (_, e) => r.seed[(l * r.experts + e) % r.seed.length]));
      const servers = Array.from({ length: r.serverCount }, (_, s) => ({
        device: DEVICES[r.devices[s]],
        slots: r.slots[s],
        link: r.home && s === 0 ? null : LINKS[r.links[s]],
      }));
      return {
        layers: r.layers,
        experts: r.experts,
        loads,
        servers,
        batchTokens: r.batchTokens,
        flops: r.flops,
        replicas: options.replication ? r.experts + r.extra : r.experts,
      };
    });
}

async function exactSolve(problem: MoePlacementProblem) {
  const r = await F.exact!.solve(problem, context());
  if (r.decision === null) {
    expect(r.termination).toBe('infeasible');
    return { objective: Infinity, result: r };
  }
  expect(r.termination).toBe('optimal');
  const ev = F.evaluate(problem, r.decision);
  expect(ev.violations).toEqual([]);
  expect(r.bound).toBeDefined();
  expect(relClose(ev.objective, r.bound as number, 2e-6)).toBe(true);
  return { objective: ev.objective, result: r };
}

describe('moe-placement exact method and MILP', () => {
  it('equals brute force without replication; the MILP agrees and its objective is evaluate’s', async () => {
    await fc.assert(
      fc.asyncProperty(tinySpec({ maxLayers: 2, maxExperts: 3, maxServers: 3, replication: false }), async (spec) => {
        const p = F.parse(tinyRaw(spec));
        const brute = bruteForceNoReplication(p);
        const { objective } = await exactSolve(p);
        if (brute.decision === null) {
          expect(objective).toBe(Infinity);
          return;
        }
        expect(relClose(objective, brute.objective, 2e-6)).toBe(true);
        const res = await solve(tinyRaw(spec), { backend: 'highs' });
        expect(res.termination).toBe('optimal');
        const ev = res.solution!.evaluation;
        expect(ev.feasible).toBe(true);
        // Plain MILP in seconds: HiGHS's absolute tolerances (≈ 1e-7 s) allow ~1e-4 relative here.
        expect(relClose(ev.objective, brute.objective, 1e-4)).toBe(true);
        expect(ev.objective).toBeGreaterThanOrEqual(brute.objective * (1 - 1e-9));
      }),
      { numRuns: 12, seed: 61 },
    );
  }, 120_000);

  it('with replication: exact = HiGHS = GLPK, never worse than a peer, aggregate bound below the optimum', async () => {
    await fc.assert(
      fc.asyncProperty(tinySpec({ maxLayers: 2, maxExperts: 3, maxServers: 3, replication: true }), async (spec) => {
        const p = F.parse(tinyRaw(spec));
        const { objective } = await exactSolve(p);
        if (objective === Infinity) return;
        for (const name of ['highs', 'glpk'] as const) {
          const res = await solve(tinyRaw(spec), { backend: name, timeLimitSeconds: 60 });
          expect(res.termination).toBe('optimal');
          const ev = res.solution!.evaluation;
          expect(ev.feasible).toBe(true);
          // The plain MILP is in seconds like evaluate; HiGHS's absolute dual tolerance (1e-7)
          // then allows ~1e-5 relative on millisecond objectives (the exact method scales).
          expect(relClose(ev.objective, objective, 1e-4)).toBe(true);
          expect(ev.objective).toBeGreaterThanOrEqual(objective * (1 - 2e-6));
        }
        for (const peer of F.baselines) {
          const d = peer.run(p);
          if (d === null) continue;
          const ev = F.evaluate(p, d);
          if (ev.feasible) expect(objective).toBeLessThanOrEqual(ev.objective * (1 + 1e-9));
        }
        const caps = p.servers.map((_, s) => replicaCapacity(p, s));
        let bound = 0;
        for (let l = 0; l < p.layers; l++) bound += aggregateLayerBound(p, l, caps, objective)!.bound;
        expect(bound).toBeLessThanOrEqual(objective * (1 + 1e-9));
      }),
      { numRuns: 10, seed: 62 },
    );
  }, 120_000);

  it('encode gives a feasible column vector whose objective is the baseline’s (compile runs no peer)', () => {
    fc.assert(
      fc.property(tinySpec({ maxLayers: 2, maxExperts: 4, maxServers: 4, replication: true }), (spec) => {
        const p = F.parse(tinyRaw(spec));
        const peer = F.baselines.map((b) => b.run(p)).find((d) => d !== null && F.evaluate(p, d).feasible);
        if (peer === undefined) return;
        const compiled = compileProblem(p, peer);
        const vector = compiled.encode!(peer!);
        expect(vector).not.toBeNull();
        const check = checkMilpSolution(compiled.model, vector!);
        expect(check.violations).toEqual([]);
        expect(relClose(objectiveValue(compiled.model, vector!), F.evaluate(p, peer!).objective, 1e-9)).toBe(true);
        // The same model with or without the incumbent hint: it only seeds the bound's bisection.
        expect(compileProblem(p).model.variables.length).toBe(compiled.model.variables.length);
      }),
      { numRuns: 60, seed: 63 },
    );
  });

  it('more memory and a larger replica budget never make the optimum worse', async () => {
    await fc.assert(
      fc.asyncProperty(tinySpec({ maxLayers: 2, maxExperts: 3, maxServers: 3, replication: true }), async (spec) => {
        const base = (await exactSolve(F.parse(tinyRaw(spec)))).objective;
        const roomier = { ...spec, servers: spec.servers.map((s, i) => (i === 0 ? { ...s, slots: s.slots + 2 } : s)) };
        const moreMemory = (await exactSolve(F.parse(tinyRaw(roomier)))).objective;
        expect(moreMemory).toBeLessThanOrEqual(base * (1 + 1e-6));
        const moreReplicas = (await exactSolve(F.parse(tinyRaw({ ...spec, replicas: (spec.replicas ?? spec.experts) + 1 })))).objective;
        expect(moreReplicas).toBeLessThanOrEqual(base * (1 + 1e-6));
      }),
      { numRuns: 6, seed: 64 },
    );
  }, 120_000);

  it('the other objectives: MILP and exact agree on max-load and traffic', async () => {
    await fc.assert(
      fc.asyncProperty(tinySpec({ maxLayers: 2, maxExperts: 3, maxServers: 3, replication: true }), fc.constantFrom('max-load' as const, 'traffic' as const), async (spec, objectiveKind) => {
        const p = F.parse(tinyRaw({ ...spec, objective: objectiveKind }));
        const { objective } = await exactSolve(p);
        if (objective === Infinity) return;
        const res = await solve(tinyRaw({ ...spec, objective: objectiveKind }), { backend: 'highs' });
        expect(res.termination).toBe('optimal');
        const ev = res.solution!.evaluation;
        expect(relClose(ev.objective, objective, 1e-4) || Math.abs(ev.objective - objective) < 1e-6).toBe(true);
      }),
      { numRuns: 6, seed: 65 },
    );
  }, 120_000);
});
