/**
 * KV format per user as a decision (issue 21 item 4): bad input, the MILP against brute force over
 * every (cut, format) assignment on tiny instances, and the example (memory binds, the budget lets
 * some users, not all, take int4 KV; the optimum mixes formats and beats the uniform-format peers).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compare, parseProblem, solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import { assess, kvTables } from '../../../src/formulations/kv-split-inference/cost.ts';
import type { KvBreakdown } from '../../../src/formulations/kv-split-inference/evaluate.ts';
import type { KvDecision, KvProblem } from '../../../src/formulations/kv-split-inference/schema.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import { close, F } from './helpers.ts';

type Raw = Record<string, unknown>;

const BIN = new URL('../../../bin/edgeplan.js', import.meta.url).pathname;
const EXAMPLE = new URL('../../../problems/kv-split-inference/llama-2-7b-8-users-kv-formats.json', import.meta.url)
  .pathname;

/**
 * Two or three users on GPT-2 small (12 layers) with server memory around weights + KV, so that
 * the KV format decides who fits; budgets that allow none, some or every compressed format.
 */
function tinyFormats(seed: number): Raw {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const users = 2 + Math.floor(rand() * 2);
  // Three users with three formats would be 39³ assignments: keep brute force small.
  const kvFormats =
    users === 3
      ? pick([
          ['fp16', 'int4'],
          ['fp16', 'fp8'],
        ])
      : ['fp16', 'fp8', 'int4'];
  const budget = pick([0, 0.02, 0.3, 0.31, 0.65, null]);
  return {
    kind: 'kv-split-inference',
    model: 'gpt2-small',
    server: {
      device: {
        id: 'jetson-agx-orin-32gb',
        memoryBytes: pick([0.29e9, 0.31e9, 0.34e9, 8e9]),
        memoryBandwidthBytesPerSecond: pick([50e9, 200e9]),
      },
    },
    users: Array.from({ length: users }, (_, i) => ({
      name: `u${i}`,
      device: {
        id: pick(['phone', 'jetson-orin-nx-16gb']),
        memoryBytes: pick([0.05e9, 0.3e9, 8e9]),
        memoryBandwidthBytesPerSecond: pick([5e9, 60e9]),
      },
      link: { id: '5g-user-experienced', uplinkBitsPerSecond: pick([20e6, 200e6, 1e9]) },
      promptTokens: 200 + Math.floor(rand() * 500),
      outputTokens: 50 + Math.floor(rand() * 250),
      ...(rand() < 0.25 ? { latencySloSeconds: 0.005 + rand() * 0.03 } : {}),
    })),
    objective: rand() < 0.6 ? 'max' : 'sum',
    kvFormats,
    ...(budget !== null ? { kvAccuracyBudget: budget } : {}),
  };
}

/** Every (cut, format) per user, valued by evaluate alone. */
function bruteForce(problem: KvProblem): { decision: KvDecision; objective: number } | null {
  const L = problem.model.layers;
  const ids = (problem.kvFormats ?? []).map((f) => f.id);
  const U = problem.users.length;
  const cuts = new Array<number>(U).fill(0);
  const formats = new Array<string>(U).fill(ids[0]);
  let best: { decision: KvDecision; objective: number } | null = null;
  const rec = (u: number): void => {
    if (u === U) {
      const decision: KvDecision = { cuts: [...cuts], kvFormats: [...formats] };
      const ev = F.evaluate(problem, decision);
      if (ev.feasible && (best === null || ev.objective < best.objective - 1e-12))
        best = { decision, objective: ev.objective };
      return;
    }
    for (let c = 0; c <= L; c++)
      for (const id of ids) {
        cuts[u] = c;
        formats[u] = id;
        rec(u + 1);
      }
  };
  rec(0);
  return best;
}

