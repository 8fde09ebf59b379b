import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeFiles } from '../../src/batch/merge.ts';
import { runBatch } from '../../src/batch/run.ts';
import type { BatchRecord } from '../../src/batch/types.ts';
import { ROOT } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeplan-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small knapsack whose optimum is known by brute force (values 2^i·(i+1)-ish keep optima distinct). */
function knapsack(capacity: number): object {
  const items = [
    [6, 4],
    [5, 3],
    [8, 5],
    [3, 2],
    [7, 6],
  ];
  return {
    kind: 'milp',
    sense: 'max',
    variables: items.map((_, i) => ({ name: `x${i}`, type: 'binary' })),
    constraints: [{ name: 'cap', terms: Object.fromEntries(items.map(([, w], i) => [`x${i}`, w])), upper: capacity }],
    objective: Object.fromEntries(items.map(([v], i) => [`x${i}`, v])),
  };
}

function bruteForce(capacity: number): number {
  const items = [
    [6, 4],
    [5, 3],
    [8, 5],
    [3, 2],
    [7, 6],
  ];
  let best = 0;
  for (let mask = 0; mask < 1 << items.length; mask++) {
    let v = 0;
    let w = 0;
    items.forEach(([vi, wi], i) => {
      if (mask & (1 << i)) {
        v += vi;
        w += wi;
      }
    });
    if (w <= capacity) best = Math.max(best, v);
  }
  return best;
}

const CAPACITIES = Array.from({ length: 16 }, (_, i) => i + 1);

function write(name: string, lines: readonly string[]): string {
  writeFileSync(join(dir, name), lines.map((l) => `${l}\n`).join(''));
  return name;
}

const inputLines = CAPACITIES.map((c) =>
  JSON.stringify({ id: `cap-${c}`, params: { capacity: c }, problem: knapsack(c) }),
);
const input = write('in.jsonl', inputLines);

function read(name: string): BatchRecord[] {
  const path = join(dir, name);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as BatchRecord);
}

const outcome = (records: readonly BatchRecord[]): Record<string, [string | null, number | null]> =>
  Object.fromEntries(records.map((r) => [r.id, [r.termination, r.objective]]));

