/**
 * Exact method for fleet-serving: a certified bound and an incumbent, closed by the strong MILP
 * when they do not meet.
 *
 * 1. Bound: the layer-work bound (cost.ts coverBound, valid for every placement).
 * 2. Incumbent: disjoint chains (chains.ts packChains) and the chain's warm-start decision, each
 *    valued by the max flow of its placement (cost.ts) — never by evaluate.
 * 3. When incumbent and bound are within mipGap the incumbent is optimal. Otherwise the strong
 *    MILP (milp.ts, symmetric nodes counted) is solved with the incumbent as warm start in the
 *    time left; its bound (if it reports one) tightens ours and its point replaces the incumbent
 *    when better. The result's bound is always the smaller valid one, so the gap is certified.
 */
import { relativeGap } from '../../milp/result.ts';
import type { ExactContext, ExactResult } from '../types.ts';
import { packChains, placementOfChains } from './chains.ts';
import { decisionOfPlacement, coverBound, smallestCapacity, maxFlowOfPlacement, placementOfDecision } from './cost.ts';
import { compileStrong } from './milp.ts';
import type { FleetDecision, FleetProblem } from './schema.ts';

export function fleetExactNotApplicable(problem: FleetProblem): string | null {
  void problem;
  return null;
}

function valueOf(problem: FleetProblem, d: FleetDecision | undefined): number {
  if (d === undefined) return 0;
  const pl = placementOfDecision(problem, d);
  return pl === null ? 0 : maxFlowOfPlacement(problem, pl).value;
}

export async function solveFleetExact(problem: FleetProblem, ctx: ExactContext<FleetDecision>): Promise<ExactResult<FleetDecision>> {
  const t0 = performance.now();
  const limitMs = (ctx.timeLimitSeconds ?? Infinity) * 1000;
  let bound = coverBound(problem);
  if (bound < smallestCapacity(problem)) {
    return { termination: 'infeasible', decision: null, message: 'no placement carries flow (layer-work bound below any capacity)' };
  }
  const chains = packChains(problem, t0 + Math.min(limitMs * 0.2, 30_000));
  let decision: FleetDecision | null = chains.length > 0 ? decisionOfPlacement(problem, placementOfChains(problem, chains)) : null;
  let value = decision === null ? 0 : valueOf(problem, decision);
  const given = valueOf(problem, ctx.incumbent);
  if (ctx.incumbent !== undefined && given > value) {
    const pl = placementOfDecision(problem, ctx.incumbent);
    if (pl !== null) {
      decision = decisionOfPlacement(problem, pl);
      value = given;
    }
  }
  const details: Record<string, unknown> = { coverBound: bound, chains: chains.length, chainValue: value };
  if (decision !== null && relativeGap(value, bound) <= ctx.mipGap) {
    return { termination: 'optimal', decision, bound: Math.max(value, bound), details };
  }
  const leftSeconds = (limitMs - (performance.now() - t0)) / 1000;
  if (leftSeconds <= 0.05) {
    return { termination: 'time_limit', decision, bound, details, message: 'no time left for the MILP' };
  }
  const compiled = compileStrong(problem);
  const warm = decision !== null ? (compiled.encode?.(decision) ?? undefined) : undefined;
  const r = await ctx.solveMilp(compiled.model, {
    ...(Number.isFinite(leftSeconds) ? { timeLimitSeconds: leftSeconds } : {}),
    mipGap: ctx.mipGap,
    ...(warm !== undefined ? { warmStart: warm } : {}),
  });
  details.milp = { backend: r.backend, termination: r.termination, objective: r.solution?.objective, bound: r.solution?.bound };
  if (r.solution !== null) {
    const d = compiled.decode(r.solution.values);
    const v = valueOf(problem, d);
    if (v > value) {
      decision = d;
      value = v;
    }
    if (r.termination === 'optimal' && r.solution.bound === undefined) bound = Math.min(bound, Math.max(value, r.solution.objective));
    if (r.solution.bound !== undefined && Number.isFinite(r.solution.bound)) bound = Math.min(bound, r.solution.bound);
  }
  if (decision === null && r.termination === 'infeasible') {
    return { termination: 'infeasible', decision: null, details, message: 'no placement carries flow' };
  }
  bound = Math.max(bound, value);
  const optimal = decision !== null && relativeGap(value, bound) <= ctx.mipGap;
  // A MILP that stopped early or failed leaves our incumbent and bound standing: a gap, not an error.
  const stopped = r.termination === 'node_limit' || r.termination === 'memory_limit' ? r.termination : 'time_limit';
  return { termination: optimal ? 'optimal' : stopped, decision, bound, details };
}
