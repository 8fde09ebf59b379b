/**
 * Exact method for the server-separable case: when every (user, model) request can be served
 * by at most one server, the hit (or latency saved) of a model on a server does not depend on
 * any other server, so the problem splits into one problem per server. Each server's problem is
 * a set-union knapsack; it is solved exactly by enumerating the subsets of each group of models
 * that share blocks (a "family": connected through shared blocks) and merging the families'
 * (storage, value) Pareto frontiers. With more than one covering server per request the hit is
 * an OR over servers — maximum coverage is a special case, NP-hard — and the MILP is used.
 */
import type { ExactContext, ExactResult } from '../types.ts';
import { fitsStorage, storageBytes } from './cost.ts';
import { toDecision } from './decision.ts';
import { demandGroups } from './milp.ts';
import type { Decision, Problem } from './schema.ts';

/** Largest family whose subsets are enumerated (2^16 subsets). */
export const MAX_FAMILY_SIZE = 16;
/** Frontier size above which the merge is abandoned in favour of the MILP. */
const MAX_FRONTIER = 200_000;

export function notApplicable(problem: Problem): string | null {
  for (const g of demandGroups(problem))
    if (g.options.length > 1)
      return `requests for ${problem.models[g.model].id} can be served by ${g.options.length} servers, which couples the servers (the hit is an OR over them)`;
  for (const fam of families(
    problem,
    problem.models.map((_, k) => k),
  ))
    if (fam.length > MAX_FAMILY_SIZE)
      return `a family of ${fam.length} models sharing blocks exceeds the ${MAX_FAMILY_SIZE} that are enumerated exactly`;
  return null;
}

/** Connected components of models linked by shared blocks (each model alone without sharing). */
function families(problem: Problem, models: readonly number[]): number[][] {
  if (!problem.parameterSharing) return models.map((m) => [m]);
  const parent = new Map<number, number>(models.map((m) => [m, m]));
  const find = (a: number): number => {
    let r = a;
    while (parent.get(r) !== r) r = parent.get(r) as number;
    parent.set(a, r);
    return r;
  };
  const owner = new Map<number, number>();
  for (const m of models)
    for (const b of problem.models[m].blocks) {
      const o = owner.get(b);
      if (o === undefined) owner.set(b, m);
      else parent.set(find(m), find(o));
    }
  const comps = new Map<number, number[]>();
  for (const m of models) {
    const r = find(m);
    const list = comps.get(r) ?? [];
    list.push(m);
    comps.set(r, list);
  }
  return [...comps.values()];
}

interface Point {
  readonly bytes: number;
  readonly value: number;
  readonly models: readonly number[];
}

/** Keeps the points no other point beats on both storage and value; sorted by storage. */
function pareto(points: Point[]): Point[] {
  points.sort((a, b) => a.bytes - b.bytes || b.value - a.value);
  const out: Point[] = [];
  for (const p of points) if (out.length === 0 || p.value > out[out.length - 1].value + 1e-15) out.push(p);
  return out;
}

function solveServer(problem: Problem, value: Map<number, number>, capacity: number): Point | null {
  const useful = [...value.keys()].filter((m) => (value.get(m) as number) > 0);
  let frontier: Point[] = [{ bytes: 0, value: 0, models: [] }];
  for (const fam of families(problem, useful)) {
    const options: Point[] = [];
    for (let mask = 0; mask < 1 << fam.length; mask++) {
      const models = fam.filter((_, i) => mask & (1 << i));
      const bytes = storageBytes(problem, models);
      if (!fitsStorage(bytes, capacity)) continue;
      options.push({ bytes, value: models.reduce((s, m) => s + (value.get(m) as number), 0), models });
    }
    const famFront = pareto(options);
    const merged: Point[] = [];
    for (const a of frontier)
      for (const o of famFront) {
        const bytes = a.bytes + o.bytes;
        if (fitsStorage(bytes, capacity))
          merged.push({
            bytes,
            value: a.value + o.value,
            models: o.models.length === 0 ? a.models : [...a.models, ...o.models],
          });
      }
    frontier = pareto(merged);
    if (frontier.length > MAX_FRONTIER) return null;
  }
  return frontier.reduce((best, p) => (p.value > best.value ? p : best), frontier[0]);
}

/** Valued with the cost functions only; needs no incumbent (it enumerates) and no time limit (it is fast). */
export async function solveExact(problem: Problem, context: ExactContext<Decision>): Promise<ExactResult<Decision>> {
  const why = notApplicable(problem);
  if (why) return { termination: 'error', decision: null, message: `exact method does not apply: ${why}` };
  const perServer = problem.servers.map(() => new Map<number, number>());
  for (const g of demandGroups(problem)) {
    const o = g.options[0];
    const values = perServer[o.server];
    values.set(g.model, (values.get(g.model) ?? 0) + g.mass * o.gain);
  }
  const sets: number[][] = [];
  let gained = 0;
  for (let n = 0; n < problem.servers.length; n++) {
    context.progress?.(`server ${n + 1} of ${problem.servers.length}`);
    const best = solveServer(problem, perServer[n], problem.servers[n].storageBytes);
    if (!best) {
      const message = `server ${problem.servers[n].id}: the Pareto frontier grew past ${MAX_FRONTIER} points`;
      return { termination: 'error', decision: null, message };
    }
    gained += best.value;
    sets.push([...best.models]);
  }
  const objective = problem.objective === 'hit-ratio' ? gained : (problem.cloudLatencySeconds as number) - gained;
  const details = { method: 'per-server set-union knapsack, family subsets + Pareto merge' };
  return { termination: 'optimal', decision: toDecision(problem, sets), bound: objective, details };
}
