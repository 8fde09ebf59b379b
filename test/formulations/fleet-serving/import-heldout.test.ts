/**
 * The held-out Helix instances of datasets/helix/ (imported from Helix's ilp_model.lp): the bench suite that runs
 * them, the README that cites them, and the small ones solved here — certified optimal and never below the
 * layout Helix kept (its ilp_solution.sol objective). The 24- and 42-node ones run in the bench only (120 s each).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { suite } from '../../../src/bench/suites/helix-heldout.ts';
import { SUITES } from '../../../src/bench/suites/index.ts';
import { evaluateFleet } from '../../../src/formulations/fleet-serving/evaluate.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import type { FleetDecision } from '../../../src/formulations/fleet-serving/schema.ts';

const dir = new URL('../../../datasets/helix/', import.meta.url);
const read = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as Record<string, unknown>;
const heldOut = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'helix-10-llama30b-quality.json')
  .map((f) => f.replace(/\.json$/, ''));

describe('held-out Helix instances', () => {
  it('every converted file is a fleet-serving problem, in the bench suite and cited in the README', () => {
    expect(heldOut).toHaveLength(6);
    expect(SUITES).toContain(suite);
    const names = suite.instances().map((i) => i.name);
    const readme = readFileSync(new URL('README.md', dir), 'utf8');
    for (const name of heldOut) {
      expect(names).toContain(name);
      expect(readme).toContain(`${name}.json`);
      const problem = read(name);
      expect(problem.description).toMatch(/Helix artifact: artifact_evaluation\/.*ilp_model\.lp/);
      expect(() => parseFleet(problem)).not.toThrow();
    }
    for (const i of suite.instances()) expect(i.description).toMatch(/Helix best [\d.]+/);
  });

  // Helix's kept layouts (ilp_solution.sol): a100 1044.53, l4 214.981, t4 397.685 tokens/s.
  it.each([
    ['helix-4-llama30b-a100-distributed', 1044.5333450564908, 1044.5333],
    ['helix-8-llama30b-l4-distributed', 214.98140196132908, 252.6498],
    ['helix-12-llama30b-t4-distributed', 397.68506408357825, 397.6851],
  ])('%s: certified optimal, at least Helix’s layout', async (name, helixBest, optimum) => {
    const raw = read(name);
    const r = await solve(raw, { backend: 'exact' });
    expect(r.termination).toBe('optimal');
    expect(r.bounds.primal).toBeGreaterThanOrEqual(helixBest * (1 - 1e-9));
    expect(r.bounds.primal).toBeCloseTo(optimum, 3);
    expect((r.bounds.dual - r.bounds.primal) / r.bounds.primal).toBeLessThanOrEqual(1e-6);
    // The answer is re-checked by evaluate (independent max flow), not only by the method that found it.
    const check = evaluateFleet(parseFleet(raw), r.solution?.decision as FleetDecision);
    expect(check.feasible).toBe(true);
    expect(check.objective).toBeCloseTo(r.bounds.primal, 6);
  });

  it('the unpruned 24-node file keeps every pruned link with its capacity: its optimum is never below', () => {
    const pruned = parseFleet(read('helix-24-llama70b-distributed'));
    const full = parseFleet(read('helix-24-llama70b-distributed-no-prune'));
    expect(full.nodes).toEqual(pruned.nodes);
    const capacity = new Map(full.links.map((l) => [`${l.from}>${l.to}`, l.capacity]));
    for (const l of pruned.links) expect(capacity.get(`${l.from}>${l.to}`)).toBe(l.capacity);
    pruned.sourceCapacity.forEach((c, i) => expect(full.sourceCapacity[i]).toBeGreaterThanOrEqual(c));
    pruned.sinkCapacity.forEach((c, i) => expect(full.sinkCapacity[i]).toBeGreaterThanOrEqual(c));
  });
});
