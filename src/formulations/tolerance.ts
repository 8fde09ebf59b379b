/**
 * The one feasibility-tolerance policy of edgeplan, stated once and used by every family's
 * evaluate, exact method, peers, explanations and by `check`, so that solve and check never
 * disagree on the same point.
 *
 * A quantity `used` respects a limit when `used ≤ limit · (1 + FEASIBILITY_RTOL)` — a relative
 * tolerance, so that bytes (1e10), seconds (1e-6) and joules (1e-6) are treated alike. 1e-6 is
 * the order of the MILP backends' own primal feasibility tolerance on a scaled row: a vertex that
 * sits exactly on a capacity row comes back up to that far over it, and must not be rejected.
 * Three 1 GB experts on a server of 3 GB − 1 byte therefore fit, for every method and for check.
 */

/** Relative feasibility tolerance of every capacity, budget and deadline check. */
export const FEASIBILITY_RTOL = 1e-6;

/**
 * Relative tolerance of comparisons between objective values of one decision (the solver's
 * value against evaluate's, a claimed objective in `check`, two methods' optima in `compare`).
 */
export const OBJECTIVE_RTOL = 1e-6;

/** `used ≤ limit` within the relative tolerance (limit may be 0 or negative: the slack scales with the larger magnitude). */
export function withinLimit(used: number, limit: number): boolean {
  if (limit === Infinity) return !Number.isNaN(used);
  return used <= limit + FEASIBILITY_RTOL * Math.max(Math.abs(limit), Math.abs(used));
}

/** `used ≥ floor` within the relative tolerance. */
export function atLeast(used: number, floor: number): boolean {
  if (floor === -Infinity) return !Number.isNaN(used);
  return used >= floor - FEASIBILITY_RTOL * Math.max(Math.abs(floor), Math.abs(used));
}

/** How far `used` is over `limit` (0 when within the tolerance), in the limit's unit. */
export function excessOver(used: number, limit: number): number {
  return withinLimit(used, limit) ? 0 : used - limit;
}

/**
 * Magnitude below which objective values are compared as if they were this large: at an optimum of
 * exactly 0 a relative test is meaningless, and a solver's bound of 2.2e-16 is rounding noise.
 * 1e-9 keeps nanosecond latencies and nanojoule energies distinguishable (they differ by ≥ 1e-15).
 */
export const OBJECTIVE_FLOOR = 1e-9;

/** Whether two objective values of the same decision agree (relative to the larger magnitude, floored). */
export function sameObjective(a: number, b: number, rtol: number = OBJECTIVE_RTOL): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b), OBJECTIVE_FLOOR);
}
