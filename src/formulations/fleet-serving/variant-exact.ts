/**
 * The exact method's hand-over for the variants (latency SLO, minimum-cost fleet): the cover bound
 * and the chain/stage heuristics of exact.ts are for the plain max-flow objective, so a variant is
 * solved by the variant MILP (milp.ts) through the backend the chain handed over, warm-started with
 * the chain's incumbent. The MILP is exact (its docs), so a bound its backend reports is a valid bound
 * of the variant; the backend's word "optimal" without one is not (certify then holds the point unproven).
 */
import { relativeGap } from '../../milp/result.ts';
import type { ExactContext, ExactResult } from '../types.ts';
import { placementOfDecision } from './cost.ts';
import { explainVariantInfeasible } from './explain.ts';
import { compileFleet } from './milp.ts';
import { replicaPlacement, swarmPlacement } from './baselines.ts';
import { solveFleetExact } from './exact.ts';
import { rentKnapsack } from './rent-bound.ts';
import type { FleetDecision, FleetProblem } from './schema.ts';
import { placeRented } from './variant-peers.ts';
import { chainTimes, decideVariant, hasPathBound, pathBounds, rentOf, routedFlow } from './variants.ts';
import { atLeast, withinLimit } from '../tolerance.ts';

/**
 * The chosen nodes placed for the most tokens/s by the plain exact method (the others hold
 * nothing, the target dropped), then routed and trimmed as a decision of the variant; null when
 * the placement does not reach the target. A few seconds at most: it is a primal heuristic.
 */
async function placeChosen(
  problem: FleetProblem,
  chosen: readonly number[],
  ctx: ExactContext<FleetDecision>,
): Promise<FleetDecision | null> {
  const keep = new Set(chosen);
  const target = problem.targetTokensPerSecond ?? Infinity;
  // The family's quick placement heuristics first (chains, single pipeline, SWARM, replicas).
  const quick = placeRented(
    problem,
    problem.nodes.map((_, i) => keep.has(i)),
    [swarmPlacement, replicaPlacement],
  );
  if (quick !== null && atLeast(routedFlow(quick), target)) return quick;
  const plain: FleetProblem = {
    ...problem,
    targetTokensPerSecond: undefined,
    nodes: problem.nodes.map((node, i) => (keep.has(i) ? node : { ...node, throughput: [0], maxLayers: 0 })),
  };
  const r = await solveFleetExact(plain, {
    timeLimitSeconds: Math.min(ctx.timeLimitSeconds ?? Infinity, 10),
    mipGap: 1e-6,
    solveMilp: ctx.solveMilp,
  });
  if (r.decision === null) return null;
  const pl = placementOfDecision(problem, r.decision);
  if (pl === null) return null;
  const d = decideVariant(problem, pl);
  return d !== null && atLeast(routedFlow(d), target) ? d : null;
}

export function isVariant(problem: FleetProblem): boolean {
  return hasPathBound(problem) || problem.targetTokensPerSecond !== undefined;
}

export async function solveVariantExact(
  problem: FleetProblem,
  ctx: ExactContext<FleetDecision>,
): Promise<ExactResult<FleetDecision>> {
  // Minimum cost: the whole-node knapsack bound (rent-bound.ts) may already certify the warm start
  // or show that the whole fleet cannot reach the target.
  const t0 = performance.now();
  const knapsack = rentKnapsack(problem);
  const floor = knapsack.bound;
  if (floor === Infinity) {
    return {
      termination: 'infeasible',
      decision: null,
      details: { rentLowerBound: floor },
      message: explainVariantInfeasible(problem),
    };
  }
  // Path bounds: when even the fastest chain of linked nodes (nodes may repeat, a relaxation) breaks
  // an SLO, no request path meets it and nothing serves.
  if (pathBounds(problem).some((bound) => !withinLimit(chainTimes(problem, bound).fastest, bound.sloSeconds))) {
    return { termination: 'infeasible', decision: null, details: {}, message: explainVariantInfeasible(problem) };
  }
  const warmPlacement = ctx.incumbent !== undefined ? placementOfDecision(problem, ctx.incumbent) : null;
  if (problem.targetTokensPerSecond !== undefined && warmPlacement !== null && ctx.incumbent !== undefined) {
    const rent = rentOf(problem, warmPlacement);
    if (relativeGap(rent, floor) <= ctx.mipGap)
      return { termination: 'optimal', decision: ctx.incumbent, bound: floor, details: { rentLowerBound: floor } };
  }
  // The knapsack's cheapest set: if the plain exact method (max flow) places it at ≥ the target,
  // its rent equals the bound and it is optimal (no SLO: the plain method ignores latency).
  if (knapsack.chosen !== null && !hasPathBound(problem)) {
    const found = await placeChosen(problem, knapsack.chosen, ctx);
    if (found !== null) {
      const pl = placementOfDecision(problem, found);
      if (pl !== null && relativeGap(rentOf(problem, pl), floor) <= ctx.mipGap)
        return { termination: 'optimal', decision: found, bound: floor, details: { rentLowerBound: floor } };
    }
  }
  const compiled = compileFleet(problem, ctx.incumbent !== undefined ? { incumbent: ctx.incumbent } : {});
  const warm = ctx.incumbent !== undefined ? (compiled.encode?.(ctx.incumbent) ?? null) : null;
  ctx.progress?.('variant MILP');
  const r = await ctx.solveMilp(compiled.model, {
    // The user's limit less what the knapsack and the cheapest set's placement used.
    ...(ctx.timeLimitSeconds !== undefined
      ? { timeLimitSeconds: Math.max(0.1, ctx.timeLimitSeconds - (performance.now() - t0) / 1000) }
      : {}),
    mipGap: ctx.mipGap,
    ...(warm !== null ? { warmStart: warm } : {}),
  });
  const details = {
    method: 'variant MILP (per-node arrival times per SLO, TPOT and TTFT; rent of counted columns under a target)',
    ...(floor > 0 ? { rentLowerBound: floor } : {}),
    backend: r.backend,
    variables: compiled.model.variables.length,
    warmStarted: warm !== null,
  };
  if (r.solution === null) {
    if (r.termination === 'infeasible')
      return { termination: 'infeasible', decision: null, details, message: explainVariantInfeasible(problem) };
    return {
      termination: r.termination,
      decision: ctx.incumbent ?? null,
      details,
      message: r.message ?? 'the variant MILP found no point',
    };
  }
  // Only a bound the backend reported counts (GLPK's MIP "optimal" comes with none): its word that the point is
  // optimal is not a bound, and the chain's certify downgrades an "optimal" it cannot check. Minimum cost: the
  // knapsack floor is a bound of our own; the larger lower bound is kept.
  let bound = r.solution.bound !== undefined && Number.isFinite(r.solution.bound) ? r.solution.bound : undefined;
  if (problem.targetTokensPerSecond !== undefined && floor > 0) bound = Math.max(bound ?? floor, floor);
  const closed = bound !== undefined && relativeGap(r.solution.objective, bound) <= ctx.mipGap;
  const short = bound === undefined ? 'reported no bound' : `the bound ${bound} does not close the gap`;
  const unproven =
    r.termination === 'optimal' && !closed ? `${r.backend} called the variant MILP optimal but ${short}` : undefined;
  const message = [unproven, r.message].filter((m) => m !== undefined).join('; ');
  return {
    termination: closed ? 'optimal' : r.termination,
    decision: compiled.decode(r.solution.values),
    ...(bound !== undefined ? { bound } : {}),
    details,
    ...(message !== '' ? { message } : {}),
  };
}
