/**
 * Absurd magnitudes are bad input naming the field (exit 2): 1e308 bytes, seconds or joules used
 * to be accepted and make every method fail on Infinity/NaN coefficients (exit 3; fuzz finding).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { parse } from '../../../src/formulations/speculative-threshold/schema.ts';
import { errorOf } from '../../support/errors.ts';

type Doc = Record<string, unknown> & {
  payload?: Record<string, unknown>;
  channel: { states: { link: unknown }[] };
  draft: { device: unknown };
};
const example = (): Doc =>
  JSON.parse(
    readFileSync(new URL('../../../problems/speculative-threshold/energy-budget.json', import.meta.url), 'utf8'),
  ) as Doc;

/** An inline override of a catalog reference (id string) or an inline object. */
const override = (ref: unknown, fields: Record<string, number>): unknown =>
  typeof ref === 'string' ? { id: ref, ...fields } : { ...(ref as Record<string, unknown>), ...fields };

describe('speculative-threshold absurd magnitudes', () => {
  const cases: [string, (d: Doc) => void, string][] = [
    ['payload.tokenIdBytes', (d) => (d.payload = { ...d.payload, tokenIdBytes: 1e308 }), '$.payload.tokenIdBytes'],
    [
      'payload.probabilityBytes',
      (d) => (d.payload = { ...d.payload, probabilityBytes: 1e308 }),
      '$.payload.probabilityBytes',
    ],
    ['payload.headerBytes', (d) => (d.payload = { ...d.payload, headerBytes: 1e308 }), '$.payload.headerBytes'],
    [
      'link latency',
      (d) => (d.channel.states[0].link = override(d.channel.states[0].link, { latencySeconds: 1e308 })),
      '$.channel.states[0].link.latencySeconds',
    ],
    ['energy budget', (d) => (d.energyBudgetJoulesPerToken = 1e308), '$.energyBudgetJoulesPerToken'],
  ];
  it.each(cases)('%s = 1e308 is an InputError at its path', (_name, mutate, path) => {
    const d = example();
    mutate(d);
    const e = errorOf(() => parse(d));
    expect(e.path).toBe(path);
    expect(e.rule).toMatch(/must be at most \d+ \(absurd size\)/);
    expect(e.exitCode).toBe(2);
  });

  it('finite values within every limit that still overflow the round cost are refused at the link', () => {
    // 1e-300 bit/s makes a round last ~1e302 s; a 1e6 W radio then spends more than 1e308 J.
    const d = example();
    d.channel.states[0].link = override(d.channel.states[0].link, { uplinkBitsPerSecond: 1e-300 });
    d.draft.device = override(d.draft.device, { transmitPowerWatts: 1e6 });
    const e = errorOf(() => parse(d));
    expect(e.path).toBe('$.channel.states[0].link');
    expect(e.rule).toMatch(/overflow double precision/);
  });

  it('large but sane values still solve with finite coefficients', async () => {
    const d = example();
    d.payload = { ...d.payload, tokenIdBytes: 1e6 };
    const report = await solve(d, { timeLimitSeconds: 5 });
    expect(['optimal', 'infeasible']).toContain(report.termination);
    if (report.solution) expect(Number.isFinite(report.solution.objective)).toBe(true);
  }, 60_000);
});
