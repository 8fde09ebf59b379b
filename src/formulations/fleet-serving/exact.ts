/**
 * Exact method for fleet-serving: a certified bound and an incumbent, with the gap always reported.
 *
 * 1. Bound: cost.ts coverBound (layer-work, solo/partial and alternation rules; valid for every
 *    placement), then the configuration bound (config-bound.ts: each layer covered by whole nodes)
 *    and the link-aware bound (lp-bound.ts), tightened by the full strong MILP's own bound when the
 *    MILP is small enough to run.
 * 2. Incumbent: the chain's warm start, disjoint chains (chains.ts), staged pipelines (stages.ts),
 *    then augmenting chains through idle nodes and spare capacity (chains.ts), then pattern staging
 *    (patterns.ts: the stages chosen for the whole fleet at once, then ordered and named), each
 *    valued by the max flow of its placement (cost.ts) — never by evaluate.
 * 3. When incumbent and bound meet within mipGap the incumbent is optimal (e.g. a chain that uses
 *    every node at the bound's F). Otherwise:
 *    - small models (≤ FULL_MILP_COLUMNS columns): the strong MILP (milp.ts, interchangeable nodes
 *      counted) with the incumbent as warm start, in the time left; its bound tightens ours;
 *    - larger ones: large-neighbourhood search — a few nodes free on all their columns, the others
 *      fixed on the incumbent's, the restricted strong MILP solved (a valid sub-problem, so its
 *      point is a valid placement); improvements are kept and the neighbourhood size adapts.
 *    With no time limit the search stops after LNS_PATIENCE rounds without improvement
 *    (node_limit), never silently: the gap to the bound is reported.
 */
import { mulberry32 } from '../../util/random.ts';
import { relativeGap } from '../../milp/result.ts';
import { sameObjective } from '../tolerance.ts';
import type { ExactContext, ExactResult } from '../types.ts';
import { augmentWithIdle, packChains, placementOfChains } from './chains.ts';
import {
  columnsOf,
  coverBound,
  decisionOfPlacement,
  maxFlowOfPlacement,
  placementOfDecision,
  smallestCapacity,
  type Column,
  type Placement,
} from './cost.ts';
import { configurationBound } from './config-bound.ts';
import { linkAwareBound } from './lp-bound.ts';
import { compileStrong, type ColumnRestriction } from './milp.ts';
import type { FleetDecision, FleetProblem } from './schema.ts';
import { patternStaging } from './patterns.ts';
import { searchStaged, stagedPlacement } from './stages.ts';
import { isVariant, solveVariantExact } from './variant-exact.ts';

/** Above this many (class, start, k) columns the full MILP is not tried; LNS runs instead. */
export const FULL_MILP_COLUMNS = 6_000;
/** Rounds without improvement after which LNS stops when no time limit is given. */
export const LNS_PATIENCE = 40;
/** Most time the link-aware bound may take (it also gets at most a tenth of the limit). */
export const LINK_BOUND_MS = 30_000;
/** Most time pattern staging may take (it also gets at most a quarter of the limit). */
export const PATTERN_STAGING_MS = 120_000;
/** Most time the configuration bound may take (it also gets at most a tenth of the limit). */
export const CONFIG_BOUND_MS = 30_000;
/** Rounds of ng-memory growth per target in the link-aware bound (lp-bound.ts). */
export const LINK_BOUND_MEMORY_ROUNDS = 4;

export function fleetExactNotApplicable(problem: FleetProblem): string | null {
  void problem;
  return null;
}

const flowOf = (problem: FleetProblem, pl: Placement | null): number =>
  pl === null ? 0 : maxFlowOfPlacement(problem, pl).value;

function isBetter(a: number, b: number): boolean {
  return a > b * (1 + 1e-12) + 1e-12;
}

/** Knobs of the exact method; the defaults are the constants above (tests lower them to reach LNS on small fleets). */
export interface FleetExactOptions {
  /** Above this many integer columns LNS runs instead of the full strong MILP. */
  readonly fullMilpColumns?: number;
  /** Run pattern staging (patterns.ts); default true (LNS tests turn it off to keep their time for rounds). */
  readonly patternStaging?: boolean;
  /**
   * Most LNS rounds (default: no cap, the time limit or LNS_PATIENCE ends the search). Tests set it with a generous
   * time limit, so that what they check about rounds does not depend on how fast a loaded machine runs them.
   */
  readonly lnsRounds?: number;
}

