import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gridLines, parseGridSweep } from '../../src/batch/grid.ts';
import { errorRecord } from '../../src/batch/input.ts';
import { compareIds, mergeFiles } from '../../src/batch/merge.ts';
import { summarizeRecords } from '../../src/batch/summarize.ts';
import type { BatchPeer, BatchRecord } from '../../src/batch/types.ts';
import { runCli } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeplan-batch-tools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = {
  kind: 'milp',
  sense: 'max',
  variables: [
    { name: 'x', type: 'binary' },
    { name: 'y', type: 'integer', upper: 3 },
  ],
  constraints: [{ name: 'cap', terms: { x: 2, y: 1 }, upper: 4 }],
  objective: { x: 3, y: 1 },
};

function record(id: string, fields: Partial<BatchRecord> = {}): BatchRecord {
  return {
    ...errorRecord(id, 1, { rule: 'x', line: 1, kind: 'input' }),
    error: null,
    kind: 'milp',
    sense: 'max',
    method: 'highs',
    termination: 'optimal',
    objective: 1,
    timeSeconds: 0.1,
    ...fields,
  };
}

const jsonl = (records: readonly BatchRecord[]): string => records.map((r) => `${JSON.stringify(r)}\n`).join('');

describe('grid', () => {
  it('is the cartesian product, first sweep outermost, with ids and params from the values', () => {
    const sweeps = [parseGridSweep('constraints[0].upper=2:1:4'), parseGridSweep('objective.y=1,5')];
    const lines = [...gridLines([{ name: 'tiny', problem: base }], sweeps)];
    expect(lines.map((l) => l.id)).toEqual([
      'tiny:constraints[0].upper=2,objective.y=1',
      'tiny:constraints[0].upper=2,objective.y=5',
      'tiny:constraints[0].upper=3,objective.y=1',
      'tiny:constraints[0].upper=3,objective.y=5',
      'tiny:constraints[0].upper=4,objective.y=1',
      'tiny:constraints[0].upper=4,objective.y=5',
    ]);
    const last = lines[5].problem as typeof base;
    expect(last.constraints[0].upper).toBe(4);
    expect(last.objective.y).toBe(5);
    expect(lines[5].params).toEqual({ 'constraints[0].upper': 4, 'objective.y': 5 });
    // The base is not mutated.
    expect(base.constraints[0].upper).toBe(4);
    expect(base.objective.y).toBe(1);
  });

  it('refuses a value the family refuses, with its JSON path, before writing anything', async () => {
    writeFileSync(join(dir, 'base.json'), JSON.stringify(base));
    const r = await runCli(['grid', 'base.json', '--sweep', 'variables[1].upper=3,-1'], {}, dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^edgeplan: \$\.variables\[1\]/);
    expect(r.stderr).toMatch(/variables\[1\]\.upper=-1/);
    const missing = await runCli(['grid', 'base.json', '--sweep', 'nothing.here=1'], {}, dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/\$\.nothing: the sweep path does not exist/);
  });
});

