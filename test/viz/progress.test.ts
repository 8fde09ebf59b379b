import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The heartbeat and the timeline only: importing them directly (not src/api.ts) keeps this file's start cheap.
import { innerMilpText, progressLine, startProgress } from '../../src/viz/progress.ts';
import { simulatePipeline } from '../../src/viz/schedule.ts';

const busy = (ms: number): void => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // the main thread blocked, as inside a solver
  }
};

const linesOf = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('edgeplan: '));

/**
 * Blocks the main thread (as a solver does) until what the heartbeat wrote satisfies `done`, or
 * `maxMs` pass (a worker thread starts late on a loaded machine, so no fixed wait is long enough).
 */
function blockUntil(file: string, done: (text: string) => boolean, maxMs = 20_000): string {
  const until = Date.now() + maxMs;
  let text = readFileSync(file, 'utf8');
  while (!done(text) && Date.now() < until) {
    busy(20);
    text = readFileSync(file, 'utf8');
  }
  return text;
}

/** A heartbeat writing to a temporary file. */
function heartbeat(options: { afterSeconds?: number; everySeconds: number; phaseSeconds?: number }) {
  const file = join(mkdtempSync(join(tmpdir(), 'edgeplan-progress-')), 'stderr.txt');
  const fd = openSync(file, 'w');
  const progress = startProgress({ fd, afterSeconds: 0, ...options });
  return {
    file,
    progress,
    async stop(): Promise<string> {
      await progress.stop();
      closeSync(fd);
      return readFileSync(file, 'utf8');
    },
  };
}

describe('progress heartbeat', () => {
  it('prints while the main thread is blocked (as it is inside a WASM solve), with the solver facts', async () => {
    const h = heartbeat({ afterSeconds: 0.2, everySeconds: 0.2 });
    h.progress.hooks.onStepStart?.('solve', 'highs');
    h.progress.hooks.onProgress?.({ method: 'highs', incumbent: 12.5, bound: 10, gap: 0.2, nodes: 31 });
    // The facts reach the heartbeat's thread by message, so its first lines may predate them:
    // wait for the facts themselves, and for a second line (it goes on printing while blocked).
    const facts = 'highs  incumbent 12.5  bound 10  gap 20%  31 nodes';
    const during = blockUntil(h.file, (t) => linesOf(t).length >= 2 && t.includes(facts));
    await h.stop();
    expect(linesOf(during).length).toBeGreaterThanOrEqual(2);
    expect(during).toContain(facts);
  });

  it('the last facts inside a throttle window still go out when it ends (no later callback needed)', async () => {
    const h = heartbeat({ afterSeconds: 0, everySeconds: 0.1 });
    h.progress.hooks.onStepStart?.('solve', 'highs');
    h.progress.hooks.onProgress?.({ method: 'highs', incumbent: 1, bound: 10, gap: 0.9, nodes: 1 });
    h.progress.hooks.onProgress?.({ method: 'highs', incumbent: 7.5, bound: 10, gap: 0.25, nodes: 2 });
    await new Promise((r) => setTimeout(r, 600));
    const text = await h.stop();
    expect(text).toContain('incumbent 7.5');
  });

  it('says nothing for work shorter than its threshold', async () => {
    const h = heartbeat({ afterSeconds: 5, everySeconds: 0.05 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.stop()).toBe('');
  });

  it("keeps an exact method's phase and figures while its inner MILP reports (that MILP's in brackets)", async () => {
    const h = heartbeat({ everySeconds: 0.2 });
    h.progress.hooks.onStepStart?.('solve', 'exact');
    h.progress.hooks.onProgress?.({
      method: 'exact',
      phase: 'LNS round 3',
      incumbent: 4239.1,
      bound: 6216.1,
      gap: 0.466,
    });
    // Past the reporter's 200 ms throttle, as a solver's callbacks come again and again.
    await new Promise((r) => setTimeout(r, 250));
    h.progress.hooks.onProgress?.({ method: 'exact', phase: 'MILP', incumbent: 1622.4, bound: 4404.1, nodes: 0 });
    const expected =
      'exact  LNS round 3  incumbent 4239.1  bound 6216.1  gap 46.6%  (MILP incumbent 1622.4 bound 4404.1 0 nodes)';
    const during = blockUntil(h.file, (t) => t.includes(expected));
    await h.stop();
    expect(during).toContain(expected);
    expect(innerMilpText({ method: 'exact', phase: 'MILP', iterations: 12 })).toBe('MILP 12 simplex iterations');
  });

  it('plain lines: a new phase at once (one line per phaseSeconds at most), else a heartbeat', async () => {
    const h = heartbeat({ everySeconds: 30, phaseSeconds: 0.3 });
    h.progress.hooks.onStepStart?.('solve', 'exact');
    h.progress.hooks.onProgress?.({ method: 'exact', phase: 'layer 0 of 20' });
    // Once the worker is up (its first line), phases come every 100 ms for 2 s.
    const before = linesOf(blockUntil(h.file, (t) => linesOf(t).length >= 1)).length;
    for (let layer = 1; layer <= 20; layer++) {
      busy(100);
      // Each posted past the reporter's 50 ms throttle for new phases.
      h.progress.hooks.onProgress?.({ method: 'exact', phase: `layer ${layer} of 20` });
    }
    blockUntil(h.file, (t) => t.includes('layer 20 of 20'));
    const lines = linesOf(await h.stop()).slice(before);
    // About 2.3 s at most one line per 0.3 s: 2 to 9 lines (timer jitter, a loaded machine), never one per phase.
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(9);
    const layers = lines.map((l) => Number(/layer (\d+) of 20/.exec(l)?.[1]));
    for (let i = 1; i < layers.length; i++) expect(layers[i]).toBeGreaterThan(layers[i - 1]);
    expect(layers[layers.length - 1]).toBe(20);
  });

  it('formats a sweep bar and an exact phase', () => {
    expect(
      progressLine('edgeplan', 75, {
        done: 5,
        total: 20,
        point: 'x=3',
        step: 'solve',
        method: 'exact',
        phase: 'layer 12 of 58',
      }),
    ).toBe('edgeplan: 1 min 15 s  [#####...............] 5/20  x=3  exact  layer 12 of 58');
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