export async function solveFleetExact(
  problem: FleetProblem,
  ctx: ExactContext<FleetDecision>,
  options: FleetExactOptions = {},
): Promise<ExactResult<FleetDecision>> {
  // Variants (latency SLO, minimum-cost fleet): the bound and heuristics below are for the plain
  // max-flow objective; the variant MILP is exact and runs through the chain's backend.
  if (isVariant(problem)) return solveVariantExact(problem, ctx);
  const t0 = performance.now();
  const limitMs = (ctx.timeLimitSeconds ?? Infinity) * 1000;
  const deadline = t0 + limitMs;
  const left = (): number => (deadline - performance.now()) / 1000;
  let bound = coverBound(problem);
  if (bound < smallestCapacity(problem)) {
    return {
      termination: 'infeasible',
      decision: null,
      message: 'no placement carries flow (the cover bound is below every capacity)',
    };
  }
  // Incumbents.
  let best: Placement | null = ctx.incumbent !== undefined ? placementOfDecision(problem, ctx.incumbent) : null;
  let value = flowOf(problem, best);
  const consider = (pl: Placement | null, source: string): void => {
    const v = flowOf(problem, pl);
    if (pl !== null && isBetter(v, value)) {
      best = pl;
      value = v;
      details.incumbentFrom = source;
    }
  };
  const details: Record<string, unknown> = { coverBound: bound, incumbentFrom: 'warm start' };
  // Each heuristic gets its own share of the window, so a slow one cannot starve the next.
  const windowMs = Math.min(limitMs * 0.15, 20_000);
  const chains = packChains(problem, performance.now() + windowMs / 2);
  consider(chains.length > 0 ? placementOfChains(problem, chains) : null, 'chains');
  const staged =
    relativeGap(value, bound) > ctx.mipGap ? stagedPlacement(problem, bound, performance.now() + windowMs / 2) : null;
  consider(staged, 'staged pipelines');
  // A deeper search for one staged pipeline (backtracking), between the incumbent and the bound.
  if (relativeGap(value, bound) > ctx.mipGap)
    consider(searchStaged(problem, value, bound, performance.now() + Math.min(limitMs * 0.2, 60_000)), 'staged search');
  // Augment the staged and the best placement so far (they differ in where spare capacity lies).
  const current: Placement | null = best;
  for (const base of [staged, current]) {
    if (base === null || relativeGap(value, bound) <= ctx.mipGap) continue;
    consider(augmentWithIdle(problem, base, performance.now() + Math.min(limitMs * 0.05, 5_000)), 'augmenting chains');
  }
  // Pattern staging (patterns.ts): which stages, then who and in which order, as two small MILPs.
  if (options.patternStaging !== false && (best === null || relativeGap(value, bound) > ctx.mipGap)) {
    ctx.progress?.('pattern staging', { incumbent: value, bound, gap: relativeGap(value, bound) });
    const staging = await patternStaging(
      problem,
      value,
      bound,
      ctx.solveMilp,
      performance.now() + Math.min(limitMs * 0.25, PATTERN_STAGING_MS),
    );
    details.patternStaging = { targets: staging.targets.length, value: staging.value };
    consider(staging.placement, 'pattern staging');
  }
  details.heuristicValue = value;
  const result = (
    termination: ExactResult<FleetDecision>['termination'],
    message?: string,
  ): ExactResult<FleetDecision> => {
    // Round-off is clamped; a bound below the incumbent beyond the tolerance is reported as it is,
    // so that certify's side check drops it (and the optimal claim) instead of a clamp hiding it.
    const b = bound < value && !sameObjective(bound, value) ? bound : Math.max(bound, value);
    const optimal = best !== null && b >= value && relativeGap(value, b) <= ctx.mipGap;
    return {
      termination: optimal ? 'optimal' : termination,
      decision: best === null ? null : decisionOfPlacement(problem, best),
      bound: b,
      details: { ...details, bound: b, objective: value },
      ...(message !== undefined && !optimal ? { message } : {}),
    };
  };
  if (best !== null && relativeGap(value, bound) <= ctx.mipGap) return result('optimal');
  if (left() <= 0.05) return result('time_limit', 'no time left after the heuristics');

  // The configuration bound (config-bound.ts): every layer covered by whole nodes.
  ctx.progress?.('configuration bound', { incumbent: value, bound, gap: relativeGap(value, bound) });
  const configuration = await configurationBound(problem, value, bound, ctx.solveMilp, {
    deadlineMs: performance.now() + Math.min(limitMs * 0.1, CONFIG_BOUND_MS),
  });
  details.configurationBound = {
    bound: configuration.bound,
    targets: configuration.targetsTried,
    masterSolves: configuration.masterSolves,
  };
  bound = Math.min(bound, configuration.bound);
  if (best !== null && relativeGap(value, bound) <= ctx.mipGap) return result('optimal');
  if (left() <= 0.05) return result('time_limit', 'no time left after the configuration bound');

  // The link-aware bound (lp-bound.ts): the LP of pipelines with link capacities and the topology.
  ctx.progress?.('link-aware bound', { incumbent: value, bound, gap: relativeGap(value, bound) });
  const link = await linkAwareBound(problem, value, bound, ctx.solveMilp, {
    deadlineMs: performance.now() + Math.min(limitMs * 0.1, LINK_BOUND_MS),
    memoryRounds: LINK_BOUND_MEMORY_ROUNDS,
    gap: ctx.mipGap,
  });
  details.linkBound = { bound: link.bound, targets: link.targetsTried, masterSolves: link.masterSolves };
  bound = Math.min(bound, link.bound);
  if (best !== null && relativeGap(value, bound) <= ctx.mipGap) return result('optimal');

  ctx.progress?.('strong MILP', { incumbent: value, bound, gap: relativeGap(value, bound) });
  const full = compileStrong(problem);
  const columns = full.model.variables.filter((v) => v.type !== 'continuous').length;
  details.columns = columns;
  // Without any incumbent LNS has nothing to start from: the full MILP finds one or proves none.
  if (columns <= (options.fullMilpColumns ?? FULL_MILP_COLUMNS) || best === null) {
    const warm = best !== null ? (full.encode?.(decisionOfPlacement(problem, best)) ?? undefined) : undefined;
    const r = await ctx.solveMilp(full.model, {
      ...(Number.isFinite(left()) ? { timeLimitSeconds: Math.max(0.1, left()) } : {}),
      mipGap: ctx.mipGap,
      ...(warm !== undefined ? { warmStart: warm } : {}),
    });
    details.milp = {
      backend: r.backend,
      termination: r.termination,
      objective: r.solution?.objective,
      bound: r.solution?.bound,
    };
    if (r.solution !== null) {
      consider(placementOfDecision(problem, full.decode(r.solution.values)), 'strong MILP');
      // Only a bound the backend proved tightens ours: a bare "optimal" (GLPK's gap stop, jslp) is the
      // backend's word, not a proof, and the chain's bound probe does not run on an exact method's sub-MILP.
      const b = r.solution.bound;
      if (b !== undefined && Number.isFinite(b)) bound = Math.min(bound, b);
    } else if (r.termination === 'infeasible' && best === null) {
      return {
        termination: 'infeasible',
        decision: null,
        details,
        message: 'the strong MILP proves that no placement carries flow',
      };
    }
    const limit = r.termination === 'node_limit' || r.termination === 'memory_limit' || r.termination === 'time_limit';
    // A failed MILP with nothing in hand is reported as its failure, not as a time limit.
    const stopped = limit ? r.termination : best === null ? r.termination : 'time_limit';
    return result(stopped === 'optimal' ? 'time_limit' : stopped);
  }
  const state = () => ({ best, value, bound });
  return lns(problem, ctx, left, details, state, consider, result, options.lnsRounds ?? Infinity);
}

