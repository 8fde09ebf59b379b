/**
 * The one-hot MILP of split-finetune over the same option lists the exact method uses.
 *
 * per-client cuts:
 *   min Σ_t w_t·T_t + γ·Σ e_{k,o} x_{k,o}
 *   Σ_o x_{k,o} = 1                          (one option per client)
 *   T_t ≥ Σ_o P_{k,o,t} x_{k,o}   ∀k, t      (makespan of each aggregation period type; when time counts)
 *   Σ_{k,o} n_{k,o} x_{k,o} ≤ N              (uplink subchannels)
 *   z_l ≥ Σ_{o: c_o < l} x_{k,o}   ∀k, l     (layer l is loaded on the server if any client's cut is below it)
 *   z_l ≤ z_{l+1}                             (loaded layers form a suffix; valid, tightens the LP)
 *   Σ_l w_l z_l + Σ m_{k,o} x_{k,o} ≤ M − W   (server memory; W = layers above every possible cut + head)
 *   x binary, z ∈ [0, 1] (integral at any integral x), T ≥ 0
 * shared cut: one binary u_p per pair p = (c, F), Σ_p u_p = 1, Σ_{o ∈ p} x_{k,o} = u_p ∀k, p, and the
 * server memory Σ_p (W(c_p) + Σ_k m_{k,p}) u_p ≤ M. The memory row is scaled by 1/M, and its right-hand
 * side carries the feasibility tolerance (tolerance.ts) so that the MILP, the exact method and
 * evaluate accept the same points.
 * compile is problem → model only: a warm-start incumbent (hints) is valued with the cost functions.
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import { FEASIBILITY_RTOL } from '../tolerance.ts';
import type { CompileHints, Compiled } from '../types.ts';
import {
  compressionIndex,
  objectiveCoefficients,
  periodWeights,
  sharedServerWeightBytes,
  splitContext,
} from './cost.ts';
import { dominatingOption, optionDecision, optionTable, type OptionTable, type SplitOption } from './options.ts';
import { checkRules } from './rules.ts';
import type { SplitFinetuneDecision, SplitFinetuneProblem } from './schema.ts';

/** Lower bound on the objective of any solution that uses option o of client k (per-client mode). */
function optionBound(
  o: SplitOption,
  weights: readonly number[],
  lower: readonly number[],
  gamma: number,
  otherJoules: number,
): number {
  let b = 0;
  weights.forEach((w, t) => (b += w * Math.max(o.periodSeconds[t], lower[t])));
  return b + gamma * (otherJoules + o.joules);
}

/**
 * Drops options (per-client mode) or whole pairs (shared mode) whose own lower bound on the
 * objective already exceeds a known feasible objective U: every solution of value ≤ U survives
 * (the incumbent included), so the optimum is unchanged and the model gets much smaller.
 */
function boundByIncumbent(problem: SplitFinetuneProblem, table: OptionTable, upper: number): OptionTable {
  if (!Number.isFinite(upper)) return table;
  const { energyCoefficient: gamma } = objectiveCoefficients(problem);
  const weights = periodWeights(splitContext(problem));
  const limit = upper * (1 + 1e-9) + 1e-12;
  const minJoules = table.options.map((l) => (l.length > 0 ? Math.min(...l.map((o) => o.joules)) : Infinity));
  const totalMinJoules = minJoules.reduce((a, b) => a + b, 0);
  const lower = weights.map((_, t) =>
    Math.max(0, ...table.options.map((l) => (l.length > 0 ? Math.min(...l.map((o) => o.periodSeconds[t])) : 0))),
  );
  let options: SplitOption[][];
  if (problem.cutPolicy === 'per-client') {
    options = table.options.map((l, k) =>
      l.filter((o) => optionBound(o, weights, lower, gamma, totalMinJoules - minJoules[k]) <= limit),
    );
  } else {
    const key = (o: SplitOption) => `${o.cut}:${o.frozenLayers}`;
    const bound = new Map<string, { times: number[]; joules: number; clients: number }>();
    for (const list of table.options) {
      const perPair = new Map<string, { times: number[]; joules: number }>();
      for (const o of list) {
        const cur = perPair.get(key(o)) ?? { times: weights.map(() => Infinity), joules: Infinity };
        perPair.set(key(o), {
          times: cur.times.map((v, t) => Math.min(v, o.periodSeconds[t])),
          joules: Math.min(cur.joules, o.joules),
        });
      }
      for (const [k, v] of perPair) {
        const b = bound.get(k) ?? { times: weights.map(() => 0), joules: 0, clients: 0 };
        bound.set(k, {
          times: b.times.map((x, t) => Math.max(x, v.times[t])),
          joules: b.joules + v.joules,
          clients: b.clients + 1,
        });
      }
    }
    const K = table.options.length;
    const value = (b: { times: number[]; joules: number }) =>
      b.times.reduce((s, x, t) => s + weights[t] * x, 0) + gamma * b.joules;
    const keep = new Set([...bound.entries()].filter(([, b]) => b.clients === K && value(b) <= limit).map(([k]) => k));
    options = table.options.map((l) => l.filter((o) => keep.has(key(o))));
  }
  const kept = options.reduce((s, l) => s + l.length, 0);
  return { options, generated: table.generated, kept };
}

