import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compare, solve, sweep } from '../../../src/api.ts';
import { tinyInput } from './helpers.ts';

const BIN = new URL('../../../bin/edgeplan.js', import.meta.url).pathname;
const GPT2 = new URL('../../../problems/split-finetune/gpt2-medium-3-clients.json', import.meta.url).pathname;

const tiny = tinyInput({
  layers: 3,
  clients: [
    { flops: 4e9, memoryBytes: 1.2e6, uplink: 10e6, power: 2 },
    { flops: 1e9, memoryBytes: 2e6, uplink: 2e6, power: 8 },
  ],
  subchannelsExtra: 2,
  serverMemoryBytes: 3.5e6,
  serverFlops: 5e10,
  cutPolicy: 'per-client',
  objective: 'round-time',
  epochs: 2,
  maxFreezingRatio: 0.5,
});

describe('split-finetune through the API and the CLI', () => {
  it('solve() with exact and with HiGHS return the same evaluated optimum', async () => {
    const exact = await solve(tiny, { backend: 'exact' });
    const highs = await solve(tiny, { backend: 'highs' });
    expect(exact.termination).toBe('optimal');
    expect(highs.termination).toBe('optimal');
    expect(exact.solution?.evaluation.feasible).toBe(true);
    const a = exact.solution?.objective as number;
    const b = highs.solution?.objective as number;
    expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-6 * a);
  }, 60_000);

  it('compare() runs every method and peer; no feasible peer beats the optimum', async () => {
    const report = await compare(tiny);
    const best = report.rows.find((r) => r.method === 'exact');
    expect(best?.objective).not.toBeNull();
    for (const row of report.rows)
      if (row.feasible && row.objective !== null)
        expect(row.objective).toBeGreaterThanOrEqual((best?.objective as number) * (1 - 1e-6));
    expect(report.rows.map((r) => r.method)).toEqual(
      expect.arrayContaining([
        'splitlora-fixed-cut',
        'neurosurgeon-per-device',
        'uniform-split-best-cut',
        'frozen-client-best-cut',
      ]),
    );
  }, 60_000);

  it('sweep() over accuracy.maxFreezingRatio gives a non-increasing round time (Fig. 3 trend)', async () => {
    const report = await sweep(tiny, 'accuracy.maxFreezingRatio', [0, 0.34, 0.67, 1], { backend: 'exact' });
    const values = report.rows.map((r) => r.objective as number);
    expect(values.every((v) => Number.isFinite(v))).toBe(true);
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1] * (1 + 1e-12));
  }, 60_000);

  it('the CLI solves the GPT-2 example, and rejects a bad file with exit 2 naming the path', () => {
    const run = spawnSync('node', [BIN, 'solve', GPT2, '--json'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as {
      termination: string;
      solution: { objective: number; evaluation: { feasible: boolean } };
    };
    expect(out.termination).toBe('optimal');
    expect(out.solution.evaluation.feasible).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'split-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(GPT2, 'utf8')), subchannels: 0 }));
    const failed = spawnSync('node', [BIN, 'solve', bad], { encoding: 'utf8' });
    expect(failed.status).toBe(2);
    expect(failed.stderr).toMatch(/\$\.subchannels/);
  }, 60_000);
});
