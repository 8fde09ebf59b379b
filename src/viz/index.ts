/**
 * Pictures of solutions (issue 19): one drawing module per family in src/viz/families/, a generic
 * fallback for any other kind, and the pages and files built from them — `solve --html/--svg`,
 * `show`, `compare --html`, and the sweep's plot and CSV. Every picture is drawn from the decision
 * and evaluate's breakdown of it, so it shows what was checked, never a solver's own numbers.
 */
import type { Evaluation } from '../formulations/types.ts';
import { parseDecision } from '../solve/check.ts';
import type { CompareReport } from '../solve/compare.ts';
import { isRecord as isObject, toParsed, type ParsedProblem } from '../solve/problem.ts';
import type { SolveReport } from '../solve/report.ts';
import { InputError } from '../errors.ts';
import { drawAgentPlacement } from './families/agent-placement.ts';
import { drawFleet } from './families/fleet-serving.ts';
import { drawKvSplit } from './families/kv-split-inference.ts';
import { drawMilp } from './families/milp.ts';
import { drawCaching } from './families/model-caching.ts';
import { drawMoe } from './families/moe-placement.ts';
import { drawParallel } from './families/parallel-placement.ts';
import { drawPipeline } from './families/pipeline-placement.ts';
import { drawSpeculative } from './families/speculative-threshold.ts';
import { drawSplitFinetune } from './families/split-finetune.ts';
import { drawSplitMoe } from './families/split-moe.ts';
import { genericFigures } from './generic.ts';
import { figureHtml, page, paragraph, pre, tableHtml } from './page.ts';
import { stackSvgs, tableSvg } from './svg.ts';
import type { DrawInput, Drawer, Figure } from './types.ts';
import { numText, pct, secondsText } from './units.ts';

export type { Figure, DrawInput, Drawer, Engine } from './types.ts';
export { simulatePipeline } from './schedule.ts';
export { sweepCsv, sweepPlotSvg } from './sweep.ts';
export { combineHooks, progressLine, silentProgress, startProgress } from './progress.ts';
export type { ProgressOptions, ProgressReporter, ProgressState } from './progress.ts';
export type { ProgressEvent } from '../solve/options.ts';

// Each drawer is typed with its family's Problem; the table holds them type-erased, like the registry.
const erase = <P>(d: Drawer<P>): Drawer => d as unknown as Drawer;

/** The kinds with a picture of their own; any other kind gets the generic table. */
export const DRAWERS: Readonly<Record<string, Drawer>> = {
  'pipeline-placement': erase(drawPipeline),
  'parallel-placement': erase(drawParallel),
  'fleet-serving': erase(drawFleet),
  'split-finetune': erase(drawSplitFinetune),
  'kv-split-inference': erase(drawKvSplit),
  'moe-placement': erase(drawMoe),
  'speculative-threshold': erase(drawSpeculative),
  'model-caching': erase(drawCaching),
  'split-moe': erase(drawSplitMoe),
  'agent-placement': erase(drawAgentPlacement),
  milp: erase(drawMilp),
};

/** The figures of one decision: the family's drawing (or the generic table), then any violations. */
export async function drawDecision(problem: unknown, decision: unknown, evaluation?: Evaluation): Promise<Figure[]> {
  const parsed = toParsed(problem);
  const checked = evaluation ?? parsed.formulation.evaluate(parsed.problem, decision);
  const input: DrawInput = {
    kind: parsed.kind,
    problem: parsed.problem,
    decision,
    evaluation: checked,
    objectiveLabel: parsed.objectiveLabel,
  };
  const drawer = Object.hasOwn(DRAWERS, parsed.kind) ? DRAWERS[parsed.kind] : undefined;
  let figures: Figure[] = [];
  let failure: string | undefined;
  if (drawer !== undefined) {
    try {
      figures = await drawer(input);
    } catch (error) {
      // A drawing bug must not cost the user the solve's answer: fall back to the table and say why.
      failure = error instanceof Error ? error.message : String(error);
    }
  }
  if (figures.length === 0) figures = genericFigures(input);
  if (failure !== undefined)
    figures.push({ kind: 'table', title: 'Drawing failed', header: ['reason'], rows: [[failure]] });
  if (checked.violations.length > 0) {
    figures.push({
      kind: 'table',
      title: `Violations found by evaluate (${checked.violations.length})`,
      header: ['constraint', 'message'],
      rows: checked.violations.slice(0, 200).map((v) => [v.constraint, v.message]),
    });
  }
  return figures;
}

