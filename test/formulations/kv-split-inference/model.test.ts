import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compare, solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import { evaluateKv, type KvBreakdown } from '../../../src/formulations/kv-split-inference/evaluate.ts';
import { kvDecisionSchema } from '../../../src/formulations/kv-split-inference/schema.ts';
import { F, close, noMilp } from './helpers.ts';

const BIN = new URL('../../../bin/edgeplan.js', import.meta.url).pathname;
const problemFile = (name: string): string =>
  new URL(`../../../problems/kv-split-inference/${name}.json`, import.meta.url).pathname;
const example = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(problemFile(name), 'utf8')) as Record<string, unknown>;
const breakdownOf = (raw: unknown, cuts: (number | null)[]): KvBreakdown => {
  const problem = F.parse(raw);
  return evaluateKv(problem, { cuts }).breakdown;
};

const user = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  device: 'phone',
  link: '5g-user-experienced',
  promptTokens: 512,
  outputTokens: 128,
  ...extra,
});

describe('kv-split-inference memory accounting', () => {
  it('reproduces the FasterTransformer figure: FP16 GPT 6.7B, 512 + 32 tokens, batch 64 → 41.84 GB within 10%', () => {
    const raw = {
      kind: 'kv-split-inference',
      model: 'gpt-6.7b',
      // FasterTransformer prefills the whole static batch at once.
      server: { device: 'a100-80gb', prefillBatchSequences: 64 },
      users: Array.from({ length: 64 }, () => user({ promptTokens: 512, outputTokens: 32 })),
    };
    const b = breakdownOf(raw, new Array<number>(64).fill(0));
    expect(b.serverMemory.weightBytes / 1e9).toBeCloseTo(13.3, 1);
    // KV: 2 · 32 layers · 4096 · 2 B per token × 64 sequences × 544 tokens.
    expect(b.serverMemory.kvBytes).toBe(2 * 32 * 4096 * 2 * 64 * 544);
    expect(Math.abs(b.serverMemory.totalBytes - 41.84e9) / 41.84e9).toBeLessThan(0.1);
  });

  it('counts shared server weights once: two users with the same cut load the layers once', () => {
    const one = breakdownOf(
      { kind: 'kv-split-inference', model: 'llama-2-7b', server: { device: 'a100-80gb' }, users: [user()] },
      [4],
    );
    const two = breakdownOf(
      { kind: 'kv-split-inference', model: 'llama-2-7b', server: { device: 'a100-80gb' }, users: [user(), user()] },
      [4, 4],
    );
    expect(two.serverMemory.weightBytes).toBe(one.serverMemory.weightBytes);
    expect(two.serverMemory.kvBytes).toBe(2 * one.serverMemory.kvBytes);
    expect(two.serverLayers).toEqual(one.serverLayers);
    expect(one.serverLayers).toEqual(Array.from({ length: 28 }, (_, i) => i + 5));
    // Different cuts: the server loads from the lowest cut up, still once.
    const mixed = breakdownOf(
      { kind: 'kv-split-inference', model: 'llama-2-7b', server: { device: 'a100-80gb' }, users: [user(), user()] },
      [4, 12],
    );
    expect(mixed.serverMemory.weightBytes).toBe(one.serverMemory.weightBytes);
    // A user running everything locally adds no server weights or KV at all.
    const local = breakdownOf(
      {
        kind: 'kv-split-inference',
        model: 'llama-2-7b',
        server: { device: 'a100-80gb' },
        users: [user(), user({ device: 'jetson-agx-orin-32gb' })],
      },
      [4, 32],
    );
    expect(local.serverMemory.weightBytes).toBe(one.serverMemory.weightBytes);
    expect(local.serverMemory.kvBytes).toBe(one.serverMemory.kvBytes);
    expect(local.users[1].serverStepSeconds).toBe(0);
    expect(local.users[1].uplinkSeconds).toBe(0);
    expect(local.users[1].downlinkSeconds).toBe(0);
  });

  it('keeps one adapter per variant on the layers its users run on the server', () => {
    const raw = {
      kind: 'kv-split-inference',
      model: 'llama-2-7b',
      variants: [{ name: 'med', lora: { rank: 16, targets: ['q', 'v'] } }],
      server: { device: 'a100-80gb' },
      users: [user({ variant: 'med' }), user({ variant: 'med' }), user()],
    };
    const perLayer = 16 * (4096 + 4096) * 2 * 2; // rank · (d_in + d_out) · 2 matrices · 2 B
    expect(breakdownOf(raw, [8, 8, 0]).serverMemory.adapterBytes).toBe(24 * perLayer);
    expect(breakdownOf(raw, [8, 20, 0]).serverMemory.adapterBytes).toBe(24 * perLayer);
    expect(breakdownOf(raw, [32, 32, 0]).serverMemory.adapterBytes).toBe(0);
  });

  it('puts no uplink on a server-only user (the server produced the previous token) and the token id on the downlink', () => {
    const b = breakdownOf(
      { kind: 'kv-split-inference', model: 'llama-2-7b', server: { device: 'a100-80gb' }, users: [user(), user()] },
      [0, 5],
    );
    expect(b.users[0].uplinkSeconds).toBe(0);
    expect(b.users[0].deviceSeconds).toBe(0);
    expect(b.users[0].downlinkSeconds).toBeCloseTo((4 * 8) / 100e6 + 0.004, 12);
    // A split user sends one token's hidden state (4096 × 2 B) up.
    expect(b.users[1].uplinkSeconds).toBeCloseTo((4096 * 2 * 8) / 50e6 + 0.004, 12);
    expect(b.users[1].latencySeconds).toBeCloseTo(
      b.users[1].deviceSeconds + b.users[1].uplinkSeconds + b.serverStepSeconds + b.users[1].downlinkSeconds,
      12,
    );
  });

  it('reports broken constraints in domain words with the excess in SI units', () => {
    const problem = F.parse({
      kind: 'kv-split-inference',
      model: 'llama-2-7b',
      server: { device: 'rtx-3090' },
      users: Array.from({ length: 40 }, () => user({ promptTokens: 2048, outputTokens: 512 })),
    });
    const ev = F.evaluate(problem, { cuts: new Array<number>(40).fill(0) });
    expect(ev.feasible).toBe(false);
    const memory = ev.violations.find((v) => v.constraint === 'server-memory');
    expect(memory?.message).toMatch(/the server needs .* GB .* has 24.00 GB/);
    expect(memory?.excess).toBeGreaterThan(0);
    const bad = F.evaluate(problem, { cuts: [33, ...new Array<number>(39).fill(0)] });
    expect(bad.violations.some((v) => v.constraint === 'users[0].cut')).toBe(true);
    expect(
      F.evaluate(problem, { cuts: [null, ...new Array<number>(39).fill(32)] }).violations.some(
        (v) => v.constraint === 'users[0].served',
      ),
    ).toBe(true);
  });
});

