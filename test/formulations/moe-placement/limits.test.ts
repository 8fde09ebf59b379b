/**
 * Absurd sizes are bad input (not an exhausted heap), and a short time limit stops the exact
 * method with its incumbent and a gap (fuzz findings: 1e9 layers during parse; a 2 s limit that
 * took 10 s on DeepSeek-V3 × 16 servers).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { MOE_MAXIMA } from '../../../src/formulations/moe-placement/schema.ts';
import { formulation as F } from './helpers.ts';
import { errorOf } from '../../support/errors.ts';

const example = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../problems/moe-placement/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;


const inlineMoe = { layers: 2, experts: 8, topK: 2, expertBytes: 1e8, expertFlopsPerToken: 2e8, activationBytesPerToken: 8192 };

describe('moe-placement size limits', () => {
  it('a model overridden to a billion layers is an InputError at $.model.layers', () => {
    const raw = { ...example('tight-packing'), model: { id: 'mixtral-8x7b', layers: 1_000_000_000 } };
    const e = errorOf(() => F.parse(raw));
    expect(e.path).toBe('$.model.layers');
    expect(e.rule).toMatch(/at most 1000 \(absurd size\)/);
    expect(e.exitCode).toBe(2);
  });

  it('inline MoE layers and experts are capped at their paths', () => {
    const base = example('tight-packing');
    const { model: _model, ...rest } = base;
    void _model;
    const layers = errorOf(() => F.parse({ ...rest, moe: { ...inlineMoe, layers: 1e9 } }));
    expect(layers.path).toBe('$.moe.layers');
    const experts = errorOf(() => F.parse({ ...rest, moe: { ...inlineMoe, experts: 1e9 } }));
    expect(experts.path).toBe('$.moe.experts');
    expect(errorOf(() => F.parse({ ...rest, moe: { ...inlineMoe, expertBytes: 1e308 } })).path).toBe('$.moe.expertBytes');
  });

  it('a popularity matrix beyond the cell limit is refused before it is generated', () => {
    const { model: _model, ...rest } = example('tight-packing');
    void _model;
    const e = errorOf(() => F.parse({ ...rest, moe: { ...inlineMoe, layers: 1000, experts: 65_536 } }));
    expect(e.path).toBe('$.moe');
    expect(e.rule).toContain(`at most ${MOE_MAXIMA.popularityCells}`);
  });

  it('more servers than the limit are refused at $.servers', () => {
    const raw = example('tight-packing');
    const servers = raw.servers as unknown[];
    const many = Array.from({ length: MOE_MAXIMA.servers + 1 }, (_, i) => servers[i % servers.length]);
    const e = errorOf(() => F.parse({ ...raw, servers: many }));
    expect(e.path).toBe('$.servers');
    expect(e.rule).toMatch(/at most 1024 servers/);
  });
});

describe('moe-placement time limit', () => {
  it('DeepSeek-V3 on 16 servers with a 2 s limit stops with its incumbent, a bound and a gap', async () => {
    const report = await solve(example('deepseek-v3-16-servers'), { timeLimitSeconds: 2 });
    expect(report.method).toBe('exact');
    expect(report.termination).toBe('time_limit');
    expect(report.solution).not.toBeNull();
    expect(report.solution!.evaluation.feasible).toBe(true);
    expect(report.solution!.bound!).toBeLessThanOrEqual(report.solution!.objective);
    expect(report.solution!.gap!).toBeGreaterThan(0);
    expect(report.solution!.gap!).toBeLessThan(0.2);
  }, 120_000);
});
