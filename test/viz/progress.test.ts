import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { progressLine, simulatePipeline, startProgress } from '../../src/api.ts';

describe('progress heartbeat', () => {
  it('prints while the main thread is blocked (as it is inside a WASM solve), with the solver facts', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'edgeplan-progress-')), 'stderr.txt');
    const fd = openSync(file, 'w');
    const progress = startProgress({ fd, afterSeconds: 0.2, everySeconds: 0.2 });
    progress.hooks.onStepStart?.('solve', 'highs');
    progress.hooks.onProgress?.({ method: 'highs', incumbent: 12.5, bound: 10, gap: 0.2, nodes: 31 });
    await new Promise((r) => setTimeout(r, 50));
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      // busy: no timer of the main thread can fire here
    }
    const during = readFileSync(file, 'utf8');
    await progress.stop();
    closeSync(fd);
    expect(during.split('\n').filter((l) => l.startsWith('edgeplan: ')).length).toBeGreaterThanOrEqual(2);
    expect(during).toContain('highs  incumbent 12.5  bound 10  gap 20%  31 nodes');
  });

  it('says nothing for work shorter than its threshold', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'edgeplan-progress-')), 'stderr.txt');
    const fd = openSync(file, 'w');
    const progress = startProgress({ fd, afterSeconds: 5, everySeconds: 0.05 });
    await new Promise((r) => setTimeout(r, 300));
    await progress.stop();
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('formats a sweep bar and an exact phase', () => {
    expect(progressLine('edgeplan', 75, { done: 5, total: 20, point: 'x=3', step: 'solve', method: 'exact', phase: 'layer 12 of 58' })).toBe(
      'edgeplan: 1 min 15 s  [#####...............] 5/20  x=3  exact  layer 12 of 58',
    );
  });
});

describe('pipeline timeline', () => {
  it('GPipe with equal stages and no hops takes (B + S − 1)·(f + b)', () => {
    const stages = Array.from({ length: 4 }, () => ({ computeSeconds: 3, commSeconds: 0 }));
    const t = simulatePipeline(stages, 8, 'gpipe');
    expect(t.makespanSeconds).toBeCloseTo((8 + 4 - 1) * 3, 9);
    expect(t.ops).toHaveLength(4 * 2 * 8);
  });

  it('1F1B takes as long as GPipe there, and every backward follows its forward on each stage', () => {
    const stages = Array.from({ length: 4 }, () => ({ computeSeconds: 3, commSeconds: 0 }));
    const t = simulatePipeline(stages, 8, '1f1b');
    expect(t.makespanSeconds).toBeCloseTo(33, 9);
    for (const b of t.ops.filter((o) => o.pass === 'backward')) {
      const f = t.ops.find((o) => o.pass === 'forward' && o.stage === b.stage && o.microBatch === b.microBatch);
      expect(f !== undefined && f.end <= b.start + 1e-12).toBe(true);
    }
    // No two ops overlap on one stage.
    for (let s = 0; s < 4; s++) {
      const ops = t.ops.filter((o) => o.stage === s).sort((a, b) => a.start - b.start);
      for (let i = 1; i < ops.length; i++) expect(ops[i].start).toBeGreaterThanOrEqual(ops[i - 1].end - 1e-12);
    }
  });
});
