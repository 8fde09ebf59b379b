/** The `model-caching` family: which models each edge server caches (TrimCaching setting, parameter sharing). */
import type { Formulation } from '../types.ts';
import { baselines } from './baselines.ts';
import { evaluate } from './evaluate.ts';
import { notApplicable, solveExact } from './exact.ts';
import { describe } from './explain.ts';
import { compile } from './milp.ts';
import { decisionSchema, inputSchema, parseProblem, type Decision, type Problem } from './schema.ts';
import { warnings } from './warnings.ts';

export const modelCaching: Formulation<Problem, Decision> = {
  kind: 'model-caching',
  title: 'Parameter-sharing model caching on edge servers (TrimCaching setting)',
  sense: 'max',
  senseOf: (problem) => (problem.objective === 'hit-ratio' ? 'max' : 'min'),
  objectiveLabel: (problem) =>
    problem.objective === 'hit-ratio'
      ? 'expected cache hit ratio (share of requests, maximised)'
      : 'expected serve latency with cloud fallback (s)',
  inputSchema,
  parse: parseProblem,
  decisionSchema,
  compile: (problem) => compile(problem),
  warnings,
  exact: { notApplicable, solve: solveExact },
  evaluate,
  baselines,
  describe,
};
