/**
 * Three tiers device | edge | cloud and the privacy floor in kv-split-inference (issue 21 items 1
 * and 4): the MILP against an independent brute force over every cut pair, the example's optimum
 * using all three tiers and beating every peer, a cut pair in the wrong order refused by evaluate
 * and `edgeplan check`, bad input with its JSON path (exit 2), the privacy floor explained.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compare, parseProblem, solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import { assess, kvTables } from '../../../src/formulations/kv-split-inference/cost.ts';
import type { KvBreakdown } from '../../../src/formulations/kv-split-inference/evaluate.ts';
import { close, F } from './helpers.ts';
import { bruteForceThreeTier, tinyThreeTier } from './three-tier-helpers.ts';

const BIN = new URL('../../../bin/edgeplan.js', import.meta.url).pathname;
const EXAMPLE = new URL('../../../problems/kv-split-inference/three-tier-llama-2-7b-6-users.json', import.meta.url)
  .pathname;

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('three tiers: the MILP equals brute force over every cut pair', () => {
  // Seeds where all three tiers, a privacy floor, a cloud capacity or an SLO show up (both objectives).
  for (const seed of [5, 12, 16, 19, 20, 23, 2, 8]) {
    it(`seed ${seed}`, async () => {
      const raw = tinyThreeTier(seed);
      const problem = F.parse(raw);
      const best = bruteForceThreeTier(problem);
      const report = await solve(parseProblem(raw), { backend: 'highs', timeLimitSeconds: 60 });
      if (best === null) {
        expect(report.termination).toBe('infeasible');
        return;
      }
      expect(report.termination).toBe('optimal');
      expect(close(report.solution?.objective ?? NaN, best.objective, 1e-6)).toBe(true);
      // assess (the search's valuation) agrees with evaluate on the brute-force optimum.
      const decision = { cuts: best.cuts, cloudCuts: best.cloudCuts };
      expect(close(assess(problem, kvTables(problem), decision).objective, best.objective, 1e-9)).toBe(true);
    });
  }

  it('some brute-force optima of the generator use all three tiers for a user', () => {
    const three = [12, 16, 20, 23].filter((seed) => {
      const problem = F.parse(tinyThreeTier(seed));
      const best = bruteForceThreeTier(problem);
      const L = problem.model.layers;
      return best !== null && best.cuts.some((c, u) => c < best.cloudCuts[u] && best.cloudCuts[u] < L);
    });
    expect(three.length).toBeGreaterThan(0);
  });
});

describe('the three-tier example', () => {
  it('is solved optimal, uses device, edge and cloud for some users, and beats every peer', async () => {
    const raw = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as unknown;
    const problem = parseProblem(raw);
    const report = await compare(problem, { only: ['highs'], timeLimitSeconds: 120 });
    const best = report.rows.find((r) => r.method === 'highs');
    expect(best?.termination).toBe('optimal');
    const decision = best?.decision as { cuts: number[]; cloudCuts: number[] };
    const parsed = F.parse(raw);
    const ev = F.evaluate(parsed, decision);
    expect(ev.feasible).toBe(true);
    const tiers = (ev.breakdown as KvBreakdown).threeTier;
    const allThree = tiers?.users.filter((u) => u.deviceLayers > 0 && u.edgeLayers > 0 && u.cloudLayers > 0) ?? [];
    expect(allThree.length).toBeGreaterThan(0);
    // Privacy floors kept (the phones keep at least 2 layers).
    parsed.users.forEach((user, u) => expect(decision.cuts[u]).toBeGreaterThanOrEqual(user.minDeviceLayers));
    const peers = report.rows.filter((r) => r.kind === 'baseline' && r.objective !== null && r.feasible === true);
    expect(peers.map((p) => p.method)).toContain('two-tier-optimum');
    // Everything in the 20 GB cloud slice does not fit: all-cloud is run and has no decision.
    expect(report.rows.find((r) => r.method === 'all-cloud')?.objective).toBeNull();
    for (const peer of peers) expect(ev.objective).toBeLessThanOrEqual((peer.objective as number) * (1 + 1e-9));
    // The cloud is worth having: strictly better than the two-tier optimum.
    const twoTier = peers.find((p) => p.method === 'two-tier-optimum');
    expect(ev.objective).toBeLessThan((twoTier?.objective as number) * (1 - 1e-3));
  }, 240_000);
});

describe('decisions and bad input', () => {
  const raw = tinyThreeTier(16);
  const problem = F.parse(raw);

  it('evaluate refuses an edge cut above the cloud cut, naming $.cloudCuts[u]', () => {
    const ev = F.evaluate(problem, { cuts: [5, 12], cloudCuts: [3, 12] });
    expect(ev.feasible).toBe(false);
    expect(ev.violations.map((v) => v.message).join('\n')).toMatch(/\$\.cloudCuts\[0\] = 3 is below \$\.cuts\[0\] = 5/);
    expect(ev.violations.some((v) => v.constraint === 'cloudCuts[0].order')).toBe(true);
  });

  it('edgeplan check fails (exit 1) on a cut pair in the wrong order and names the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kv3-'));
    const p = join(dir, 'p.json');
    const d = join(dir, 'd.json');
    writeFileSync(p, JSON.stringify(raw));
    writeFileSync(d, JSON.stringify({ cuts: [5, 12], cloudCuts: [3, 12] }));
    const r = run(['check', p, d]);
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/\$\.cloudCuts\[0\]/);
  });

  it('a two-tier problem refuses cloud cuts below L, and accepts cloudCuts all L', () => {
    const two = F.parse({ ...raw, cloud: undefined });
    const L = two.model.layers;
    expect(
      F.evaluate(two, { cuts: [0, 0], cloudCuts: [3, L] }).violations.some((v) => v.constraint === 'cloudCuts'),
    ).toBe(true);
    const plain = F.evaluate(two, { cuts: [0, 0] });
    const withL = F.evaluate(two, { cuts: [0, 0], cloudCuts: [L, L] });
    expect(withL.objective).toBe(plain.objective);
  });

  it('a privacy floor above L is bad input with its path; CLI exit 2 in one line', () => {
    const users = (raw.users as Record<string, unknown>[]).map((u, i) => (i === 1 ? { ...u, minDeviceLayers: 13 } : u));
    const bad = { ...raw, users };
    expect(() => F.parse(bad)).toThrow(InputError);
    expect(() => F.parse(bad)).toThrow(/\$\.users\[1\]\.minDeviceLayers/);
    const dir = mkdtempSync(join(tmpdir(), 'kv3-'));
    const p = join(dir, 'p.json');
    writeFileSync(p, JSON.stringify(bad));
    const r = run(['solve', p]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/minDeviceLayers.*exceeds the model's 12 layers/);
  });

  it('cloud combinations not modelled are refused with their path', () => {
    expect(() => F.parse({ ...raw, admission: true })).toThrow(/\$\.admission/);
    expect(() => F.parse({ ...raw, variants: [{ name: 'a', lora: { rank: 8 } }] })).toThrow(/\$\.cloud/);
    const users = (raw.users as Record<string, unknown>[]).map((u) => ({ ...u, ttftSloSeconds: 1 }));
    expect(() => F.parse({ ...raw, users })).toThrow(/\$\.users\[0\]\.ttftSloSeconds/);
    expect(() => F.parse({ ...raw, cloud: { ...(raw.cloud as object), pricePerToken: -1 } })).toThrow(
      /\$\.cloud\.pricePerToken/,
    );
  });

  it('a privacy floor the device cannot hold: infeasible, explained in domain words', async () => {
    const tight = {
      kind: 'kv-split-inference',
      model: 'gpt2-small',
      server: { device: 'rtx-3090' },
      users: [
        {
          name: 'watch',
          device: { id: 'phone', memoryBytes: 0.02e9 },
          link: '5g-user-experienced',
          promptTokens: 512,
          outputTokens: 128,
          minDeviceLayers: 6,
        },
      ],
      deviceWeightStreaming: false,
    };
    const report = await solve(parseProblem(tight), { backend: 'auto' });
    expect(report.termination).toBe('infeasible');
    const text = F.explainInfeasible?.(F.parse(tight)) ?? '';
    expect(text).toMatch(/watch cannot use any cut/);
    expect(text).toMatch(/privacy floor keeps at least 6 layers/);
    expect(text).toMatch(/device layers need/);
    // Without the floor the user is served (everything on the server).
    const free = { ...tight, users: tight.users.map(({ minDeviceLayers: _m, ...u }) => u) };
    expect((await solve(parseProblem(free), { backend: 'auto' })).termination).toBe('optimal');
  });

  it('the privacy floor binds in the two-tier exact method and is kept by it', async () => {
    const base = F.parse({ ...raw, cloud: undefined });
    const floored = {
      ...raw,
      cloud: undefined,
      users: (raw.users as Record<string, unknown>[]).map((u) => ({ ...u, minDeviceLayers: 4 })),
    };
    const report = await solve(parseProblem(floored), { backend: 'exact' });
    const cuts = (report.solution?.decision as { cuts: number[] } | undefined)?.cuts ?? [];
    if (report.termination === 'optimal') for (const c of cuts) expect(c).toBeGreaterThanOrEqual(4);
    const unfloored = await solve(parseProblem({ ...raw, cloud: undefined }), { backend: 'exact' });
    if (report.termination === 'optimal' && unfloored.termination === 'optimal')
      expect(report.solution?.objective ?? 0).toBeGreaterThanOrEqual((unfloored.solution?.objective ?? 0) - 1e-12);
    expect(base.users.every((u) => u.minDeviceLayers === 0)).toBe(true);
  });
});
