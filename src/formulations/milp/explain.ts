/**
 * The `milp` kind's words for the user, in one place: why a raw MILP has no solution (a variable
 * whose bounds hold no integer, or a single row that cannot reach its side anywhere within the
 * variable bounds; when neither exists the conflict involves several rows at once, and we say so
 * rather than guess), and a few lines describing a decision.
 */
import type { Evaluation } from '../types.ts';
import { FEASIBILITY_TOLERANCE, columnVector, rowActivity, rowScale } from './cost.ts';
import { dualCertificateFailure } from './duals.ts';
import type { MilpDecision, MilpProblem } from './schema.ts';

export function explainMilpInfeasible(problem: MilpProblem): string {
  const reasons: string[] = [];
  const lower: number[] = [];
  const upper: number[] = [];
  for (const v of problem.variables) {
    const integral = v.type !== 'continuous';
    const lo = integral ? Math.ceil(v.lower - FEASIBILITY_TOLERANCE) : v.lower;
    const up = integral ? Math.floor(v.upper + FEASIBILITY_TOLERANCE) : v.upper;
    if (lo > up) {
      reasons.push(`${v.type} variable ${v.name} has no integer value within its bounds [${v.lower}, ${v.upper}]`);
    }
    lower.push(lo);
    upper.push(up);
  }
  for (const row of problem.constraints) {
    let least = 0;
    let most = 0;
    for (const t of row.terms) {
      const a = t.coefficient * lower[t.variable];
      const b = t.coefficient * upper[t.variable];
      // 0 · ±Infinity is NaN; a zero coefficient contributes nothing whatever the bound.
      least += t.coefficient === 0 ? 0 : Math.min(a, b);
      most += t.coefficient === 0 ? 0 : Math.max(a, b);
    }
    const allowance = FEASIBILITY_TOLERANCE * rowScale(row);
    if (least > row.upper + allowance) {
      reasons.push(
        `row ${row.name} needs activity ≤ ${row.upper}, but within the variable bounds it is at least ` +
          `${fmt(least)} (over by ${fmt(least - row.upper)})`,
      );
    } else if (most < row.lower - allowance) {
      reasons.push(
        `row ${row.name} needs activity ≥ ${row.lower}, but within the variable bounds it reaches at most ` +
          `${fmt(most)} (short by ${fmt(row.lower - most)})`,
      );
    }
  }
  if (reasons.length === 0) {
    return (
      'no single row or bound rules a solution out: every row can be met on its own within the variable ' +
      'bounds, so any conflict involves several rows together'
    );
  }
  const shown = reasons.slice(0, 5);
  return shown.join('; ') + (reasons.length > shown.length ? `; and ${reasons.length - shown.length} more` : '');
}

function fmt(v: number): string {
  return String(Number(v.toPrecision(8)));
}

/** A few lines for the CLI: the nonzero values and the binding rows. */
export function describeMilp(
  problem: MilpProblem,
  decision: MilpDecision,
  evaluation: Evaluation<unknown>,
  limit = 12,
): string {
  const { x } = columnVector(problem, decision);
  const nonzero = problem.variables.map((v, i) => ({ name: v.name, value: x[i] })).filter((e) => e.value !== 0);
  const shown = nonzero.slice(0, limit).map((e) => `${e.name} = ${formatValue(e.value)}`);
  const more = nonzero.length > limit ? `, … (${nonzero.length - limit} more)` : '';
  const listed = nonzero.length > 0 ? `: ${shown.join(', ')}${more}` : '';
  const lines = [`${problem.variables.length} variables, ${nonzero.length} nonzero${listed}`];
  if (problem.constraints.length > 0) {
    const binding = problem.constraints
      .map((row) => ({ row, activity: rowActivity(row, x) }))
      .filter(({ row, activity }) => {
        const distance = Math.min(Math.abs(activity - row.lower), Math.abs(row.upper - activity));
        return distance <= FEASIBILITY_TOLERANCE * rowScale(row);
      })
      .map(({ row }) => row.name);
    const moreRows = binding.length > limit ? `, … (${binding.length - limit} more)` : '';
    const names = binding.slice(0, limit).join(', ') + moreRows;
    const rows = `${problem.constraints.length} row${problem.constraints.length === 1 ? '' : 's'}`;
    lines.push(`${rows}, ${binding.length} binding${binding.length > 0 ? `: ${names}` : ''}`);
  }
  // The same check as certify's (duals.ts), so that `check` never shows a solution file's duals that fail it.
  const failure = dualCertificateFailure(problem, decision);
  if (failure !== null) lines.push(`LP duals and reduced costs not shown: ${failure}`);
  else {
    if (decision.duals !== undefined) lines.push(largest('duals', decision.duals));
    if (decision.reducedCosts !== undefined) lines.push(largest('reduced costs', decision.reducedCosts));
  }
  if (!evaluation.feasible) lines.push(`violations: ${evaluation.violations.map((v) => v.message).join('; ')}`);
  return lines.join('\n');
}

/** How many duals and reduced costs the human summary names (the JSON output has all of them). */
const SHOWN_DUALS = 5;

/** `label (∂objective/∂bound, largest first): a = 1.5, b = -0.5, … (n more); m zero`. */
function largest(label: string, values: Readonly<Record<string, number>>): string {
  const entries = Object.entries(values)
    .filter(([, v]) => v !== 0)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || a[0].localeCompare(b[0]));
  const total = Object.keys(values).length;
  if (entries.length === 0) return `${label}: all ${total} zero`;
  const shown = entries.slice(0, SHOWN_DUALS).map(([name, v]) => `${name} = ${formatValue(v)}`);
  const more = entries.length - shown.length;
  const zero = total - entries.length;
  const tail = `${more > 0 ? `, … (${more} more)` : ''}${zero > 0 ? `; ${zero} zero` : ''}`;
  return `${label} (∂objective/∂bound, largest first): ${shown.join(', ')}${tail}`;
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(8)));
}
