import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compare, solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import { balancedPacking, eplbPlacement, eplbRebalance, replicateExperts } from '../../../src/formulations/moe-placement/baselines.ts';
import { evaluateDecision } from '../../../src/formulations/moe-placement/evaluate.ts';
import { context, formulation as F, tinyRaw } from './helpers.ts';

const BIN = new URL('../../../bin/edgeplan.js', import.meta.url).pathname;
const problemFile = (name: string) => new URL(`../../../problems/moe-placement/${name}.json`, import.meta.url).pathname;

function inputError(raw: unknown): InputError {
  try {
    F.parse(raw);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

const small = {
  layers: 2,
  experts: 4,
  loads: [
    [70, 10, 10, 10],
    [5, 40, 40, 15],
  ],
  servers: [
    { device: 'a100-80gb', slots: 4, link: 'datacenter' },
    { device: 'rtx-3090', slots: 4, link: 'datacenter' },
    { device: 'rtx-3090', slots: 4, link: 'datacenter' },
  ],
  batchTokens: 2048,
  flops: 1e11,
};

describe('EPLB port', () => {
  it('reproduces DeepSeek’s published reference example exactly', () => {
    const weight = [
      [90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86],
      [20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27],
    ];
    expect(eplbRebalance(weight, 16, 4, 2, 8)).toEqual([
      [5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1],
      [7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1],
    ]);
  });

  it('replicates the expert with the highest load per replica and packs exactly n/m items per pack', () => {
    const { phy2log, count } = replicateExperts([[10, 4, 3]], 5);
    // 10 → 5+5; then max(5, 4, 3) = 5 again → 10/3; the counts follow the rule.
    expect(phy2log[0]).toEqual([0, 1, 2, 0, 0]);
    expect(count[0]).toEqual([3, 1, 1]);
    const { pack } = balancedPacking([[9, 1, 8, 2, 7, 3]], 2);
    const sums = [0, 0];
    const sizes = [0, 0];
    pack[0].forEach((p, i) => {
      sums[p] += [9, 1, 8, 2, 7, 3][i];
      sizes[p] += 1;
    });
    expect(sizes).toEqual([3, 3]);
    expect(Math.abs(sums[0] - sums[1])).toBeLessThanOrEqual(2);
  });

  it('global policy when nodes do not divide the groups; shares follow replica counts; null when slots are short', () => {
    const p = F.parse({ ...tinyRaw({ ...small, replicas: 6 }) });
    const d = eplbPlacement(p);
    expect(d).not.toBeNull();
    const ev = F.evaluate(p, d!);
    expect(ev.violations).toEqual([]);
    for (const row of d!.placement) for (const reps of row) expect(reps.reduce((a, r) => a + r.share, 0)).toBeCloseTo(1, 12);
    const short = F.parse(tinyRaw({ ...small, servers: small.servers.map((s, i) => ({ ...s, slots: i === 0 ? 2 : 4 })) }));
    // The smallest server holds 1 expert per layer → 3 slots per layer < 4 experts.
    expect(eplbPlacement(short)).toBeNull();
  });
});

describe('parsing', () => {
  it('derives expert sizes from the catalog models', () => {
    const mixtral = F.parse(JSON.parse(readFileSync(problemFile('mixtral-8x7b-6-servers'), 'utf8')));
    expect(mixtral.layers).toBe(32);
    expect(mixtral.experts).toBe(8);
    expect(mixtral.topK).toBe(2);
    expect(mixtral.expertBytes).toBe(3 * 4096 * 14336 * 2);
    expect(mixtral.activationBytesPerToken).toBe(4096 * 2);
    const deepseek = F.parse(JSON.parse(readFileSync(problemFile('deepseek-v3-16-servers'), 'utf8')));
    expect(deepseek.layers).toBe(58);
    expect(deepseek.experts).toBe(257);
    expect(deepseek.routedExperts).toBe(256);
    expect(deepseek.topK).toBe(8);
    expect(deepseek.expertBytes).toBe(3 * 7168 * 2048);
    // Busiest expert ≈ 3× the mean on average (REFERENCE-FACTS), from the recorded generator.
    const ratio = deepseek.popularity.reduce((a, row) => a + Math.max(...row) * row.length, 0) / deepseek.layers;
    expect(ratio).toBeGreaterThan(2.5);
    expect(ratio).toBeLessThan(3.6);
  });

  it('seeded generators are reproducible and recorded in the breakdown', () => {
    const raw = { ...tinyRaw(small), popularity: { generator: 'lognormal', sigma: 0.6, seed: 5 } };
    const a = F.parse(raw);
    const b = F.parse(raw);
    expect(a.popularity).toEqual(b.popularity);
    expect(F.parse({ ...raw, popularity: { generator: 'lognormal', sigma: 0.6, seed: 6 } }).popularity).not.toEqual(a.popularity);
    const zipf = F.parse({ ...raw, popularity: { generator: 'zipf', exponent: 1.2, seed: 1 } });
    for (const row of zipf.popularity) expect(row.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
    const d = F.baselines[1].run(a)!;
    expect(evaluateDecision(a, d).breakdown!.popularity).toEqual({ kind: 'lognormal', sigma: 0.6, seed: 5 });
  });

  it('rejects bad input with the JSON path and the rule', () => {
    const raw = tinyRaw(small);
    expect(inputError({ ...raw, popularity: { matrix: [[1, 2, 3, 4]] } }).path).toBe('$.popularity.matrix');
    expect(inputError({ ...raw, popularity: { matrix: [[1, 2, 3], [1, 2, 3, 4]] } }).path).toBe('$.popularity.matrix[0]');
    expect(inputError({ ...raw, popularity: { matrix: [[0, 0, 0, 0], [1, 1, 1, 1]] } }).path).toBe('$.popularity.matrix[0]');
    expect(inputError({ ...raw, popularity: { matrix: [[-1, 0, 0, 4], [1, 1, 1, 1]] } }).path).toBe('$.popularity.matrix[0][0]');
    expect(inputError({ ...raw, maxReplicasPerLayer: 3 }).path).toBe('$.maxReplicasPerLayer');
    expect(inputError({ ...raw, requester: { server: 7 } }).path).toBe('$.requester.server');
    expect(inputError({ ...raw, servers: [{ device: 'rtx-3090' }] }).path).toBe('$.servers[0].link');
    expect(inputError({ ...raw, servers: [{ device: 'rtx-9090', link: 'datacenter' }] }).path).toBe('$.servers[0].device');
    expect(inputError({ ...raw, servers: [{ device: 'rtx-3090', link: 'datacenter', expertMemoryBytes: 30e9 }] }).path).toBe('$.servers[0].expertMemoryBytes');
    expect(inputError({ ...raw, model: 'mixtral-8x7b' }).path).toBe('$.moe');
    expect(inputError({ ...raw, moe: undefined, model: 'llama-2-7b' }).path).toBe('$.model');
    expect(inputError({ ...raw, batchTokens: -1 }).path).toBe('$.batchTokens');
    expect(inputError({ ...raw, colour: 'red' }).path).toBe('$.colour');
    expect(inputError({ ...raw, expertGroups: 3 }).path).toBe('$.expertGroups');
    expect(inputError({ ...raw, migration: { current: [[[0]], [[0]]], weight: 1 } }).path).toBe('$.migration.current[0]');
  });
});

describe('decisions', () => {
  it('evaluate names the broken constraints in domain words', () => {
    const p = F.parse(tinyRaw({ ...small, replicas: 5 }));
    const everywhere = p.popularity.map((row) => row.map(() => [0, 1, 2].map((s) => ({ server: s, share: 1 / 3 }))));
    const ev = F.evaluate(p, { placement: everywhere });
    expect(ev.feasible).toBe(false);
    expect(ev.violations.some((v) => v.constraint === 'layer[0].replicas' && v.excess === 7)).toBe(true);
    const missing = F.evaluate(p, { placement: p.popularity.map((row) => row.map(() => [{ server: 0, share: 0.5 }])) });
    expect(missing.violations[0].message).toMatch(/sum to 0.5, not 1/);
    const tooMuch = F.parse(tinyRaw({ ...small, servers: small.servers.map((s) => ({ ...s, slots: 3 })) }));
    const allOnZero = F.evaluate(tooMuch, { placement: tooMuch.popularity.map((row) => row.map(() => [{ server: 0, share: 1 }])) });
    expect(allOnZero.violations[0].message).toMatch(/holds 8 experts needing 8\.000 GB, it has 3\.000 GB/);
  });

  it('skewed popularity: without replication the hottest expert goes to the fastest server; with spare replicas it is replicated', async () => {
    const spec = { ...small, layers: 1, loads: [[70, 10, 10, 10]] };
    const none = F.parse(tinyRaw({ ...spec, replicas: 4 }));
    const r1 = await F.exact!.solve(none, context());
    expect(r1.termination).toBe('optimal');
    expect(r1.decision!.placement[0][0]).toEqual([{ server: 0, share: 1 }]);
    const spare = F.parse(tinyRaw({ ...spec, replicas: 6 }));
    const r2 = await F.exact!.solve(spare, context());
    expect(r2.termination).toBe('optimal');
    expect(r2.decision!.placement[0][0].length).toBeGreaterThan(1);
    expect(F.evaluate(spare, r2.decision!).objective).toBeLessThan(F.evaluate(none, r1.decision!).objective);
  });

  it('infeasible: too little memory is explained in GB, and the exact method says infeasible', async () => {
    const p = F.parse(tinyRaw({ ...small, servers: small.servers.map((s) => ({ ...s, slots: 2 })) }));
    const r = await F.exact!.solve(p, context());
    expect(r.termination).toBe('infeasible');
    expect(F.explainInfeasible!(p)).toMatch(/8 experts .* need 8\.00 GB; the servers hold 6 whole experts .* 2 experts \(2\.00 GB\) do not fit/);
  });

  it('migration: staying put is free, moving costs weight × transfer time', async () => {
    const current = [
      [[0, 1], [2], [3]],
      [[0], [1, 2], [3]],
    ];
    const raw = { ...tinyRaw(small), migration: { current, weight: 1000 }, serverLink: 'datacenter' };
    const p = F.parse(raw);
    const r = await F.exact!.solve(p, context());
    expect(r.termination).toBe('optimal');
    const b = evaluateDecision(p, r.decision!).breakdown!;
    // A huge weight keeps the current placement: nothing moves.
    expect(b.migration?.replicasMoved).toBe(0);
    const cheap = F.parse({ ...raw, migration: { current, weight: 0 } });
    const free = await F.exact!.solve(cheap, context());
    expect(F.evaluate(cheap, free.decision!).objective).toBeLessThanOrEqual(F.evaluate(p, r.decision!).objective);
  });
});

describe('large layers (decomposition without single-layer proofs)', () => {
  it('returns a feasible incumbent with a valid bound and a small reported gap, never worse than a peer', async () => {
    const raw = {
      kind: 'moe-placement',
      moe: { layers: 2, experts: 160, topK: 4, expertBytes: 44040192, expertFlopsPerToken: 88080384, activationBytesPerToken: 7168 },
      popularity: { generator: 'lognormal', sigma: 0.5, seed: 9 },
      batchTokens: 1024,
      servers: ['h100-sxm', 'a100-80gb', 'rtx-3090', 'a100-80gb'].map((device) => ({ device, expertMemoryBytes: 8e9, link: 'datacenter' })),
      maxReplicasPerLayer: 176,
    };
    const p = F.parse(raw);
    expect(p.experts * p.servers.length).toBeGreaterThan(600);
    const r = await F.exact!.solve(p, { ...context(), timeLimitSeconds: 5 });
    expect(['optimal', 'time_limit']).toContain(r.termination);
    const ev = F.evaluate(p, r.decision!);
    expect(ev.violations).toEqual([]);
    expect(r.bound!).toBeLessThanOrEqual(ev.objective);
    expect((ev.objective - r.bound!) / ev.objective).toBeLessThan(0.05);
    for (const peer of F.baselines) {
      const d = peer.run(p);
      if (d) expect(ev.objective).toBeLessThanOrEqual(F.evaluate(p, d).objective * (1 + 1e-9));
    }
  }, 60_000);
});

describe('API and CLI', () => {
  it('solve() picks the exact method, and compare-style peers are never better', async () => {
    const raw = tinyRaw({ ...small, replicas: 5 });
    const report = await solve(raw);
    expect(report.method).toBe('exact');
    expect(report.termination).toBe('optimal');
    const p = F.parse(raw);
    for (const peer of F.baselines) {
      const d = peer.run(p);
      if (d) expect(report.solution!.objective).toBeLessThanOrEqual(F.evaluate(p, d).objective * (1 + 1e-9));
    }
    const viaHighs = await solve(raw, { backend: 'highs' });
    expect(viaHighs.solution!.objective).toBeGreaterThanOrEqual(report.solution!.objective * (1 - 2e-6));
  }, 60_000);

  it('compare() lines up the exact method, the backends and the peers; nothing beats the exact method', async () => {
    const raw = tinyRaw({ ...small, layers: 1, loads: [[70, 10, 10, 10]], replicas: 5 });
    const report = await compare(raw, { timeLimitSeconds: 20 });
    const exact = report.rows.find((r) => r.method === 'exact');
    expect(exact?.termination).toBe('optimal');
    expect(report.rows.filter((r) => r.kind === 'baseline').map((r) => r.method)).toEqual(['eplb', 'round-robin', 'popularity-greedy']);
    for (const row of report.rows) {
      if (row.objective === null || row.feasible !== true) continue;
      // Backends solve the plain MILP in seconds (tolerance note in the docs); peers are exact.
      expect(row.objective).toBeGreaterThanOrEqual(exact!.objective! * (1 - (row.kind === 'backend' ? 1e-4 : 1e-9)));
    }
  }, 120_000);

  it('the CLI solves a problem file and rejects a bad one with exit code 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moe-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(tinyRaw({ ...small, replicas: 5 })));
    const run = spawnSync('node', [BIN, 'solve', good, '--json'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { termination: string; solution: { objective: number } };
    expect(out.termination).toBe('optimal');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...tinyRaw(small), batchTokens: 0 }));
    const failed = spawnSync('node', [BIN, 'solve', bad], { encoding: 'utf8' });
    expect(failed.status).toBe(2);
    expect(failed.stderr).toMatch(/\$\.batchTokens/);
  }, 60_000);
});
