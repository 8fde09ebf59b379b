/**
 * The fallback picture for a kind without a drawing of its own: the decision as a table of JSON
 * paths and values, and the scalar facts of evaluate's breakdown — so that every kind renders.
 */
import type { DrawInput, Figure } from './types.ts';
import { isRecord, numText } from './units.ts';

const MAX_ROWS = 400;

/** Leaves of a JSON value as (path, value) rows, arrays of scalars kept on one line. */
export function flatten(value: unknown, path = '$', out: string[][] = []): string[][] {
  if (out.length >= MAX_ROWS) return out;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    out.push([path, value.map((v) => (typeof v === 'number' ? numText(v) : String(v))).join(', ')]);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, `${path}[${i}]`, out));
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value))
      flatten(v, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, out);
  } else {
    out.push([path, typeof value === 'number' ? numText(value) : String(value)]);
  }
  return out;
}

export function genericFigures(input: DrawInput): Figure[] {
  const figures: Figure[] = [];
  const rows = flatten(input.decision);
  figures.push({
    kind: 'table',
    title: 'Decision',
    header: ['field', 'value'],
    rows,
    ...(rows.length >= MAX_ROWS ? { caption: `the first ${MAX_ROWS} fields` } : {}),
  });
  const breakdown = input.evaluation.breakdown;
  if (isRecord(breakdown)) {
    const facts = Object.entries(breakdown)
      .filter(([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
      .map(([k, v]) => [k, typeof v === 'number' ? numText(v) : String(v)]);
    if (facts.length > 0)
      figures.push({ kind: 'table', title: 'Breakdown (from evaluate)', header: ['fact', 'value'], rows: facts });
  }
  return figures;
}