describe('kv-split-inference time to first token and summaries', () => {
  it('a TTFT SLO rules out the cuts whose prefill and prompt upload are too slow', async () => {
    // Uploading 2048 hidden states (16 MB) over a 50 Mbit/s uplink alone takes 2.7 s.
    const raw = {
      kind: 'kv-split-inference',
      model: 'llama-2-7b',
      server: { device: 'a100-80gb' },
      users: [user({ device: 'jetson-agx-orin-32gb', promptTokens: 2048, outputTokens: 64, ttftSloSeconds: 1 })],
    };
    const problem = F.parse(raw);
    const split = F.evaluate(problem, { cuts: [8] });
    expect(split.violations.map((v) => v.constraint)).toContain('users[0].ttft-slo');
    expect(evaluateKv(problem, { cuts: [8] }).breakdown.users[0].ttftSeconds).toBeGreaterThan(2.6);
    const result = await F.exact?.solve(problem, { mipGap: 1e-9, solveMilp: noMilp });
    const cut = result?.decision?.cuts[0];
    expect(cut === 0 || cut === 32).toBe(true);
    if (result?.decision) expect(F.evaluate(problem, result.decision).feasible).toBe(true);
  });

  it('describes the split, the server and the slowest user in words', async () => {
    const problem = F.parse(example('kv-bound'));
    const result = await F.exact?.solve(problem, { mipGap: 1e-9, solveMilp: noMilp });
    if (!result?.decision) throw new Error('no decision');
    const text = F.describe?.(problem, result.decision, F.evaluate(problem, result.decision)) ?? '';
    expect(text).toMatch(/layers on device/);
    expect(text).toMatch(/and the head loaded once, batch of 12/);
    expect(text).toMatch(/slowest per-token latency/);
    expect(F.exact?.notApplicable(F.parse({ ...example('kv-bound'), objective: 'sum' }))).toMatch(/sum objective/);
  });
});

