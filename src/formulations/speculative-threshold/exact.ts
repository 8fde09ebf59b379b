/**
 * Dinkelbach's method for min over per-state policies of R(x) = Σπ c(x) / Σπ N(x).
 *
 * F(λ) = min_x Σ_s π_s (c_s(x_s) − λ N_s(x_s)) is concave, decreasing, and F(λ) = 0 exactly at
 * λ* = min R. From λ_k = R(x_{k−1}), the minimiser x_k has R(x_k) < λ_k unless F(λ_k) = 0; the
 * policy set is finite, so λ strictly decreases through finitely many values and stops at λ*.
 * Without a budget F separates by state: each state takes argmin_j c_sj − λ N_sj by enumeration
 * (ties to the smaller γ, then the lower threshold). With an energy budget the states are coupled
 * by one linear row and each F(λ) is a multiple-choice knapsack solved as a MILP.
 *
 * Everything here is valued with the option table (cost.ts); evaluate is never called.
 */
import type { ExactContext, ExactResult } from '../types.ts';
import { leastBudgetUse, picksMeetBudget, policyRatio, roundTable, tokensPerRoundRange } from './cost.ts';
import { decisionFromPicks, picksOf } from './decision.ts';
import { parametricModel } from './milp.ts';
import type { PerStateDecision, SpeculativeDecision, SpeculativeProblem } from './schema.ts';

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

/**
 * A valid lower bound on every policy's ratio from a lower bound on F(λ): each policy has
 * Σπ(c − λN) ≥ fLower, so R(x) − λ ≥ fLower / Σπ N(x). For fLower < 0 the worst case is the
 * smallest Σπ N any policy has (dividing by the largest, as before, gave a bound above the
 * optimum); for fLower ≥ 0 it is the largest.
 */
export function ratioLowerBound(lambda: number, fLower: number, tokens: { min: number; max: number }): number {
  return lambda + (fLower < 0 ? fLower / tokens.min : fLower / tokens.max);
}

/** Budget-free Dinkelbach by enumeration; synchronous. */
export function solveUnconstrained(p: SpeculativeProblem): {
  picks: number[];
  ratio: number;
  details: DinkelbachDetails;
} {
  const t = roundTable(p);
  // Start from each state's best stand-alone ratio: usually one or two iterations from λ*.
  let picks = p.states.map((_, s) => {
    let best = 0;
    for (let j = 1; j < t.choices.length; j++) {
      if (t.cost[s][j] / t.tokens[s][j] < t.cost[s][best] / t.tokens[s][best]) best = j;
    }
    return best;
  });
  let lambda = policyRatio(p, picks).ratio;
  const iterations: DinkelbachIteration[] = [];
  for (let k = 0; k < 1000; k++) {
    const next = separableArgmin(p, lambda);
    const value = parametricValue(p, next, lambda);
    const r = policyRatio(p, next);
    iterations.push({ lambda, value, ratio: r.ratio });
    if (value >= -1e-13 * r.cost || r.ratio >= lambda) {
      // F(λ) = 0: λ is optimal; keep whichever of the two policies attains it (the newer on a tie).
      if (r.ratio <= lambda) picks = next;
      break;
    }
    picks = next;
    lambda = r.ratio;
  }
  return {
    picks,
    ratio: policyRatio(p, picks).ratio,
    details: { iterations, choicesPerState: t.choices.length, states: p.states.length, picks, milpSolves: 0 },
  };
}

/** The incumbent's choice indices when it is a per-state policy that meets the budget (by the table). */
function incumbentPicks(p: SpeculativeProblem, incumbent: SpeculativeDecision | undefined): number[] | null {
  if (incumbent === undefined || incumbent.mode !== 'per-state') return null;
  const { picks } = picksOf(p, incumbent);
  return picks !== null && picksMeetBudget(p, picks) ? picks : null;
}

