/**
 * Exact method. Latency (a sum) and throughput (a bottleneck) are solved by one DP run each.
 * The training objective Σ + (B − 1)·max mixes both; it is solved exactly by a descending search
 * over the bottleneck: run the Σ-DP with every stage time and transfer < cap (cap = ∞ first),
 * get a plan with sum Σ and largest element M, record Σ + (B − 1)·M, set cap = M and repeat.
 * Every plan whose largest element is ≥ M has a sum ≥ Σ (Σ was the least among plans below the
 * previous cap), so it is no better than the recorded one; plans below the new cap have sum ≥ Σ
 * and largest element ≥ T* (the minimax optimum), so the search stops once Σ + (B − 1)·T* can no
 * longer beat the incumbent. Each round strictly lowers M, so it ends.
 */
import type { ExactContext, ExactResult } from '../types.ts';
import { planOfDecision, tablesOf, type StagePlan } from './cost.ts';
import { chainDp, subsetDp, subsetDpCells, trueCosts, type DpCosts, type DpOptions, type DpResult } from './dp.ts';
import type { PipelineDecision, PipelineProblem } from './schema.ts';

/** Above this many cells the subset DP needs too much memory; the MILP takes over. */
export const SUBSET_DP_CELL_LIMIT = 9_000_000;

export function exactNotApplicable(problem: PipelineProblem): string | null {
  if (problem.serverOrder === 'listed') return null;
  const cells = subsetDpCells(problem.servers.length, problem.model.layers);
  if (cells > SUBSET_DP_CELL_LIMIT) {
    return `${problem.servers.length} servers in any order need ${cells.toExponential(2)} DP cells (limit ${SUBSET_DP_CELL_LIMIT.toExponential(1)}); use the MILP, or serverOrder "listed"`;
  }
  return null;
}

/** Server order for the fixed-order DP: the source first, then the list. */
export function listedOrder(problem: PipelineProblem): number[] {
  const rest = problem.servers.map((_, i) => i).filter((i) => i !== problem.source);
  return problem.source === null ? rest : [problem.source, ...rest];
}

export function planToDecision(problem: PipelineProblem, plan: readonly StagePlan[]): PipelineDecision {
  return {
    stages: plan.map((s) => ({ server: problem.servers[s.server].name, firstLayer: s.first, lastLayer: s.last })),
  };
}

export interface SearchOutcome {
  readonly plan: StagePlan[] | null;
  readonly objective: number;
  /** Proven lower bound (equals the objective when complete). */
  readonly bound: number;
  readonly complete: boolean;
  readonly dpRuns: number;
  readonly method: 'subset-dp' | 'chain-dp';
}

/**
 * The exact search with any cost view (the peers that follow the same objective with a simplified
 * view reuse it). `deadlineMs` (performance.now) stops the bottleneck search early with a bound.
 */
export function searchOptimum(
  problem: PipelineProblem,
  costs: DpCosts,
  deadlineMs = Infinity,
  forceChain = false,
  incumbent: readonly StagePlan[] | null = null,
  progress?: ExactContext['progress'],
): SearchOutcome {
  const t = tablesOf(problem);
  const chain = forceChain || problem.serverOrder === 'listed';
  const order = listedOrder(problem);
  // The DPs report their layers; the bottleneck search prefixes its round and adds its figures.
  let round = '';
  let facts: { incumbent?: number; bound?: number } = {};
  const base: Omit<DpOptions, 'combine' | 'cap'> = {
    maxStages: problem.maxStages,
    exactStages: problem.stages,
    source: problem.source,
    ...(progress !== undefined ? { progress: (phase: string) => progress(round + phase, facts) } : {}),
  };
  const run = (combine: 'sum' | 'max', cap: number): DpResult | null =>
    chain ? chainDp(costs, order, { ...base, combine, cap }) : subsetDp(costs, { ...base, combine, cap });
  const method = chain ? 'chain-dp' : 'subset-dp';
  const value = (plan: StagePlan[]): { sum: number; max: number } => {
    let sum = 0;
    let max = 0;
    plan.forEach((s, i) => {
      const st = costs.stage(s.server, s.first, s.last);
      sum += st;
      max = Math.max(max, st);
      if (i + 1 < plan.length) {
        const c = costs.comm(s.server, plan[i + 1].server);
        sum += c;
        max = Math.max(max, c);
      }
    });
    return { sum, max };
  };
  if (t.objective !== 'training') {
    const r = run(t.objective === 'latency' ? 'sum' : 'max', Infinity);
    if (!r) return { plan: null, objective: Infinity, bound: Infinity, complete: true, dpRuns: 1, method };
    return { plan: r.plan, objective: r.value, bound: r.value, complete: true, dpRuns: 1, method };
  }
  const B = t.microBatches;
  const minimax = run('max', Infinity);
  if (!minimax) return { plan: null, objective: Infinity, bound: Infinity, complete: true, dpRuns: 1, method };
  const tStar = minimax.value;
  const first = value(minimax.plan);
  let bestPlan = minimax.plan;
  let best = first.sum + (B - 1) * first.max;
  // The warm start's plan, valued with the same cost view, may stop the search earlier.
  if (incumbent !== null) {
    const v = value([...incumbent]);
    if (v.sum + (B - 1) * v.max < best) {
      best = v.sum + (B - 1) * v.max;
      bestPlan = [...incumbent];
    }
  }
  let cap = Infinity;
  let runs = 1;
  let lastSum = 0;
  for (;;) {
    if (performance.now() > deadlineMs) {
      const bound = Math.min(best, lastSum + (B - 1) * tStar);
      return {
        plan: bestPlan,
        objective: t.iterations * best,
        bound: t.iterations * bound,
        complete: false,
        dpRuns: runs,
        method,
      };
    }
    const bound = t.iterations * Math.min(best, lastSum + (B - 1) * tStar);
    round = `bottleneck round ${runs}, `;
    facts = { incumbent: t.iterations * best, ...(runs > 1 ? { bound } : {}) };
    const r = run('sum', cap);
    runs++;
    if (!r) break;
    const { sum, max } = value(r.plan);
    lastSum = sum;
    const v = sum + (B - 1) * max;
    if (v < best) {
      best = v;
      bestPlan = r.plan;
    }
    if (sum + (B - 1) * tStar >= best || B === 1) break;
    cap = max;
  }
  return {
    plan: bestPlan,
    objective: t.iterations * best,
    bound: t.iterations * best,
    complete: true,
    dpRuns: runs,
    method,
  };
}

export async function solveExact(
  problem: PipelineProblem,
  context: ExactContext<PipelineDecision>,
): Promise<ExactResult<PipelineDecision>> {
  const t = tablesOf(problem);
  // No hidden limit: only the user's.
  const deadline =
    context.timeLimitSeconds !== undefined ? performance.now() + context.timeLimitSeconds * 1000 : Infinity;
  const incumbent = context.incumbent !== undefined ? planOfDecision(problem, context.incumbent) : null;
  const out = searchOptimum(problem, trueCosts(t), deadline, false, incumbent, context.progress);
  const details = { method: out.method, dpRuns: out.dpRuns };
  if (!out.plan)
    return {
      termination: 'infeasible',
      decision: null,
      message: 'no placement satisfies memory, links and stage limits',
      details,
    };
  return {
    termination: out.complete ? 'optimal' : 'time_limit',
    decision: planToDecision(problem, out.plan),
    bound: out.bound,
    details,
  };
}
