/**
 * The `milp` kind's peer: a greedy primal heuristic that uses no solver, so that `compare` shows
 * what a reasonable solver-free method reaches on the same model.
 *
 * "greedy-repair" is a single-variable-move local search in two phases:
 *  1. repair — start from the point where every variable sits at the value of its bounds nearest
 *     to zero (the all-lower-bound point for non-negative variables), then repeatedly take the
 *     single-variable step that most reduces the total scaled row violation, ties going to the
 *     step with the better objective; a step moves a variable just far enough to satisfy one of
 *     the violated rows it appears in (rounded up for integer variables);
 *  2. improve — repeatedly take the objective-improving step that keeps every row satisfied and
 *     has the best objective gain per unit of scaled row usage (Dantzig's ratio rule for
 *     knapsacks, generalised), moving the variable as far as the ratio test allows.
 * Phase 1 runs twice with different tie-breaks among equally good repair steps: by objective
 * (cheapest first), and by row room (the step that uses the smallest share of the remaining slack
 * of the rows it touches, feasibility first — the "least relative weight" rule of assignment
 * heuristics). The better feasible result of the two is returned.
 * On a knapsack it is Dantzig's greedy; on a generalized-assignment problem the first pass assigns
 * the globally cheapest (item, server) pair that still fits, the second the pair that uses the
 * smallest share of a server's remaining capacity. It returns no decision when both passes get
 * stuck with a violated row.
 *
 * The same heuristic is the kind's warm-start step (`milpFormulation.warmStart`), where it gives up
 * at the chain's deadline: on netlib 80bau3b it took 10 s against a 0.2 s solve, so it must never
 * run outside the user's time limit. As a peer (`compare`) it runs to completion.
 */
import type { Baseline } from '../types.ts';
import { FEASIBILITY_TOLERANCE, decisionOf, objectiveAt, rowExcess, rowScale } from './cost.ts';
import type { MilpDecision, MilpProblem } from './schema.ts';

type Outcome = { readonly ok: true; readonly x: number[] } | { readonly ok: false; readonly reason: string };

/** Thrown inside a pass when the deadline has passed; caught by greedyRepair. */
class DeadlineReached extends Error {}

interface Entry {
  readonly row: number;
  readonly coefficient: number;
}

const EPS = 1e-12;

type TieBreak = 'objective' | 'room';

/**
 * Runs the heuristic; the column vector on success, the reason it stopped otherwise.
 * `deadlineMs` (a performance.now() reading) makes it give up, checked once per move.
 */
export function greedyRepair(problem: MilpProblem, deadlineMs = Infinity): Outcome {
  try {
    return bestOfPasses(problem, deadlineMs);
  } catch (error) {
    if (error instanceof DeadlineReached) return { ok: false, reason: 'greedy repair gave up at the deadline' };
    throw error;
  }
}

function bestOfPasses(problem: MilpProblem, deadlineMs: number): Outcome {
  const byObjective = greedyPass(problem, 'objective', deadlineMs);
  const byRoom = greedyPass(problem, 'room', deadlineMs);
  if (!byObjective.ok) return byRoom.ok ? byRoom : byObjective;
  if (!byRoom.ok) return byObjective;
  const sign = problem.sense === 'min' ? 1 : -1;
  return sign * objectiveAt(problem, byRoom.x) < sign * objectiveAt(problem, byObjective.x) ? byRoom : byObjective;
}

