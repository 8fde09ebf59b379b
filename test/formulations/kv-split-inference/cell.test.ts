/**
 * The shared radio cell in kv-split-inference (issue 15 item 5): the exact method on continuous
 * cells against an independent brute force, more cell bandwidth never worse, peers against the
 * co-planned split, and bad input (one line, JSON path, exit 2).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProblem, solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { KvDecision, KvProblem } from '../../../src/formulations/kv-split-inference/schema.ts';
import { evaluateKv } from '../../../src/formulations/kv-split-inference/evaluate.ts';
import { F } from './helpers.ts';

const BIN = new URL('../../../bin/edgeplan.js', import.meta.url).pathname;

type Raw = Record<string, unknown>;

/** A tiny GPT-2 instance whose users sit in a cell (the first may keep a dedicated link). */
function cellInstance(seed: number, cell: Raw, objective: 'max' | 'sum' = 'max'): Raw {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const users = 2;
  return {
    kind: 'kv-split-inference',
    model: 'gpt2-small',
    server: { device: { id: 'rtx-3090', memoryBytes: pick([0.17e9, 0.2e9, 0.25e9]) } },
    cell,
    users: Array.from({ length: users }, (_, i) => ({
      name: `u${i}`,
      device: { id: 'phone', memoryBytes: pick([0.3e9, 8e9]), memoryBandwidthBytesPerSecond: pick([4e9, 15e9]) },
      ...(i === 0 && rand() < 0.3
        ? { link: '5g-user-experienced' }
        : { radio: { uplinkSnrDb: pick([0, 5, 15, 25]), downlinkSnrDb: 20 } }),
      promptTokens: 32 + Math.floor(rand() * 400),
      outputTokens: 16 + Math.floor(rand() * 100),
      ...(objective === 'max' && rand() < 0.4 ? { ttftSloSeconds: 0.05 + rand() * 0.5 } : {}),
    })),
    objective,
  };
}

/**
 * Independent brute force for continuous cells: every cut vector; for each, the latency of each
 * cell user as a + w / s is read off evaluate at two shares, and the best shares are found here
 * (max: bisection on the target W with the least shares max(ttft floor, w / (W − a)); sum, no
 * limits: s ∝ √w, giving Σ w / s = (Σ √w)²). The decision is then valued by evaluate.
 */
function bruteForceContinuous(problem: KvProblem): number {
  const L = problem.model.layers;
  const U = problem.users.length;
  const inCell = problem.users.map((u) => u.radio !== null);
  let best = Infinity;
  const cuts = new Array<number>(U).fill(0);
  const at = (shares: number[]) => evaluateKv(problem, { cuts: [...cuts], cellShares: shares });
  const visit = () => {
    const one = at(inCell.map((c) => (c ? 1 : 0))).breakdown.users;
    const half = at(inCell.map((c) => (c ? 0.5 : 0))).breakdown.users;
    const w = one.map((u, i) => (inCell[i] ? (half[i].latencySeconds ?? 0) - (u.latencySeconds ?? 0) : 0));
    const a = one.map((u, i) => (u.latencySeconds ?? 0) - w[i]);
    const tw = one.map((u, i) => (inCell[i] ? (half[i].ttftSeconds ?? 0) - (u.ttftSeconds ?? 0) : 0));
    const floor = problem.users.map((user, i) => {
      if (!inCell[i] || user.ttftSloSeconds === null || tw[i] <= 0) return 0;
      const room = user.ttftSloSeconds - ((one[i].ttftSeconds ?? 0) - tw[i]);
      return room > 0 ? tw[i] / room : Infinity;
    });
    // A TTFT limit no share can meet: this cut vector is infeasible.
    if (floor.some((f) => !Number.isFinite(f)) || floor.reduce((x, y) => x + y, 0) > 1) return;
    const talk = w.map((x) => x > 1e-15);
    let shares: number[];
    if (problem.objective === 'sum') {
      const root = w.map((x, i) => (talk[i] ? Math.sqrt(x) : 0));
      const total = root.reduce((s, v) => s + v, 0);
      shares = root.map((r) => (total > 0 ? r / total : 0));
    } else {
      const need = (W: number) => w.map((x, i) => (talk[i] ? Math.max(floor[i], x / (W - a[i])) : floor[i]));
      const sum = (W: number) => need(W).reduce((s, v) => s + v, 0);
      let lo = Math.max(0, ...a.filter((_, i) => talk[i]));
      let hi = lo + 1;
      for (let k = 0; k < 200 && sum(hi) > 1; k++) hi = lo + 2 * (hi - lo);
      for (let k = 0; k < 300; k++) {
        const mid = (lo + hi) / 2;
        if (sum(mid) <= 1) hi = mid;
        else lo = mid;
      }
      shares = need(hi).map((s) => s * (1 - 1e-12));
      if (!talk.some((t) => t)) shares = floor.map((f) => (Number.isFinite(f) ? f : 0));
    }
    const ev = at(shares);
    if (ev.feasible) best = Math.min(best, ev.objective);
  };
  const rec = (u: number) => {
    if (u === U) return visit();
    for (let c = 0; c <= L; c++) {
      cuts[u] = c;
      rec(u + 1);
    }
  };
  rec(0);
  return best;
}

