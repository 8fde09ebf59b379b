import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { check, compare, solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import { edgeshardLatencyPlan } from '../../../src/formulations/pipeline-placement/baselines.ts';
import { planToDecision, solveExact } from '../../../src/formulations/pipeline-placement/exact.ts';
import {
  pipelinePlacementFormulation as F,
  trainingTimeVsServers,
} from '../../../src/formulations/pipeline-placement/index.ts';
import type { PipelineDecision } from '../../../src/formulations/pipeline-placement/schema.ts';
import type { ExactContext } from '../../../src/formulations/types.ts';
import { runCli } from '../../support/cli.ts';
import { breakdownOf, close } from './helpers.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const load = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`${root}problems/pipeline-placement/${name}.json`, 'utf8')) as Record<string, unknown>;
const context: ExactContext<PipelineDecision> = { mipGap: 1e-9, solveMilp: () => Promise.reject(new Error('unused')) };

/** The exact optimum through the solve chain, and every feasible peer's objective by check. */
async function optimumAndPeers(raw: unknown): Promise<{ report: Awaited<ReturnType<typeof solve>>; peers: number[] }> {
  const report = await solve(raw, { backend: 'exact' });
  const p = F.parse(raw);
  const peers: number[] = [];
  for (const peer of F.baselines) {
    const d = peer.run(p);
    if (!d) continue;
    const c = check(raw, d);
    if (c.feasible) peers.push(c.objective);
  }
  return { report, peers };
}

describe('problem files', () => {
  it('EdgeShard Llama-2-7B: measured FP32 profile, optimum beats every peer, memory binds on the RTX 3090', async () => {
    const { report, peers } = await optimumAndPeers(load('edgeshard-llama-2-7b'));
    expect(report.termination).toBe('optimal');
    const b = breakdownOf(report.solution!.evaluation);
    expect(b.stages.every((s) => s.timeSource === 'profile' && s.precision === 'fp32')).toBe(true);
    expect(b.stages[0].server).toBe('orin-nx');
    expect(b.stages.slice(0, -1).every((s) => s.hopBytes === 65536)).toBe(true);
    expect(report.solution!.objective).toBeCloseTo(0.0611617979, 9);
    // All on the source does not fit (14 GB < 27 GB of FP32 weights); the optimum uses the 3090.
    expect(b.stages.some((s) => s.server === 'rtx-3090' && s.memoryBytes > 0.95 * s.capacityBytes)).toBe(true);
    for (const v of peers) expect(report.solution!.objective).toBeLessThanOrEqual(v * (1 + 1e-12));
  });

  it('Llama-2-70B on 12 servers: non-uniform matrix, exact optimum feasible and at least as good as every peer', async () => {
    const raw = load('llama-2-70b-12-servers');
    const links = raw.links as { bitsPerSecondMatrix: (number | null)[][] };
    expect(new Set(links.bitsPerSecondMatrix.flat().filter((x) => x !== null)).size).toBeGreaterThan(10);
    const { report, peers } = await optimumAndPeers(raw);
    expect(report.termination).toBe('optimal');
    expect(close(report.solution!.objective, report.solution!.bound!, 1e-9)).toBe(true);
    for (const v of peers) expect(report.solution!.objective).toBeLessThanOrEqual(v * (1 + 1e-12));
  }, 60_000);

  it("GPT-2 medium training: total time is U-shaped in the number of servers (the seed's Fig. 5)", () => {
    for (const pool of ['prefix', 'best'] as const) {
      const curve = trainingTimeVsServers(load('gpt2-medium-training-8-servers'), { pool });
      expect(curve.map((c) => c.servers)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(curve.every((c) => c.feasible)).toBe(true);
      const times = curve.map((c) => c.totalSeconds);
      const argmin = times.indexOf(Math.min(...times));
      expect(argmin).toBeGreaterThan(0);
      expect(argmin).toBeLessThan(7);
      for (let i = 1; i <= argmin; i++) expect(times[i]).toBeLessThan(times[i - 1]);
      for (let i = argmin + 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]);
      expect(curve[7].commSeconds).toBeGreaterThan(curve[1].commSeconds);
      expect(curve[7].decision!.stages).toHaveLength(8);
    }
  }, 60_000);
});

describe('time limit', () => {
  it('a bottleneck search stopped early returns a feasible plan with a valid bound', async () => {
    const raw = load('gpt2-medium-training-8-servers');
    const p = F.parse(raw);
    const full = await solveExact(p, context);
    const cut = await solveExact(p, { ...context, timeLimitSeconds: 0 });
    expect(cut.termination).toBe('time_limit');
    const optimum = full.bound!;
    const c = check(raw, cut.decision!);
    expect(c.feasible).toBe(true);
    expect(cut.bound!).toBeLessThanOrEqual(optimum * (1 + 1e-12));
    expect(c.objective).toBeGreaterThanOrEqual(optimum * (1 - 1e-12));
  });

  it('an incumbent handed to the exact method never changes the optimum', async () => {
    const raw = load('gpt2-medium-training-8-servers');
    const p = F.parse(raw);
    const plain = await solveExact(p, context);
    for (const peer of F.baselines) {
      const d = peer.run(p);
      if (!d) continue;
      const r = await solveExact(p, { ...context, incumbent: d });
      expect(r.termination).toBe('optimal');
      expect(close(r.bound!, plain.bound!, 1e-12)).toBe(true);
    }
  });
});

describe('EdgeShard latency DP misses the optimum when memory binds (constructed instance)', () => {
  it('greedy per-cell memory bookkeeping: 35.5 ms against the optimum 15.5 ms', async () => {
    const raw = load('edgeshard-memory-trap');
    const r = await solve(raw, { backend: 'exact' });
    expect(r.solution!.objective).toBeCloseTo(0.0155, 6);
    expect((r.solution!.decision as PipelineDecision).stages.map((s) => [s.server, s.firstLayer, s.lastLayer])).toEqual(
      [
        ['source', 1, 1],
        ['slow', 2, 2],
        ['fast', 3, 4],
      ],
    );
    const p = F.parse(raw);
    const es = planToDecision(p, edgeshardLatencyPlan(p)!);
    const c = check(raw, es);
    expect(c.feasible).toBe(true);
    expect(c.objective).toBeCloseTo(0.0355, 6);
    expect(es.stages.map((s) => [s.server, s.firstLayer, s.lastLayer])).toEqual([
      ['source', 1, 1],
      ['fast', 2, 3],
      ['slow', 4, 4],
    ]);
    // With more memory on the fast server the bookkeeping no longer binds and EdgeShard finds the optimum.
    const roomy = load('edgeshard-memory-trap');
    (roomy.servers as { memoryBytes: number }[])[1].memoryBytes = 3.3e9;
    const p2 = F.parse(roomy);
    const r2 = await solve(roomy, { backend: 'exact' });
    expect(check(roomy, planToDecision(p2, edgeshardLatencyPlan(p2)!)).objective).toBeCloseTo(
      r2.solution!.objective,
      9,
    );
  });
});

describe('infeasible instances are explained', () => {
  it('names the layer that fits nowhere', async () => {
    const raw = load('edgeshard-llama-2-7b');
    for (const s of raw.servers as { memoryBytes?: number }[]) s.memoryBytes = 0.5e9;
    const r = await solve(raw, { backend: 'exact' });
    expect(r.termination).toBe('infeasible');
    expect(F.explainInfeasible!(F.parse(raw))).toMatch(/layer 1 \(with the embedding\) fits on no server/);
  });

  it('a stage limit too small for the memory is explained in layers each server can hold', async () => {
    const raw = { ...load('llama-2-70b-12-servers'), maxStages: 2 };
    const r = await solve(raw, { backend: 'exact' });
    expect(r.termination).toBe('infeasible');
    expect(F.explainInfeasible!(F.parse(raw))).toMatch(
      /^the source and the roomiest other server hold at most \d+ of the 80 layers .*the stage limit is 2$/,
    );
  });
});

describe('bad input', () => {
  const base = load('edgeshard-llama-2-7b');
  const cases: [string, (r: Record<string, unknown>) => void, string][] = [
    ['no servers', (r) => (r.servers = []), '$.servers'],
    ['negative prompt', (r) => ((r.mode as Record<string, unknown>).promptTokens = -3), '$.mode.promptTokens'],
    ['unknown field', (r) => (r.colour = 'red'), '$.colour'],
    ['unknown source', (r) => (r.source = 'nowhere'), '$.source'],
    ['unknown device', (r) => ((r.servers as Record<string, unknown>[])[1].device = 'rtx-9090'), '$.servers[1].device'],
    ['duplicate server', (r) => ((r.servers as Record<string, unknown>[])[1].name = 'orin-nx'), '$.servers[1].name'],
    ['no links', (r) => delete r.links, '$.links'],
    ['stages above servers', (r) => (r.stages = 5), '$.stages'],
    [
      'matrix of the wrong size',
      (r) => (r.links = { bitsPerSecondMatrix: [[null, 1e9]], latencySecondsMatrix: [[0, 0]] }),
      '$.links.bitsPerSecondMatrix',
    ],
    [
      'pair to an unknown server',
      (r) => (r.links = { default: 'edge-lan', pairs: [{ from: 'orin-nx', to: 'cloud', bitsPerSecond: 1e6 }] }),
      '$.links.pairs[0].to',
    ],
    ['bad mode kind', (r) => ((r.mode as Record<string, unknown>).kind = 'inference'), '$.mode.kind'],
  ];
  for (const [name, mutate, path] of cases) {
    it(name, () => {
      const raw = structuredClone(base);
      mutate(raw);
      let error: unknown;
      try {
        F.parse(raw);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).path).toBe(path);
    });
  }

  it('training rules: frozen prefix below L, LoRA needs its config, no inference profile', () => {
    const train = load('gpt2-medium-training-8-servers');
    const expectPath = (raw: unknown, path: string): void => {
      expect(() => F.parse(raw)).toThrow(InputError);
      try {
        F.parse(raw);
      } catch (e) {
        expect((e as InputError).path).toBe(path);
      }
    };
    expectPath({ ...train, mode: { ...(train.mode as object), frozenPrefixLayers: 24 } }, '$.mode.frozenPrefixLayers');
    expectPath({ ...train, mode: { ...(train.mode as object), trained: 'lora' } }, '$.mode.lora');
    expectPath({ ...train, mode: { ...(train.mode as object), lora: { rank: 8, targets: ['q'] } } }, '$.mode.lora');
    expectPath({ ...train, mode: { ...(train.mode as object), sequenceLength: 4096 } }, '$.mode.sequenceLength');
    const withProfile = structuredClone(train);
    (withProfile.servers as Record<string, unknown>[])[0].profile = 'llama-2-7b@rtx-3090';
    expectPath(withProfile, '$.servers[0].profile');
  });
});

describe('through the API and the CLI', () => {
  it('solve() picks the exact method and compare() lists every peer with ratio ≤ 1', async () => {
    const raw = load('edgeshard-llama-2-7b');
    const report = await solve(raw);
    expect(report.method).toBe('exact');
    expect(report.termination).toBe('optimal');
    const cmp = await compare(raw, { only: ['highs'], timeLimitSeconds: 60 });
    const rows = new Map(cmp.rows.map((r) => [r.method, r]));
    for (const name of F.baselines.map((b) => b.name)) expect(rows.has(name)).toBe(true);
    const best = report.solution!.objective;
    for (const r of cmp.rows)
      if (r.feasible && r.objective !== null) expect(best).toBeLessThanOrEqual(r.objective * (1 + 1e-9));
  }, 60_000);

  it('the CLI solves a problem file and rejects bad input with exit 2', async () => {
    const ok = await runCli(['solve', 'problems/pipeline-placement/edgeshard-memory-trap.json', '--json']);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as { solution: { objective: number } }).solution.objective).toBeCloseTo(0.0155, 6);
    const bad = await runCli(['solve', 'test/formulations/pipeline-placement/fixtures/bad-source.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/\$\.source/);
  });
});
