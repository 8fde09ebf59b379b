/**
 * LP duals through the CLI (issue 18 item 7): `edgeplan solve` on an LP of the milp kind prints the largest duals and
 * reduced costs and puts all of them, by name, in the JSON decision; `check` reads such a solution back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeplan-duals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LP duals in the CLI', () => {
  it.each(['highs', 'glpk'])('Wyndor Glass LP with %s: the textbook shadow prices 0, 1.5, 1', async (backend) => {
    const run = await runCli(['solve', 'problems/milp/wyndor-lp.json', '--backend', backend, '--json', '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    type Named = Record<string, number>;
    const report = JSON.parse(run.stdout) as {
      method: string;
      solution: { objective: number; decision: { duals: Named; reducedCosts: Named } };
    };
    expect(report.method).toBe(backend);
    expect(report.solution.objective).toBeCloseTo(36, 9);
    const { duals, reducedCosts } = report.solution.decision;
    expect(duals.plant1_hours).toBeCloseTo(0, 9);
    expect(duals.plant2_hours).toBeCloseTo(1.5, 9);
    expect(duals.plant3_hours).toBeCloseTo(1, 9);
    expect(reducedCosts.doors).toBeCloseTo(0, 9);
    expect(reducedCosts.windows).toBeCloseTo(0, 9);

    // The saved report is a solution file that check accepts, duals and all.
    const file = join(dir, `wyndor-${backend}.json`);
    writeFileSync(file, run.stdout);
    const check = await runCli(['check', 'problems/milp/wyndor-lp.json', file]);
    expect(check.code, check.stderr).toBe(0);
  });

  it('check re-checks the duals of a solution file: a tampered vector is not shown, and says why', async () => {
    const run = await runCli(['solve', 'problems/milp/wyndor-lp.json', '--backend', 'highs', '--json', '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { solution: { decision: { duals: Record<string, number> } } };
    // plant1_hours has slack (doors = 2 < 4): a dual there breaks complementary slackness.
    report.solution.decision.duals.plant1_hours = 0.5;
    const file = join(dir, 'wyndor-tampered.json');
    writeFileSync(file, JSON.stringify(report));
    const check = await runCli(['check', 'problems/milp/wyndor-lp.json', file]);
    expect(check.code, check.stderr).toBe(0); // the point is feasible and its objective holds
    expect(check.stdout).toMatch(/LP duals and reduced costs not shown: reduced cost of doors is 0, but c − Aᵀy gives/);
    expect(check.stdout).not.toContain('duals (∂objective/∂bound');
  });

  it('the human summary names the largest duals first', async () => {
    const run = await runCli(['solve', 'problems/milp/wyndor-lp.json', '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'duals (∂objective/∂bound, largest first): plant2_hours = 1.5, plant3_hours = 1; 1 zero',
    );
    expect(run.stdout).toContain('reduced costs: all 2 zero');
  });

  it('a MILP has no duals', async () => {
    const run = await runCli(['solve', 'problems/milp/knapsack.json', '--json', '--quiet']);
    expect(run.code).toBe(0);
    const decision = (JSON.parse(run.stdout) as { solution: { decision: Record<string, unknown> } }).solution.decision;
    expect(decision.duals).toBeUndefined();
    expect(decision.reducedCosts).toBeUndefined();
  });
});