/** Large-neighbourhood search over restricted strong MILPs (see the file comment). */
async function lns(
  problem: FleetProblem,
  ctx: ExactContext<FleetDecision>,
  left: () => number,
  details: Record<string, unknown>,
  state: () => { best: Placement | null; value: number; bound: number },
  consider: (pl: Placement | null, source: string) => void,
  result: (t: ExactResult<FleetDecision>['termination'], message?: string) => ExactResult<FleetDecision>,
  maxRounds: number,
): Promise<ExactResult<FleetDecision>> {
  const n = problem.nodes.length;
  const random = mulberry32(16);
  const all = problem.nodes.map((_, i) => columnsOf(problem, i));
  // At most half the nodes free: the free nodes' columns must meet a fixed node's boundary, so with
  // (nearly) every node free only the source and sink are left to meet and the sub-problem shrinks to
  // little more than the incumbent (on helix-42 the size grew to all 42 and ~25 rounds a second
  // came back unchanged).
  const most = Math.max(3, Math.ceil(n / 2));
  let size = Math.min(most, 6);
  let rounds = 0;
  let windowLayers = Math.min(problem.layers, 12);
  let stale = 0;
  let improved = 0;
  // Rounds whose sub-MILP came back below the incumbent (or with nothing): none when each
  // sub-problem contains the incumbent and starts from it, unless the backend drops the start.
  let belowIncumbent = 0;
  while (rounds < maxRounds && left() > 0.5 && (Number.isFinite(left()) || stale < LNS_PATIENCE)) {
    const { best, value, bound } = state();
    if (best === null || relativeGap(value, bound) <= ctx.mipGap) break;
    rounds++;
    const gap = relativeGap(value, bound);
    // Every other round re-cuts a window of layers instead (windowRestriction): the nodes inside it
    // may take any range inside it, so interior boundaries move freely (a staged incumbent's stages
    // can be re-formed around its thinnest layer, which the boundary-meeting rounds cannot do).
    const window = rounds % 2 === 0 ? layerWindow(problem, best, windowLayers, random) : null;
    ctx.progress?.(
      window === null ? `LNS round ${rounds}, ${size} nodes free` : `LNS round ${rounds}, layers ${window.from + 1}–${window.to}`,
      { incumbent: value, bound, gap },
    );
    const restrict =
      window === null
        ? lnsRestriction(problem, best, neighbourhood(problem, best, size, random), all)
        : windowRestriction(problem, best, window, all, random);
    const compiled = compileStrong(problem, {}, restrict);
    const warm = compiled.encode?.(decisionOfPlacement(problem, best)) ?? undefined;
    const r = await ctx.solveMilp(compiled.model, {
      // A window's sub-MILP re-cuts stages and needs longer than a boundary-meeting round's.
      timeLimitSeconds: Math.max(0.2, Math.min(left(), window === null ? 8 : 20)),
      mipGap: 1e-6,
      ...(warm !== undefined ? { warmStart: warm } : {}),
    });
    const before = value;
    if (r.solution === null || isBetter(value, r.solution.objective * (1 + 1e-6))) belowIncumbent++;
    if (r.solution !== null) consider(placementOfDecision(problem, compiled.decode(r.solution.values)), 'LNS');
    if (isBetter(state().value, before)) {
      improved++;
      stale = 0;
    } else stale++;
    // Grow the neighbourhood while sub-problems solve to optimality, shrink it when they time out.
    if (window !== null) windowLayers = r.termination === 'optimal' ? windowLayers + 1 : Math.max(4, windowLayers - 2);
    else if (r.termination === 'optimal' && size < most) size++;
    else if (r.termination !== 'optimal' && size > 3) size--;
  }
  details.lns = { rounds, improved, belowIncumbent, finalNeighbourhood: size, finalWindowLayers: windowLayers };
  const capped = rounds >= maxRounds;
  const limited = !capped && Number.isFinite(left());
  return result(
    limited ? 'time_limit' : 'node_limit',
    limited
      ? undefined
      : capped
        ? `LNS stopped after ${maxRounds} rounds (lnsRounds)`
        : `LNS stopped after ${LNS_PATIENCE} rounds without improvement`,
  );
}

