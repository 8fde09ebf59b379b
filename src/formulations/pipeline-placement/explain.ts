/**
 * Words for people: why no placement exists (explainPipelineInfeasible) and what a decision does
 * (describePipeline). Every memory comparison uses the shared tolerance policy, so an explanation
 * never contradicts check or solve on the same numbers.
 */
import { withinLimit } from '../tolerance.ts';
import type { Evaluation } from '../types.ts';
import { stageMemoryBytes, tablesOf, type PipelineTables } from './cost.ts';
import { chainDp, subsetDp, subsetDpCells, trueCosts, type DpCosts } from './dp.ts';
import type { PipelineBreakdown } from './evaluate.ts';
import { listedOrder, SUBSET_DP_CELL_LIMIT } from './exact.ts';
import type { PipelineProblem } from './schema.ts';

const GBf = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;
const plural = (k: number, one: string, many: string): string => (k === 1 ? one : many);

/** What a server runs at: its profile (or the roofline) and its precision. */
function formatOf(t: PipelineTables, j: number): string {
  return `${t.profileId[j] !== null ? `profile ${t.profileId[j]}` : 'roofline'}, ${t.precision[j]}`;
}

/** The most consecutive layers server j can hold as a last stage (fewest micro-batches in flight). */
function mostLayers(problem: PipelineProblem, t: PipelineTables, j: number): number {
  const L = t.layers;
  const src = problem.source;
  let best = 0;
  // With a pinned source, the source's stage starts at layer 1 and no other stage does.
  const starts =
    src === null
      ? [...Array(L).keys()].map((i) => i + 1)
      : j === src
        ? [1]
        : [...Array(L - 1).keys()].map((i) => i + 2);
  for (const a of starts) {
    let e = a - 1;
    while (e < L && withinLimit(stageMemoryBytes(t, j, a, e + 1, 1), t.capacityBytes[j])) e++;
    best = Math.max(best, e - a + 1);
  }
  return best;
}

/** Whether some placement exists with the given relaxed view and limits (null: too large to decide here). */
function feasibleWith(
  problem: PipelineProblem,
  view: DpCosts,
  maxStages: number,
  stages: number | null,
  order: 'any' | 'listed',
): boolean | null {
  const opts = { combine: 'max' as const, cap: Infinity, maxStages, exactStages: stages, source: problem.source };
  if (order === 'listed') return chainDp(view, listedOrder(problem), opts) !== null;
  if (subsetDpCells(view.servers, view.layers) > SUBSET_DP_CELL_LIMIT) return null;
  return subsetDp(view, opts) !== null;
}

