/**
 * The CLI's input and output paths from issue 18: `solve -` (stdin), `solve --jsonl` (one problem per line, one report
 * per line, bad lines reported in place), and `model --format lp|mps` read back by the readers.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLp, readMps } from '../../src/api.ts';
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/context.ts';

const BIN = new URL('../../bin/edgeplan.js', import.meta.url).pathname;
const KNAPSACK = new URL('../../problems/milp/knapsack.json', import.meta.url).pathname;

function capture(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), cwd, env: {} };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

describe('solve --jsonl', () => {
  it('one compact report per line in input order; a bad line is reported in place; exit is the worst', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jsonl-'));
    const one = (file: string) => JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
    writeFileSync(join(dir, 'many.jsonl'), [one(KNAPSACK), '{"kind":"milp"}', '', 'nope', one(KNAPSACK)].join('\n'));
    const c = capture(dir);
    expect(await main(['solve', 'many.jsonl', '--jsonl'], c.io)).toBe(2);
    const lines = c
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.line)).toEqual([1, 2, 4, 5]);
    expect(lines[0]).toMatchObject({ termination: 'optimal', solution: { objective: 309 } });
    expect(lines[1].error.path).toBe('$.sense');
    expect(lines[2].error.rule).toMatch(/invalid JSON/);
    expect(lines[3].termination).toBe('optimal');
    const good = capture(dir);
    writeFileSync(join(dir, 'two.jsonl'), [one(KNAPSACK), one(KNAPSACK)].join('\n'));
    expect(await main(['solve', 'two.jsonl', '--jsonl'], good.io)).toBe(0);
    expect(good.out().trim().split('\n')).toHaveLength(2);
  });
});

describe('solve - (stdin)', () => {
  it('reads the problem from standard input (one spawned process)', () => {
    const run = spawnSync('node', [BIN, 'solve', '-', '--json'], { input: readFileSync(KNAPSACK), encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ termination: 'optimal', solution: { objective: 309 } });
  }, 60_000);
});

describe('edgeplan model', () => {
  it('writes LP and MPS that the readers take back with the same columns and rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    const lp = capture(dir);
    expect(await main(['model', KNAPSACK, '--format', 'lp'], lp.io)).toBe(0);
    const mps = capture(dir);
    expect(await main(['model', KNAPSACK, '--format', 'mps', '--out', 'k.mps'], mps.io)).toBe(0);
    expect(mps.err()).toMatch(/wrote k\.mps: milp model, \d+ columns/);
    const fromLp = readLp(lp.out()).model;
    const fromMps = readMps(readFileSync(join(dir, 'k.mps'), 'utf8')).model;
    const problem = JSON.parse(readFileSync(KNAPSACK, 'utf8')) as { variables: unknown[]; constraints: unknown[] };
    expect(fromLp.variables).toHaveLength(problem.variables.length);
    expect(fromMps.variables).toHaveLength(problem.variables.length);
    expect(fromMps.constraints).toHaveLength(problem.constraints.length);
    const bad = capture(dir);
    expect(await main(['model', KNAPSACK, '--format', 'xls'], bad.io)).toBe(2);
    expect(bad.err()).toMatch(/--format xls: must be lp or mps/);
  });
});
