/**
 * The exact method's hand-over for the variants (latency SLO, minimum-cost fleet): the cover bound
 * and the chain/stage heuristics of exact.ts are for the plain max-flow objective, so a variant is
 * solved by the variant MILP (milp.ts) through the backend the chain handed over, warm-started with
 * the chain's incumbent. The MILP is exact (its docs), so its bound is a valid bound of the variant.
 */
import type { ExactContext, ExactResult } from '../types.ts';
import { explainVariantInfeasible } from './explain.ts';
import { compileFleet } from './milp.ts';
import type { FleetDecision, FleetProblem } from './schema.ts';

export function isVariant(problem: FleetProblem): boolean {
  return problem.latencySloSeconds !== undefined || problem.targetTokensPerSecond !== undefined;
}

export async function solveVariantExact(
  problem: FleetProblem,
  ctx: ExactContext<FleetDecision>,
): Promise<ExactResult<FleetDecision>> {
  const compiled = compileFleet(problem, ctx.incumbent !== undefined ? { incumbent: ctx.incumbent } : {});
  const warm = ctx.incumbent !== undefined ? (compiled.encode?.(ctx.incumbent) ?? null) : null;
  ctx.progress?.('variant MILP');
  const r = await ctx.solveMilp(compiled.model, {
    ...(ctx.timeLimitSeconds !== undefined ? { timeLimitSeconds: Math.max(0.1, ctx.timeLimitSeconds) } : {}),
    mipGap: ctx.mipGap,
    ...(warm !== null ? { warmStart: warm } : {}),
  });
  const details = {
    method: 'variant MILP (per-node arrival times under an SLO; rent of counted columns under a target)',
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
  // A backend that proves optimality without reporting a bound: the optimum is its own bound.
  const bound = r.solution.bound ?? (r.termination === 'optimal' ? r.solution.objective : undefined);
  return {
    termination: r.termination,
    decision: compiled.decode(r.solution.values),
    ...(bound !== undefined && Number.isFinite(bound) ? { bound } : {}),
    details,
    ...(r.message !== undefined ? { message: r.message } : {}),
  };
}