function reportFacts(report: SolveReport): string[][] {
  const rows: string[][] = [
    ['kind', report.kind],
    ['termination', report.termination + (report.termination === 'optimal' ? ' (certified gap)' : '')],
    ['method', report.method],
  ];
  if (report.solution !== null) {
    rows.push(['objective', `${numText(report.solution.objective)} ${report.objectiveLabel}`]);
    rows.push([
      'bound',
      report.solution.bound === undefined
        ? 'none known'
        : `${numText(report.solution.bound)} (gap ${report.solution.gap !== undefined ? pct(report.solution.gap) : '-'})`,
    ]);
  }
  rows.push(['time', secondsText(report.timeSeconds)]);
  return rows;
}

// `solve --html F --svg G` draws one report twice: the figures are kept per solution object (a
// report is never changed after the solve), so vega renders each chart once.
const drawnSolutions = new WeakMap<object, Promise<Figure[]>>();

/** The figures of a solve report's decision, or none when it holds no solution. */
export async function reportFigures(problem: unknown, report: SolveReport): Promise<Figure[]> {
  const solution = report.solution;
  if (solution === null) return [];
  const kept = drawnSolutions.get(solution);
  if (kept !== undefined) return kept;
  const drawn = drawDecision(problem, solution.decision, solution.evaluation);
  drawnSolutions.set(solution, drawn);
  return drawn;
}

function titleOf(parsed: ParsedProblem, what: string): string {
  return `${parsed.formulation.title}: ${what}`;
}

/** `solve --html`: one self-contained page for the plan. */
export async function solutionHtml(problem: unknown, report: SolveReport): Promise<string> {
  const parsed = toParsed(problem);
  const body = [tableHtml(['', ''], reportFacts(report))];
  if (report.summary !== undefined) body.push(pre(report.summary));
  if (report.solution === null)
    body.push(paragraph(`No solution to draw${report.explanation !== undefined ? `: ${report.explanation}` : '.'}`));
  for (const figure of await reportFigures(parsed, report)) body.push(figureHtml(figure));
  return page(titleOf(parsed, `${report.termination} plan (${report.method})`), body);
}

function figuresSvg(figures: readonly Figure[], heading: string): string {
  return stackSvgs(
    figures.map((f) => ({ title: f.title, svg: f.kind === 'svg' ? f.svg : tableSvg(f.header, f.rows) })),
    heading,
  );
}

/** `solve --svg`: the same figures stacked into one SVG document. */
export async function solutionSvg(problem: unknown, report: SolveReport): Promise<string> {
  const parsed = toParsed(problem);
  const figures = await reportFigures(parsed, report);
  const heading =
    report.solution === null
      ? `${parsed.kind}: ${report.termination}, no solution`
      : `${parsed.kind}: ${report.termination}, objective ${numText(report.solution.objective)} ${report.objectiveLabel}`;
  return figuresSvg(figures, heading);
}

/**
 * A saved solution (what `solve --json` wrote, or a bare decision) read back: the decision,
 * re-checked by evaluate, and what the file claimed.
 */
export function savedDecision(problem: unknown, solution: unknown): { decision: unknown; claim?: string } {
  const parsed = toParsed(problem);
  if (isObject(solution) && 'termination' in solution && 'solution' in solution) {
    if (typeof solution.kind === 'string' && solution.kind !== parsed.kind)
      throw new InputError(
        '$.kind',
        `the solution is for kind "${solution.kind}" but the problem is kind "${parsed.kind}"`,
      );
    const held = solution.solution;
    if (held === null)
      throw new InputError('$.solution', `the report holds no solution (termination: ${String(solution.termination)})`);
    if (!isObject(held) || !('decision' in held))
      throw new InputError('$.solution.decision', 'required field is missing');
    const claim = `${String(solution.termination)} by ${String(solution.method)}, objective ${String(held.objective)}`;
    return { decision: parseDecision(parsed, held.decision, '$.solution.decision'), claim };
  }
  return { decision: parseDecision(parsed, solution) };
}

/** `show --html F --svg G`: the page and the SVG of a saved solution, its figures drawn once. */
export async function showPictures(problem: unknown, solution: unknown): Promise<{ html: string; svg: string }> {
  const parsed = toParsed(problem);
  const { decision, claim } = savedDecision(parsed, solution);
  const evaluation = parsed.formulation.evaluate(parsed.problem, decision);
  const figures = await drawDecision(parsed, decision, evaluation);
  return {
    html: showPage(parsed, decision, evaluation, figures, claim),
    svg: figuresSvg(figures, showHeading(parsed, evaluation)),
  };
}

/** `show`: the page of a saved solution, re-checked by evaluate. */
export async function showHtml(problem: unknown, solution: unknown): Promise<string> {
  return (await showPictures(problem, solution)).html;
}