export function explainPipelineInfeasible(problem: PipelineProblem): string {
  const t = tablesOf(problem);
  const n = t.servers;
  const L = t.layers;
  const cap = t.capacityBytes;
  const name = (j: number): string => problem.servers[j].name;
  const training = t.objective === 'training';
  const reasons: string[] = [];

  for (let l = 1; l <= L; l++) {
    let least = Infinity;
    let fits = false;
    for (let j = 0; j < n; j++) {
      const m = stageMemoryBytes(t, j, l, l, 1);
      least = Math.min(least, m - cap[j]);
      if (withinLimit(m, cap[j])) fits = true;
    }
    if (!fits) {
      const what = l === 1 ? ' (with the embedding)' : l === L ? ' (with norm and head)' : '';
      reasons.push(
        `layer ${l}${what} fits on no server: it is ${GBf(least)} larger than the roomiest server's memory allows`,
      );
      break;
    }
  }
  const src = problem.source;
  if (src !== null) {
    // The source's stage has at least problem.stages stages from the end only when the count is fixed.
    const fromEnd = problem.stages ?? 1;
    const m = stageMemoryBytes(t, src, 1, 1, fromEnd);
    if (!withinLimit(m, cap[src]))
      reasons.push(`the source ${name(src)} must hold layer 1 with the embedding (${GBf(m)}) but has ${GBf(cap[src])}`);
  }
  const whole = (j: number): number => stageMemoryBytes(t, j, 1, L, 1);
  if (n === 1) {
    if (!withinLimit(whole(0), cap[0]))
      reasons.push(
        `the whole model needs ${GBf(whole(0))} on the only server ${name(0)} (${formatOf(t, 0)}), which has ${GBf(cap[0])}`,
      );
  } else if (src !== null && !problem.servers.some((_, j) => j !== src && Number.isFinite(t.comm[src * n + j]))) {
    if (!withinLimit(whole(src), cap[src])) {
      reasons.push(
        `the source ${name(src)} has no link to another server, and the whole model needs ${GBf(whole(src))} there (it has ${GBf(cap[src])})`,
      );
    }
  }

  // Layer counts, each server at its own precision and profile (a byte total would mix formats).
  const K = Math.min(problem.stages ?? problem.maxStages, n);
  const most = problem.servers.map((_, j) => mostLayers(problem, t, j));
  const others = most
    .map((m, j) => ({ j, m }))
    .filter((x) => x.j !== src)
    .sort((a, b) => b.m - a.m);
  const chosen = src === null ? others.slice(0, K) : [{ j: src, m: most[src] }, ...others.slice(0, K - 1)];
  const held = chosen.reduce((s, x) => s + x.m, 0);
  if (reasons.length === 0 && held < L) {
    const who =
      src === null
        ? K === 1
          ? 'the roomiest server holds'
          : `the ${K} roomiest servers hold`
        : K === 1
          ? 'the source alone holds'
          : `the source and the ${plural(K - 1, 'roomiest other server', `${K - 1} roomiest other servers`)} hold`;
    const each = chosen.map((x) => `${name(x.j)} ≤ ${x.m} (${formatOf(t, x.j)})`).join(', ');
    reasons.push(`${who} at most ${held} of the ${L} layers (${each}); the stage limit is ${K}`);
  }

  if (reasons.length === 0) {
    // Relax one constraint group at a time; name the groups whose relaxation alone restores a placement.
    const base = trueCosts(t);
    const candidates: [string, DpCosts, number, number | null, 'any' | 'listed'][] = [
      [
        'the links: some needed hops have no link',
        { ...base, comm: () => 0, ret: () => 0 },
        problem.maxStages,
        problem.stages,
        problem.serverOrder,
      ],
      [`the stage limit (${K})`, base, Math.min(n, L), null, problem.serverOrder],
    ];
    if (problem.serverOrder === 'listed')
      candidates.push(['the listed server order', base, problem.maxStages, problem.stages, 'any']);
    if (training && t.inflightRule !== 'none') {
      candidates.push([
        `the activations of the micro-batches in flight (${problem.mode.kind === 'training' ? problem.mode.schedule : ''})`,
        { ...base, fits: (j, a, b) => base.fits(j, a, b, 1) },
        problem.maxStages,
        problem.stages,
        problem.serverOrder,
      ]);
    }
    const binding = candidates
      .filter(([, view, maxS, exactS, order]) => feasibleWith(problem, view, maxS, exactS, order) === true)
      .map(([what]) => what);
    if (binding.length > 0)
      reasons.push(`no placement fits, and relaxing any one of these alone would allow one: ${binding.join('; ')}`);
    else {
      reasons.push(
        `no placement fits: each server can hold enough layers, but no split of the ${L} layers into contiguous stages on distinct servers` +
          ` fits every stage's memory${training ? ' (with its micro-batches in flight)' : ''} within the links and the stage limit (${K})`,
      );
    }
  }
  return reasons.join('; ');
}

const ms = (s: number): string => `${(s * 1e3).toFixed(3)} ms`;

export function describePipeline(problem: PipelineProblem, evaluation: Evaluation<PipelineBreakdown | null>): string {
  const b = evaluation.breakdown;
  if (!b) return `invalid decision: ${evaluation.violations.map((v) => v.message).join('; ')}`;
  const lines = b.stages.map(
    (s) =>
      `stage ${s.stage}: ${s.server} (${s.device}) layers ${s.firstLayer}-${s.lastLayer} (${s.layers}), compute ${ms(s.computeSeconds)}` +
      (s.stage < b.stages.length ? `, to next ${ms(s.commSeconds)} (${s.hopBytes} B)` : '') +
      `, memory ${GBf(s.memoryBytes)} of ${GBf(s.capacityBytes)} [${s.profile !== null ? `measured profile ${s.profile}` : 'roofline'}, ${s.precision}]`,
  );
  if (b.mixedPrecision)
    lines.push(`mixed precision: ${b.mixedPrecision.join(' and ')} (each hop in its sender's activation format)`);
  for (const s of problem.servers)
    if (s.profileNote !== undefined && b.stages.some((x) => x.server === s.name))
      lines.push(`${s.name}: ${s.profileNote}`);
  if (b.objectiveKind === 'training') {
    lines.push(
      `iteration ${ms(b.iterationSeconds)} = Σ compute ${ms(b.computeSeconds)} + Σ transfers ${ms(b.commSeconds)} + bubble (B−1)·${ms(b.bottleneckSeconds)}` +
        (b.iterations > 1 ? `; × ${b.iterations} iterations = ${evaluation.objective.toFixed(1)} s` : ''),
    );
  } else if (b.objectiveKind === 'latency') {
    lines.push(
      `latency ${ms(evaluation.objective)} = compute ${ms(b.computeSeconds)} + transfers ${ms(b.commSeconds)} + return ${ms(b.returnSeconds)}`,
    );
  } else {
    lines.push(`bottleneck ${ms(evaluation.objective)} per step → ${b.tokensPerSecond?.toFixed(1)} tokens/s`);
  }
  const tight = b.stages.filter((s) => s.memoryBytes > 0.95 * s.capacityBytes).map((s) => s.server);
  if (tight.length > 0) lines.push(`memory binds on: ${tight.join(', ')}`);
  for (const v of evaluation.violations) lines.push(`violation: ${v.message}`);
  return lines.join('\n');
}
