import { describe, expect, it } from 'vitest';
import { XMLValidator } from 'fast-xml-parser';
import {
  InputError,
  parseFieldPath,
  sweep,
  sweepCsv,
  sweepGrid,
  sweepPlotSvg,
  withField,
  type SweepReport,
} from '../../src/api.ts';

const knapsack = {
  kind: 'milp',
  sense: 'max',
  variables: [
    { name: 'a', type: 'binary' },
    { name: 'b', type: 'binary' },
    { name: 'c', type: 'binary' },
  ],
  objective: { a: 5, b: 4, c: 3 },
  constraints: [{ name: 'cap', terms: { a: 2, b: 3, c: 1 }, upper: 3 }],
};

describe('sweep paths with [*]', () => {
  it('sets the field in every element of the array, and only there', () => {
    const raw = { users: [{ up: 1, down: 2 }, { up: 3, down: 4 }], up: 9 };
    expect(parseFieldPath('users[*].up')).toEqual(['users', '*', 'up']);
    expect(withField(raw, parseFieldPath('users[*].up'), 7)).toEqual({ users: [{ up: 7, down: 2 }, { up: 7, down: 4 }], up: 9 });
    expect(withField({ m: [[1, 2], [3]] }, parseFieldPath('m[*][*]'), 0)).toEqual({ m: [[0, 0], [0]] });
    expect(raw.users[0].up).toBe(1);
  });

  it('names the JSON path when [*] does not meet an array or meets an empty one', () => {
    expect(() => withField({ users: {} }, parseFieldPath('users[*].up'), 1)).toThrow(InputError);
    expect(() => withField({ users: [] }, parseFieldPath('users[*].up'), 1)).toThrow(/empty array/);
    expect(() => withField({ users: [{ up: 'x' }] }, parseFieldPath('users[*].up'), 1)).toThrow(/numeric field/);
  });
});

describe('sweep grids, peers, CSV and plot', () => {
  it('solves every combination of two axes, first axis slowest, with the peers at each point', async () => {
    const report = await sweepGrid(
      knapsack,
      [
        { path: 'constraints[0].upper', values: [2, 3] },
        { path: 'objective.c', values: [1, 10] },
      ],
      { withPeers: true },
    );
    expect(report.paths).toEqual(['$.constraints[0].upper', '$.objective.c']);
    expect(report.rows.map((r) => r.values)).toEqual([[2, 1], [2, 10], [3, 1], [3, 10]]);
    // Brute force over the 8 subsets of {a, b, c} for each point.
    for (const row of report.rows) {
      const [cap, c] = row.values ?? [];
      let best = 0;
      for (let mask = 0; mask < 8; mask++) {
        const [x, y, z] = [mask & 1, (mask >> 1) & 1, (mask >> 2) & 1];
        if (2 * x + 3 * y + z <= cap) best = Math.max(best, 5 * x + 4 * y + c * z);
      }
      expect(row.objective).toBeCloseTo(best, 9);
      expect(row.peers?.length).toBeGreaterThan(0);
      for (const peer of row.peers ?? []) if (peer.objective !== null) expect(peer.objective).toBeLessThanOrEqual(best + 1e-9);
    }
    const csv = sweepCsv(report).trim().split('\n');
    expect(csv[0]).toBe('$.constraints[0].upper,$.objective.c,method,role,termination,feasible,objective,gap,time_s');
    expect(csv.filter((l) => l.includes(',solver,'))).toHaveLength(4);
    expect(csv.filter((l) => l.includes(',peer,')).length).toBe(4 * (report.rows[0].peers?.length ?? 0));
    const svg = await sweepPlotSvg(report);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('edgeplan');
  });

  it('keeps the one-axis sweep as it was (value per row, path)', async () => {
    const report: SweepReport = await sweep(knapsack, 'constraints[0].upper', [1, 3]);
    expect(report.path).toBe('$.constraints[0].upper');
    expect(report.rows.map((r) => [r.value, r.objective])).toEqual([
      [1, 3],
      [3, 8],
    ]);
  });

  it('quotes CSV fields that hold a comma or a quote', () => {
    const report: SweepReport = {
      kind: 'milp',
      path: '$.a',
      rows: [
        {
          value: 1,
          method: 'highs',
          termination: 'optimal',
          objective: 2,
          gap: 0,
          summary: null,
          decision: null,
          timeSeconds: 0.5,
          peers: [{ name: 'a,"b"', objective: null, feasible: false, timeSeconds: 0 }],
        },
      ],
    };
    expect(sweepCsv(report).split('\n')[2]).toBe('1,"a,""b""",peer,,false,,,0');
  });
});
