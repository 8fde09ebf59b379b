/**
 * Issue 21's split-finetune knobs: a smashed-data compression level per client (a decision from a
 * discrete set, capped by the accuracy proxy) and a privacy floor (minDeviceLayers). Bad input,
 * the cost model (only the uplink bytes shrink), evaluate's new rules, and the example: the exact
 * method and HiGHS agree, compression is chosen where the caps allow it, and lifting the caps or
 * the floor never makes the optimum worse while removing the levels never makes it better.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProblem, solve } from '../../../src/api.ts';
import { InputError } from '../../../src/errors.ts';
import { decisionCost, splitContext } from '../../../src/formulations/split-finetune/cost.ts';
import { evaluateSplitFinetune } from '../../../src/formulations/split-finetune/evaluate.ts';
import type { SplitFinetuneDecision, SplitFinetuneProblem } from '../../../src/formulations/split-finetune/schema.ts';

const BIN = new URL('../../../bin/edgeplan.js', import.meta.url).pathname;
const FILE = new URL('../../../problems/split-finetune/gpt2-medium-3-clients-compression.json', import.meta.url)
  .pathname;
type Raw = Record<string, unknown> & { clients: Record<string, unknown>[]; accuracy: Record<string, unknown> };
const example = (): Raw => JSON.parse(readFileSync(FILE, 'utf8')) as Raw;

function inputError(raw: unknown): InputError {
  try {
    parseProblem(raw);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('parsed without error');
}

async function optimum(raw: unknown, backend: 'exact' | 'highs' = 'exact') {
  const report = await solve(parseProblem(raw), { backend, timeLimitSeconds: 60 });
  expect(report.termination).toBe('optimal');
  return {
    objective: report.solution?.objective as number,
    decision: report.solution?.decision as SplitFinetuneDecision,
  };
}

describe('split-finetune compression and privacy floor: input', () => {
  it('refuses a bytes factor outside (0, 1], a reserved or repeated level name, a floor above the cuts', () => {
    const level = (bytesFactor: number) => ({
      ...example(),
      compression: { levels: [{ name: 'q', bytesFactor, accuracyCost: 0 }] },
    });
    for (const f of [0, -0.5, 1.5]) {
      const e = inputError(level(f));
      expect(e.path).toBe('$.compression.levels[0].bytesFactor');
      expect(e.rule).toBe('must be in (0, 1]');
    }
    expect(() => parseProblem(level(1))).not.toThrow();
    const none = inputError({
      ...example(),
      compression: { levels: [{ name: 'none', bytesFactor: 0.5, accuracyCost: 0 }] },
    });
    expect(none.path).toBe('$.compression.levels[0].name');
    const twice = { name: 'a', bytesFactor: 0.5, accuracyCost: 0 };
    expect(inputError({ ...example(), compression: { levels: [twice, twice] } }).path).toBe(
      '$.compression.levels[1].name',
    );
    const raw = example();
    raw.clients[1] = { ...raw.clients[1], minDeviceLayers: 25 };
    expect(inputError(raw).path).toBe('$.clients[1].minDeviceLayers');
  });

  it('the CLI exits 2 with the JSON path on a ratio outside (0, 1]', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-compression-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ ...example(), compression: { levels: [{ name: 'x', bytesFactor: 2, accuracyCost: 0 }] } }),
    );
    const run = spawnSync('node', [BIN, 'solve', bad], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/\$\.compression\.levels\[0\]\.bytesFactor: must be in \(0, 1\]/);
  });
});

describe('split-finetune compression and privacy floor: model', () => {
  it('a level shrinks the uplink bytes by its factor and nothing else (memory, server time, downlink)', () => {
    const problem = parseProblem(example()).problem as SplitFinetuneProblem;
    const ctx = splitContext(problem);
    const plain = decisionCost(ctx, 1, { cut: 6, frozenLayers: 3, subchannels: 3 });
    const int4 = decisionCost(ctx, 1, { cut: 6, frozenLayers: 3, subchannels: 3, compression: 'int4' });
    expect(int4.uplinkBytes).toBeCloseTo(0.25 * plain.uplinkBytes, 6);
    expect(int4.uplinkSeconds - problem.clients[1].link.latencySeconds).toBeCloseTo(
      0.25 * (plain.uplinkSeconds - problem.clients[1].link.latencySeconds),
      9,
    );
    expect(int4.clientMemoryBytes).toBe(plain.clientMemoryBytes);
    expect(int4.serverSeconds).toBe(plain.serverSeconds);
    expect(int4.gradientDownlinkSeconds).toBe(plain.gradientDownlinkSeconds);
    expect(int4.roundSeconds).toBeLessThan(plain.roundSeconds);
  });

  it('evaluate refuses a cut below the floor, an unknown level and a level above the cap', () => {
    const problem = parseProblem(example()).problem as SplitFinetuneProblem;
    const ok = { cut: 12, frozenLayers: 12, subchannels: 4 };
    const check = (clients: SplitFinetuneDecision['clients']) =>
      evaluateSplitFinetune(problem, { clients }).violations.map((v) => v.constraint);
    expect(check([ok, ok, ok])).toEqual([]);
    expect(check([ok, ok, { ...ok, cut: 3, frozenLayers: 3 }])).toContain('client[2].privacy');
    expect(check([ok, { ...ok, compression: 'zip' }, ok])).toContain('client[1].compression');
    // The AGX's cap is 0: even 8-bit is refused; the phone's cap 1.0 allows the sparsifier.
    expect(check([{ ...ok, compression: 'int8' }, ok, ok])).toContain('client[0].accuracy');
    expect(check([ok, ok, { ...ok, compression: 'top10-sparse' }])).toEqual([]);
  });
});

describe('split-finetune privacy floor: infeasibility explained', () => {
  it('names the floor when it forces more layers onto a device than its memory holds', async () => {
    const raw = example();
    raw.clients[2] = { ...raw.clients[2], minDeviceLayers: 20, device: { id: 'phone', memoryBytes: 0.9e9 } };
    const report = await solve(parseProblem(raw), { backend: 'exact' });
    expect(report.termination).toBe('infeasible');
    expect(report.explanation).toMatch(/^phone needs at least .* \(cut 20, .* with its privacy floor of 20 layers$/);
  });
});

describe('split-finetune compression and privacy floor: the example', () => {
  it('exact = HiGHS; compression where the caps allow it; caps, levels, floors move the optimum right', async () => {
    const raw = example();
    const best = await optimum(raw);
    const highs = await optimum(raw, 'highs');
    expect(highs.objective).toBeCloseTo(best.objective, 6);
    expect(best.objective).toBeCloseTo(565.0046, 3);
    const levels = best.decision.clients.map((c) => c.compression ?? 'none');
    expect(levels[0]).toBe('none'); // cap 0
    expect(levels.slice(1)).toEqual(['int4', 'int4']);
    expect(best.decision.clients[2].cut).toBeGreaterThanOrEqual(4);

    const { compression: _levels, ...plain } = raw;
    const withoutLevels = await optimum(plain);
    expect(withoutLevels.objective).toBeGreaterThanOrEqual(best.objective * (1 - 1e-9));
    const uncapped = {
      ...raw,
      accuracy: { maxFreezingRatio: 0.5 },
      clients: raw.clients.map(({ maxCompressionCost: _cap, ...c }) => c),
    };
    expect((await optimum(uncapped)).objective).toBeLessThanOrEqual(best.objective * (1 + 1e-9));
    const deeperFloor = { ...raw, clients: raw.clients.map((c) => ({ ...c, minDeviceLayers: 13 })) };
    expect((await optimum(deeperFloor)).objective).toBeGreaterThanOrEqual(best.objective * (1 - 1e-9));
  });
});
