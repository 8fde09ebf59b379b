/**
 * Our own check of an LP's dual certificate (row duals and reduced costs, by name), on the original model the
 * user wrote — the backends' word is not taken for it. With the convention of docs/formulations/milp.md (the dual
 * of a row is ∂z/∂(its active bound), a reduced cost ∂z/∂(the column's active bound), for min and max alike):
 *
 * 1. stationarity: every reduced cost equals c_j − Σ_r y_r a_rj;
 * 2. dual feasibility: the sign of each dual picks the side it prices (for a minimisation a positive row dual prices
 *    the row's lower side, a negative one its upper side; for a maximisation the other way round), and that side
 *    must exist — a `≤`-only row with a dual of the `≥` sign is refused; likewise each reduced cost against the
 *    column's bounds;
 * 3. complementary slackness: a row or column with a nonzero dual sits on the side it prices;
 * 4. strong duality: the dual objective c₀ + Σ y_r·(priced side of r) + Σ d_j·(priced bound of j) equals the primal
 *    objective cᵀx + c₀ within OBJECTIVE_RTOL.
 *
 * Together these prove the point optimal for the LP (weak duality makes the dual objective a bound for every
 * feasible point), so duals are reported only beside a certified optimum and only when they pass (certify calls
 * `vetMilpCertificates` through `Formulation.vetCertificates`); `describe` runs the same check, so `check` on a
 * solution file never shows duals that fail it.
 */
import type { Termination } from '../../milp/result.ts';
import { OBJECTIVE_FLOOR, OBJECTIVE_RTOL } from '../tolerance.ts';
import { FEASIBILITY_TOLERANCE, columnVector, objectiveAt, rowActivity, rowScaleAt } from './cost.ts';
import type { MilpDecision, MilpProblem } from './schema.ts';

/**
 * Round-off allowance of the strong-duality test relative to the largest term summed (Σ|c_j x_j|, Σ|y_r b_r|, …):
 * when those terms cancel to an objective near 0, 1e-6 of the objective is below what double-precision sums and
 * the solvers' 1e-9 dual tolerances can meet, though the certificate is sound.
 */
const SUM_ROUND_OFF = 1e-9;