export function compileSplitFinetune(
  problem: SplitFinetuneProblem,
  hints: CompileHints<SplitFinetuneDecision> = {},
): Compiled<SplitFinetuneDecision> {
  const ctx = splitContext(problem);
  const { energyCoefficient } = objectiveCoefficients(problem);
  const weights = periodWeights(ctx);
  const incumbent = hints.incumbent !== undefined ? checkRules(problem, hints.incumbent) : null;
  const upper = incumbent !== null && incumbent.broken.length === 0 ? incumbent.objective : Infinity;
  const table = boundByIncumbent(problem, optionTable(problem), upper);
  const L = problem.model.layers;
  const M = problem.server.memoryBytes;
  const memoryRhs = 1 + FEASIBILITY_RTOL;
  const b = new ModelBuilder(`split-finetune ${problem.model.id} K=${problem.clients.length}`, 'min');
  const K = problem.clients.length;
  const x: number[][] = table.options.map((list, k) =>
    list.map((o, i) => b.binary(`x_${k}_${i}_c${o.cut}_f${o.frozenLayers}_n${o.subchannels}`)),
  );
  const tCols: number[] = weights.map((w, t) => {
    if (w <= 0) return -1;
    let lower = 0;
    let upperT = 0;
    for (const list of table.options) {
      if (list.length === 0) continue;
      lower = Math.max(lower, Math.min(...list.map((o) => o.periodSeconds[t])));
      upperT = Math.max(upperT, ...list.map((o) => o.periodSeconds[t]));
    }
    const col = b.addVariable(`period_${t}_seconds`, { lower, upper: Math.max(lower, upperT) });
    b.addObjective(col, w);
    return col;
  });
  for (let k = 0; k < K; k++) {
    const list = table.options[k];
    if (list.length === 0) {
      // No option passes this client's own constraints: an explicit contradiction every backend reads the same way.
      const none = b.addVariable(`no_option_client_${k}`, { lower: 0, upper: 0 });
      b.equal(`one_option_${k}`, [term(none)], 1);
      continue;
    }
    b.equal(
      `one_option_${k}`,
      x[k].map((col) => term(col)),
      1,
    );
    tCols.forEach((col, t) => {
      if (col >= 0)
        b.greaterEqual(`makespan_${t}_${k}`, [term(col), ...list.map((o, i) => term(x[k][i], -o.periodSeconds[t]))], 0);
    });
    if (energyCoefficient > 0) list.forEach((o, i) => b.addObjective(x[k][i], energyCoefficient * o.joules));
  }
  const subTerms: Term[] = [];
  table.options.forEach((list, k) => list.forEach((o, i) => subTerms.push(term(x[k][i], o.subchannels))));
  if (subTerms.length > 0) b.lessEqual('subchannels', subTerms, problem.subchannels);

  const uCols = new Map<string, number>();
  const zCols = new Map<number, number>();
  if (problem.cutPolicy === 'per-client') {
    const cuts = table.options.flatMap((l) => l.map((o) => o.cut));
    const lo = cuts.length > 0 ? Math.min(...cuts) : L;
    const hi = cuts.length > 0 ? Math.max(...cuts) : L;
    for (let l = lo + 1; l <= hi; l++) zCols.set(l, b.addVariable(`layer_${l}_on_server`, { lower: 0, upper: 1 }));
    for (let l = lo + 1; l <= hi; l++) {
      const zl = zCols.get(l) as number;
      for (let k = 0; k < K; k++) {
        const below = table.options[k].flatMap((o, i) => (o.cut < l ? [term(x[k][i], -1)] : []));
        if (below.length > 0) b.greaterEqual(`load_${l}_${k}`, [term(zl), ...below], 0);
      }
      if (l < hi) b.lessEqual(`suffix_${l}`, [term(zl), term(zCols.get(l + 1) as number, -1)], 0);
    }
    const memTerms: Term[] = [];
    for (let l = lo + 1; l <= hi; l++)
      memTerms.push(term(zCols.get(l) as number, (ctx.layerWeightPrefix[l] - ctx.layerWeightPrefix[l - 1]) / M));
    table.options.forEach((list, k) => list.forEach((o, i) => memTerms.push(term(x[k][i], o.serverBytes / M))));
    b.lessEqual('server_memory', memTerms, memoryRhs - sharedServerWeightBytes(ctx, hi) / M);
  } else {
    const pairKey = (o: SplitOption) => `${o.cut}:${o.frozenLayers}`;
    const pairs = new Map<string, { cut: number; frozenLayers: number }>();
    for (const list of table.options)
      for (const o of list) pairs.set(pairKey(o), { cut: o.cut, frozenLayers: o.frozenLayers });
    const usable = [...pairs.entries()].filter(([key]) =>
      table.options.every((list) => list.some((o) => pairKey(o) === key)),
    );
    const memTerms: Term[] = [];
    for (const [key, pr] of usable) {
      const u = b.binary(`u_c${pr.cut}_f${pr.frozenLayers}`);
      uCols.set(key, u);
      let bytes = sharedServerWeightBytes(ctx, pr.cut);
      for (const list of table.options) bytes += (list.find((o) => pairKey(o) === key) as SplitOption).serverBytes;
      memTerms.push(term(u, bytes / M));
    }
    if (usable.length === 0) {
      const none = b.addVariable('no_common_pair', { lower: 0, upper: 0 });
      b.equal('one_pair', [term(none)], 1);
    } else
      b.equal(
        'one_pair',
        [...uCols.values()].map((u) => term(u)),
        1,
      );
    for (let k = 0; k < K; k++) {
      const byPair = new Map<string, Term[]>();
      table.options[k].forEach((o, i) => {
        const list = byPair.get(pairKey(o)) ?? [];
        list.push(term(x[k][i]));
        byPair.set(pairKey(o), list);
      });
      for (const [key, terms] of byPair) {
        const u = uCols.get(key);
        // A pair some other client cannot use is never chosen: its options are fixed to 0.
        if (u === undefined) b.equal(`unusable_${k}_${key}`, terms, 0);
        else b.equal(`pair_${k}_${key.replace(':', '_')}`, [...terms, term(u, -1)], 0);
      }
    }
    if (memTerms.length > 0) b.lessEqual('server_memory', memTerms, memoryRhs);
  }
  const model = b.build();

  const decode = (values: readonly number[]): SplitFinetuneDecision => ({
    clients: table.options.map((list, k) => {
      let best = 0;
      for (let i = 1; i < list.length; i++) if (values[x[k][i]] > values[x[k][best]]) best = i;
      return optionDecision(problem, list[best]);
    }),
  });

  /**
   * The column vector of a decision: each client's (c, F, n) as the option that equals it or
   * dominates it (so the point is at least as good), or null when some client's choice has no
   * such option (it breaks a per-client rule, or the incumbent cut-off dropped it).
   */
  const encode = (decision: SplitFinetuneDecision): readonly number[] | null => {
    if (decision.clients.length !== K) return null;
    const picked: SplitOption[] = [];
    for (let k = 0; k < K; k++) {
      const d = decision.clients[k];
      const q = compressionIndex(problem, d.compression);
      if (q < 0 || !problem.clients[k].compressionLevels.includes(q)) return null;
      const o = dominatingOption(problem, table.options[k], k, d.cut, d.frozenLayers, d.subchannels, q);
      if (o === undefined) return null;
      picked.push(o);
    }
    if (picked.reduce((s, o) => s + o.subchannels, 0) > problem.subchannels) return null;
    const values = new Array<number>(model.variables.length).fill(0);
    picked.forEach((o, k) => (values[x[k][table.options[k].indexOf(o)]] = 1));
    tCols.forEach((col, t) => {
      if (col >= 0) values[col] = Math.max(model.variables[col].lower, ...picked.map((o) => o.periodSeconds[t]));
    });
    const minCut = Math.min(...picked.map((o) => o.cut));
    for (const [l, col] of zCols) values[col] = l > minCut ? 1 : 0;
    if (problem.cutPolicy === 'shared') {
      const u = uCols.get(`${picked[0].cut}:${picked[0].frozenLayers}`);
      if (u === undefined) return null;
      values[u] = 1;
    }
    return values;
  };
  return { model, decode, encode };
}
