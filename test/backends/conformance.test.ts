import { describe, expect, it, vi } from 'vitest';
import { getBackend, listBackends } from '../../src/backends/registry.ts';
import { BACKEND_NAMES, type BackendName } from '../../src/backends/types.ts';
import { checkMilpSolution, describeViolations } from '../../src/milp/check.ts';
import { objectiveValue } from '../../src/milp/model.ts';
import { catalogue } from './catalogue.ts';

// Solver tests share two cores with other suites; the limit guards against hangs, not speed.
vi.setConfig({ testTimeout: 60_000 });

/**
 * Per-backend exclusions: [backend, catalogue id, reason]. Every entry must name a real
 * catalogue model; an exclusion is a documented limitation, not a way to hide a failure.
 */
const EXCLUSIONS: readonly (readonly [BackendName, string, string])[] = [];

const entries = catalogue();

function excluded(backend: BackendName, id: string): string | undefined {
  return EXCLUSIONS.find(([b, i]) => b === backend && i === id)?.[2];
}

function relClose(actual: number, expected: number, tolerance = 1e-6): boolean {
  return Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));
}

describe('catalogue', () => {
  it('has at least 15 models with unique ids, and exclusions that name real models', () => {
    expect(entries.length).toBeGreaterThanOrEqual(15);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    for (const [backend, id, reason] of EXCLUSIONS) {
      expect(BACKEND_NAMES).toContain(backend);
      expect(entries.map((e) => e.id)).toContain(id);
      expect(reason.length).toBeGreaterThan(10);
    }
  });

  it('known optimal points are feasible and have the stated objective', () => {
    for (const e of entries) {
      if (e.expected.termination !== 'optimal' || e.expected.values === undefined) continue;
      const check = checkMilpSolution(e.model, e.expected.values);
      expect(check.ok, `${e.id}: ${describeViolations(check)}`).toBe(true);
      expect(relClose(objectiveValue(e.model, e.expected.values), e.expected.objective), e.id).toBe(true);
    }
  });

  it('the registry lists every backend once, in BACKEND_NAMES order', () => {
    expect(listBackends().map((b) => b.name)).toEqual([...BACKEND_NAMES]);
  });
});

describe.each(BACKEND_NAMES.map((name) => [name] as const))('backend %s', (name) => {
  const backend = getBackend(name);
  for (const entry of entries) {
    const reason = excluded(name, entry.id);
    if (reason !== undefined) {
      // Not run, and said so by name: an exclusion must carry its reason (checked, not skipped).
      it(`${entry.id}: ${entry.what} (excluded: ${reason})`, () => {
        expect(reason.trim().length).toBeGreaterThan(10);
      });
      continue;
    }
    it(`${entry.id}: ${entry.what}`, async () => {
      const result = await backend.solve(entry.model);
      expect(result.backend).toBe(name);
      expect(result.timeSeconds).toBeGreaterThanOrEqual(0);
      expect(result.termination, result.message).toBe(entry.expected.termination);
      if (entry.expected.termination !== 'optimal') {
        expect(result.solution).toBeNull();
        return;
      }
      const solution = result.solution;
      expect(solution).not.toBeNull();
      if (solution === null) return;
      expect(solution.values).toHaveLength(entry.model.variables.length);
      const check = checkMilpSolution(entry.model, solution.values);
      expect(check.ok, describeViolations(check)).toBe(true);
      expect(relClose(solution.objective, entry.expected.objective), `objective ${solution.objective}`).toBe(true);
      // The reported objective is the model's objective at the returned point.
      expect(relClose(solution.objective, objectiveValue(entry.model, solution.values), 1e-9)).toBe(true);
      if (entry.expected.values !== undefined) {
        entry.expected.values.forEach((v, j) => expect(solution.values[j]).toBeCloseTo(v, 6));
      }
      if (solution.gap !== undefined) expect(solution.gap).toBeLessThanOrEqual(1e-6);
    });
  }
});
