import type { Sense } from '../milp/model.ts';
import type { Baseline, Evaluation } from './types.ts';

/**
 * The best feasible peer decision by the family's own evaluate — what every family offers its
 * MILP as a warm start. Null when no peer finds a feasible decision.
 */
export function bestFeasibleBaseline<P, D>(
  problem: P,
  baselines: readonly Baseline<P, D>[],
  evaluate: (problem: P, decision: D) => Evaluation,
  sense: Sense = 'min',
): { name: string; decision: D; objective: number } | null {
  const sign = sense === 'min' ? 1 : -1;
  let best: { name: string; decision: D; objective: number } | null = null;
  for (const peer of baselines) {
    const decision = peer.run(problem);
    if (decision === null) continue;
    const e = evaluate(problem, decision);
    if (e.feasible && (best === null || sign * e.objective < sign * best.objective))
      best = { name: peer.name, decision, objective: e.objective };
  }
  return best;
}
