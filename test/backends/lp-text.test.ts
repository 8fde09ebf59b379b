import { describe, expect, it, vi } from 'vitest';
import { highsBackend, loadHighsRuntime } from '../../src/backends/highs.ts';
import { lpColumnName, toLpText } from '../../src/milp/lp-text.ts';
import { ModelBuilder, term } from '../../src/milp/model.ts';
import { catalogue } from './catalogue.ts';

vi.setConfig({ testTimeout: 60_000 });

/** Catalogue models whose LP text is read back by HiGHS's own LP reader (the legacy `solve`). */
const ROUND_TRIP = [
  'lp-optimal',
  'lp-degenerate',
  'lp-equality',
  'lp-range-max',
  'lp-range-min',
  'lp-free',
  'lp-negative-bounds',
  'lp-upper-only',
  'mip-negative',
  'mip-free-integer',
  'knapsack',
  'gap-8x3',
  'max-constant',
  'hostile-names',
  'no-constraints',
  'fixed-binary',
];

const STATUS = { optimal: 'Optimal', infeasible: 'Infeasible' } as const;

describe('toLpText', () => {
  const entries = catalogue().filter((e) => ROUND_TRIP.includes(e.id) || e.id === 'lp-infeasible' || e.id === 'mip-infeasible');

  it.each(entries.map((e) => [e.id, e] as const))('%s: HiGHS reads the text back to the same answer', async (_id, entry) => {
    const highs = await loadHighsRuntime();
    const text = toLpText(entry.model);
    const read = highs.solve(text, { output_flag: false, mip_rel_gap: 1e-9 });
    if (entry.expected.termination === 'infeasible') {
      expect(read.Status).toBe(STATUS.infeasible);
      return;
    }
    if (entry.expected.termination !== 'optimal') throw new Error('round trip covers optimal and infeasible models');
    expect(read.Status).toBe(STATUS.optimal);
    const objective = read.ObjectiveValue;
    expect(Math.abs(objective - entry.expected.objective)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(entry.expected.objective)));
    // Columns come back under their generated names, in model order.
    expect(Object.keys(read.Columns)).toEqual(entry.model.variables.map((_, j) => lpColumnName(j)));
    // And the array path agrees.
    const direct = await highsBackend.solve(entry.model);
    expect(Math.abs((direct.solution?.objective ?? NaN) - objective)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(objective)));
  });

  it('keeps user names in comments only, and writes ranges, bounds and integer sections', () => {
    const b = new ModelBuilder('demo', 'min');
    const x = b.addVariable('inf', { lower: -2, upper: 3 });
    const y = b.addVariable('a-b', { type: 'integer', lower: -5 });
    const z = b.binary('Subject To');
    const f = b.addVariable('free', { lower: -Infinity });
    b.addObjective(x, 1);
    b.addObjective(y, -2.5);
    b.addObjective(z, 1e-7);
    b.addConstraint('band', [term(x), term(y), term(f, -1)], 1, 4);
    b.equal('eq', [term(z), term(f)], 1);
    const text = toLpText(b.build());
    const body = text
      .split('\n')
      .filter((line) => !line.startsWith('\\'))
      .join('\n');
    for (const name of ['inf', 'a-b', 'Subject To', 'free']) expect(text).toContain(`= ${JSON.stringify(name)}`);
    expect(body).not.toMatch(/\binf\b/);
    expect(body).not.toContain('a-b');
    expect(body).toContain(' obj: x0 - 2.5 x1 + 1e-7 x2 + 0 x3');
    expect(body).toContain(' c0_lo: x0 + x1 - x3 >= 1');
    expect(body).toContain(' c0_hi: x0 + x1 - x3 <= 4');
    expect(body).toContain(' c1: x2 + x3 = 1');
    expect(body).toContain(' -2 <= x0 <= 3');
    expect(body).toContain(' x1 >= -5');
    expect(body).toContain(' x3 free');
    expect(body).toMatch(/General\n x1\nBinary\n x2\nEnd/);
  });

  it('wraps long expressions so no line exceeds what LP readers accept', () => {
    const b = new ModelBuilder('wide', 'max');
    const columns = Array.from({ length: 300 }, (_, j) => b.addVariable(`long name number ${j}`, { upper: 1 }));
    columns.forEach((c) => b.addObjective(c, 1.234567891234));
    b.lessEqual('all', columns.map((c) => term(c, 9.87654321e-3)), 1);
    const text = toLpText(b.build());
    for (const line of text.split('\n')) expect(line.length).toBeLessThan(510);
  });
});
