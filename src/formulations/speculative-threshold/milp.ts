/**
 * Two MILPs over the per-state one-hot choice x[s][j] of (γ, threshold option):
 *
 * 1. `compile` — the whole ratio problem as one MILP, linearised by the Charnes–Cooper
 *    substitution t = 1 / Σ_s π_s N_s(x), y[s][j] = t · x[s][j]:
 *      min Σ π_s c_sj y_sj   s.t.  Σ_j x_sj = 1,  Σ_j y_sj = t,  y_sj ≤ U x_sj   (each s)
 *                                 Σ π_s N_sj y_sj = 1
 *                                 Σ π_s (e_sj − B N_sj) y_sj ≤ 0           (energy budget B)
 *    With x one-hot, the rows force y_s· = t on the chosen option only, so t = 1/Σπ N and the
 *    objective is exactly Σπ c / Σπ N — evaluate's objective, in its units. U = 1 / Σ_s π_s min_j N_sj
 *    is the largest t any policy gives (the tightest valid big-M), and t ≥ 1 / Σ_s π_s max_j N_sj.
 *
 * 2. `parametricModel` — one Dinkelbach iteration with a budget: min Σ π_s (c_sj − λ N_sj) x_sj
 *    over the same one-hot rows plus the budget row (a multiple-choice knapsack), scaled by 1/λ so
 *    that its values are per-token fractions, well away from the solver's absolute tolerances.
 */
import { ModelBuilder, term, type Model, type Term } from '../../milp/model.ts';
import type { Compiled } from '../types.ts';
import { roundTable, type Choice } from './cost.ts';
import type { PerStateDecision, SpeculativeProblem } from './schema.ts';

/** The per-state decision for chosen choice indices. */
export function decisionFromPicks(p: SpeculativeProblem, picks: readonly number[]): PerStateDecision {
  const t = roundTable(p);
  return {
    mode: 'per-state',
    states: picks.map((j, s) => {
      const c: Choice = t.choices[j];
      return { state: p.states[s].name, draftTokens: c.gamma, threshold: c.gamma === 0 ? null : p.options[c.option].threshold };
    }),
  };
}

/** Reads the chosen option of each state from x columns laid out state-major. */
function readPicks(p: SpeculativeProblem, values: readonly number[], xStart: number): number[] {
  const n = roundTable(p).choices.length;
  return p.states.map((_, s) => {
    let best = 0;
    for (let j = 1; j < n; j++) if (values[xStart + s * n + j] > values[xStart + s * n + best]) best = j;
    return best;
  });
}

function totalTokenRange(p: SpeculativeProblem): { min: number; max: number } {
  const t = roundTable(p);
  let min = 0;
  let max = 0;
  p.stationary.forEach((pi, s) => {
    min += pi * Math.min(...t.tokens[s]);
    max += pi * Math.max(...t.tokens[s]);
  });
  return { min, max };
}

/** The full ratio MILP (Charnes–Cooper); `warmPicks` (a feasible policy) becomes the warm start. */
export function compile(p: SpeculativeProblem, warmPicks?: readonly number[]): Compiled<PerStateDecision> {
  const t = roundTable(p);
  const n = t.choices.length;
  const S = p.states.length;
  const b = new ModelBuilder('speculative-threshold', 'min');
  const { min: minTokens, max: maxTokens } = totalTokenRange(p);
  const upper = 1 / minTokens;
  const lower = 1 / maxTokens;
  const xStart = b.variableCount;
  for (let s = 0; s < S; s++) for (let j = 0; j < n; j++) b.binary(`x_s${s}_c${j}`);
  const yStart = b.variableCount;
  for (let s = 0; s < S; s++) for (let j = 0; j < n; j++) b.addVariable(`y_s${s}_c${j}`, { lower: 0, upper });
  const tCol = b.addVariable('t_inverse_tokens', { lower, upper });
  const x = (s: number, j: number): number => xStart + s * n + j;
  const y = (s: number, j: number): number => yStart + s * n + j;
  const norm: Term[] = [];
  const budget: Term[] = [];
  const B = p.energyBudgetJoulesPerToken;
  for (let s = 0; s < S; s++) {
    const pi = p.stationary[s];
    const oneHot: Term[] = [];
    const link: Term[] = [term(tCol, -1)];
    for (let j = 0; j < n; j++) {
      oneHot.push(term(x(s, j)));
      link.push(term(y(s, j)));
      b.lessEqual(`y_le_Ux_s${s}_c${j}`, [term(y(s, j)), term(x(s, j), -upper)], 0);
      if (pi > 0) {
        b.addObjective(y(s, j), pi * t.cost[s][j]);
        norm.push(term(y(s, j), pi * t.tokens[s][j]));
        if (B !== null) budget.push(term(y(s, j), pi * (t.joules[s][j] - B * t.tokens[s][j])));
      }
    }
    b.equal(`one_choice_s${s}`, oneHot, 1);
    b.equal(`y_sums_to_t_s${s}`, link, 0);
  }
  b.equal('tokens_normalised', norm, 1);
  if (B !== null) b.lessEqual('energy_budget', budget, 0);
  const model = b.build();
  let warmStart: number[] | undefined;
  if (warmPicks) {
    let tokens = 0;
    p.stationary.forEach((pi, s) => (tokens += pi * t.tokens[s][warmPicks[s]]));
    const tv = 1 / tokens;
    warmStart = new Array<number>(model.variables.length).fill(0);
    for (let s = 0; s < S; s++) {
      warmStart[x(s, warmPicks[s])] = 1;
      warmStart[y(s, warmPicks[s])] = tv;
    }
    warmStart[tCol] = tv;
  }
  return { model, decode: (values) => decisionFromPicks(p, readPicks(p, values, xStart)), warmStart };
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
export function parametricModel(p: SpeculativeProblem, lambda: number): { model: Model; scale: number; columns: { state: number; choice: number }[]; decodePicks(values: readonly number[]): number[] } {
  const t = roundTable(p);
  const n = t.choices.length;
  const S = p.states.length;
  const scale = lambda > 0 ? 1 / lambda : 1;
  const B = p.energyBudgetJoulesPerToken ?? 0;
  const b = new ModelBuilder(`speculative-threshold-dinkelbach`, 'min');
  const columns: { state: number; choice: number }[] = [];
  const budget: Term[] = [];
  for (let s = 0; s < S; s++) {
    const pi = p.stationary[s];
    const obj = new Float64Array(n);
    const bud = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      obj[j] = t.cost[s][j] - lambda * t.tokens[s][j];
      bud[j] = t.joules[s][j] - B * t.tokens[s][j];
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
