/**
 * The one-hot MILP of split-finetune over the same option lists the exact method uses.
 *
 * per-client cuts:
 *   min α·T + γ·Σ e_{k,o} x_{k,o}
 *   Σ_o x_{k,o} = 1                          (one option per client)
 *   T ≥ Σ_o T_{k,o} x_{k,o}                  (makespan; only when α > 0)
 *   Σ_{k,o} n_{k,o} x_{k,o} ≤ N              (uplink subchannels)
 *   z_l ≥ Σ_{o: c_o < l} x_{k,o}   ∀k, l     (layer l is loaded on the server if any client's cut is below it)
 *   z_l ≤ z_{l+1}                             (loaded layers form a suffix; valid, tightens the LP)
 *   Σ_l w_l z_l + Σ m_{k,o} x_{k,o} ≤ M − W   (server memory; W = layers above every possible cut + head)
 *   x binary, z ∈ [0, 1] (integral at any integral x), T ≥ 0
 * shared cut: one binary u_p per pair p = (c, F), Σ_p u_p = 1, Σ_{o ∈ p} x_{k,o} = u_p ∀k, p, and the
 * server memory Σ_p (W(c_p) + Σ_k m_{k,p}) u_p ≤ M. The memory row is scaled by 1/M.
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import type { Compiled } from '../types.ts';
import { objectiveCoefficients, sharedServerWeightBytes, splitContext } from './cost.ts';
import { dominatingOption, optionTable, type OptionTable, type SplitOption } from './options.ts';
import { evaluateSplitFinetune } from './evaluate.ts';
import type { SplitFinetuneDecision, SplitFinetuneProblem } from './schema.ts';

/**
 * Drops options (per-client mode) or whole pairs (shared mode) whose own lower bound on the
 * objective already exceeds a known feasible objective U: every solution of value ≤ U survives
 * (the warm start included), so the optimum is unchanged and the model gets much smaller.
 */
function boundByIncumbent(problem: SplitFinetuneProblem, table: OptionTable, upper: number, timeCoefficient: number, energyCoefficient: number): OptionTable {
  if (!Number.isFinite(upper)) return table;
  const limit = upper * (1 + 1e-9) + 1e-12;
  const minJoules = table.options.map((l) => (l.length > 0 ? Math.min(...l.map((o) => o.joules)) : Infinity));
  const totalMinJoules = minJoules.reduce((a, b) => a + b, 0);
  let options: SplitOption[][];
  if (problem.cutPolicy === 'per-client') {
    options = table.options.map((l, k) => l.filter((o) => timeCoefficient * o.seconds + energyCoefficient * (totalMinJoules - minJoules[k] + o.joules) <= limit));
  } else {
    const key = (o: SplitOption) => `${o.cut}:${o.frozenLayers}`;
    const bound = new Map<string, { time: number; joules: number; clients: number }>();
    for (const list of table.options) {
      const perPair = new Map<string, { time: number; joules: number }>();
      for (const o of list) {
        const cur = perPair.get(key(o)) ?? { time: Infinity, joules: Infinity };
        perPair.set(key(o), { time: Math.min(cur.time, o.seconds), joules: Math.min(cur.joules, o.joules) });
      }
      for (const [k, v] of perPair) {
        const b = bound.get(k) ?? { time: 0, joules: 0, clients: 0 };
        bound.set(k, { time: Math.max(b.time, v.time), joules: b.joules + v.joules, clients: b.clients + 1 });
      }
    }
    const K = table.options.length;
    const keep = new Set([...bound.entries()].filter(([, b]) => b.clients === K && timeCoefficient * b.time + energyCoefficient * b.joules <= limit).map(([k]) => k));
    options = table.options.map((l) => l.filter((o) => keep.has(key(o)) && timeCoefficient * o.seconds <= limit));
  }
  const kept = options.reduce((s, l) => s + l.length, 0);
  return { options, generated: table.generated, kept };
}