/**
 * The columns of one LNS round: a fixed node keeps its incumbent column; a free node may take any of
 * its columns whose range meets a fixed node's boundary (or the source or sink) on at least one side
 * — two free nodes may still meet each other at a new boundary on their other sides — and always
 * its own incumbent column. Without that last one a free node whose neighbours are free too loses
 * its range, the sub-problem no longer contains the incumbent, and the round can only find worse
 * placements (or none): on helix-42 most rounds did, and LNS never improved.
 */
export function lnsRestriction(
  problem: FleetProblem,
  best: Placement,
  free: ReadonlySet<number>,
  all: readonly Column[][] = problem.nodes.map((_, i) => columnsOf(problem, i)),
): ColumnRestriction {
  const ends = new Set<number>([0]);
  const starts = new Set<number>([problem.layers]);
  for (let i = 0; i < problem.nodes.length; i++) {
    if (free.has(i) || best.k[i] === 0) continue;
    ends.add(best.start[i] + best.k[i]);
    starts.add(best.start[i]);
  }
  return (i: number): Column[] => {
    if (best.k[i] === 0) return free.has(i) ? all[i].filter((c) => ends.has(c.start) || starts.has(c.start + c.k)) : [];
    // Written out rather than looked up: the incumbent's column is kept even if columnsOf would skip it.
    const own: Column = {
      start: best.start[i],
      k: best.k[i],
      tokensPerSecond: problem.nodes[i].throughput[best.k[i]] ?? 0,
    };
    if (!free.has(i)) return [own];
    const meeting = all[i].filter(
      (c) => (ends.has(c.start) || starts.has(c.start + c.k)) && !(c.start === own.start && c.k === own.k),
    );
    return [...meeting, own];
  };
}

