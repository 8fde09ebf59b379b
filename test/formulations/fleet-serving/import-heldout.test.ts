/**
 * The held-out Helix instances (imported at run time from Helix's ilp_model.lp, never shipped: datasets/helix/README.md
 * lists their sources and Helix's figures): the bench suite that rebuilds them, and the small ones solved here —
 * certified optimal and never below the layout Helix kept (its ilp_solution.sol objective). They run where a copy of
 * Helix's repository is on the machine (a session's fetch); the 24- and 42-node ones run in the bench only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { solve } from '../../../src/api.ts';
import { HELD_OUT, HELIX_REPO_VARIABLE, heldOutProblem, suite } from '../../../src/bench/suites/helix-heldout.ts';
import { SUITES } from '../../../src/bench/suites/index.ts';
import { UsageError } from '../../../src/errors.ts';
import { evaluateFleet } from '../../../src/formulations/fleet-serving/evaluate.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import type { FleetDecision } from '../../../src/formulations/fleet-serving/schema.ts';

const MIRROR = '/work/.mirror/Thesys-lab+Helix-ASPLOS25/repo';
const readme = readFileSync(new URL('../../../datasets/helix/README.md', import.meta.url), 'utf8');

describe('held-out Helix instances: the suite', () => {
  it('is registered, cites every source in the README, and without a checkout says how to get one', () => {
    expect(SUITES).toContain(suite);
    for (const h of HELD_OUT) {
      expect(readme).toContain(h.name);
      expect(readme).toContain(`artifact_evaluation/${h.source}/ilp_model.lp`);
      expect(h.helix).toMatch(/Helix best [\d.]+/);
    }
    const saved = process.env[HELIX_REPO_VARIABLE];
    delete process.env[HELIX_REPO_VARIABLE];
    try {
      expect(() => suite.instances()).toThrow(UsageError);
      expect(() => suite.instances()).toThrow(/EDGEPLAN_HELIX_REPO/);
    } finally {
      if (saved !== undefined) process.env[HELIX_REPO_VARIABLE] = saved;
    }
  });
});

// A checkout holding just the held-out model files, written from the fetched copy (a bare git directory).
const checkout = existsSync(MIRROR) ? mkdtempSync(join(tmpdir(), 'edgeplan-helix-')) : '';
afterAll(() => {
  if (checkout !== '') rmSync(checkout, { recursive: true, force: true });
});
if (checkout !== '') {
  for (const h of HELD_OUT) {
    const path = `artifact_evaluation/${h.source}/ilp_model.lp`;
    mkdirSync(dirname(join(checkout, path)), { recursive: true });
    writeFileSync(
      join(checkout, path),
      execFileSync('git', ['-C', MIRROR, 'show', `HEAD:${path}`], { encoding: 'utf8', maxBuffer: 1 << 26 }),
    );
  }
}
const read = (name: string): Record<string, unknown> => {
  const h = HELD_OUT.find((x) => x.name === name);
  if (h === undefined) throw new Error(name);
  return heldOutProblem(checkout, h.source);
};

describe.skipIf(checkout === '')('held-out Helix instances (from a copy of Helix’s repository)', () => {
  it('the suite builds every instance from the checkout', () => {
    const saved = process.env[HELIX_REPO_VARIABLE];
    process.env[HELIX_REPO_VARIABLE] = checkout;
    try {
      const names = suite.instances().map((i) => i.name);
      for (const h of HELD_OUT) expect(names).toContain(h.name);
    } finally {
      if (saved === undefined) delete process.env[HELIX_REPO_VARIABLE];
      else process.env[HELIX_REPO_VARIABLE] = saved;
    }
    for (const h of HELD_OUT) {
      const problem = read(h.name);
      expect(problem.description).toMatch(/Helix artifact: artifact_evaluation\/.*ilp_model\.lp/);
      expect(() => parseFleet(problem)).not.toThrow();
    }
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