describe('KV formats: bad input names the JSON path and the rule', () => {
  const base = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Raw;
  const refused = (raw: Raw, path: string, rule: RegExp): void => {
    try {
      F.parse(raw);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).message).toContain(path);
      expect((e as InputError).message).toMatch(rule);
      return;
    }
    throw new Error(`accepted: ${path}`);
  };
  it('refuses a format larger than the model KV (bytesFactor outside (0, 1])', () => {
    refused({ ...base, kvFormats: ['fp16', 'fp32'] }, '$.kvFormats[1].id', /bytesFactor must be in \(0, 1\]/);
  });
  it('refuses a format with no sourced accuracy proxy unless given, a duplicate, a budget without formats', () => {
    refused({ ...base, kvFormats: ['fp16', 'q4_0'] }, '$.kvFormats[1].accuracyCost', /no sourced accuracy proxy/);
    expect(F.parse({ ...base, kvFormats: ['fp16', { id: 'q4_0', accuracyCost: 0.2 }] }).kvFormats?.[1]).toMatchObject({
      id: 'q4_0',
      bytesFactor: 4.5 / 16,
      accuracyCost: 0.2,
    });
    refused({ ...base, kvFormats: ['fp16', 'fp16'] }, '$.kvFormats[1].id', /listed twice/);
    refused({ ...base, kvFormats: undefined }, '$.kvAccuracyBudget', /needs `kvFormats`/);
    refused({ ...base, kvAccuracyBudget: -1 }, '$.kvAccuracyBudget', /./);
  });
  it('refuses KV formats together with a cloud tier', () => {
    const cloud = { device: 'a100-80gb', backhaul: 'edge-cloud' };
    refused({ ...base, cloud }, '$.kvFormats', /cloud tier are not supported/);
  });
  it('the CLI exits 2 with one line naming the path', () => {
    const r = spawnSync(process.execPath, [BIN, 'solve', '-'], {
      encoding: 'utf8',
      input: JSON.stringify({ ...base, kvFormats: ['fp32'] }),
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('$.kvFormats[0].id');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('KV formats: the MILP equals brute force over every (cut, format) assignment', () => {
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const optima: KvDecision[] = [];
  for (const seed of seeds) {
    it(`seed ${seed}`, async () => {
      const raw = tinyFormats(seed);
      const problem = F.parse(raw);
      const best = bruteForce(problem);
      const report = await solve(parseProblem(raw), { backend: 'highs', timeLimitSeconds: 60 });
      if (best === null) {
        expect(report.termination).toBe('infeasible');
        return;
      }
      optima.push(best.decision);
      expect(report.termination).toBe('optimal');
      expect(close(report.solution?.objective ?? NaN, best.objective, 1e-6)).toBe(true);
      // assess (the search's valuation) agrees with evaluate on the brute-force optimum.
      expect(close(assess(problem, kvTables(problem), best.decision).objective, best.objective, 1e-9)).toBe(true);
      // auto: the exact method steps aside, the MILP certifies.
      const auto = await solve(parseProblem(raw), { backend: 'auto', timeLimitSeconds: 60 });
      expect(auto.method).not.toBe('exact');
    });
  }
  it('some brute-force optima mix formats (the generator exercises the decision)', () => {
    expect(optima.some((d) => new Set(d.kvFormats).size > 1)).toBe(true);
  });
});

describe('KV formats: infeasibility is explained in domain words', () => {
  it('names the budget when the most compressed format for everyone would fit', () => {
    // Seed 8: fp16 alone is infeasible, fp8 + int4 within a budget of 0.31 is feasible.
    const raw = tinyFormats(8);
    expect(bruteForce(F.parse(raw))).not.toBeNull();
    const tight = F.parse({ ...raw, kvAccuracyBudget: 0 });
    expect(bruteForce(tight)).toBeNull();
    expect(F.explainInfeasible?.(tight)).toMatch(/the KV accuracy budget binds: with every user's KV in int4/);
  });
  it('explains the compressed problem when even the most compressed format cannot fit', () => {
    const raw = tinyFormats(8) as Raw & { server: { device: Raw } };
    const tiny = { ...raw, server: { device: { ...raw.server.device, memoryBytes: 0.05e9 } } };
    const problem = F.parse(tiny);
    expect(bruteForce(problem)).toBeNull();
    expect(F.explainInfeasible?.(problem)).toMatch(/^even with every user's KV in int4 \(the budget aside\): /);
  });
});

describe('KV formats: evaluate', () => {
  const problem = F.parse(JSON.parse(readFileSync(EXAMPLE, 'utf8')));
  const cuts = problem.users.map(() => 0);
  it('checks the budget and the ids, and scales the server KV with the format', () => {
    const allInt4 = F.evaluate(problem, { cuts, kvFormats: problem.users.map(() => 'int4') });
    expect(allInt4.violations.map((v) => v.constraint)).toContain('kv-accuracy-budget');
    const bad = F.evaluate(problem, { cuts, kvFormats: problem.users.map(() => 'fp8') });
    expect(bad.violations.map((v) => v.constraint)).toContain('kvFormats');
    const fp16 = F.evaluate(problem, { cuts, kvFormats: problem.users.map(() => 'fp16') });
    const one = F.evaluate(problem, { cuts, kvFormats: problem.users.map((_, u) => (u === 0 ? 'int4' : 'fp16')) });
    const b16 = fp16.breakdown as KvBreakdown;
    const b1 = one.breakdown as KvBreakdown;
    // One user's KV at 4 of 16 bits: its server KV is a quarter, the others' unchanged.
    expect(b1.users[0].serverKvBytes).toBeCloseTo(b16.users[0].serverKvBytes / 4, 0);
    expect(b1.users[1].serverKvBytes).toBe(b16.users[1].serverKvBytes);
    expect(b1.serverStepSeconds).toBeLessThan(b16.serverStepSeconds);
    expect(b1.kvAccuracy?.usedCost).toBeCloseTo(0.3, 12);
  });
});

describe('KV formats: the example', () => {
  it('is solved optimal, mixes formats within the budget, and beats the uniform-format peers', async () => {
    const raw = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Raw;
    const report = await compare(parseProblem(raw), { only: ['highs'], timeLimitSeconds: 60 });
    const highs = report.rows.find((r) => r.method === 'highs');
    expect(highs?.termination).toBe('optimal');
    const decision = highs?.decision as KvDecision;
    const formats = new Set(decision.kvFormats);
    expect(formats.has('int4') && formats.has('fp16')).toBe(true);
    const optimum = highs?.objective as number;
    const peer = (name: string): number => report.rows.find((r) => r.method === name)?.objective as number;
    for (const name of ['uncompressed-kv-optimum', 'best-uniform-kv-format', 'neurosurgeon-repaired']) {
      expect(peer(name)).toBeGreaterThan(optimum * 1.2);
    }
    // Memory binds: everyone on the server with fp16 KV does not fit.
    const problem = F.parse(raw);
    expect(F.evaluate(problem, { cuts: problem.users.map(() => 0) }).feasible).toBe(false);
  });
});
