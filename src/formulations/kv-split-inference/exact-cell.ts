/**
 * Exact method for kv-split-inference with a shared cell (docs/formulations/kv-split-inference.md,
 * "Shared radio cell").
 *
 * With a cell the cut choice trades two shared resources against each other: a deeper cut takes
 * work off the server (monotone, what the fixed-point descent of exact.ts rests on) but spends
 * device time, so the user needs a larger share of the cell to stay within a latency target.
 * The largest allowed cut is then no longer the best for everyone, and the descent's argument
 * does not hold. For fixed cuts the share problem is easy — each user's latency is a + w / s,
 * decreasing and convex in s, so the least share for a target T is w / (T − a) and T is feasible
 * iff those least shares sum to at most 1 (cost.ts `bestShares` solves it by bisection) — so the
 * search is over cuts with the radio time as a convex function of one share per user:
 *
 * - resource-block cells: the share is a whole number n of blocks, and the chords of N / n between
 *   consecutive integers are exact at every integer n, so the MILP (milp.ts, `chords`) is an exact
 *   model; it is solved once, through the solver the chain hands over.
 * - continuous cells: outer approximation (Duran & Grossmann 1986; Kelley's cutting planes on the
 *   convex 1/s). Tangents of 1/s lie below it, so the MILP with tangents is a relaxation: its
 *   proven bound is a lower bound. Its cuts, completed with their best shares, are a feasible
 *   decision: an upper bound. Each round adds tangents at the MILP's shares (cutting off its point
 *   when it under-estimated the radio time) and at the best shares; it stops when the two bounds
 *   meet within mipGap. A share floor w / (incumbent objective) on each transmitting user is
 *   valid for every better decision and keeps the tangents away from s = 0.
 */
import { withinLimit } from '../tolerance.ts';
import type { ExactContext, ExactResult } from '../types.ts';
import { assess, bestShares, equalShares, kvDecisionOf, kvTables, radioWorkSeconds } from './cost.ts';
import { buildKv } from './milp.ts';
import type { KvDecision, KvProblem } from './schema.ts';

/** Rounds of outer approximation before giving up with the bounds reached (each round one MILP). */
const MAX_ROUNDS = 200;
/** The first tangents: a geometric grid of shares from 1 down to this, √2 apart. */
const GRID_FLOOR = 1e-3;

interface Incumbent {
  decision: KvDecision;
  objective: number;
}

function better(problem: KvProblem, current: Incumbent | null, decision: KvDecision | null): Incumbent | null {
  if (decision === null) return current;
  const a = assess(problem, kvTables(problem), decision);
  if (!a.feasible || (current !== null && a.objective >= current.objective)) return current;
  return { decision, objective: a.objective };
}

function completed(problem: KvProblem, cuts: readonly (number | null)[]): KvDecision | null {
  const shares = bestShares(problem, kvTables(problem), cuts);
  return shares === null ? null : kvDecisionOf(problem, cuts, shares);
}