describe('merge', () => {
  it('sorts ids with numbers as numbers', () => {
    const ids = ['line-10', 'line-2', 'b', 'a:x=10', 'a:x=9', 'line-1'];
    expect([...ids].sort(compareIds)).toEqual(['a:x=9', 'a:x=10', 'b', 'line-1', 'line-2', 'line-10']);
  });

  it('drops repeats, prefers a result over an error line, reports conflicts and missing ids by shard', async () => {
    writeFileSync(
      join(dir, 'in.jsonl'),
      ['a', 'b', 'c', 'd'].map((id) => JSON.stringify({ id, problem: base })).join('\n'),
    );
    writeFileSync(
      join(dir, 'o1.jsonl'),
      jsonl([record('a'), record('b', { error: { rule: 'crash', line: 2, kind: 'internal' } })]),
    );
    writeFileSync(
      join(dir, 'o2.jsonl'),
      jsonl([record('a'), record('b', { objective: 2 }), record('c', { objective: 3 })]) + '{"id": "d", "cut',
    );
    writeFileSync(join(dir, 'o3.jsonl'), jsonl([record('c', { objective: 4 })]));
    const m = await mergeFiles(['o3.jsonl', 'o2.jsonl', 'o1.jsonl'], { cwd: dir, input: 'in.jsonl', shards: 3 });
    expect(m.records.map((r) => [r.id, r.objective])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    expect(m.missing).toEqual(['d']);
    expect(Object.values(m.missingByShard ?? {})).toEqual([1]);
    expect(m.unreadable).toEqual(['o2.jsonl:4']);
    expect(m.conflicts).toHaveLength(1);
    expect(m.conflicts[0]).toMatch(/^c: o2\.jsonl:3 says optimal 3, o3\.jsonl:1 says optimal 4/);
    const cli = await runCli(['merge', 'o1.jsonl', 'o2.jsonl', '--input', 'in.jsonl', '--out', 'all.jsonl'], {}, dir);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/1 ids of in\.jsonl missing: d/);
    expect(readFileSync(join(dir, 'all.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
  });
});

describe('summarize', () => {
  const peer = (name: string, objective: number | null, ratio: number | null): BatchPeer => ({
    name,
    objective,
    feasible: objective === null ? null : true,
    ratio,
    timeSeconds: 0,
  });

  it('counts outcomes, aggregates peer ratios against certified optima only, lists failures', () => {
    const records = [
      record('a', { objective: 10, peers: [peer('greedy', 8, 0.8), peer('fixed', null, null)], timeSeconds: 1 }),
      record('b', { objective: 10, peers: [peer('greedy', 5, 0.5), peer('fixed', 10, 1)], timeSeconds: 3 }),
      record('c', { termination: 'time_limit', objective: 9, peers: [peer('greedy', 4, null)], timeSeconds: 2 }),
      record('d', { termination: 'infeasible', objective: null, timeSeconds: 0.5 }),
      record('e', { termination: 'time_limit', objective: null, explanation: 'no incumbent in 1 s' }),
      errorRecord('f', 6, { path: '$.sense', rule: 'bad', line: 6, kind: 'input' }),
    ];
    const s = summarizeRecords(records);
    expect(s.kinds).toEqual([
      { kind: '(unparsed)', sense: '-', instances: 1, optimal: 0, feasible: 0, noPoint: 0, noSolution: 0, errors: 1 },
      { kind: 'milp', sense: 'max', instances: 5, optimal: 2, feasible: 1, noPoint: 1, noSolution: 1, errors: 0 },
    ]);
    const greedy = s.peers.find((p) => p.peer === 'greedy');
    expect(greedy).toMatchObject({ runs: 3, feasible: 3, unrated: 1, ratio: { count: 2, worst: 0.8, best: 0.5 } });
    expect(greedy?.ratio.mean).toBeCloseTo(0.65, 12);
    expect(s.peers.find((p) => p.peer === 'fixed')).toMatchObject({ runs: 2, noDecision: 1, ratio: { count: 1 } });
    expect(s.times).toEqual([
      {
        kind: 'milp',
        method: 'highs',
        instances: 5,
        medianSeconds: 1,
        p90Seconds: 3,
        maxSeconds: 3,
        totalSeconds: 6.6,
      },
    ]);
    expect(s.failures.map((f) => f.id)).toEqual(['e', 'f']);
    expect(s.failures[1].what).toBe('line 6: $.sense: bad');
  });
});

describe('the commands end to end (in process)', () => {
  it('grid → batch → summarize; batch without --out is a one-line usage error', async () => {
    writeFileSync(join(dir, 'base.json'), JSON.stringify(base));
    const grid = await runCli(
      ['grid', 'base.json', '--sweep', 'constraints[0].upper=0:1:5', '--out', 'g.jsonl'],
      {},
      dir,
    );
    expect(grid.code).toBe(0);
    expect(grid.stderr).toMatch(/grid: 6 lines/);
    const batch = await runCli(['batch', 'g.jsonl', '--out', 'g-out.jsonl', '--workers', '0'], {}, dir);
    expect(batch.code).toBe(0);
    expect(batch.stderr).toMatch(/6 written to g-out\.jsonl \(6 optimal\)/);
    const sharded = await runCli(
      ['batch', 'g.jsonl', '--out', 'g-k.jsonl', '--workers', '0', '--shards', '2'],
      {
        JOB_COMPLETION_INDEX: '1',
      },
      dir,
    );
    expect(sharded.code).toBe(0);
    expect(sharded.stderr).toMatch(/shard 1\/2 \(Kubernetes completion index 1/);
    const summary = await runCli(['summarize', 'g-out.jsonl'], {}, dir);
    expect(summary.code).toBe(0);
    expect(summary.stdout).toMatch(/milp\s+max\s+6\s+6\s+0/);
    const noOut = await runCli(['batch', 'g.jsonl'], {}, dir);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toBe('edgeplan: batch: --out OUT.jsonl is required\n');
  });
});
