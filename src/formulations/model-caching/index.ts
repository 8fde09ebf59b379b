import { bestFeasibleBaseline } from '../best-baseline.ts';
import type { Formulation } from '../types.ts';
import { baselines } from './baselines.ts';
import { storageBytes } from './cost.ts';
import { evaluate } from './evaluate.ts';
import { notApplicable, solveExact } from './exact.ts';
import { compile } from './milp.ts';
import { decisionSchema, inputSchema, parseProblem, type Decision, type Problem } from './schema.ts';

function bestBaseline(problem: Problem): Decision | null {
  return bestFeasibleBaseline(problem, baselines, evaluate, problem.objective === 'hit-ratio' ? 'max' : 'min')?.decision ?? null;
}

export const modelCaching: Formulation<Problem, Decision> = {
  kind: 'model-caching',
  title: 'Parameter-sharing model caching on edge servers (TrimCaching setting)',
  sense: 'max',
  senseOf: (problem) => (problem.objective === 'hit-ratio' ? 'max' : 'min'),
  objectiveLabel: (problem) => (problem.objective === 'hit-ratio' ? 'expected cache hit ratio (share of requests, maximised)' : 'expected serve latency with cloud fallback (s)'),
  inputSchema,
  parse: parseProblem,
  decisionSchema,
  compile: (problem) => compile(problem, bestBaseline(problem)),
  exact: { notApplicable, solve: solveExact },
  evaluate,
  baselines,
  describe(problem, decision, evaluation) {
    const lines: string[] = [];
    const e = evaluation.breakdown as { hitRatio: number };
    lines.push(`expected hit ratio ${(e.hitRatio * 100).toFixed(2)}%`);
    for (const s of problem.servers) {
      const ids = decision.cached[s.id] ?? [];
      const models = ids.map((id) => problem.models.findIndex((m) => m.id === id)).filter((k) => k >= 0);
      const used = storageBytes(problem, models);
      lines.push(`${s.id}: ${ids.length} models, ${(used / 1e9).toFixed(2)} / ${(s.storageBytes / 1e9).toFixed(2)} GB — ${ids.join(', ') || '(empty)'}`);
    }
    return lines.join('\n');
  },
};
