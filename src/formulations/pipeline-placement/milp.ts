/**
 * MILP: the pipeline as a path through the (layer, server) grid. a[l][j] = 1 when layer l runs on
 * server j; e[l][j][k] is the flow from (l, j) to (l + 1, k) — staying on j (k = j) or crossing a
 * stage boundary j → k, which pays the link. Flow conservation between consecutive layers makes e
 * the exact product a[l][j]·a[l+1][k] for integral a (the transportation polytope of two one-hot
 * vectors has one point), so the pairwise link cost is linear without big-M. A server may be
 * entered at most once, which makes its layers one contiguous stage; stage positions are implicit
 * in the order of the blocks, so the model has none of the position symmetry of a
 * "stage p on server j" formulation. 1F1B's in-flight count of the stage holding layer l is
 * k_l = 1 + (boundaries after l), linked to a[l][j] by one big-M row with M = the stage limit.
 * The bottleneck variable T carries the perfect-balance lower bound, so a bound (and gap) is
 * available from the root on.
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import type { Compiled } from '../types.ts';
import { lowerBound, stageMemoryBytes, stageSeconds, tablesOf, type StagePlan } from './cost.ts';
import { planOf } from './evaluate.ts';
import type { PipelineDecision, PipelineProblem } from './schema.ts';
import { planToDecision } from './exact.ts';

/** Memory rows in gigabytes keep coefficients near 1 (bytes would span 10 orders of magnitude). */
const MEMORY_SCALE = 1e-9;

export interface CompileOptions {
  /** A feasible decision to offer as the warm start (the best baseline's, say). */
  readonly warmStart?: PipelineDecision | null;
}

/**
 * The fewest servers whose memory can hold every layer at its least footprint (one micro-batch in
 * flight), the source counted first when pinned — a lower bound on the number of stages.
 */
export function minimumStages(problem: PipelineProblem): number {
  const t = tablesOf(problem);
  let need = 0;
  for (let l = 1; l <= t.layers; l++) {
    let least = Infinity;
    for (let j = 0; j < t.servers; j++) least = Math.min(least, stageMemoryBytes(t, j, l, l, 1));
    need += least;
  }
  // The single-stage credit may lower a whole-model stage below the per-layer sum; never claim more than 1 then.
  if (t.singleStageCreditBytes.some((c) => c > 0)) need -= Math.max(...t.singleStageCreditBytes);
  const src = problem.source;
  const caps = t.capacityBytes.filter((_, j) => j !== src).sort((x, y) => y - x);
  let held = src === null ? 0 : t.capacityBytes[src];
  let count = src === null ? 0 : 1;
  for (const c of caps) {
    if (held >= need) break;
    held += c;
    count++;
  }
  return Math.max(1, Math.min(count, problem.maxStages));
}

