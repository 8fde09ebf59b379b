/**
 * Issue 14 items 20–22 and issue 13's moe-placement cases, each built from the description's
 * numbers: no absurd coefficient when a layer cannot be placed, a reproducible exact method with
 * no hidden time limit, DeepSeek's shared expert placed, a requester link refused, one
 * feasibility tolerance for solve and check, plausibility warnings.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { aggregateLayerBound } from '../../../src/formulations/moe-placement/bound.ts';
import { replicaCapacity } from '../../../src/formulations/moe-placement/cost.ts';
import { evaluateDecision } from '../../../src/formulations/moe-placement/evaluate.ts';
import { eplbPlacement } from '../../../src/formulations/moe-placement/baselines.ts';
import { errorOf } from '../../support/errors.ts';
import { context, formulation as F, tinyRaw, type TinySpec } from './helpers.ts';

const example = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../problems/moe-placement/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

const threeServers: TinySpec = {
  layers: 2,
  experts: 4,
  loads: [
    [70, 10, 10, 10],
    [5, 40, 40, 15],
  ],
  servers: [
    { device: 'a100-80gb', slots: 3, link: 'datacenter' },
    { device: 'rtx-3090', slots: 2, link: 'datacenter' },
    { device: 'rtx-3090', slots: 2, link: 'datacenter' },
  ],
  batchTokens: 2048,
  flops: 1e11,
};

describe('item 20: a layer that cannot be placed gives no absurd coefficient', () => {
  // 8 experts, 7 slots: layer 1 gets only 3 of its 4 experts.
  const raw = tinyRaw(threeServers);

  it('the aggregate bound has no number for an unplaceable layer (it once returned 3.26e79)', () => {
    const p = F.parse(raw);
    const tooFew = p.servers.map(() => 1);
    expect(aggregateLayerBound(p, 0, tooFew, 0)).toBeNull();
    const caps = p.servers.map((_, s) => replicaCapacity(p, s));
    expect(aggregateLayerBound(p, 0, caps, 0)!.bound).toBeGreaterThan(0);
  });

  it('compile emits only finite coefficients within ±1e15, and HiGHS and GLPK say infeasible with the shortfall', async () => {
    const p = F.parse(raw);
    const model = F.compile!(p).model;
    const numbers = [
      ...model.objective.map((t) => t.coefficient),
      ...model.constraints.flatMap((c) => [...c.terms.map((t) => t.coefficient), c.lower, c.upper]),
      ...model.variables.flatMap((v) => [v.lower, v.upper]),
    ].filter((x) => Number.isFinite(x) || Math.abs(x) !== Infinity);
    for (const x of numbers) expect(Number.isFinite(x) && Math.abs(x) <= 1e15).toBe(true);
    for (const backend of ['highs', 'glpk', 'exact'] as const) {
      const report = await solve(raw, { backend });
      expect(report.termination).toBe('infeasible');
      expect(report.explanation).toMatch(/8 experts .* the servers hold 7 whole experts .* 1 experts \(1\.00 GB\) do not fit/);
      expect(report.explanation).toMatch(/layer 1 gets only 3 of its 4 experts/);
    }
  }, 60_000);

  it('no server can hold one expert: said in those words', () => {
    const p = F.parse(tinyRaw({ ...threeServers, servers: threeServers.servers.map((s) => ({ ...s, slots: 0.5 })) }));
    expect(F.explainInfeasible!(p)).toMatch(/no server can hold even one expert: each needs 1\.000 GB, the largest server offers 0\.500 GB/);
  });
});

describe('item 21 and issue 13: the exact method is reproducible and has no hidden time limit', () => {
  // Lumpy experts on mixed servers with a tiny node limit: the gap is not closed, deterministically.
  const spec: TinySpec = {
    layers: 2,
    experts: 5,
    loads: [
      [50, 20, 12, 9, 9],
      [5, 60, 10, 15, 10],
    ],
    servers: [
      { device: 'a100-80gb', slots: 6, link: null },
      { device: 'rtx-3090', slots: 5, link: 'edge-lan' },
      { device: 'jetson-agx-orin-64gb', slots: 5, link: '5g-urllc' },
      { device: 'rtx-3090', slots: 4, link: 'datacenter' },
    ],
    batchTokens: 512,
    flops: 1e10,
    replicas: 7,
  };

  it('the same input twice without a time limit gives the same decision, objective and bound', async () => {
    const p = F.parse({ ...tinyRaw(spec), exactNodeLimit: 3 });
    const a = await F.exact!.solve(p, context());
    const b = await F.exact!.solve(p, context());
    expect(a.termination).not.toBe('time_limit');
    expect(a.termination).toBe(b.termination);
    expect(b.decision).toEqual(a.decision);
    expect(b.bound).toBe(a.bound);
    expect(a.message).toMatch(/exactNodeLimit 3 per MILP, no time limit/);
    expect((a.details as { timeLimitSeconds: number | null }).timeLimitSeconds).toBeNull();
  }, 60_000);

  it('the default node limit is printed in the report; a user time limit is the only time limit', async () => {
    const report = await solve(tinyRaw(spec), { backend: 'exact' });
    expect(report.termination).not.toBe('time_limit');
    expect(report.attempts.map((x) => x.message ?? '').join(' ')).toMatch(/exactNodeLimit 1000 per MILP, no time limit/);
    expect((report.details as { exactNodeLimit: number }).exactNodeLimit).toBe(1000);
  }, 60_000);
});

describe('item 22: DeepSeek’s shared expert is placed; a requester link is refused', () => {
  it('DeepSeek-V3 places 256 routed + 1 shared expert per layer; EPLB places the shared one too', () => {
    const p = F.parse(example('deepseek-v3-16-servers'));
    expect(p.routedExperts).toBe(256);
    expect(p.sharedExperts).toBe(1);
    expect(p.experts).toBe(257);
    const d = eplbPlacement(p)!;
    expect(d.placement[0]).toHaveLength(257);
    expect(d.placement[0][256].length).toBeGreaterThan(0);
    expect(evaluateDecision(p, d).feasible).toBe(true);
  });

  it('the shared expert needs memory: slots for the routed experts only are one short per layer', async () => {
    const spec: TinySpec = { ...threeServers, layers: 1, loads: [[70, 10, 10, 10]], sharedExperts: 1 };
    const p = F.parse(tinyRaw({ ...spec, servers: spec.servers.map((s, i) => ({ ...s, slots: i === 0 ? 2 : 1 })) }));
    expect(p.experts).toBe(5);
    expect(F.explainInfeasible!(p)).toMatch(/5 experts \(1 layers × 5 \(4 routed \+ 1 shared\)\)/);
    const fits = tinyRaw({ ...spec, replicas: 5 });
    const report = await solve(fits, { backend: 'exact' });
    expect(report.termination).toBe('optimal');
    const b = report.solution!.evaluation.breakdown as { servers: { replicas: number }[] };
    // 4 routed + 1 shared replicas are held somewhere (the budget is 5).
    expect(b.servers.reduce((a, s) => a + s.replicas, 0)).toBe(5);
  }, 60_000);

  it('the shared expert needs compute: every token visits it (B tokens), which costs time', () => {
    const spec: TinySpec = { ...threeServers, layers: 1, loads: [[70, 10, 10, 10]] };
    const without = F.parse(tinyRaw(spec));
    const withShared = F.parse(tinyRaw({ ...spec, sharedExperts: 1 }));
    const onA100 = (n: number) => [Array.from({ length: n }, () => [{ server: 0, share: 1 }])];
    const a = evaluateDecision(without, { placement: onA100(4) });
    const b = evaluateDecision(withShared, { placement: onA100(5) });
    expect(b.breakdown!.layers[0].servers[0].tokens).toBeCloseTo(a.breakdown!.layers[0].servers[0].tokens + 2048, 6);
    expect(b.objective).toBeGreaterThan(a.objective);
    expect(evaluateDecision(withShared, { placement: onA100(4) }).feasible).toBe(false);
  });

  it('a link on the requester’s own server is refused with its path, not ignored', () => {
    const raw = example('mixtral-8x7b-6-servers');
    const servers = (raw.servers as Record<string, unknown>[]).map((s, i) => (i === 0 ? { ...s, link: 'datacenter' } : s));
    const e = errorOf(() => F.parse({ ...raw, servers }));
    expect(e.path).toBe('$.servers[0].link');
    expect(e.rule).toMatch(/requester runs on this server/);
  });
});

describe('issue 13 item 6: one feasibility tolerance for solve and check', () => {
  it('three 1 GB experts on a server of 3 GB − 1 byte fit for the exact method, the MILP and evaluate', async () => {
    const raw = {
      kind: 'moe-placement',
      moe: { layers: 1, experts: 3, topK: 1, expertBytes: 1e9, expertFlopsPerToken: 1e10, activationBytesPerToken: 8192 },
      popularity: { matrix: [[5, 3, 2]] },
      batchTokens: 64,
      servers: [{ device: 'a100-80gb', expertMemoryBytes: 3e9 - 1 }],
      requester: { server: 0 },
    };
    const p = F.parse(raw);
    expect(replicaCapacity(p, 0)).toBe(3);
    const all = { placement: [[0, 1, 2].map(() => [{ server: 0, share: 1 }])] };
    expect(evaluateDecision(p, all).feasible).toBe(true);
    for (const backend of ['exact', 'highs'] as const) {
      const report = await solve(raw, { backend });
      expect(report.termination).toBe('optimal');
      expect(report.solution!.evaluation.feasible).toBe(true);
    }
    // Beyond the relative tolerance (1e-6 of 3 GB = 3 kB short) it no longer fits, for both.
    const short = F.parse({ ...raw, servers: [{ ...raw.servers[0], expertMemoryBytes: 3e9 - 4000 }] });
    expect(replicaCapacity(short, 0)).toBe(2);
    expect(evaluateDecision(short, all).feasible).toBe(false);
  }, 60_000);
});

describe('warnings and user names', () => {
  it('memory of 48 bytes and an uplink of 50 bit/s are warned about with their paths, not refused', () => {
    const raw = tinyRaw(threeServers);
    const servers = (raw.servers as Record<string, unknown>[]).map((s, i) =>
      i === 1
        ? { ...s, link: { id: 'slow', uplinkBitsPerSecond: 50, downlinkBitsPerSecond: 1e9, latencySeconds: 1e-3 } }
        : s,
    );
    const p = F.parse({ ...raw, servers });
    const paths = F.warnings!(p).map((w) => w.path);
    expect(paths).toContain('$.servers[1].link.uplinkBitsPerSecond');
    expect(paths).not.toContain('$.servers[0].expertMemoryBytes');
    const tiny = F.parse(tinyRaw({ ...threeServers, servers: threeServers.servers.map((s) => ({ ...s, slots: 48e-9 })) }));
    expect(F.warnings!(tiny).map((w) => w.path)).toContain('$.servers[0].expertMemoryBytes');
  });

  it('a node named __proto__ is a node like any other for EPLB', () => {
    const raw = tinyRaw({ ...threeServers, servers: threeServers.servers.map((s) => ({ ...s, slots: 4 })), replicas: 6 });
    const servers = (raw.servers as Record<string, unknown>[]).map((s) => ({ ...s, node: '__proto__' }));
    const p = F.parse({ ...raw, servers });
    const d = eplbPlacement(p);
    expect(d).not.toBeNull();
    expect(evaluateDecision(p, d!).feasible).toBe(true);
  });
});