/** Why the decision's duals and reduced costs fail our check, or null when they pass. */
export function dualCertificateFailure(problem: MilpProblem, decision: MilpDecision): string | null {
  const { duals, reducedCosts } = decision;
  if (duals === undefined && reducedCosts === undefined) return null;
  if (duals === undefined || reducedCosts === undefined) {
    const given = duals === undefined ? 'reduced costs without duals' : 'duals without reduced costs';
    return `${given}: an LP certificate needs both`;
  }
  const integral = problem.variables.find((v) => v.type !== 'continuous');
  if (integral !== undefined) {
    return `${integral.type} variable ${integral.name}: LP duals certify a linear program only, not a MILP`;
  }
  const names = namesFailure(
    'row',
    problem.constraints.map((r) => r.name),
    duals,
    'duals',
  );
  if (names !== null) return names;
  const columns = namesFailure(
    'variable',
    problem.variables.map((v) => v.name),
    reducedCosts,
    'reducedCosts',
  );
  if (columns !== null) return columns;

  const { x } = columnVector(problem, decision);
  const n = problem.variables.length;
  const y = problem.constraints.map((row) => duals[row.name]);
  const d = problem.variables.map((v) => reducedCosts[v.name]);
  const c = new Array<number>(n).fill(0);
  for (const t of problem.objective) c[t.variable] += t.coefficient;
  // Σ_r y_r a_rj and Σ_r |y_r a_rj| per column: the value and the size of the numbers it is summed from.
  const priced = new Array<number>(n).fill(0);
  const pricedSize = new Array<number>(n).fill(0);
  problem.constraints.forEach((row, r) => {
    for (const t of row.terms) {
      priced[t.variable] += y[r] * t.coefficient;
      pricedSize[t.variable] += Math.abs(y[r] * t.coefficient);
    }
  });
  // Loops, not Math.max(...spread): a model with 10⁵ columns or terms in a row would overflow the call stack.
  const cmax = c.reduce((m, v) => Math.max(m, Math.abs(v)), OBJECTIVE_FLOOR);
  // +1 minimising, −1 maximising: s·y is the dual of the equivalent minimisation, whose sign rules are the textbook's.
  const s = problem.sense === 'min' ? 1 : -1;
  const senseWord = problem.sense === 'min' ? 'minimisation' : 'maximisation';

  // 1. Stationarity.
  for (let j = 0; j < n; j++) {
    const expected = c[j] - priced[j];
    const size = Math.max(Math.abs(c[j]), pricedSize[j], Math.abs(d[j]), OBJECTIVE_FLOOR);
    if (Math.abs(d[j] - expected) > OBJECTIVE_RTOL * size) {
      const name = problem.variables[j].name;
      return `reduced cost of ${name} is ${fmt(d[j])}, but c − Aᵀy gives ${fmt(expected)} from the duals`;
    }
  }

  let dualObjective = problem.objectiveConstant;
  let size = Math.abs(problem.objectiveConstant);
  // 2–3. Each row dual: the side its sign prices must exist and be met (values below the noise level of the
  // solvers' dual tolerances price the activity itself: no side, no contribution to the gap).
  for (let r = 0; r < problem.constraints.length; r++) {
    const row = problem.constraints[r];
    const activity = rowActivity(row, x);
    const amax = row.terms.reduce((m, t) => Math.max(m, Math.abs(t.coefficient)), 0);
    const noise = Math.abs(y[r]) * amax <= OBJECTIVE_RTOL * cmax;
    const side = s * y[r] > 0 ? row.lower : row.upper;
    let value = activity;
    if (y[r] !== 0 && !noise) {
      if (!Number.isFinite(side)) {
        const kind = s * y[r] > 0 ? '≤' : '≥';
        const need = s * y[r] > 0 === s > 0 ? '≤ 0' : '≥ 0';
        const wrong = `the wrong sign for a ${senseWord} (needs ${need})`;
        return `row ${row.name} (a ${kind} row) has dual ${fmt(y[r])}: ${wrong}`;
      }
      // Binding within the row tolerance of evaluate and the backends' check (cost.ts rowScaleAt).
      const allowance = FEASIBILITY_TOLERANCE * rowScaleAt(row, x);
      if (Math.abs(activity - side) > allowance) {
        return (
          `row ${row.name} has dual ${fmt(y[r])} but is not binding (activity ${fmt(activity)}, ` +
          `${side === row.lower ? 'lower' : 'upper'} side ${fmt(side)}): complementary slackness fails`
        );
      }
      value = side;
    }
    dualObjective += y[r] * value;
    size += Math.abs(y[r] * value);
  }
  // Each reduced cost against the column's bounds, with the same rules.
  for (let j = 0; j < n; j++) {
    const v = problem.variables[j];
    // Noise relative to the objective's coefficients, as for rows: a column priced only by noise-level duals gets a
    // reduced cost of ~1e-14 (netlib blend and capri with GLPK), which proves nothing either way.
    const noise = Math.abs(d[j]) <= OBJECTIVE_RTOL * Math.max(Math.abs(c[j]), pricedSize[j], cmax);
    const bound = s * d[j] > 0 ? v.lower : v.upper;
    let value = x[j];
    if (d[j] !== 0 && !noise) {
      const which = s * d[j] > 0 ? 'lower' : 'upper';
      if (!Number.isFinite(bound)) {
        return `variable ${v.name} has reduced cost ${fmt(d[j])}, which prices its ${which} bound, and it has none`;
      }
      if (Math.abs(x[j] - bound) > FEASIBILITY_TOLERANCE * Math.max(1, Math.abs(bound))) {
        return (
          `variable ${v.name} has reduced cost ${fmt(d[j])} but is ${fmt(x[j])}, off its ${which} bound ` +
          `${fmt(bound)}: complementary slackness fails`
        );
      }
      value = bound;
    }
    dualObjective += d[j] * value;
    size += Math.abs(d[j] * value);
  }
  // 4. Strong duality.
  const primal = objectiveAt(problem, x);
  for (let j = 0; j < n; j++) size += Math.abs(c[j] * x[j]);
  const allowed =
    OBJECTIVE_RTOL * Math.max(Math.abs(primal), Math.abs(dualObjective), OBJECTIVE_FLOOR) + SUM_ROUND_OFF * size;
  if (!(Math.abs(primal - dualObjective) <= allowed)) {
    const primalText = `the primal objective ${fmt(primal)}`;
    return `the dual objective ${fmt(dualObjective)} differs from ${primalText}: no strong duality`;
  }
  return null;
}

/** The first name missing from or foreign to `record`, in domain words; null when they match exactly. */
function namesFailure(
  what: string,
  names: readonly string[],
  record: Readonly<Record<string, number>>,
  field: string,
): string | null {
  const known = new Set(names);
  for (const name of names) {
    if (!Object.hasOwn(record, name)) return `${field} has no value for ${what} ${name}`;
    if (!Number.isFinite(record[name])) return `${field} of ${what} ${name} is ${record[name]}`;
  }
  for (const name of Object.keys(record)) {
    if (!known.has(name)) return `${field} names ${name}, which is no ${what} of the problem`;
  }
  return null;
}

/**
 * The decision to report beside our verdict: its duals and reduced costs only when the verdict is optimal and they
 * pass dualCertificateFailure; `dropped` says why they were removed.
 */
export function vetMilpCertificates(
  problem: MilpProblem,
  decision: MilpDecision,
  verdict: { readonly optimal: boolean; readonly termination: Termination },
): { readonly decision: MilpDecision; readonly dropped?: string } {
  if (decision.duals === undefined && decision.reducedCosts === undefined) return { decision };
  const bare: MilpDecision = { values: decision.values };
  if (!verdict.optimal) {
    return {
      decision: bare,
      dropped: `LP duals and reduced costs withheld: the answer is not certified optimal (${verdict.termination})`,
    };
  }
  const failure = dualCertificateFailure(problem, decision);
  if (failure !== null) return { decision: bare, dropped: `LP duals and reduced costs dropped: ${failure}` };
  return { decision };
}

function fmt(v: number): string {
  return String(Number(v.toPrecision(8)));
}
