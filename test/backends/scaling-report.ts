/**
 * Prints, for the bundled examples' compiled models, the spread of the matrix (largest over
 * smallest absolute coefficient), the largest row spread and the objective's coefficient range,
 * before and after src/milp/scale.ts — the figures quoted in docs/scaling.md.
 * Run: npx tsx test/backends/scaling-report.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseProblem } from '../../src/api.ts';
import type { Model } from '../../src/milp/model.ts';
import { scaleModel } from '../../src/milp/scale.ts';

interface Spread {
  readonly matrix: number;
  readonly worstRow: number;
  readonly objective: readonly [number, number];
}

function spreadOf(model: Model): Spread {
  let lo = Infinity;
  let hi = 0;
  let worstRow = 1;
  for (const row of model.constraints) {
    const magnitudes = row.terms.map((t) => Math.abs(t.coefficient)).filter((a) => a > 0);
    if (magnitudes.length === 0) continue;
    const rlo = Math.min(...magnitudes);
    const rhi = Math.max(...magnitudes);
    lo = Math.min(lo, rlo);
    hi = Math.max(hi, rhi);
    worstRow = Math.max(worstRow, rhi / rlo);
  }
  const objective = model.objective.map((t) => Math.abs(t.coefficient)).filter((a) => a > 0);
  return {
    matrix: hi > 0 ? hi / lo : 1,
    worstRow,
    objective: objective.length > 0 ? [Math.min(...objective), Math.max(...objective)] : [0, 0],
  };
}

const e = (v: number): string => v.toExponential(1);
const root = new URL('../../problems/', import.meta.url);
console.log(
  '| example | columns × rows | matrix spread before → after | worst row before → after ' +
    '| objective |c| before → after |',
);
console.log('|---|---|---|---|---|');
for (const kind of readdirSync(root)) {
  for (const file of readdirSync(new URL(`${kind}/`, root)).filter((f) => f.endsWith('.json')).sort()) {
    const raw: unknown = JSON.parse(readFileSync(new URL(`${kind}/${file}`, root), 'utf8'));
    let model: Model;
    try {
      const parsed = parseProblem(raw);
      const compiled = parsed.formulation.compile?.(parsed.problem);
      if (compiled === undefined) continue;
      model = compiled.model;
    } catch (error) {
      console.log(`| ${kind}/${file} | not compiled: ${(error as Error).message.split('\n')[0]} | | | |`);
      continue;
    }
    const before = spreadOf(model);
    const after = spreadOf(scaleModel(model).model);
    const size = `${model.variables.length} × ${model.constraints.length}`;
    const objective = (s: Spread): string => `${e(s.objective[0])}–${e(s.objective[1])}`;
    console.log(
      `| ${kind}/${file} | ${size} | ${e(before.matrix)} → ${e(after.matrix)} ` +
        `| ${e(before.worstRow)} → ${e(after.worstRow)} | ${objective(before)} → ${objective(after)} |`,
    );
  }
}