function greedyPass(problem: MilpProblem, tieBreak: TieBreak, deadlineMs: number): Outcome {
  const checkDeadline = (): void => {
    if (performance.now() > deadlineMs) throw new DeadlineReached();
  };
  const n = problem.variables.length;
  const rows = problem.constraints;
  const columns: Entry[][] = Array.from({ length: n }, () => []);
  rows.forEach((row, r) => {
    for (const t of row.terms) columns[t.variable].push({ row: r, coefficient: t.coefficient });
  });
  const cost = new Array<number>(n).fill(0);
  for (const t of problem.objective) cost[t.variable] += problem.sense === 'min' ? t.coefficient : -t.coefficient;
  const scale = rows.map(rowScale);

  const lower: number[] = [];
  const upper: number[] = [];
  const x: number[] = [];
  for (const v of problem.variables) {
    const integral = v.type !== 'continuous';
    const lo = integral ? Math.ceil(v.lower - FEASIBILITY_TOLERANCE) : v.lower;
    const up = integral ? Math.floor(v.upper + FEASIBILITY_TOLERANCE) : v.upper;
    if (lo > up) {
      const what = integral ? 'integer ' : '';
      return { ok: false, reason: `${v.name} has no ${what}value within its bounds [${v.lower}, ${v.upper}]` };
    }
    lower.push(lo);
    upper.push(up);
    x.push(Math.min(Math.max(0, lo), up));
  }
  const activity = rows.map((row) => row.terms.reduce((s, t) => s + t.coefficient * x[t.variable], 0));
  const violation = (r: number, a: number): number => rowExcess(rows[r], a) / scale[r];
  const satisfied = (r: number, a: number): boolean => rowExcess(rows[r], a) <= FEASIBILITY_TOLERANCE * scale[r];
  const apply = (j: number, delta: number): void => {
    x[j] += delta;
    for (const e of columns[j]) activity[e.row] += e.coefficient * delta;
  };

  /** Share of the remaining slack that a step uses up in the satisfied rows it touches. */
  const roomShare = (j: number, delta: number): number => {
    let share = 0;
    for (const e of columns[j]) {
      const a = activity[e.row];
      if (!satisfied(e.row, a)) continue;
      const change = e.coefficient * delta;
      const room = change > 0 ? rows[e.row].upper - a : a - rows[e.row].lower;
      if (Number.isFinite(room)) share += Math.abs(change) / Math.max(room, FEASIBILITY_TOLERANCE * scale[e.row]);
    }
    return share;
  };

  // The iteration caps bound the work on pathological inputs; a normal instance stops far earlier.
  const maxMoves = 20 * n + 1000;

  // Phase 1: repair.
  for (let move = 0; move < maxMoves; move++) {
    checkDeadline();
    if (activity.every((a, r) => satisfied(r, a))) break;
    let best: { j: number; delta: number; dViolation: number; dCost: number } | null = null;
    for (let j = 0; j < n; j++) {
      const integral = problem.variables[j].type !== 'continuous';
      for (const direction of [1, -1]) {
        const room = direction > 0 ? upper[j] - x[j] : x[j] - lower[j];
        if (room <= EPS) continue;
        const needs: number[] = [];
        for (const e of columns[j]) {
          const a = activity[e.row];
          const push = e.coefficient * direction;
          if (a < rows[e.row].lower && push > 0) needs.push((rows[e.row].lower - a) / push);
          if (a > rows[e.row].upper && push < 0) needs.push((a - rows[e.row].upper) / -push);
        }
        if (needs.length === 0) continue;
        for (const need of new Set([Math.min(...needs), Math.max(...needs)])) {
          let step = Math.min(integral ? Math.ceil(need - FEASIBILITY_TOLERANCE) : need, room);
          if (integral) step = Math.max(1, Math.floor(step));
          if (step > room + EPS || step <= EPS) continue;
          const delta = direction * step;
          let dViolation = 0;
          for (const e of columns[j]) {
            const a = activity[e.row];
            dViolation += violation(e.row, a + e.coefficient * delta) - violation(e.row, a);
          }
          if (dViolation >= -EPS) continue;
          const dCost = tieBreak === 'objective' ? cost[j] * delta : roomShare(j, delta);
          const near = best === null ? 0 : 1e-9 * Math.max(1, Math.abs(best.dViolation));
          const better =
            best === null ||
            dViolation < best.dViolation - near ||
            (Math.abs(dViolation - best.dViolation) <= near && dCost < best.dCost);
          if (better) best = { j, delta, dViolation, dCost };
        }
      }
    }
    if (best === null) break;
    apply(best.j, best.delta);
  }
  const violated = rows.map((row, r) => ({ row, r })).filter(({ r }) => !satisfied(r, activity[r]));
  if (violated.length > 0) {
    const { row, r } = violated.reduce((worst, cur) =>
      violation(cur.r, activity[cur.r]) > violation(worst.r, activity[worst.r]) ? cur : worst,
    );
    const a = activity[r];
    const side = a < row.lower ? `needs ≥ ${row.lower}` : `needs ≤ ${row.upper}`;
    const worst = `worst: ${row.name} at ${round(a)}, ${side}`;
    const reason = `greedy repair got stuck with ${violated.length} violated row(s); ${worst}`;
    return { ok: false, reason };
  }

  // Phase 2: improve, keeping every row satisfied.
  const usage = columns.map((col) => col.reduce((s, e) => s + Math.abs(e.coefficient) / scale[e.row], 0));
  for (let move = 0; move < maxMoves; move++) {
    checkDeadline();
    let best: { j: number; delta: number; score: number } | null = null;
    for (let j = 0; j < n; j++) {
      if (Math.abs(cost[j]) <= EPS) continue;
      const direction = cost[j] > 0 ? -1 : 1;
      let step = direction > 0 ? upper[j] - x[j] : x[j] - lower[j];
      for (const e of columns[j]) {
        const push = e.coefficient * direction;
        const a = activity[e.row];
        if (push > 0 && Number.isFinite(rows[e.row].upper)) step = Math.min(step, (rows[e.row].upper - a) / push);
        if (push < 0 && Number.isFinite(rows[e.row].lower)) step = Math.min(step, (a - rows[e.row].lower) / -push);
      }
      // An unlimited improving ray means the MILP is unbounded; a point heuristic cannot express that.
      if (!Number.isFinite(step)) continue;
      if (problem.variables[j].type !== 'continuous') step = Math.floor(step + FEASIBILITY_TOLERANCE);
      if (step <= EPS) continue;
      const score = Math.abs(cost[j]) / (usage[j] + 1e-9);
      if (best === null || score > best.score) best = { j, delta: direction * step, score };
    }
    if (best === null) break;
    apply(best.j, best.delta);
  }
  return { ok: true, x };
}

function round(v: number): number {
  return Number(v.toPrecision(8));
}

export const greedyRepairBaseline: Baseline<MilpProblem, MilpDecision> = {
  name: 'greedy-repair',
  description:
    'solver-free greedy: repair row violations from the bound point nearest zero one variable step at a time ' +
    '(ties to the better objective), then take feasible steps by best objective gain per unit of row usage ' +
    '(Dantzig ratio rule)',
  run(problem) {
    const outcome = greedyRepair(problem);
    return outcome.ok ? decisionOf(problem, outcome.x) : null;
  },
  whyNoDecision(problem) {
    const outcome = greedyRepair(problem);
    return outcome.ok ? 'it found a decision' : outcome.reason;
  },
};

export const milpBaselines: readonly Baseline<MilpProblem, MilpDecision>[] = [greedyRepairBaseline];
