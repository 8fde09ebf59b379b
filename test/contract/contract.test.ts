/**
 * The contract suite: one file, every registered formulation (in the manner of MOI.Test). Each
 * family contributes a generator in test/contract/generators/ (found by listing the folder); for
 * seeded tiny instances it checks, against the generator's independent brute force:
 *
 * - every method (exact, each MILP backend) proves the brute-force optimum, or infeasibility;
 * - every reported bound lies on the correct side of the true optimum;
 * - `check` accepts what `solve` returned, with the same objective (solve and check agree);
 * - relaxations (more memory, bandwidth, budget, servers …) never make the optimum worse.
 *
 * Exclusions are the generator's, each with its reason, and are printed by the test names.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check, listKinds, OBJECTIVE_RTOL, parseProblem, solve } from '../../src/api.ts';
import type { ContractGenerator } from './types.ts';

const folder = new URL('./generators/', import.meta.url);
const files = readdirSync(folder)
  .filter((f) => f.endsWith('.ts'))
  .sort();
const generators: ContractGenerator[] = [];
for (const file of files) {
  const module = (await import(new URL(file, folder).href)) as { default: ContractGenerator };
  generators.push(module.default);
}

/** Kinds without a generator yet, each with the reason (an empty list is the goal). */
const MISSING: Readonly<Record<string, string>> = {};

const METHODS = ['exact', 'highs', 'glpk', 'jslp'] as const;
/** Per-solve limit: tiny instances take milliseconds; the limit only stops a runaway. */
const TIME_LIMIT_SECONDS = 20;

/** Same optimum: the certified gap (1e-6) plus the objective tolerance, relative. */
function sameOptimum(a: number, b: number): boolean {
  return Math.abs(a - b) <= (1e-6 + OBJECTIVE_RTOL) * Math.max(Math.abs(a), Math.abs(b)) + 1e-12;
}

function notWorse(sense: 'min' | 'max', candidate: number, reference: number): boolean {
  if (sameOptimum(candidate, reference)) return true;
  return sense === 'min' ? candidate < reference : candidate > reference;
}

describe('every registered kind has a contract generator', () => {
  it('lists one generator per kind (or a stated reason)', () => {
    const covered = new Set(generators.map((g) => g.kind));
    const uncovered = listKinds().filter((k) => !covered.has(k) && !(k in MISSING));
    expect(uncovered).toEqual([]);
  });
});

for (const generator of generators) {
  describe(`contract: ${generator.kind}`, () => {
    const seeds = Array.from({ length: generator.seeds ?? 12 }, (_, i) => i + 1);
    for (const method of METHODS) {
      const excluded = generator.exclusions?.[method];
      if (excluded !== undefined) {
        // Not run, and said so by name: an exclusion must carry its reason (checked, not skipped).
        it(`${method}: excluded — ${excluded}`, () => {
          expect(excluded.trim().length).toBeGreaterThan(10);
        });
        continue;
      }
      it(`${method} = brute force on ${seeds.length} tiny instances; bounds valid; check agrees`, async () => {
        let ran = 0;
        for (const seed of seeds) {
          const raw = generator.tiny(seed);
          const parsed = parseProblem(raw);
          if (
            method === 'exact' &&
            (parsed.formulation.exact === undefined || parsed.formulation.exact.notApplicable(parsed.problem) !== null)
          )
            continue;
          if (method !== 'exact' && parsed.formulation.compile === undefined) continue;
          const truth = generator.bruteForce(raw);
          const report = await solve(parsed, { backend: method, timeLimitSeconds: TIME_LIMIT_SECONDS });
          if (report.solution !== null) {
            const verdict = check(raw, {
              kind: report.kind,
              method: report.method,
              termination: report.termination,
              solution: report.solution,
            });
            expect(
              verdict.ok,
              `seed ${seed}: check disagrees with solve (${JSON.stringify(verdict.evaluation.violations)})`,
            ).toBe(true);
          }
          if (truth.status === 'infeasible') {
            expect(report.solution, `seed ${seed}: brute force says infeasible, ${method} holds a decision`).toBeNull();
            expect(
              ['infeasible', 'infeasible_or_unbounded'],
              `seed ${seed}: ${method} says ${report.termination} (${report.attempts.map((a) => a.message ?? '').join('; ')})`,
            ).toContain(report.termination);
          } else {
            expect(report.termination, `seed ${seed}: ${JSON.stringify(report.attempts)}`).toBe('optimal');
            const objective = report.solution?.objective as number;
            expect(
              sameOptimum(objective, truth.objective),
              `seed ${seed}: ${method} ${objective}, brute force ${truth.objective}`,
            ).toBe(true);
            const bound = report.solution?.bound;
            if (bound !== undefined) {
              const slack = 1e-9 * Math.max(1, Math.abs(truth.objective));
              const valid =
                report.sense === 'min' ? bound <= truth.objective + slack : bound >= truth.objective - slack;
              expect(
                valid,
                `seed ${seed}: ${method} bound ${bound} on the wrong side of the optimum ${truth.objective}`,
              ).toBe(true);
            }
          }
          ran += 1;
        }
        if (method === 'exact' && ran === 0) return; // the family's exact method applies to none of its tiny instances
        expect(ran).toBeGreaterThan(0);
      }, 240_000);
    }
    it(`relaxations never make the optimum worse (${generator.relaxations.map((r) => r.name).join(', ')})`, () => {
      for (const seed of seeds) {
        const raw = generator.tiny(seed);
        const sense = parseProblem(raw).sense;
        const base = generator.bruteForce(raw);
        if (base.status === 'infeasible') continue;
        for (const relaxation of generator.relaxations) {
          const relaxed = generator.bruteForce(relaxation.apply(raw));
          expect(relaxed.status, `seed ${seed}, ${relaxation.name}: a feasible instance became infeasible`).toBe(
            'optimal',
          );
          if (relaxed.status === 'optimal') {
            expect(
              notWorse(sense, relaxed.objective, base.objective),
              `seed ${seed}, ${relaxation.name}: ${relaxed.objective} is worse than ${base.objective}`,
            ).toBe(true);
          }
        }
      }
    });
  });
}