describe('kv-split-inference bad input', () => {
  const base = { kind: 'kv-split-inference', model: 'llama-2-7b', server: { device: 'rtx-3090' }, users: [user()] };
  const pathOf = (raw: unknown): string => {
    try {
      F.parse(raw);
    } catch (e) {
      if (e instanceof InputError) return e.path;
      throw e;
    }
    return 'accepted';
  };
  it('names the JSON path and the rule', () => {
    expect(pathOf({ ...base, users: [user({ promptTokens: -5 })] })).toBe('$.users[0].promptTokens');
    expect(pathOf({ ...base, users: [user(), user({ variant: 'nope' })] })).toBe('$.users[1].variant');
    expect(pathOf({ ...base, users: [user({ device: 'iphone-99' })] })).toBe('$.users[0].device');
    expect(pathOf({ ...base, users: [user({ promptTokens: 4000, outputTokens: 200 })] })).toBe(
      '$.users[0].outputTokens',
    );
    expect(pathOf({ ...base, users: [] })).toBe('$.users');
    expect(pathOf({ ...base, extra: 1 })).toBe('$.extra');
    expect(pathOf({ ...base, model: 'mixtral-8x7b' })).toBe('$.model');
    expect(pathOf({ ...base, objective: 'mean' })).toBe('$.objective');
    expect(pathOf({ ...base, server: { device: 'rtx-3090', prefillBatchSequences: 0 } })).toBe(
      '$.server.prefillBatchSequences',
    );
    expect(
      pathOf({
        ...base,
        variants: [
          { name: 'a', lora: { rank: 4 } },
          { name: 'a', lora: { rank: 8 } },
        ],
      }),
    ).toBe('$.variants[1].name');
    expect(pathOf(base)).toBe('accepted');
  });
  it('rejects a decision of the wrong shape through its schema', () => {
    expect(F.decisionSchema.safeParse({ cuts: [1.5] }).success).toBe(false);
    expect(F.decisionSchema.safeParse({ cuts: [-1] }).success).toBe(false);
    expect(F.decisionSchema.safeParse({ cuts: [3, null] }).success).toBe(true);
  });
});

describe('kv-split-inference infeasibility and admission', () => {
  const tight = {
    kind: 'kv-split-inference',
    model: 'llama-2-7b',
    server: { device: { id: 'rtx-3090', memoryBytes: 16e9 } },
    // Phones with 1 GB free for the model hold at most the embedding and one layer.
    users: Array.from({ length: 6 }, () =>
      user({ device: { id: 'phone', memoryBytes: 1e9 }, promptTokens: 1500, outputTokens: 500 }),
    ),
    deviceWeightStreaming: false,
  };
  it('explains which resource is short', async () => {
    const problem = F.parse(tight);
    const result = await F.exact?.solve(problem, { mipGap: 1e-9, solveMilp: noMilp });
    expect(result?.termination).toBe('infeasible');
    expect(F.explainInfeasible?.(problem)).toMatch(
      /device memory limits bind: they leave 6 users no cut above 1.*the server then needs .* GB .* has 16.00 GB: .* short/,
    );
  });
  it('serves as many users as fit first under admission, and the MILP proves it', async () => {
    const problem = F.parse({ ...tight, admission: true });
    const report = await solve({ ...tight, admission: true }, { backend: 'highs', mipGap: 1e-9 });
    expect(report.termination).toBe('optimal');
    const decision = kvDecisionSchema.parse(report.solution?.decision);
    const ev = evaluateKv(problem, decision);
    expect(ev.feasible).toBe(true);
    const b: KvBreakdown = ev.breakdown;
    // 13.5 GB of weights leave room for the KV of a few 2000-token users only.
    expect(b.servedUsers).toBeGreaterThan(0);
    expect(b.servedUsers).toBeLessThan(6);
    const oneMore = decision.cuts.map((c) => c ?? 0);
    expect(F.evaluate(problem, { cuts: oneMore }).feasible).toBe(false);
    expect(close(ev.objective, b.latencyObjectiveSeconds + b.penaltySeconds)).toBe(true);
    expect(b.penaltySeconds).toBe(b.unservedUsers.length * b.unservedPenaltySeconds);
  });
});

describe('kv-split-inference examples through the API and the CLI', () => {
  it('solves every example exactly, never worse than a peer', async () => {
    for (const name of ['llama-2-7b-16-phones-5g', 'llama-3-8b-64-users-a100', 'kv-bound']) {
      const report = await solve(example(name), { backend: 'exact' });
      expect(report.termination, name).toBe('optimal');
      const objective = report.solution?.objective ?? NaN;
      const problem = F.parse(example(name));
      for (const b of F.baselines) {
        const d = b.run(problem);
        if (d !== null) expect(F.evaluate(problem, d).objective).toBeGreaterThanOrEqual(objective - 1e-12);
      }
    }
  }, 60_000);

  it('the KV-bound example: exact and HiGHS agree, and all-server does not fit', async () => {
    const report = await compare(example('kv-bound'), { only: ['highs'], timeLimitSeconds: 60 });
    expect(report.agreement.agree).toBe(true);
    const methods = report.rows.filter((r) => r.termination === 'optimal').map((r) => r.method);
    expect(methods).toEqual(expect.arrayContaining(['exact', 'highs']));
    const allServer = report.rows.find((r) => r.method === 'all-server');
    expect(allServer?.objective ?? null).toBeNull();
  }, 120_000);

  it('runs from the CLI', () => {
    const run = spawnSync('node', [BIN, 'solve', problemFile('kv-bound'), '--json'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { termination: string; solution: { decision: { cuts: number[] } } };
    expect(out.termination).toBe('optimal');
    expect(out.solution.decision.cuts).toHaveLength(12);
  }, 60_000);
});
