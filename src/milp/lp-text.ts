/**
 * CPLEX LP text of a Model, for debugging and for handing a model to an external solver.
 * It is never how a backend receives a model (they take arrays).
 *
 * Names are generated (`x0…` columns, `c0…` rows): user names may be LP keywords, start with
 * `inf`/`e1`, contain `-` or spaces, none of which LP text can carry. The user's names appear
 * as comments. A range row l ≤ a·x ≤ u becomes two rows, `cK_lo` and `cK_hi`, because CPLEX
 * LP has no portable one-line range. Every column is listed in the objective (with
 * coefficient 0 if need be) so that readers create the columns in model order.
 */

import type { Model, Term, Variable } from './model.ts';
import { isInteger, mergeTerms } from './model.ts';

export const lpColumnName = (j: number): string => `x${j}`;
export const lpRowName = (i: number): string => `c${i}`;

/** Shortest round-trip decimal; LP readers accept exponents. */
function num(value: number): string {
  if (value === Infinity) return '+inf';
  if (value === -Infinity) return '-inf';
  return String(value === 0 ? 0 : value);
}

/** Readers truncate long lines (CPLEX at 510 characters), so expressions wrap. */
const TERMS_PER_LINE = 8;

function expression(terms: readonly Term[]): string {
  if (terms.length === 0) return '0 x0';
  const parts = terms.map((t, k) => {
    const sign = t.coefficient < 0 ? '-' : '+';
    const magnitude = Math.abs(t.coefficient);
    const text = `${magnitude === 1 ? '' : `${num(magnitude)} `}${lpColumnName(t.variable)}`;
    return k === 0 ? `${t.coefficient < 0 ? '- ' : ''}${text}` : `${sign} ${text}`;
  });
  const lines: string[] = [];
  for (let k = 0; k < parts.length; k += TERMS_PER_LINE) lines.push(parts.slice(k, k + TERMS_PER_LINE).join(' '));
  return lines.join('\n   ');
}

function boundLine(v: Variable, j: number): string | null {
  const name = lpColumnName(j);
  const { lower, upper } = v;
  if (lower === 0 && upper === Infinity) return null; // the LP default
  if (lower === -Infinity && upper === Infinity) return ` ${name} free`;
  if (lower === upper) return ` ${name} = ${num(lower)}`;
  if (upper === Infinity) return ` ${name} >= ${num(lower)}`;
  return ` ${num(lower)} <= ${name} <= ${num(upper)}`;
}

/** `model` as CPLEX LP text (see the file comment for the naming scheme). */
export function toLpText(model: Model): string {
  const out: string[] = [];
  const size = `${model.variables.length} columns, ${model.constraints.length} rows`;
  out.push(`\\ edgeplan model ${JSON.stringify(model.name)}: ${size}`);
  model.variables.forEach((v, j) => out.push(`\\ ${lpColumnName(j)} = ${JSON.stringify(v.name)} (${v.type})`));
  model.constraints.forEach((r, i) => out.push(`\\ ${lpRowName(i)} = ${JSON.stringify(r.name)}`));
  if (model.objectiveConstant !== 0) {
    out.push(`\\ objective constant ${num(model.objectiveConstant)} (added to the LP objective)`);
  }

  out.push(model.sense === 'max' ? 'Maximize' : 'Minimize');
  const cost = new Map(mergeTerms(model.objective).map((t) => [t.variable, t.coefficient]));
  const objectiveTerms = model.variables.map((_, j) => ({ variable: j, coefficient: cost.get(j) ?? 0 }));
  let objective = model.variables.length > 0 ? expression(objectiveTerms) : '';
  if (model.objectiveConstant !== 0) {
    const c = model.objectiveConstant;
    objective = `${objective}${objective === '' ? '' : ' '}${c < 0 ? '-' : '+'} ${num(Math.abs(c))}`;
  }
  out.push(` obj: ${objective}`);

  out.push('Subject To');
  model.constraints.forEach((r, i) => {
    const terms = mergeTerms(r.terms);
    const lhs = expression(terms);
    const name = lpRowName(i);
    if (r.lower === r.upper) out.push(` ${name}: ${lhs} = ${num(r.upper)}`);
    else if (r.lower === -Infinity && r.upper === Infinity) out.push(`\\ ${name} has no bounds and is left out`);
    else if (r.lower === -Infinity) out.push(` ${name}: ${lhs} <= ${num(r.upper)}`);
    else if (r.upper === Infinity) out.push(` ${name}: ${lhs} >= ${num(r.lower)}`);
    else {
      out.push(` ${name}_lo: ${lhs} >= ${num(r.lower)}`);
      out.push(` ${name}_hi: ${lhs} <= ${num(r.upper)}`);
    }
  });

  const bounds = model.variables.map(boundLine).filter((line): line is string => line !== null);
  if (bounds.length > 0) out.push('Bounds', ...bounds);

  const binaries: string[] = [];
  const generals: string[] = [];
  model.variables.forEach((v, j) => {
    if (!isInteger(v)) return;
    // A column is "Binary" only with bounds exactly [0, 1]; otherwise General keeps its bounds.
    if (v.lower === 0 && v.upper === 1) binaries.push(lpColumnName(j));
    else generals.push(lpColumnName(j));
  });
  const listSection = (title: string, names: string[]): void => {
    if (names.length === 0) return;
    out.push(title);
    for (let k = 0; k < names.length; k += 16) out.push(` ${names.slice(k, k + 16).join(' ')}`);
  };
  listSection('General', generals);
  listSection('Binary', binaries);
  out.push('End', '');
  return out.join('\n');
}
