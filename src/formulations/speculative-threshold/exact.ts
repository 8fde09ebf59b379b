/**
 * Dinkelbach's method for min over per-state policies of R(x) = Σπ c(x) / Σπ N(x).
 *
 * F(λ) = min_x Σ_s π_s (c_s(x_s) − λ N_s(x_s)) is concave, decreasing, and F(λ) = 0 exactly at
 * λ* = min R. From λ_k = R(x_{k−1}), the minimiser x_k has R(x_k) < λ_k unless F(λ_k) = 0; the
 * policy set is finite, so λ strictly decreases through finitely many values and stops at λ*.
 * Without a budget F separates by state: each state takes argmin_j c_sj − λ N_sj by enumeration
 * (ties to the smaller γ, then the lower threshold). With an energy budget the states are coupled
 * by one linear row and each F(λ) is a multiple-choice knapsack solved as a MILP.
 */
import type { ExactContext, ExactResult } from '../types.ts';
import { policyRatio, roundTable } from './cost.ts';
import { decisionFromPicks, parametricModel } from './milp.ts';
import type { PerStateDecision, SpeculativeProblem } from './schema.ts';

export interface DinkelbachIteration {
  readonly lambda: number;
  /** F(λ) per token of the incumbent's rate: Σπ(c − λN). */
  readonly value: number;
  readonly ratio: number;
}

export interface DinkelbachDetails {
  readonly iterations: DinkelbachIteration[];
  readonly choicesPerState: number;
  readonly states: number;
  readonly picks: number[];
  readonly milpSolves: number;
}

/** Per-state argmin of c − λN, ties to the lowest choice index (smaller γ, then lower τ). */
export function separableArgmin(p: SpeculativeProblem, lambda: number): number[] {
  const t = roundTable(p);
  return p.states.map((_, s) => {
    const c = t.cost[s];
    const n = t.tokens[s];
    let best = 0;
    let bestVal = c[0] - lambda * n[0];
    for (let j = 1; j < c.length; j++) {
      const v = c[j] - lambda * n[j];
      // A relative tie tolerance keeps round-off from preferring a longer draft on a true tie.
      if (v < bestVal - 1e-12 * Math.abs(bestVal)) {
        best = j;
        bestVal = v;
      }
    }
    return best;
  });
}

function parametricValue(p: SpeculativeProblem, picks: readonly number[], lambda: number): number {
  const r = policyRatio(p, picks);
  return r.cost - lambda * r.tokens;
}

/** Least Σπ(e − B N) per state: the most budget-friendly policy; feasible iff its value ≤ 0. */
export function leastBudgetUse(p: SpeculativeProblem): { picks: number[]; value: number } {
  const t = roundTable(p);
  const B = p.energyBudgetJoulesPerToken ?? 0;
  let value = 0;
  const picks = p.states.map((_, s) => {
    let best = 0;
    for (let j = 1; j < t.choices.length; j++) {
      if (t.joules[s][j] - B * t.tokens[s][j] < t.joules[s][best] - B * t.tokens[s][best]) best = j;
    }
    value += p.stationary[s] * (t.joules[s][best] - B * t.tokens[s][best]);
    return best;
  });
  return { picks, value };
}

/** Budget-free Dinkelbach by enumeration; synchronous, used by the API and by baselines/tests. */
export function solveUnconstrained(p: SpeculativeProblem): { picks: number[]; ratio: number; details: DinkelbachDetails } {
  const t = roundTable(p);
  // Start from each state's best stand-alone ratio: usually one or two iterations from λ*.
  let picks = p.states.map((_, s) => {
    let best = 0;
    for (let j = 1; j < t.choices.length; j++) if (t.cost[s][j] / t.tokens[s][j] < t.cost[s][best] / t.tokens[s][best]) best = j;
    return best;
  });
  let lambda = policyRatio(p, picks).ratio;
  const iterations: DinkelbachIteration[] = [];
  for (let k = 0; k < 1000; k++) {
    const next = separableArgmin(p, lambda);
    const value = parametricValue(p, next, lambda);
    const ratio = policyRatio(p, next).ratio;
    iterations.push({ lambda, value, ratio });
    const scale = policyRatio(p, next).cost;
    if (value >= -1e-13 * scale || ratio >= lambda) {
      // F(λ) = 0: λ is optimal; keep whichever of the two policies attains it (the newer on a tie).
      if (ratio <= lambda) picks = next;
      break;
    }
    picks = next;
    lambda = ratio;
  }
  return {
    picks,
    ratio: policyRatio(p, picks).ratio,
    details: { iterations, choicesPerState: t.choices.length, states: p.states.length, picks, milpSolves: 0 },
  };
}

