/**
 * The candidate-selection MILP: each user picks one of its enumerated placements (every placement
 * of its modules that fits its device, pins, links and SLO, less those another candidate
 * dominates — the same lists as the exact search, so the model is exact, not a heuristic
 * restriction); servers hold a block when some chosen candidate needs it there.
 *
 *   x[u][c] ∈ {0,1}, Σ_c x[u][c] = 1                                 one placement per user
 *   Σ_{c ∋ (n,b)} x[u][c] ≤ y[n][b]                                  block b on n when used (per user)
 *   Σ_b bytes_b·y[n][b] + Σ kv(c,n)·x[u][c] ≤ memory_n               memory, in units of memory_n
 *   Σ rate·load(c,n)·x[u][c] ≤ cap_n                                  server load
 *   min Σ w_u·value(c)·x[u][c]   or   min t, t ≥ Σ_c value(c)·x[u][c] (worst user)
 *
 * Dominance is safe for every objective: swapping a candidate for one with no larger value and no
 * more of any server keeps every row satisfied and the objective no worse (max or sum).
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import { FEASIBILITY_RTOL } from '../tolerance.ts';
import type { Compiled } from '../types.ts';
import { readDecision, toDecision } from './decision.ts';
import { enumerate, prune, type Candidate } from './candidates.ts';
import type { Decision, Problem } from './schema.ts';

export interface CandidateModel extends Compiled<Decision> {
  readonly candidates: readonly (readonly Candidate[])[];
}

/** Candidates per user (enumerated and dominance-pruned) → the model. */
export function compileCandidates(problem: Problem, lists: readonly (readonly Candidate[])[]): CandidateModel {
  const worst = problem.objective === 'worst-latency';
  const b = new ModelBuilder('agent-placement', 'min');
  const x = lists.map((list, u) => list.map((_, c) => b.binary(`x[${u}][${c}]`)));
  const t = worst ? b.addVariable('t', { lower: 0 }) : -1;
  if (worst) b.addObjective(t, 1);
  const y = new Map<string, number>();
  const memory: Term[][] = problem.servers.map(() => []);
  const load: Term[][] = problem.servers.map(() => []);
  lists.forEach((list, u) => {
    if (list.length === 0) {
      // No placement fits this user: a column fixed at 0 makes the model infeasible, as it is.
      b.equal(`one[${u}]`, [term(b.addVariable(`none[${u}]`, { type: 'binary', upper: 0 }))], 1);
      return;
    }
    b.equal(
      `one[${u}]`,
      x[u].map((col) => term(col)),
      1,
    );
    const users = new Map<string, Term[]>();
    const value: Term[] = [];
    list.forEach((c, k) => {
      if (worst) value.push(term(x[u][k], -c.value));
      else b.addObjective(x[u][k], c.weighted);
      for (const use of c.uses) {
        const n = use.server;
        const cap = problem.servers[n].memoryBytes;
        if (use.kvBytes > 0) memory[n].push(term(x[u][k], cap > 0 ? use.kvBytes / cap : use.kvBytes));
        if (use.busy > 0) load[n].push(term(x[u][k], use.busy));
        for (const blk of use.blocks) {
          const key = `${n}/${blk}`;
          const list2 = users.get(key) ?? [];
          list2.push(term(x[u][k]));
          users.set(key, list2);
        }
      }
    });
    for (const [key, terms] of users) {
      let col = y.get(key);
      if (col === undefined) {
        const [n, blk] = key.split('/').map(Number);
        col = b.binary(`y[${n}][${blk}]`);
        y.set(key, col);
        const cap = problem.servers[n].memoryBytes;
        memory[n].push(term(col, cap > 0 ? problem.blocks[blk].bytes / cap : problem.blocks[blk].bytes));
      }
      b.lessEqual(`needs[${u}][${key}]`, [...terms, term(col, -1)], 0);
    }
    if (worst) b.greaterEqual(`t>=user[${u}]`, [term(t), ...value], 0);
  });
  problem.servers.forEach((s, n) => {
    // Memory in units of the capacity, at the limit the tolerance policy allows.
    if (memory[n].length > 0) b.lessEqual(`memory[${n}]`, memory[n], s.memoryBytes > 0 ? 1 + FEASIBILITY_RTOL : 0);
    if (load[n].length > 0) b.lessEqual(`load[${n}]`, load[n], s.maxUtilisation * (1 + FEASIBILITY_RTOL));
  });
  const model = b.build();
  const chosen = (values: readonly number[]): (Candidate | undefined)[] =>
    lists.map((list, u) => list[x[u].findIndex((col) => values[col] > 0.5)]);
  return {
    model,
    candidates: lists,
    decode(values) {
      const picks = chosen(values);
      return toDecision(
        problem,
        picks.map((c, u) => c?.locs ?? problem.tasks[problem.users[u].task].modules.map(() => 0)),
      );
    },
    encode(decision) {
      const { locs, violations } = readDecision(problem, decision);
      if (violations.length > 0) return null;
      const values = new Array<number>(model.variables.length).fill(0);
      let worstValue = 0;
      for (let u = 0; u < lists.length; u++) {
        const k = lists[u].findIndex((c) => c.locs.every((l, m) => l === locs[u][m]));
        if (k < 0) return null;
        values[x[u][k]] = 1;
        worstValue = Math.max(worstValue, lists[u][k].value);
        for (const use of lists[u][k].uses)
          for (const blk of use.blocks) values[y.get(`${use.server}/${blk}`) as number] = 1;
      }
      if (worst) values[t] = worstValue;
      return values;
    },
  };
}

/** Problem → model only (enumeration with the cost functions; no peer, exact search or evaluate). */
export function compile(problem: Problem): Compiled<Decision> {
  return compileCandidates(
    problem,
    problem.users.map((_, u) => prune(enumerate(problem, u), true)),
  );
}
