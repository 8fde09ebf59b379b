/**
 * `edgeplan compare` reads its problem exactly as `solve` does (files.ts readProblemInput): `-` is a JSON document on
 * standard input, `.mps`/`.lp` files are read into a `milp` problem, and `hf:` models are relative to the problem file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.ts';
import { writeHfProblem } from '../support/hf-problem.ts';

const BIN = join(ROOT, 'bin/edgeplan.js');
const KNAPSACK = join(ROOT, 'problems/milp/knapsack.json');
const dir = mkdtempSync(join(tmpdir(), 'edgeplan-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface CompareRow {
  readonly method: string;
  readonly objective?: number | null;
  readonly feasible?: boolean;
}
interface CompareJson {
  readonly rows: readonly CompareRow[];
}
const highsObjective = (stdout: string): number | null | undefined =>
  (JSON.parse(stdout) as CompareJson).rows.find((r) => r.method === 'highs')?.objective;

describe('edgeplan compare: input read as solve reads it', () => {
  it('an MPS and an LP model file (what `edgeplan model` writes) compare like the JSON they came from', async () => {
    for (const format of ['mps', 'lp'] as const) {
      const wrote = await runCli(['model', KNAPSACK, '--format', format, '--out', `k.${format}`], {}, dir);
      expect(wrote.code).toBe(0);
      const run = await runCli(['compare', `k.${format}`, '--backends', 'highs', '--json'], {}, dir);
      expect(run.stderr).not.toMatch(/no such file|invalid JSON/);
      expect(run.code).toBe(0);
      expect(highsObjective(run.stdout)).toBeCloseTo(309, 6);
    }
  });

  it('a bad LP file: one line naming the file, exit 2 (not a JSON syntax error)', async () => {
    writeFileSync(join(dir, 'bad.lp'), 'Maximize\n obj: 3 x +\nSubject To\nEnd\n');
    const run = await runCli(['compare', 'bad.lp'], {}, dir);
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^edgeplan: .*\(in bad\.lp\)$/);
    expect(lines[0]).not.toMatch(/invalid JSON/);
  });

  it('an hf: model is read relative to the problem file, not the working directory', async () => {
    const sub = mkdtempSync(join(dir, 'hf-'));
    const problem = writeHfProblem(sub);
    // The working directory is the repository root; the config sits beside the problem only.
    const run = await runCli(['compare', problem, '--backends', 'highs', '--json'], {}, ROOT);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as CompareJson).rows.some((r) => r.feasible === true)).toBe(true);
  });

  it('- reads the problem from standard input (one spawned process)', () => {
    const run = spawnSync('node', [BIN, 'compare', '-', '--backends', 'highs', '--json'], {
      input: readFileSync(KNAPSACK),
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(highsObjective(run.stdout)).toBeCloseTo(309, 6);
  }, 60_000);
});
