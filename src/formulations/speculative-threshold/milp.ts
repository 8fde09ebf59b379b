/**
 * Two MILPs over the per-state one-hot choice x[s][j] of (γ, threshold option):
 *
 * 1. `compile` — the whole ratio problem as one MILP, linearised by the Charnes–Cooper
 *    substitution t = 1 / Σ_s π_s N_s(x), y[s][j] = t · x[s][j]:
 *      min Σ π_s c_sj y_sj   s.t.  Σ_j x_sj = 1,  Σ_j y_sj = t,  y_sj ≤ U x_sj   (each s)
 *                                 Σ π_s N_sj y_sj = 1
 *                                 Σ π_s (e_sj / B − N_sj) y_sj ≤ 0         (energy budget B)
 *    With x one-hot, the rows force y_s· = t on the chosen option only, so t = 1/Σπ N and the
 *    objective is exactly Σπ c / Σπ N — evaluate's objective, in its units. U = 1 / Σ_s π_s min_j N_sj
 *    is the largest t any policy gives (the tightest valid big-M), and t ≥ 1 / Σ_s π_s max_j N_sj.
 *    Only each state's undominated options get columns (on the target instance 58 of 321).
 *    The budget row is divided by its limit, so its activity is J/B − 1 of order one (in raw
 *    joules it sat below the solvers' feasibility tolerance and µJ budgets were ignored).
 *
 * 2. `parametricModel` — one Dinkelbach iteration with a budget: min Σ π_s (c_sj − λ N_sj) x_sj
 *    over the same one-hot rows plus the budget row (a multiple-choice knapsack), scaled by 1/λ so
 *    that its values are per-token fractions, well away from the solver's absolute tolerances; its
 *    budget row is divided by the limit like compile's.
 *
 * Both budget rows use B(1 + FEASIBILITY_RTOL) (`searchBudget`), the limit evaluate's check allows.
 */
import { ModelBuilder, term, type Model, type Term } from '../../milp/model.ts';
import type { Compiled } from '../types.ts';
import { leastBudgetUse, roundTable, searchBudget, tokensPerRoundRange } from './cost.ts';
import { decisionFromPicks, picksOf } from './decision.ts';
import type { PerStateDecision, SpeculativeDecision, SpeculativeProblem } from './schema.ts';

/**
 * Per state, the options no other option dominates: k dominates j when c_k ≤ c_j, N_k ≥ N_j and
 * (with a budget) e_k ≤ e_j. Swapping j for k never raises Σπc / ΣπN (all terms positive) nor the
 * budget row, so the MILP over undominated options has the same optimum. Equal options keep the
 * lower index. `replacement[j]` is a kept option at least as good as j (j itself when kept).
 */
export function undominatedChoices(p: SpeculativeProblem, s: number): { kept: number[]; replacement: Int32Array } {
  const t = roundTable(p);
  const n = t.choices.length;
  const c = t.cost[s];
  const N = t.tokens[s];
  const e = t.joules[s];
  const budget = p.energyBudgetJoulesPerToken !== null;
  const weaklyBetter = (k: number, j: number): boolean => c[k] <= c[j] && N[k] >= N[j] && (!budget || e[k] <= e[j]);
  const strictlySomewhere = (k: number, j: number): boolean => c[k] < c[j] || N[k] > N[j] || (budget && e[k] < e[j]);
  const kept: number[] = [];
  for (let j = 0; j < n; j++) {
    let dominated = false;
    for (let k = 0; k < n && !dominated; k++)
      if (k !== j && weaklyBetter(k, j) && (strictlySomewhere(k, j) || k < j)) dominated = true;
    if (!dominated) kept.push(j);
  }
  const replacement = new Int32Array(n).fill(-1);
  for (const j of kept) replacement[j] = j;
  for (let j = 0; j < n; j++) {
    if (replacement[j] >= 0) continue;
    // A finite partial order: some undominated option dominates j.
    replacement[j] = kept.find((k) => weaklyBetter(k, j)) as number;
  }
  return { kept, replacement };
}

/**
 * The budget limit of the model rows: `searchBudget` (B within the tolerance policy) when some
 * policy meets it, by the cost functions; when none does, B/2, so that the model is infeasible by
 * a wide margin (any limit ≤ B is equally infeasible then: every policy spends over B(1 + rtol)).
 * With the row just below the least reachable energy, solvers returned violating points (raw
 * joules) or failed (HiGHS "status -1" on a 0.1% margin); every backend now says infeasible.
 */
export function budgetRowLimit(p: SpeculativeProblem): number | null {
  const B = p.energyBudgetJoulesPerToken;
  if (B === null) return null;
  return leastBudgetUse(p).feasible ? (searchBudget(p) as number) : B / 2;
}

/**
 * The full ratio MILP (Charnes–Cooper) over each state's undominated options: problem → model
 * only (no peer, exact method or evaluate runs here).
 */