export async function solveKvCellExact(
  problem: KvProblem,
  context: ExactContext<KvDecision>,
): Promise<ExactResult<KvDecision>> {
  const started = performance.now();
  const left = (): number | undefined =>
    context.timeLimitSeconds === undefined
      ? undefined
      : Math.max(1e-3, context.timeLimitSeconds - (performance.now() - started) / 1000);
  const tables = kvTables(problem);
  const cell = problem.cell;
  if (cell === null) throw new Error('solveKvCellExact needs a cell');
  let best: Incumbent | null = null;
  if (context.incumbent !== undefined) {
    best = better(problem, best, context.incumbent);
    best = better(problem, best, completed(problem, context.incumbent.cuts));
  }

  if (cell.allocation === 'resource-blocks') {
    context.progress?.('exact MILP with chords of N/n', best !== null ? { incumbent: best.objective } : {});
    const compiled = buildKv(problem, { kind: 'chords', objectiveCutoff: best?.objective ?? Infinity });
    const start = best !== null ? compiled.encode?.(best.decision) : null;
    const limit = left();
    const r = await context.solveMilp(compiled.model, {
      mipGap: context.mipGap,
      ...(limit !== undefined ? { timeLimitSeconds: limit } : {}),
      ...(start ? { warmStart: start } : {}),
    });
    if (r.solution !== null) best = better(problem, best, compiled.decode(r.solution.values));
    if (r.termination === 'infeasible')
      return { termination: 'infeasible', decision: null, message: 'the exact resource-block MILP is infeasible' };
    const bound = r.solution?.bound;
    return {
      termination: r.termination === 'optimal' && best !== null ? 'optimal' : r.termination,
      decision: best?.decision ?? null,
      ...(bound !== undefined && best !== null ? { bound: Math.min(bound, best.objective) } : {}),
      details: { method: 'exact MILP with chords of N/n (whole resource blocks)', backend: r.backend },
    };
  }

  // Continuous cell: outer approximation. First tangents: a grid, each user's fair share.
  const fair = equalShares(
    problem,
    tables,
    problem.users.map(() => 0),
  );
  const points: number[][] = problem.users.map((user, u) => {
    const list: number[] = [];
    if (user.radio === null) return list;
    for (let s = 1; s >= GRID_FLOOR; s /= Math.SQRT2) list.push(s);
    if (fair[u] > 0) list.push(fair[u]);
    if (best !== null) {
      const sh = best.decision.cellShares?.[u] ?? 0;
      if (sh > 0) list.push(sh);
    }
    return list;
  });
  const addPoint = (u: number, s: number): boolean => {
    if (!(s > 1e-12) || problem.users[u].radio === null) return false;
    // Tangents closer than 1e-4 (relative) differ from 1/s by < 1e-8 there, and near-parallel
    // rows only make the MILP harder to solve accurately.
    if (points[u].some((p) => Math.abs(p - s) <= 1e-4 * s)) return false;
    points[u].push(s);
    return true;
  };
  let lower = -Infinity;
  let rounds = 0;
  for (;;) {
    rounds++;
    const cutoff = best?.objective ?? Infinity;
    // Below the floor work / cut-off a tangent is never active (share_floor rows): leave it out.
    const floors = problem.users.map((user, u) =>
      user.radio === null || !Number.isFinite(cutoff)
        ? 0
        : Math.min(...tables.users[u].map((k) => k.uplinkWorkSeconds + k.downlinkWorkSeconds).filter((w) => w > 0)) /
          cutoff,
    );
    const active = points.map((list, u) => {
      const above = list.filter((p) => p >= floors[u] * (1 - 1e-9));
      return above.length > 0 ? above : [Math.min(1, Math.max(floors[u], ...list))];
    });
    const compiled = buildKv(problem, { kind: 'tangents', points: active, objectiveCutoff: cutoff });
    const limit = left();
    if (limit !== undefined && limit <= 1e-3)
      return {
        termination: 'time_limit',
        decision: best?.decision ?? null,
        ...(Number.isFinite(lower) ? { bound: best !== null ? Math.min(lower, best.objective) : lower } : {}),
        message: `time limit reached after ${rounds - 1} rounds of outer approximation`,
        details: { rounds: rounds - 1 },
      };
    const start = best !== null ? compiled.encode?.(best.decision) : null;
    const r = await context.solveMilp(compiled.model, {
      mipGap: context.mipGap / 4,
      ...(limit !== undefined ? { timeLimitSeconds: limit } : {}),
      ...(start ? { warmStart: start } : {}),
    });
    if (r.termination === 'infeasible') {
      // The relaxation has no point better than the incumbent: the incumbent is optimal (or, with
      // none, nothing is feasible at all).
      if (best === null)
        return {
          termination: 'infeasible',
          decision: null,
          message: 'even the tangent relaxation of the cell is infeasible',
          details: { rounds },
        };
      return {
        termination: 'optimal',
        decision: best.decision,
        bound: best.objective,
        details: { rounds, method: 'outer approximation (tangents of 1/share)' },
      };
    }
    if (r.solution === null && best !== null && r.termination === 'error')
      return {
        termination: 'numerical_error',
        decision: best.decision,
        ...(Number.isFinite(lower) ? { bound: Math.min(lower, best.objective) } : {}),
        message: `round ${rounds}: the relaxation's MILP failed (${r.message ?? 'error'}); the best decision so far is kept`,
        details: { rounds },
      };
    if (r.solution === null)
      return {
        termination: r.termination,
        decision: best?.decision ?? null,
        ...(Number.isFinite(lower) && best !== null ? { bound: Math.min(lower, best.objective) } : {}),
        message: `the relaxation's MILP ended with ${r.termination}${r.message ? `: ${r.message}` : ''}`,
        details: { rounds },
      };
    // Only a bound the backend reported: its "optimal" without one (GLPK's MIPs) proves nothing about the relaxation.
    const reported = r.solution.bound;
    const provenBound = reported !== undefined && Number.isFinite(reported) ? reported : undefined;
    if (provenBound !== undefined)
      lower = Math.max(lower, best !== null ? Math.min(provenBound, best.objective) : provenBound);
    const decoded = compiled.decode(r.solution.values);
    const candidate = completed(problem, decoded.cuts);
    best = better(problem, best, candidate);
    context.progress?.(`outer approximation round ${rounds}`, {
      ...(best !== null ? { incumbent: best.objective } : {}),
      ...(Number.isFinite(lower) ? { bound: lower } : {}),
    });
    if (best !== null && Number.isFinite(lower)) {
      const gap = (best.objective - lower) / Math.max(Math.abs(best.objective), 1e-9);
      if (gap <= context.mipGap || withinLimit(best.objective, lower))
        return {
          termination: 'optimal',
          decision: best.decision,
          bound: Math.min(lower, best.objective),
          details: { rounds, method: 'outer approximation (tangents of 1/share)' },
        };
    }
    // Tighten where the relaxation was wrong: at the MILP's own shares and at the best shares.
    let added = false;
    compiled.cellColumns.forEach((c, u) => {
      if (c === null) return;
      const cut = decoded.cuts[u];
      if (cut === null || cut === undefined || radioWorkSeconds(tables, u, cut) <= 0) return;
      added = addPoint(u, r.solution?.values[c.share] ?? 0) || added;
      const sh = candidate?.cellShares?.[u];
      if (sh !== undefined) added = addPoint(u, sh) || added;
      // At share ~0 the tangents cannot cut the point: halve the smallest tangent point instead.
      if ((r.solution?.values[c.share] ?? 0) <= 1e-12) added = addPoint(u, Math.min(...points[u]) / 2) || added;
    });
    if (!added || rounds >= MAX_ROUNDS)
      return {
        termination: best !== null ? 'numerical_error' : 'error',
        decision: best?.decision ?? null,
        ...(Number.isFinite(lower) && best !== null ? { bound: Math.min(lower, best.objective) } : {}),
        message: `outer approximation stalled after ${rounds} rounds (gap not closed)`,
        details: { rounds },
      };
  }
}