export async function solveExact(
  p: SpeculativeProblem,
  context: ExactContext<SpeculativeDecision>,
): Promise<ExactResult<PerStateDecision>> {
  if (p.energyBudgetJoulesPerToken === null) {
    const r = solveUnconstrained(p);
    return { termination: 'optimal', decision: decisionFromPicks(p, r.picks), bound: r.ratio, details: r.details };
  }
  const t = roundTable(p);
  const start = leastBudgetUse(p);
  if (!start.feasible) {
    return {
      termination: 'infeasible',
      decision: null,
      message: 'no per-state policy meets the device energy budget',
      details: { leastBudgetUse: start.value },
    };
  }
  const started = performance.now();
  let picks = start.picks;
  const warm = incumbentPicks(p, context.incumbent);
  if (warm !== null && policyRatio(p, warm).ratio < policyRatio(p, picks).ratio) picks = warm;
  let lambda = policyRatio(p, picks).ratio;
  const tokens = tokensPerRoundRange(p);
  const iterations: DinkelbachIteration[] = [];
  let milpSolves = 0;
  // The best proven lower bound so far; −∞ until some subproblem returns a dual bound.
  let bound = -Infinity;
  const details = (): DinkelbachDetails => ({
    iterations,
    choicesPerState: t.choices.length,
    states: p.states.length,
    picks,
    milpSolves,
  });
  const reported = (best: number): { bound?: number } => (bound > -Infinity ? { bound: Math.min(best, bound) } : {});
  for (let k = 0; k < 200; k++) {
    const elapsed = (performance.now() - started) / 1000;
    const remaining = context.timeLimitSeconds !== undefined ? context.timeLimitSeconds - elapsed : undefined;
    if (remaining !== undefined && remaining <= 0) {
      const decision = decisionFromPicks(p, picks);
      return { termination: 'time_limit', decision, ...reported(lambda), details: details() };
    }
    context.progress?.(`Dinkelbach iteration ${k + 1}`, { incumbent: lambda, ...reported(lambda) });
    const pm = parametricModel(p, lambda);
    // The incumbent as a warm start, when its options survived the Pareto pruning.
    const warmStart = pm.columns.map((c): number => (picks[c.state] === c.choice ? 1 : 0));
    const warmComplete = warmStart.reduce((a, b) => a + b, 0) === p.states.length;
    const res = await context.solveMilp(pm.model, {
      mipGap: context.mipGap,
      ...(remaining !== undefined ? { timeLimitSeconds: remaining } : {}),
      ...(warmComplete ? { warmStart } : {}),
    });
    milpSolves++;
    if (!res.solution) {
      return {
        termination: res.termination === 'infeasible' ? 'error' : res.termination,
        decision: decisionFromPicks(p, picks),
        ...reported(lambda),
        message: `Dinkelbach subproblem: ${res.message ?? res.termination}`,
        details: details(),
      };
    }
    const next = pm.decodePicks(res.solution.values);
    const value = parametricValue(p, next, lambda);
    const r = policyRatio(p, next);
    iterations.push({ lambda, value, ratio: r.ratio });
    // Only a dual bound the solver reported counts; without one (a time limit, or GLPK's MIP "optimal", which
    // glpk.js gives without a bound) this iteration adds none: the solver's word that F(λ) is its value is no proof.
    if (res.solution.bound !== undefined && Number.isFinite(res.solution.bound)) {
      bound = Math.max(bound, ratioLowerBound(lambda, res.solution.bound / pm.scale, tokens));
    }
    const better = r.ratio < lambda && picksMeetBudget(p, next);
    if (!better || value >= -1e-13 * r.cost) {
      if (better) picks = next;
      const best = policyRatio(p, picks).ratio;
      const decision = decisionFromPicks(p, picks);
      return { termination: res.termination, decision, ...reported(best), details: details() };
    }
    picks = next;
    lambda = r.ratio;
  }
  return {
    termination: 'node_limit',
    decision: decisionFromPicks(p, picks),
    ...reported(lambda),
    message: 'Dinkelbach did not converge in 200 iterations',
    details: details(),
  };
}