export function compile(p: SpeculativeProblem): Compiled<SpeculativeDecision> {
  const t = roundTable(p);
  const S = p.states.length;
  const b = new ModelBuilder('speculative-threshold', 'min');
  const { min: minTokens, max: maxTokens } = tokensPerRoundRange(p);
  const upper = 1 / minTokens;
  const lower = 1 / maxTokens;
  const options = p.states.map((_, s) => undominatedChoices(p, s));
  const xCol: number[][] = options.map((o, s) => o.kept.map((j) => b.binary(`x_s${s}_c${j}`)));
  const yCol: number[][] = options.map((o, s) =>
    o.kept.map((j) => b.addVariable(`y_s${s}_c${j}`, { lower: 0, upper })),
  );
  const tCol = b.addVariable('t_inverse_tokens', { lower, upper });
  const norm: Term[] = [];
  const budget: Term[] = [];
  const L = budgetRowLimit(p);
  for (let s = 0; s < S; s++) {
    const pi = p.stationary[s];
    const oneHot: Term[] = [];
    const link: Term[] = [term(tCol, -1)];
    options[s].kept.forEach((j, k) => {
      const x = xCol[s][k];
      const y = yCol[s][k];
      oneHot.push(term(x));
      link.push(term(y));
      b.lessEqual(`y_le_Ux_s${s}_c${j}`, [term(y), term(x, -upper)], 0);
      if (pi > 0) {
        b.addObjective(y, pi * t.cost[s][j]);
        norm.push(term(y, pi * t.tokens[s][j]));
        // Σπ(e − L·N)·y / L ≤ 0: divided by L so that the row reads J/L − 1 ≤ 0.
        if (L !== null) budget.push(term(y, pi * (t.joules[s][j] / L - t.tokens[s][j])));
      }
    });
    b.equal(`one_choice_s${s}`, oneHot, 1);
    b.equal(`y_sums_to_t_s${s}`, link, 0);
  }
  b.equal('tokens_normalised', norm, 1);
  if (L !== null) b.lessEqual('energy_budget', budget, 0);
  const model = b.build();
  const encode = (decision: SpeculativeDecision): number[] | null => {
    // Only per-state policies live in this model (not the device-only or simulated schedules).
    if (decision.mode !== 'per-state') return null;
    const read = picksOf(p, decision).picks;
    if (read === null) return null;
    // A pruned pick is represented by the kept option that dominates it (at least as good in
    // cost, tokens and energy), so the vector satisfies every row the decision satisfies.
    const picks = read.map((j, s) => options[s].replacement[j]);
    let tokens = 0;
    p.stationary.forEach((pi, s) => (tokens += pi * t.tokens[s][picks[s]]));
    const tv = 1 / tokens;
    const values = new Array<number>(model.variables.length).fill(0);
    for (let s = 0; s < S; s++) {
      const k = options[s].kept.indexOf(picks[s]);
      values[xCol[s][k]] = 1;
      values[yCol[s][k]] = tv;
    }
    values[tCol] = tv;
    return values;
  };
  const decode = (values: readonly number[]): PerStateDecision =>
    decisionFromPicks(
      p,
      options.map((o, s) => {
        let best = 0;
        for (let k = 1; k < o.kept.length; k++) if (values[xCol[s][k]] > values[xCol[s][best]]) best = k;
        return o.kept[best];
      }),
    );
  return { model, decode, encode };
}

/**
 * Per state, the options not dominated in (c − λN, e − BN): an option with both values no smaller
 * than another's can always be swapped for that one without losing objective or budget slack, so
 * dropping it keeps the subproblem exact. Sorted by the first value; ties keep the lower index.
 */
export function paretoOptions(objective: Float64Array, budget: Float64Array): number[] {
  const order = [...objective.keys()].sort((a, b) => objective[a] - objective[b] || budget[a] - budget[b] || a - b);
  const kept: number[] = [];
  let bestBudget = Infinity;
  for (const j of order) {
    if (budget[j] < bestBudget) {
      kept.push(j);
      bestBudget = budget[j];
    }
  }
  return kept;
}

/**
 * Dinkelbach subproblem at λ with the budget row, over each state's Pareto options only; the
 * objective is scaled by 1/λ (see the header).
 */
export interface ParametricModel {
  readonly model: Model;
  /** The objective's factor: model objective = scale · Σπ(c − λN). */
  readonly scale: number;
  readonly columns: { state: number; choice: number }[];
  decodePicks(values: readonly number[]): number[];
}

export function parametricModel(p: SpeculativeProblem, lambda: number): ParametricModel {
  const t = roundTable(p);
  const n = t.choices.length;
  const S = p.states.length;
  const scale = lambda > 0 ? 1 / lambda : 1;
  // Row Σπ(e/L − N)·x ≤ 0 at the tolerance policy's limit, divided by L (order-one coefficients).
  const L = searchBudget(p) ?? 1;
  const b = new ModelBuilder(`speculative-threshold-dinkelbach`, 'min');
  const columns: { state: number; choice: number }[] = [];
  const budget: Term[] = [];
  for (let s = 0; s < S; s++) {
    const pi = p.stationary[s];
    const obj = new Float64Array(n);
    const bud = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      obj[j] = t.cost[s][j] - lambda * t.tokens[s][j];
      bud[j] = t.joules[s][j] / L - t.tokens[s][j];
    }
    const oneHot: Term[] = [];
    for (const j of paretoOptions(obj, bud)) {
      const col = b.binary(`x_s${s}_c${j}`);
      columns.push({ state: s, choice: j });
      oneHot.push(term(col));
      if (pi > 0) {
        b.addObjective(col, scale * pi * obj[j]);
        if (p.energyBudgetJoulesPerToken !== null) budget.push(term(col, pi * bud[j]));
      }
    }
    b.equal(`one_choice_s${s}`, oneHot, 1);
  }
  if (p.energyBudgetJoulesPerToken !== null) b.lessEqual('energy_budget', budget, 0);
  return {
    model: b.build(),
    scale,
    columns,
    decodePicks: (values) => {
      const picks = new Array<number>(S).fill(-1);
      const bestValue = new Array<number>(S).fill(-Infinity);
      columns.forEach((c, k) => {
        if (values[k] > bestValue[c.state]) {
          bestValue[c.state] = values[k];
          picks[c.state] = c.choice;
        }
      });
      return picks;
    },
  };
}
