/**
 * `edgeplan check` (and `show`) read the problem exactly as `solve` does (files.ts readProblemInput), so that a solve
 * and its check see the same problem: an MPS/LP model checks against what `solve` wrote for it, and an `hf:` model is
 * resolved relative to the problem file whatever the working directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.ts';
import { writeHfProblem } from '../support/hf-problem.ts';

const KNAPSACK = join(ROOT, 'problems/milp/knapsack.json');
const dir = mkdtempSync(join(tmpdir(), 'edgeplan-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('edgeplan check: the problem read as solve reads it', () => {
  it('an MPS and an LP model: solve, then check the answer against the same file', async () => {
    for (const format of ['mps', 'lp'] as const) {
      const wrote = await runCli(['model', KNAPSACK, '--format', format, '--out', `k.${format}`], {}, dir);
      expect(wrote.code).toBe(0);
      const solved = await runCli(['solve', `k.${format}`, '--json', '--out', `k-${format}.json`], {}, dir);
      expect(solved.code).toBe(0);
      const checked = await runCli(['check', `k.${format}`, `k-${format}.json`], {}, dir);
      expect(checked.stderr).not.toMatch(/invalid JSON/);
      expect(checked.code).toBe(0);
      expect(checked.stdout).toMatch(/309/);
    }
  });

  it('an hf: model is resolved relative to the problem file, as solve does', async () => {
    const sub = mkdtempSync(join(dir, 'hf-'));
    const problem = writeHfProblem(sub);
    const out = join(sub, 'solution.json');
    // The working directory is the repository root; the config sits beside the problem only.
    const solved = await runCli(['solve', problem, '--backend', 'highs', '--json', '--out', out], {}, ROOT);
    expect(solved.code).toBe(0);
    const checked = await runCli(['check', problem, out], {}, ROOT);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
  });
});