export async function solveExact(p: SpeculativeProblem, context: ExactContext): Promise<ExactResult<PerStateDecision>> {
  if (p.energyBudgetJoulesPerToken === null) {
    const r = solveUnconstrained(p);
    return { termination: 'optimal', decision: decisionFromPicks(p, r.picks), bound: r.ratio, details: r.details };
  }
  const t = roundTable(p);
  const start = leastBudgetUse(p);
  if (start.value > 0) {
    return { termination: 'infeasible', decision: null, message: 'no per-state policy meets the device energy budget', details: { leastBudgetUse: start.value } };
  }
  const started = performance.now();
  let picks = start.picks;
  let lambda = policyRatio(p, picks).ratio;
  let maxTokens = 0;
  p.stationary.forEach((pi, s) => (maxTokens += pi * Math.max(...t.tokens[s])));
  const iterations: DinkelbachIteration[] = [];
  let milpSolves = 0;
  let bound = -Infinity;
  for (let k = 0; k < 200; k++) {
    const elapsed = (performance.now() - started) / 1000;
    const remaining = context.timeLimitSeconds !== undefined ? context.timeLimitSeconds - elapsed : undefined;
    if (remaining !== undefined && remaining <= 0) {
      return { termination: 'time_limit', decision: decisionFromPicks(p, picks), bound: Math.max(0, bound), details: { iterations, milpSolves } };
    }
    const pm = parametricModel(p, lambda);
    // The incumbent as a warm start, when its options survived the Pareto pruning.
    const warm = pm.columns.map((c): number => (picks[c.state] === c.choice ? 1 : 0));
    const warmComplete = warm.reduce((a, b) => a + b, 0) === p.states.length;
    const res = await context.solveMilp(pm.model, { mipGap: context.mipGap, timeLimitSeconds: remaining, warmStart: warmComplete ? warm : undefined });
    milpSolves++;
    if (!res.solution) {
      return { termination: res.termination === 'infeasible' ? 'error' : res.termination, decision: decisionFromPicks(p, picks), message: `Dinkelbach subproblem: ${res.message ?? res.termination}`, details: { iterations, milpSolves } };
    }
    const next = pm.decodePicks(res.solution.values);
    const value = parametricValue(p, next, lambda);
    const ratio = policyRatio(p, next).ratio;
    iterations.push({ lambda, value, ratio });
    // Every policy x has Σπ(c − λN) ≥ F_bound, so R(x) ≥ λ + min(0, F_bound) / max Σπ N.
    const fBound = res.solution.bound !== undefined ? res.solution.bound / pm.scale : value;
    bound = Math.max(bound, lambda + Math.min(0, fBound) / maxTokens);
    const better = ratio < lambda && policyRatio(p, next).joules <= (p.energyBudgetJoulesPerToken as number) * policyRatio(p, next).tokens * (1 + 1e-12);
    if (!better || value >= -1e-13 * policyRatio(p, next).cost) {
      if (better) picks = next;
      const best = policyRatio(p, picks).ratio;
      const termination = res.termination === 'optimal' ? 'optimal' : res.termination;
      return {
        termination,
        decision: decisionFromPicks(p, picks),
        bound: Math.min(best, bound),
        details: { iterations, choicesPerState: t.choices.length, states: p.states.length, picks, milpSolves },
      };
    }
    picks = next;
    lambda = ratio;
  }
  return { termination: 'node_limit', decision: decisionFromPicks(p, picks), bound, message: 'Dinkelbach did not converge in 200 iterations', details: { iterations, milpSolves } };
}