function showPage(
  parsed: ParsedProblem,
  decision: unknown,
  evaluation: Evaluation,
  figures: readonly Figure[],
  claim: string | undefined,
): string {
  const facts = [
    ['kind', parsed.kind],
    ['feasible', evaluation.feasible ? 'yes (re-checked by evaluate)' : 'NO (see the violations below)'],
    ['objective', `${numText(evaluation.objective)} ${parsed.objectiveLabel} (recomputed by evaluate)`],
    ...(claim !== undefined ? [['the file claims', claim]] : []),
  ];
  const body = [tableHtml(['', ''], facts)];
  try {
    const summary = parsed.formulation.describe?.(parsed.problem, decision, evaluation);
    if (summary !== undefined) body.push(pre(summary));
  } catch {
    // describe is a convenience; the figures below still show the decision.
  }
  for (const figure of figures) body.push(figureHtml(figure));
  return page(titleOf(parsed, 'saved plan'), body);
}

function showHeading(parsed: ParsedProblem, evaluation: Evaluation): string {
  const infeasible = evaluation.feasible ? '' : ' (INFEASIBLE)';
  return `${parsed.kind}: objective ${numText(evaluation.objective)} ${parsed.objectiveLabel}${infeasible}`;
}

/** `show --svg`: a saved solution's figures as one SVG document. */
export async function showSvg(problem: unknown, solution: unknown): Promise<string> {
  return (await showPictures(problem, solution)).svg;
}

/** Objective of a row relative to the best one, the way a paper's table states it. */
function ratioText(report: CompareReport, objective: number | null): string {
  if (objective === null || report.best === null) return '-';
  const best = report.best.objective;
  if (best === 0) return objective === 0 ? '1' : '-';
  const ratio = report.sense === 'min' ? objective / best : best / objective;
  return `${Number(ratio.toPrecision(4))}×`;
}

/** `compare --html`: the ratio table, then every method's picture side by side (small multiples). */
export async function compareHtml(problem: unknown, report: CompareReport): Promise<string> {
  const parsed = toParsed(problem);
  const header = ['method', 'kind', 'verdict', 'objective', 'vs best', 'gap', 'time', 'feasible', 'notes'];
  const rows = report.rows.map((r) => [
    r.method,
    r.kind,
    r.termination ?? '-',
    numText(r.objective),
    r.feasible === true ? ratioText(report, r.objective) : '-',
    r.gap === null ? '-' : pct(r.gap),
    secondsText(r.timeSeconds),
    r.feasible === null ? '-' : r.feasible ? 'yes' : 'NO',
    [r.message, ...r.notes].filter((m) => m !== undefined && m !== '').join('; '),
  ]);
  const body = [
    paragraph(
      `${report.sense === 'min' ? 'minimise' : 'maximise'} ${report.objectiveLabel}; "vs best" is how many times worse ` +
        'than the best feasible row (1× = as good).',
      'sub',
    ),
    tableHtml(header, rows, (i) => {
      const r = report.rows[i];
      if (report.best !== null && r.method === report.best.method) return 'best';
      return r.feasible === false ? 'bad' : '';
    }),
  ];
  if (report.contradictions.length > 0) body.push(pre(`CONTRADICTIONS\n${report.contradictions.join('\n')}`));
  const cards: string[] = [];
  for (const row of report.rows) {
    if (row.decision === undefined || row.decision === null) continue;
    const figures = await drawDecision(parsed, row.decision);
    const headline = `${numText(row.objective)} ${report.objectiveLabel}${row.feasible === false ? ' — fails evaluate' : ''}`;
    cards.push(
      `<section class="card"><h2>${row.method} (${row.kind})</h2>${paragraph(headline, 'sub')}\n` +
        `${figures.map(figureHtml).join('\n')}</section>`,
    );
  }
  if (cards.length > 0) body.push(`<h2>Every method's plan</h2>`, `<div class="grid">\n${cards.join('\n')}\n</div>`);
  else body.push(paragraph('No method returned a decision to draw.'));
  return page(titleOf(parsed, 'every method side by side'), body);
}

/** `compare --svg`: the best row's figures and every other row's, stacked. */
export async function compareSvg(problem: unknown, report: CompareReport): Promise<string> {
  const parsed = toParsed(problem);
  const parts: { title: string; svg: string }[] = [];
  for (const row of report.rows) {
    if (row.decision === undefined || row.decision === null) continue;
    for (const f of await drawDecision(parsed, row.decision))
      parts.push({ title: `${row.method}: ${f.title}`, svg: f.kind === 'svg' ? f.svg : tableSvg(f.header, f.rows) });
  }
  return stackSvgs(parts, `${parsed.kind}: every method's plan`);
}