describe('edgeplan batch', () => {
  it('solves every line through the chain, with the brute-force optimum', async () => {
    const stats = await runBatch({ input, out: 'all.jsonl', cwd: dir, workers: 0 });
    const records = read('all.jsonl');
    expect(stats.written).toBe(CAPACITIES.length);
    expect(records.map((r) => r.id).sort()).toEqual(CAPACITIES.map((c) => `cap-${c}`).sort());
    for (const r of records) {
      const capacity = Number(r.id.slice(4));
      expect(r.termination).toBe('optimal');
      expect(r.objective).toBeCloseTo(bruteForce(capacity), 9);
      expect(r.params).toEqual({ capacity });
      expect(r.evaluation?.feasible).toBe(true);
      expect(r.error).toBeNull();
    }
  });

  it('2 shards on worker threads + merge equal 1 unsharded run (same ids, same objectives)', async () => {
    const whole = outcome(read('all.jsonl'));
    const a = await runBatch({
      input,
      out: 'shard-0.jsonl',
      cwd: dir,
      workers: 2,
      shard: { index: 0, count: 2, source: 't' },
    });
    const b = await runBatch({
      input,
      out: 'shard-1.jsonl',
      cwd: dir,
      workers: 0,
      shard: { index: 1, count: 2, source: 't' },
    });
    expect(a.written + b.written).toBe(CAPACITIES.length);
    expect(a.otherShards).toBe(b.written);
    expect(a.written).toBeGreaterThan(0);
    expect(b.written).toBeGreaterThan(0);
    const merged = await mergeFiles(['shard-1.jsonl', 'shard-0.jsonl'], { cwd: dir, input, shards: 2 });
    expect(merged.missing).toEqual([]);
    expect(merged.conflicts).toEqual([]);
    expect(outcome(merged.records)).toEqual(whole);
    // Sorted by id (numbers inside ids as numbers), whatever order the workers finished in.
    expect(merged.records.map((r) => r.id)).toEqual(CAPACITIES.map((c) => `cap-${c}`));
  });

  it('a run cut off mid-line resumes to the same final set, with no duplicates', async () => {
    const full = readFileSync(join(dir, 'all.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    // What a kill leaves: five whole lines and half of the sixth.
    writeFileSync(join(dir, 'cut.jsonl'), `${full.slice(0, 5).join('\n')}\n${full[5].slice(0, 40)}`);
    const stats = await runBatch({ input, out: 'cut.jsonl', cwd: dir, workers: 0 });
    expect(stats.skipped).toBe(5);
    expect(stats.dropped).toBe(1);
    expect(stats.written).toBe(CAPACITIES.length - 5);
    const records = read('cut.jsonl');
    expect(records.length).toBe(CAPACITIES.length);
    expect(new Set(records.map((r) => r.id)).size).toBe(CAPACITIES.length);
    expect(outcome(records)).toEqual(outcome(read('all.jsonl')));
    const again = await runBatch({ input, out: 'cut.jsonl', cwd: dir, workers: 0 });
    expect(again.written).toBe(0);
    expect(again.skipped).toBe(CAPACITIES.length);
  });

  it('a process killed with SIGKILL mid-run resumes to the same final set, with no duplicates', async () => {
    // Slow enough that the kill lands mid-run: 60 instances, one worker thread.
    const many = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify({ id: `k-${i}`, problem: knapsack((i % 16) + 1) }),
    );
    const killInput = write('kill.jsonl', many);
    const out = join(dir, 'killed.jsonl');
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/edgeplan.js'), 'batch', killInput, '--out', out, '--workers', '1'],
      {
        cwd: dir,
        stdio: 'ignore',
      },
    );
    const exited = new Promise<void>((done) => child.on('exit', () => done()));
    // Kill as soon as a few lines are out.
    for (let t = 0; t < 600; t++) {
      await new Promise((r) => setTimeout(r, 50));
      if (existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 3) break;
    }
    child.kill('SIGKILL');
    await exited;
    const before = read('killed.jsonl').length;
    expect(before).toBeLessThan(60);
    const stats = await runBatch({ input: killInput, out: 'killed.jsonl', cwd: dir, workers: 0 });
    const records = read('killed.jsonl');
    expect(stats.skipped).toBe(before);
    expect(records.length).toBe(60);
    expect(new Set(records.map((r) => r.id)).size).toBe(60);
    for (const r of records) expect(r.objective).toBeCloseTo(bruteForce((Number(r.id.slice(2)) % 16) + 1), 9);
  });

  it('a malformed line is an error line naming the JSON path and rule; the rest still solve', async () => {
    const lines = [
      JSON.stringify({ id: 'good-1', problem: knapsack(5) }),
      '{"id": "broken", "problem": {"kind": "milp", ',
      JSON.stringify({ id: 'bad-field', problem: { ...knapsack(5), sense: 'sideways' } }),
      JSON.stringify({ id: 'bad-option', problem: knapsack(5), options: { timeLimitSeconds: -1 } }),
      JSON.stringify({ id: 'no-file', file: 'nowhere.json' }),
      JSON.stringify({ id: 'good-1', problem: knapsack(6) }),
      '[1, 2]',
      '',
      JSON.stringify(knapsack(7)),
    ];
    const stats = await runBatch({ input: write('mixed.jsonl', lines), out: 'mixed-out.jsonl', cwd: dir, workers: 0 });
    const byId = Object.fromEntries(read('mixed-out.jsonl').map((r) => [r.id, r]));
    expect(stats.written).toBe(8);
    expect(byId['good-1'].objective).toBe(bruteForce(5));
    expect(byId['line-9'].objective).toBe(bruteForce(7));
    expect(byId['line-2'].error).toMatchObject({ path: '$', line: 2, kind: 'input' });
    expect(byId['line-2'].error?.rule).toMatch(/invalid JSON/);
    expect(byId['bad-field'].error).toMatchObject({ path: '$.problem.sense', line: 3 });
    expect(byId['bad-option'].error).toMatchObject({ path: '$.options.timeLimitSeconds', line: 4 });
    expect(byId['no-file'].error).toMatchObject({ path: '$.file', line: 5 });
    expect(byId['no-file'].error?.rule).toMatch(/no such file/);
    expect(byId['good-1#line-6'].error).toMatchObject({ path: '$.id', line: 6 });
    expect(byId['good-1#line-6'].error?.rule).toMatch(/duplicate id "good-1" \(first on line 1\)/);
    expect(byId['line-7'].error?.rule).toMatch(/expected an object/);
    expect(stats.inputErrors).toBe(6);
  });

  it('refuses to resume from results of another input; --force recomputes', async () => {
    const changed = write('changed.jsonl', [JSON.stringify({ id: 'cap-1', problem: knapsack(9) })]);
    write('prev.jsonl', [
      readFileSync(join(dir, 'all.jsonl'), 'utf8')
        .split('\n')
        .find((l) => l.includes('"cap-1"')) ?? '',
    ]);
    await expect(runBatch({ input: changed, out: 'prev.jsonl', cwd: dir, workers: 0 })).rejects.toThrow(/--force/);
    const stats = await runBatch({ input: changed, out: 'prev.jsonl', cwd: dir, workers: 0, force: true });
    expect(stats.written).toBe(1);
    expect(read('prev.jsonl').map((r) => r.objective)).toEqual([bruteForce(9)]);
  });

  it('runs peers through the session and rates them against the certified optimum', async () => {
    const file = join(ROOT, 'problems/pipeline-placement/edgeshard-llama-2-7b.json');
    const peersInput = write('peers.jsonl', [JSON.stringify({ id: 'edgeshard', file })]);
    await runBatch({ input: peersInput, out: 'peers-out.jsonl', cwd: dir, workers: 0, withPeers: true });
    const [r] = read('peers-out.jsonl');
    expect(r.termination).toBe('optimal');
    expect(r.peers?.length).toBeGreaterThan(2);
    for (const p of r.peers ?? []) {
      if (p.feasible === true && r.objective !== null && p.objective !== null) {
        expect(p.ratio).toBeCloseTo(r.objective / p.objective, 12);
        expect(p.ratio).toBeLessThanOrEqual(1 + 1e-9);
      } else expect(p.ratio).toBeNull();
    }
  });
});