export function compilePipeline(problem: PipelineProblem, options: CompileOptions = {}): Compiled<PipelineDecision> {
  const t = tablesOf(problem);
  const n = t.servers;
  const L = t.layers;
  const K = problem.stages ?? problem.maxStages;
  const B = t.microBatches;
  const it = t.iterations;
  const b = new ModelBuilder(`pipeline-placement ${problem.model.id} on ${n} servers`, 'min');
  const rank = (j: number): number => (j === problem.source ? -1 : j);
  const layerTime = (j: number, l: number): number => stageSeconds(t, j, l, l);

  // a[l][j]
  const a: number[][] = [[]];
  for (let l = 1; l <= L; l++) {
    a.push([]);
    for (let j = 0; j < n; j++) {
      const alone = stageMemoryBytes(t, j, l, l, 1) <= t.capacityBytes[j];
      const returnable = l < L || Number.isFinite(t.ret[j]);
      let lower = 0;
      let upper = alone && returnable ? 1 : 0;
      if (l === 1 && problem.source !== null) {
        lower = j === problem.source ? 1 : 0;
        upper = j === problem.source ? upper : 0;
      }
      a[l].push(b.addVariable(`a_${l}_${j}`, { type: 'binary', lower, upper }));
    }
  }
  // e[l][j][k], l = 1..L−1
  const e: number[][][] = [[]];
  for (let l = 1; l < L; l++) {
    e.push([]);
    for (let j = 0; j < n; j++) {
      e[l].push([]);
      for (let k = 0; k < n; k++) {
        const allowed = j === k || (Number.isFinite(t.comm[j * n + k]) && (problem.serverOrder === 'any' || rank(j) < rank(k)) && k !== problem.source);
        e[l][j].push(b.addVariable(`e_${l}_${j}_${k}`, { lower: 0, upper: allowed ? 1 : 0 }));
      }
    }
  }
  const needsT = t.objective !== 'latency';
  const lb = lowerBound(problem);
  const T = needsT ? b.addVariable('T', { lower: lb.bottleneckSeconds }) : -1;

  const boundaryTerms = (l: number, coefficient: (j: number, k: number) => number): Term[] => {
    const terms: Term[] = [];
    for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) if (j !== k) {
      const c = coefficient(j, k);
      if (c !== 0 && Number.isFinite(c)) terms.push(term(e[l][j][k], c));
    }
    return terms;
  };

  for (let l = 1; l <= L; l++) b.equal(`assign_${l}`, a[l].map((v) => term(v)), 1);
  for (let l = 1; l < L; l++) {
    for (let j = 0; j < n; j++) b.equal(`out_${l}_${j}`, [...e[l][j].map((v) => term(v)), term(a[l][j], -1)], 0);
    for (let k = 0; k < n; k++) b.equal(`in_${l}_${k}`, [...e[l].map((row) => term(row[k])), term(a[l + 1][k], -1)], 0);
  }
  for (let j = 0; j < n; j++) {
    const entries: Term[] = [term(a[1][j])];
    for (let l = 1; l < L; l++) for (let k = 0; k < n; k++) if (k !== j) entries.push(term(e[l][k][j]));
    b.lessEqual(`enter_once_${j}`, entries, 1);
  }
  const allBoundaries: Term[] = [];
  for (let l = 1; l < L; l++) allBoundaries.push(...boundaryTerms(l, () => 1));
  if (problem.stages !== null) b.equal('stages', allBoundaries, problem.stages - 1);
  else {
    // Valid cut: at least as many stages as servers needed to hold the model's least memory, which the
    // relaxation (a constant fraction of every layer on every server, no boundary crossed) ignores.
    b.addConstraint('stages_range', allBoundaries, minimumStages(problem) - 1, problem.maxStages - 1);
  }

  // 1F1B: k_l (stages from layer l's stage to the end), w_l = min(k_l, B), v[l][j] = w_l·a[l][j].
  const position = t.inflightRule === 'position';
  const kVar: number[] = [];
  const wVar: number[] = [];
  const deltaVar: number[] = [];
  if (position) {
    for (let l = 1; l <= L; l++) kVar[l] = b.addVariable(`k_${l}`, { lower: 1, upper: l === L ? 1 : K });
    for (let l = 1; l < L; l++) b.equal(`k_link_${l}`, [term(kVar[l]), term(kVar[l + 1], -1), ...boundaryTerms(l, () => -1)], 0);
    for (let l = 1; l <= L; l++) {
      if (B >= K) {
        wVar[l] = kVar[l];
        continue;
      }
      wVar[l] = b.addVariable(`w_${l}`, { lower: 0, upper: K });
      deltaVar[l] = b.binary(`d_${l}`);
      b.greaterEqual(`w_ge_k_${l}`, [term(wVar[l]), term(kVar[l], -1), term(deltaVar[l], K)], 0);
      b.greaterEqual(`w_ge_B_${l}`, [term(wVar[l]), term(deltaVar[l], -B)], 0);
      b.greaterEqual(`d_needs_k_${l}`, [term(kVar[l]), term(deltaVar[l], -B)], 0);
    }
  }
  const vVar: number[][] = [];
  const zVar: number[] = [];
  for (let j = 0; j < n; j++) {
    const terms: Term[] = [];
    vVar[j] = [];
    for (let l = 1; l <= L; l++) {
      const fixed = t.statePrefix[j][l] - t.statePrefix[j][l - 1] + t.kvPrefix[j][l] - t.kvPrefix[j][l - 1];
      const act = t.activationPrefix[j][l] - t.activationPrefix[j][l - 1];
      let coefficient = fixed;
      if (act > 0 && t.inflightRule === 'all') coefficient += B * act;
      if (coefficient !== 0) terms.push(term(a[l][j], coefficient * MEMORY_SCALE));
      if (act > 0 && position) {
        const v = b.addVariable(`v_${l}_${j}`, { lower: 0, upper: K });
        vVar[j][l] = v;
        b.greaterEqual(`v_def_${l}_${j}`, [term(v), term(wVar[l], -1), term(a[l][j], -K)], -K);
        terms.push(term(v, act * MEMORY_SCALE));
      }
    }
    const credit = t.singleStageCreditBytes[j];
    if (credit > 0) {
      zVar[j] = b.binary(`single_${j}`);
      b.lessEqual(`single_first_${j}`, [term(zVar[j]), term(a[1][j], -1)], 0);
      b.lessEqual(`single_last_${j}`, [term(zVar[j]), term(a[L][j], -1)], 0);
      terms.push(term(zVar[j], -credit * MEMORY_SCALE));
    }
    b.lessEqual(`memory_${j}`, terms, t.capacityBytes[j] * MEMORY_SCALE);
  }

  if (needsT) {
    for (let j = 0; j < n; j++) {
      const terms: Term[] = [term(T)];
      for (let l = 1; l <= L; l++) terms.push(term(a[l][j], -layerTime(j, l)));
      b.greaterEqual(`T_stage_${j}`, terms, 0);
    }
    for (let l = 1; l < L; l++) b.greaterEqual(`T_link_${l}`, [term(T), ...boundaryTerms(l, (j, k) => -t.comm[j * n + k])], 0);
    if (t.objective === 'throughput') {
      const terms: Term[] = [term(T)];
      for (let j = 0; j < n; j++) if (t.ret[j] > 0 && Number.isFinite(t.ret[j])) terms.push(term(a[L][j], -t.ret[j]));
      b.greaterEqual('T_return', terms, 0);
    }
  }

  // Objective.
  const sumWeight = t.objective === 'throughput' ? 0 : t.objective === 'training' ? it : 1;
  if (sumWeight > 0) {
    for (let l = 1; l <= L; l++) for (let j = 0; j < n; j++) b.addObjective(a[l][j], sumWeight * layerTime(j, l));
    for (let l = 1; l < L; l++) for (const tm of boundaryTerms(l, (j, k) => t.comm[j * n + k])) b.addObjective(tm.variable, sumWeight * tm.coefficient);
    if (t.objective === 'latency') for (let j = 0; j < n; j++) if (t.ret[j] > 0 && Number.isFinite(t.ret[j])) b.addObjective(a[L][j], t.ret[j]);
  }
  if (t.objective === 'training') b.addObjective(T, it * (B - 1));
  if (t.objective === 'throughput') b.addObjective(T, 1);
  const model = b.build();

  const decode = (values: readonly number[]): PipelineDecision => {
    const plan: StagePlan[] = [];
    for (let l = 1; l <= L; l++) {
      let best = 0;
      for (let j = 1; j < n; j++) if (values[a[l][j]] > values[a[l][best]]) best = j;
      const last = plan[plan.length - 1];
      if (last && last.server === best) plan[plan.length - 1] = { ...last, last: l };
      else plan.push({ server: best, first: l, last: l });
    }
    return planToDecision(problem, plan);
  };

  const encode = (decision: PipelineDecision): number[] | undefined => {
    const { plan, violations } = planOf(problem, decision);
    if (violations.length > 0) return undefined;
    const x = new Array<number>(model.variables.length).fill(0);
    const S = plan.length;
    const owner: number[] = [];
    const fromEnd: number[] = [];
    plan.forEach((s, i) => {
      for (let l = s.first; l <= s.last; l++) {
        owner[l] = s.server;
        fromEnd[l] = S - i;
      }
    });
    let max = 0;
    plan.forEach((s, i) => {
      max = Math.max(max, stageSeconds(t, s.server, s.first, s.last));
      if (i + 1 < S) max = Math.max(max, t.comm[s.server * n + plan[i + 1].server]);
    });
    if (t.objective === 'throughput') max = Math.max(max, t.ret[plan[S - 1].server]);
    for (let l = 1; l <= L; l++) {
      x[a[l][owner[l]]] = 1;
      if (l < L) x[e[l][owner[l]][owner[l + 1]]] = 1;
      if (position) {
        x[kVar[l]] = fromEnd[l];
        const w = Math.min(fromEnd[l], B);
        if (B < K) {
          x[wVar[l]] = w;
          x[deltaVar[l]] = fromEnd[l] >= B ? 1 : 0;
        }
        const v = vVar[owner[l]][l];
        if (v !== undefined) x[v] = w;
      }
    }
    for (let j = 0; j < n; j++) if (zVar[j] !== undefined && owner[1] === j && owner[L] === j) x[zVar[j]] = 1;
    if (needsT) x[T] = Math.max(max, lb.bottleneckSeconds);
    return x;
  };

  const warm = options.warmStart ? encode(options.warmStart) : undefined;
  return { model, decode, warmStart: warm };
}