const CONTINUOUS = { bandwidthHz: 1e6, allocation: 'continuous' };

describe('kv-split-inference with a shared cell', () => {
  it('exact (outer approximation) equals an independent brute force on continuous cells', async () => {
    let checked = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const raw = cellInstance(seed, CONTINUOUS, seed % 3 === 0 ? 'sum' : 'max');
      const problem = F.parse(raw);
      const truth = bruteForceContinuous(problem);
      const report = await solve(parseProblem(raw), { backend: 'exact', timeLimitSeconds: 60 });
      if (!Number.isFinite(truth)) {
        expect(report.termination, `seed ${seed}`).toBe('infeasible');
        continue;
      }
      expect(report.termination, `seed ${seed}`).toBe('optimal');
      const objective = report.solution?.evaluation.objective ?? NaN;
      // The brute force's bisection is itself within ~1e-12; the exact method's certified gap is 1e-6.
      expect(Math.abs(objective - truth), `seed ${seed}: ${objective} vs ${truth}`).toBeLessThanOrEqual(2e-6 * truth);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('more cell bandwidth is never worse (continuous and resource blocks)', async () => {
    for (const cell of [CONTINUOUS, { resourceBlocks: 6, resourceBlockHz: 0.1e6 }]) {
      let prev = Infinity;
      for (const factor of [1, 2, 8]) {
        const scaled =
          'bandwidthHz' in cell
            ? { ...cell, bandwidthHz: cell.bandwidthHz * factor }
            : { ...cell, resourceBlockHz: cell.resourceBlockHz * factor };
        const raw = cellInstance(11, scaled);
        const report = await solve(parseProblem(raw), { backend: 'exact', timeLimitSeconds: 60 });
        expect(report.termination).toBe('optimal');
        const objective = report.solution?.evaluation.objective ?? NaN;
        expect(objective).toBeLessThanOrEqual(prev * (1 + 1e-6));
        prev = objective;
      }
    }
  }, 120_000);

  it('a continuous cell is never worse than the same cell in whole blocks; blocks agree across methods', async () => {
    const blocks = cellInstance(5, { resourceBlocks: 5, resourceBlockHz: 0.1e6 });
    const continuous = cellInstance(5, { bandwidthHz: 0.5e6, allocation: 'continuous' });
    const exactBlocks = await solve(parseProblem(blocks), { backend: 'exact' });
    const highsBlocks = await solve(parseProblem(blocks), { backend: 'highs' });
    const exactContinuous = await solve(parseProblem(continuous), { backend: 'exact' });
    expect(exactBlocks.termination).toBe('optimal');
    expect(highsBlocks.termination).toBe('optimal');
    const b = exactBlocks.solution?.evaluation.objective ?? NaN;
    expect(Math.abs(b - (highsBlocks.solution?.evaluation.objective ?? NaN))).toBeLessThanOrEqual(2e-6 * b);
    expect(exactContinuous.solution?.evaluation.objective ?? NaN).toBeLessThanOrEqual(b * (1 + 1e-6));
    const decision = exactBlocks.solution?.decision as KvDecision;
    expect(decision.resourceBlocks?.every((n) => Number.isInteger(n))).toBe(true);
    expect((decision.resourceBlocks ?? []).reduce((s, n) => s + n, 0)).toBeLessThanOrEqual(5);
    // A continuous cell has no single-MILP form: the backends say so instead of a wrong answer.
    const highsContinuous = await solve(parseProblem(continuous), { backend: 'highs' });
    expect(highsContinuous.termination).toBe('error');
  }, 120_000);

  it('evaluate refuses shares beyond the cell, missing shares and fractional blocks', () => {
    const problem = F.parse(cellInstance(2, CONTINUOUS));
    const over = F.evaluate(problem, { cuts: [0, 0], cellShares: [0.7, 0.7] });
    expect(over.feasible).toBe(false);
    expect(over.violations.some((v) => v.constraint === 'cell-capacity')).toBe(true);
    expect(F.evaluate(problem, { cuts: [0, 0] }).feasible).toBe(false);
    const rb = F.parse(cellInstance(2, { resourceBlocks: 4, resourceBlockHz: 0.1e6 }));
    const frac = F.evaluate(rb, { cuts: [0, 0], resourceBlocks: [1.5, 2] });
    expect(frac.violations.some((v) => /whole number/.test(v.message))).toBe(true);
  });

  it('bad input: one line with the JSON path and the rule', () => {
    const base = cellInstance(4, CONTINUOUS);
    const users = base.users as Raw[];
    const withUser = (change: Raw): Raw => ({
      ...base,
      users: [{ ...users[0], link: undefined, radio: { downlinkSnr: 10, ...change } }, ...users.slice(1)],
    });
    const cases: [Raw, RegExp, RegExp][] = [
      [withUser({ uplinkSnr: -3 }), /\$\.users\[0\]\.radio\.uplinkSnr/, /looks like dB.*uplinkSnrDb: -3/],
      [withUser({ uplinkSnr: 1e9 }), /\$\.users\[0\]\.radio\.uplinkSnr/, /90 dB/],
      [withUser({ uplinkSnrDb: 300 }), /\$\.users\[0\]\.radio\.uplinkSnrDb/, /outside \[-30, 60\] dB/],
      [withUser({ uplinkSnr: 10, share: 1.5 }), /\$\.users\[0\]\.radio\.share/, /exceeds the cell/],
      [withUser({ uplinkSnr: 10, uplinkSnrDb: 10 }), /\$\.users\[0\]\.radio\.uplinkSnr/, /only one/],
      [{ ...base, admission: true }, /\$\.admission/, /resourceBlocks/],
      [{ ...base, cell: { allocation: 'resource-blocks', bandwidthHz: 1e6 } }, /\$\.cell\.resourceBlocks/, /needs/],
    ];
    for (const [raw, path, rule] of cases) {
      const clean = JSON.parse(JSON.stringify(raw)) as Raw;
      let error: unknown = null;
      try {
        F.parse(clean);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(rule)).toBeInstanceOf(InputError);
      const message = (error as Error).message;
      expect(message).toMatch(path);
      expect(message).toMatch(rule);
    }
    // Fixed shares that together exceed the cell.
    const both = {
      ...base,
      users: users.map((u) => ({ ...u, link: undefined, radio: { uplinkSnr: 10, downlinkSnr: 10, share: 0.6 } })),
    };
    expect(() => F.parse(JSON.parse(JSON.stringify(both)))).toThrow(
      /\$\.users\[1\]\.radio\.share.*more than the whole cell/,
    );
  });

  it('the CLI refuses an SNR in dB where linear is expected: one line, exit 2', () => {
    const base = cellInstance(4, CONTINUOUS);
    const users = base.users as Raw[];
    const raw = {
      ...base,
      users: users.map((u) => ({ ...u, link: undefined, radio: { uplinkSnr: -5, downlinkSnr: 3 } })),
    };
    const dir = mkdtempSync(join(tmpdir(), 'cell-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(raw));
    const run = spawnSync('node', [BIN, 'solve', file], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\$\.users\[0\]\.radio\.uplinkSnr/);
    expect(lines[0]).toMatch(/dB/);
  }, 60_000);

  it('peers get the fair split; the co-planned split is never worse than the best peer', async () => {
    const raw = cellInstance(9, { resourceBlocks: 6, resourceBlockHz: 0.1e6 });
    const problem = F.parse(raw);
    const report = await solve(parseProblem(raw), { backend: 'exact' });
    const optimum = report.solution?.evaluation.objective ?? NaN;
    for (const peer of F.baselines) {
      const d = peer.run(problem);
      if (d === null) continue;
      const ev = F.evaluate(problem, d);
      expect(ev.feasible, peer.name).toBe(true);
      expect(optimum).toBeLessThanOrEqual(ev.objective * (1 + 1e-6));
    }
  }, 60_000);
});