export function compileSplitFinetune(problem: SplitFinetuneProblem, warmDecision?: SplitFinetuneDecision | null): Compiled<SplitFinetuneDecision> {
  const ctx = splitContext(problem);
  const { timeCoefficient, energyCoefficient } = objectiveCoefficients(problem);
  const incumbent = warmDecision ? evaluateSplitFinetune(problem, warmDecision) : null;
  const table = boundByIncumbent(problem, optionTable(problem), incumbent?.feasible ? incumbent.objective : Infinity, timeCoefficient, energyCoefficient);
  const L = problem.model.layers;
  const M = problem.server.memoryBytes;
  const b = new ModelBuilder(`split-finetune ${problem.model.id} K=${problem.clients.length}`, 'min');
  const K = problem.clients.length;
  const x: number[][] = table.options.map((list, k) => list.map((o, i) => b.binary(`x_${k}_${i}_c${o.cut}_f${o.frozenLayers}_n${o.subchannels}`)));
  let tCol = -1;
  if (timeCoefficient > 0) {
    let lower = 0;
    let upper = 0;
    for (const list of table.options) {
      if (list.length === 0) continue;
      lower = Math.max(lower, Math.min(...list.map((o) => o.seconds)));
      upper = Math.max(upper, ...list.map((o) => o.seconds));
    }
    tCol = b.addVariable('round_seconds', { lower, upper: Math.max(lower, upper) });
    b.addObjective(tCol, timeCoefficient);
  }
  for (let k = 0; k < K; k++) {
    const list = table.options[k];
    if (list.length === 0) {
      // No option passes this client's own constraints: an explicit contradiction every backend reads the same way.
      const none = b.addVariable(`no_option_client_${k}`, { lower: 0, upper: 0 });
      b.equal(`one_option_${k}`, [term(none)], 1);
      continue;
    }
    b.equal(`one_option_${k}`, x[k].map((col) => term(col)), 1);
    if (tCol >= 0) b.greaterEqual(`makespan_${k}`, [term(tCol), ...list.map((o, i) => term(x[k][i], -o.seconds))], 0);
    if (energyCoefficient > 0) list.forEach((o, i) => b.addObjective(x[k][i], energyCoefficient * o.joules));
  }
  const subTerms: Term[] = [];
  table.options.forEach((list, k) => list.forEach((o, i) => subTerms.push(term(x[k][i], o.subchannels))));
  if (subTerms.length > 0) b.lessEqual('subchannels', subTerms, problem.subchannels);

  const uCols = new Map<string, number>();
  if (problem.cutPolicy === 'per-client') {
    const cuts = table.options.flatMap((l) => l.map((o) => o.cut));
    const lo = cuts.length > 0 ? Math.min(...cuts) : L;
    const hi = cuts.length > 0 ? Math.max(...cuts) : L;
    const z = new Map<number, number>();
    for (let l = lo + 1; l <= hi; l++) z.set(l, b.addVariable(`layer_${l}_on_server`, { lower: 0, upper: 1 }));
    for (let l = lo + 1; l <= hi; l++) {
      const zl = z.get(l) as number;
      for (let k = 0; k < K; k++) {
        const below = table.options[k].flatMap((o, i) => (o.cut < l ? [term(x[k][i], -1)] : []));
        if (below.length > 0) b.greaterEqual(`load_${l}_${k}`, [term(zl), ...below], 0);
      }
      if (l < hi) b.lessEqual(`suffix_${l}`, [term(zl), term(z.get(l + 1) as number, -1)], 0);
    }
    const memTerms: Term[] = [];
    for (let l = lo + 1; l <= hi; l++) memTerms.push(term(z.get(l) as number, (ctx.layerWeightPrefix[l] - ctx.layerWeightPrefix[l - 1]) / M));
    table.options.forEach((list, k) => list.forEach((o, i) => memTerms.push(term(x[k][i], o.serverBytes / M))));
    b.lessEqual('server_memory', memTerms, (M - sharedServerWeightBytes(ctx, hi)) / M);
  } else {
    const pairs = new Map<string, { cut: number; frozenLayers: number }>();
    for (const list of table.options) for (const o of list) pairs.set(`${o.cut}:${o.frozenLayers}`, { cut: o.cut, frozenLayers: o.frozenLayers });
    const usable = [...pairs.entries()].filter(([key]) => table.options.every((list) => list.some((o) => `${o.cut}:${o.frozenLayers}` === key)));
    const memTerms: Term[] = [];
    for (const [key, pr] of usable) {
      const u = b.binary(`u_c${pr.cut}_f${pr.frozenLayers}`);
      uCols.set(key, u);
      let bytes = sharedServerWeightBytes(ctx, pr.cut);
      for (const list of table.options) bytes += (list.find((o) => `${o.cut}:${o.frozenLayers}` === key) as SplitOption).serverBytes;
      memTerms.push(term(u, bytes / M));
    }
    if (usable.length === 0) {
      const none = b.addVariable('no_common_pair', { lower: 0, upper: 0 });
      b.equal('one_pair', [term(none)], 1);
    } else b.equal('one_pair', [...uCols.values()].map((u) => term(u)), 1);
    for (let k = 0; k < K; k++) {
      const byPair = new Map<string, Term[]>();
      table.options[k].forEach((o, i) => {
        const key = `${o.cut}:${o.frozenLayers}`;
        const list = byPair.get(key) ?? [];
        list.push(term(x[k][i]));
        byPair.set(key, list);
      });
      for (const [key, terms] of byPair) {
        const u = uCols.get(key);
        // A pair some other client cannot use is never chosen: its options are fixed to 0.
        if (u === undefined) b.equal(`unusable_${k}_${key}`, terms, 0);
        else b.equal(`pair_${k}_${key.replace(':', '_')}`, [...terms, term(u, -1)], 0);
      }
    }
    if (memTerms.length > 0) b.lessEqual('server_memory', memTerms, 1);
  }
  const model = b.build();

  const decode = (values: readonly number[]): SplitFinetuneDecision => ({
    clients: table.options.map((list, k) => {
      let best = 0;
      for (let i = 1; i < list.length; i++) if (values[x[k][i]] > values[x[k][best]]) best = i;
      const o = list[best];
      return { cut: o.cut, frozenLayers: o.frozenLayers, subchannels: o.subchannels };
    }),
  });

  let warmStart: number[] | undefined;
  if (warmDecision && warmDecision.clients.length === K) {
    const chosen = warmDecision.clients.map((d, k) => dominatingOption(problem, table.options[k], k, d.cut, d.frozenLayers, d.subchannels));
    if (chosen.every((o) => o !== undefined)) {
      const values = new Array<number>(model.variables.length).fill(0);
      const picked = chosen as SplitOption[];
      picked.forEach((o, k) => (values[x[k][table.options[k].indexOf(o)]] = 1));
      if (tCol >= 0) values[tCol] = Math.max(model.variables[tCol].lower, ...picked.map((o) => o.seconds));
      const minCut = Math.min(...picked.map((o) => o.cut));
      model.variables.forEach((v, j) => {
        const m = /^layer_(\d+)_on_server$/.exec(v.name);
        if (m) values[j] = Number(m[1]) > minCut ? 1 : 0;
      });
      if (problem.cutPolicy === 'shared') {
        const u = uCols.get(`${picked[0].cut}:${picked[0].frozenLayers}`);
        if (u !== undefined) values[u] = 1;
      }
      const subchannelsUsed = picked.reduce((s, o) => s + o.subchannels, 0);
      if (subchannelsUsed <= problem.subchannels) warmStart = values;
    }
  }
  return { model, decode, ...(warmStart ? { warmStart } : {}) };
}
