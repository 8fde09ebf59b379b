import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeplan-viz-cli-'));
const quiet = { EDGEPLAN_PROGRESS: '0' };

describe('CLI: --html, show, sweep --csv/--plot', () => {
  it('solve --html/--svg/--out, then show draws the saved solution', async () => {
    const html = join(dir, 'plan.html');
    const svg = join(dir, 'plan.svg');
    const out = join(dir, 'plan.json');
    const solved = await runCli(['solve', 'problems/milp/knapsack.json', '--html', html, '--svg', svg, '--out', out], quiet);
    expect(solved.code).toBe(0);
    expect(readFileSync(html, 'utf8')).toContain('Nonzero variables');
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg /);
    const shown = join(dir, 'shown.html');
    const show = await runCli(['show', 'problems/milp/knapsack.json', out, '--html', shown], quiet);
    expect(show.code).toBe(0);
    expect(readFileSync(shown, 'utf8')).toContain('recomputed by evaluate');
  });

  it('show refuses a solution of another kind with the JSON path, exit 2', async () => {
    const out = join(dir, 'other.json');
    await runCli(['solve', 'problems/milp/knapsack.json', '--out', out, '--quiet'], quiet);
    const r = await runCli(['show', 'problems/speculative-threshold/satellite.json', out, '--html', join(dir, 'x.html')], quiet);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^edgeplan: \$\.kind: the solution is for kind "milp"/);
  });

  it('two --sweep flags make a grid; --csv and --plot are written; --json stays clean', async () => {
    const csv = join(dir, 'sweep.csv');
    const plot = join(dir, 'sweep.svg');
    const r = await runCli(
      [
        'solve',
        'problems/milp/knapsack.json',
        '--sweep',
        'constraints[0].upper=100,165',
        '--sweep',
        'objective.item1=1,50',
        '--with-peers',
        '--csv',
        csv,
        '--plot',
        plot,
        '--json',
      ],
      quiet,
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { rows: { values: number[] }[] };
    expect(report.rows.map((row) => row.values)).toEqual([[100, 1], [100, 50], [165, 1], [165, 50]]);
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toMatch(/^\$\.constraints\[0\]\.upper,\$\.objective\.item1,method,/);
    expect(readFileSync(plot, 'utf8')).toContain('<svg');
  });
});