/**
 * Which nodes to free: idle nodes and nodes around a random layer (whose ranges are near it), so
 * that a sub-problem can re-cut one region of the pipeline and bring idle capacity into it.
 */
function neighbourhood(problem: FleetProblem, pl: Placement, size: number, random: () => number): Set<number> {
  const n = problem.nodes.length;
  const free = new Set<number>();
  const idle = [...Array(n).keys()].filter((i) => pl.k[i] === 0);
  const layer = Math.floor(random() * problem.layers);
  const distance = (i: number): number =>
    pl.k[i] === 0
      ? Infinity
      : layer < pl.start[i]
        ? pl.start[i] - layer
        : layer >= pl.start[i] + pl.k[i]
          ? layer - pl.start[i] - pl.k[i] + 1
          : 0;
  const near = [...Array(n).keys()]
    .filter((i) => pl.k[i] > 0)
    .sort((a, b) => distance(a) - distance(b) + (random() - 0.5) * 2);
  const idleShare = idle.length > 0 ? Math.max(1, Math.floor(size / 3)) : 0;
  for (let r = 0; r < idleShare && idle.length > 0; r++)
    free.add(idle.splice(Math.floor(random() * idle.length), 1)[0]);
  for (const i of near) {
    if (free.size >= size) break;
    free.add(i);
  }
  return free;
}

/** Layers [from, to) of one window round. */
interface LayerWindow {
  readonly from: number;
  readonly to: number;
}

/**
 * A window of about `width` layers: half the time around the thinnest layer (the least tokens/s
 * held over it, where the flow is cut), else around a random one.
 */
function layerWindow(problem: FleetProblem, pl: Placement, width: number, random: () => number): LayerWindow {
  const L = problem.layers;
  const w = Math.max(1, Math.min(L, width));
  let centre = Math.floor(random() * L);
  if (random() < 0.5) {
    const held = new Array<number>(L).fill(0);
    problem.nodes.forEach((node, i) => {
      for (let l = pl.start[i]; l < pl.start[i] + pl.k[i]; l++) held[l] += node.throughput[pl.k[i]] ?? 0;
    });
    const least = Math.min(...held);
    const thinnest = held.flatMap((h, l) => (h <= least * (1 + 1e-9) ? [l] : []));
    centre = thinnest[Math.floor(random() * thinnest.length)];
  }
  const from = Math.max(0, Math.min(L - w, centre - Math.floor(w / 2)));
  return { from, to: from + w };
}

/**
 * The columns of a window round: nodes whose range lies inside the window, and up to as many idle
 * nodes, may take any range inside it (or their own: the incumbent stays in the sub-problem); every
 * other node keeps its incumbent column.
 */
function windowRestriction(
  problem: FleetProblem,
  best: Placement,
  window: LayerWindow,
  all: readonly Column[][],
  random: () => number,
): ColumnRestriction {
  const inside = (start: number, k: number): boolean => start >= window.from && start + k <= window.to;
  const free = new Set<number>();
  problem.nodes.forEach((_, i) => {
    if (best.k[i] > 0 && inside(best.start[i], best.k[i])) free.add(i);
  });
  const idle = [...problem.nodes.keys()].filter((i) => best.k[i] === 0);
  for (let r = 0, want = Math.max(2, free.size); r < want && idle.length > 0; r++)
    free.add(idle.splice(Math.floor(random() * idle.length), 1)[0]);
  const fixed = lnsRestriction(problem, best, new Set<number>(), all);
  return (i: number): Column[] => {
    if (!free.has(i)) return fixed(i);
    const within = all[i].filter((c) => inside(c.start, c.k));
    if (best.k[i] === 0) return within;
    const own = fixed(i);
    return [...within.filter((c) => !(c.start === best.start[i] && c.k === best.k[i])), ...own];
  };
}
