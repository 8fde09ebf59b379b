import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as run } from '../../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeplan-caching-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model-caching from the CLI', () => {
  it('solves the fine-tune family with the MILP (requests reach two servers) and reports the hit ratio', async () => {
    const r = await run(['solve', 'problems/model-caching/fine-tune-family.json', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.termination).toBe('optimal');
    expect(report.method).toBe('highs');
    expect(report.solution.evaluation.feasible).toBe(true);
    expect(report.solution.objective).toBeGreaterThan(0.8);
  });

  it('replay: the static optimum beats LRU and least-age-of-context on a trace drawn from the request model', async () => {
    const r = await run(['replay', 'problems/model-caching/popularity-skew.json', '--requests', '4000', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { results: { policy: string; hitRatio: number; windows: unknown[] }[] };
    const ratio = (prefix: string) => report.results.find((x) => x.policy.startsWith(prefix))!.hitRatio;
    expect(report.results.map((x) => x.policy.split('(')[0].split(' ')[0])).toEqual([
      'lru',
      'laoc',
      'belady',
      'static',
    ]);
    expect(ratio('static')).toBeGreaterThan(ratio('lru'));
    expect(ratio('static')).toBeGreaterThan(ratio('laoc'));
    expect(report.results[0].windows).toHaveLength(20);
  });

  it('replay on an expected-latency problem prints the optimised metric (mean latency) before the hit ratio', async () => {
    const r = await run(['replay', 'problems/model-caching/fine-tune-family-latency.json', '--requests', '3000']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/the problem optimises mean serve latency/);
    expect(r.stdout).toMatch(/offline optimum: expected latency [\d.]+ ms, expected hit ratio [\d.]+%/);
    expect(r.stdout).toMatch(/policy +mean latency +hit ratio +fetches/);
    expect(r.stdout).not.toMatch(/expected hit ratio [\d.]+% \(optimal\)\n\npolicy +hit ratio/);
  });

  it('replay: a trace naming an unknown model is bad input with its JSON path', async () => {
    const trace = join(dir, 'trace.json');
    writeFileSync(
      trace,
      JSON.stringify([
        { user: 'user-1', model: 'llama-2-7b/lora-1' },
        { user: 'user-1', model: 'nope' },
      ]),
    );
    const r = await run(['replay', 'problems/model-caching/popularity-skew.json', '--trace', trace]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`edgeplan: $[1].model: model "nope" is not in the problem (in ${trace})`);
  });
});
