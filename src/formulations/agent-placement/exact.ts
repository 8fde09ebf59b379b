/**
 * Exact method for agent placement. Users are coupled only through the servers (memory with
 * shared blocks, load); everything else — critical path, device memory, SLO, network bytes — is
 * one user's business. So:
 *
 * 1. Per user, every placement of its modules (≤ (1 + servers)^modules) is enumerated and valued
 *    with the cost functions; those that break the device memory, a pin, a link or the SLO go.
 * 2. A candidate that is no better in value and uses no more of any server (a subset of its
 *    blocks, no more KV, no more load on every server) than another is dropped: whatever the other
 *    users do, swapping it in keeps the rest feasible and the objective no worse.
 * 3. Sum objectives (mean latency, network load): depth-first branch and bound over users, the
 *    candidates of each in increasing value; bound = the partial sum + every later user's best
 *    candidate alone. Worst latency: binary search over the candidates' distinct latencies T; a
 *    threshold is feasible when some choice of candidates with latency ≤ T fits every server
 *    (depth-first, dominance on resources only), and the smallest feasible T is the optimum.
 *
 * Both searches are complete, so the answer is optimal with bound = objective; on the time limit
 * the best decision found is returned with a valid bound (the sum of per-user minima, or the
 * largest threshold proven infeasible's successor).
 */
import type { ExactContext, ExactResult } from '../types.ts';
import { fits } from './cost.ts';
import { choices, enumerate, MAX_CANDIDATES_PER_USER, prune, type Candidate, type ServerUse } from './candidates.ts';
import { readDecision, toDecision } from './decision.ts';
import { compileCandidates } from './milp.ts';
import type { Decision, Problem } from './schema.ts';

export function notApplicable(problem: Problem): string | null {
  for (let u = 0; u < problem.users.length; u++) {
    const count = choices(problem, u).reduce((p, c) => p * Math.max(1, c.length), 1);
    if (count > MAX_CANDIDATES_PER_USER)
      return `user ${problem.users[u].id} has ${count} placements, more than the ${MAX_CANDIDATES_PER_USER} enumerated`;
  }
  return null;
}

class Timeout extends Error {}

/** Server state of the search: block reference counts, bytes used, load. */
class Servers {
  private readonly count: Int32Array[];
  private readonly used: Float64Array;
  private readonly busy: Float64Array;
  constructor(private readonly problem: Problem) {
    this.count = problem.servers.map(() => new Int32Array(problem.blocks.length));
    this.used = new Float64Array(problem.servers.length);
    this.busy = new Float64Array(problem.servers.length);
  }
  /** Adds a candidate's resources when they fit; returns whether it did. */
  add(c: Candidate): boolean {
    for (const use of c.uses) {
      const n = use.server;
      let extra = use.kvBytes;
      for (const b of use.blocks) if (this.count[n][b] === 0) extra += this.problem.blocks[b].bytes;
      const s = this.problem.servers[n];
      if (!fits(this.used[n] + extra, s.memoryBytes) || !fits(this.busy[n] + use.busy, s.maxUtilisation)) return false;
    }
    for (const use of c.uses) this.apply(use, 1);
    return true;
  }
  remove(c: Candidate): void {
    for (const use of c.uses) this.apply(use, -1);
  }
  private apply(use: ServerUse, sign: 1 | -1): void {
    const n = use.server;
    for (const b of use.blocks) {
      if (sign === 1 && this.count[n][b]++ === 0) this.used[n] += this.problem.blocks[b].bytes;
      if (sign === -1 && --this.count[n][b] === 0) this.used[n] -= this.problem.blocks[b].bytes;
    }
    this.used[n] += sign * use.kvBytes;
    this.busy[n] += sign * use.busy;
  }
}

/** Share of the time limit the combinatorial search gets before the candidate MILP takes over. */
const SEARCH_SHARE = 0.25;
/** The search's budget without a time limit (and its cap with one), in ms. */
const SEARCH_MAX_MS = 500;

/**
 * The combinatorial search first (milliseconds on the examples); when it has not finished in its
 * budget — many users contending for the same servers — the same candidate lists go to the
 * candidate-selection MILP (milp.ts) through the chain's backend, warm-started with the search's
 * best placement. Both are exact over the same candidates; the MILP's bound is its solver's.
 */
export async function solveExact(problem: Problem, context: ExactContext<Decision>): Promise<ExactResult<Decision>> {
  const why = notApplicable(problem);
  if (why) return { termination: 'error', decision: null, message: `exact method does not apply: ${why}` };
  const started = performance.now();
  const limitMs = (context.timeLimitSeconds ?? Infinity) * 1000;
  const searchMs = Math.min(SEARCH_MAX_MS, SEARCH_SHARE * limitMs);
  // Enumerated once: the search and, when its budget runs out, the candidate MILP use the same lists.
  const lists = problem.users.map((_, u) => enumerate(problem, u));
  const searched = searchExact(problem, lists, context, started + searchMs);
  if (searched.termination !== 'time_limit') return searched;
  const leftSeconds = (limitMs - (performance.now() - started)) / 1000;
  if (leftSeconds <= 0) return searched;
  const compiled = compileCandidates(
    problem,
    lists.map((l) => prune(l, true)),
  );
  const warm = searched.decision ? compiled.encode?.(searched.decision) : null;
  context.progress?.('candidate MILP', { bound: searched.bound });
  const result = await context.solveMilp(compiled.model, {
    ...(Number.isFinite(leftSeconds) ? { timeLimitSeconds: leftSeconds } : {}),
    mipGap: context.mipGap,
    ...(warm ? { warmStart: warm } : {}),
  });
  const details = {
    method: 'search budget spent; candidate-selection MILP',
    searchDetails: searched.details,
    backend: result.backend,
    columns: compiled.model.variables.length,
    rows: compiled.model.constraints.length,
  };
  if (!result.solution) {
    if (result.termination === 'infeasible')
      return { termination: 'infeasible', decision: null, message: 'the candidate MILP is infeasible', details };
    return { ...searched, details: { ...details, milpTermination: result.termination, milpMessage: result.message } };
  }
  const bound = Math.max(result.solution.bound ?? -Infinity, searched.bound ?? -Infinity);
  return {
    termination: result.termination,
    decision: compiled.decode(result.solution.values),
    ...(Number.isFinite(bound) ? { bound } : {}),
    ...(result.message ? { message: result.message } : {}),
    details,
  };
}

function searchExact(
  problem: Problem,
  lists: readonly Candidate[][],
  context: ExactContext<Decision>,
  deadline: number,
): ExactResult<Decision> {
  const stuck = lists.findIndex((l) => l.length === 0);
  if (stuck >= 0)
    return {
      termination: 'infeasible',
      decision: null,
      message: `user ${problem.users[stuck].id}: no placement fits its device memory, pins, links and SLO`,
    };
  let nodes = 0;
  const tick = (): void => {
    if (++nodes % 2048 === 0 && performance.now() > deadline) throw new Timeout();
  };
  const details = (extra: Record<string, unknown>): Record<string, unknown> => ({
    method: 'per-user enumeration, dominance, search over users',
    candidates: lists.reduce((s, l) => s + l.length, 0),
    nodes,
    ...extra,
  });

  // The chain's incumbent, valued with the cost functions (its candidates must exist in the lists).
  let incumbent: Candidate[] | null = null;
  if (context.incumbent) {
    const { locs, violations } = readDecision(problem, context.incumbent);
    if (violations.length === 0) {
      const picked = locs.map((l, u) => lists[u].find((c) => c.locs.every((x, k) => x === l[k])) ?? null);
      const servers = new Servers(problem);
      if (picked.every((c) => c !== null && servers.add(c))) incumbent = picked as Candidate[];
    }
  }

  if (problem.objective === 'worst-latency') return solveWorst(problem, lists, incumbent, tick, details, context);

  const pruned = lists.map((l) => prune(l, true));
  const order = pruned.map((_, u) => u).sort((a, b) => pruned[a].length - pruned[b].length || a - b);
  const suffix = new Array<number>(order.length + 1).fill(0);
  for (let d = order.length - 1; d >= 0; d--) suffix[d] = suffix[d + 1] + pruned[order[d]][0].weighted;
  const rootBound = suffix[0];
  let best = incumbent ? incumbent.reduce((s, c) => s + c.weighted, 0) : Infinity;
  let bestPick: Candidate[] | null = incumbent;
  const servers = new Servers(problem);
  const pick: Candidate[] = new Array<Candidate>(problem.users.length);
  const dfs = (depth: number, partial: number): void => {
    if (depth === order.length) {
      if (partial < best) {
        best = partial;
        bestPick = [...pick];
        context.progress?.('new incumbent', { incumbent: best, bound: rootBound });
      }
      return;
    }
    const u = order[depth];
    for (const c of pruned[u]) {
      tick();
      if (partial + c.weighted + suffix[depth + 1] >= best) break;
      if (!servers.add(c)) continue;
      pick[u] = c;
      dfs(depth + 1, partial + c.weighted);
      servers.remove(c);
    }
  };
  try {
    dfs(0, 0);
  } catch (e) {
    if (!(e instanceof Timeout)) throw e;
    const decision = bestPick
      ? toDecision(
          problem,
          (bestPick as Candidate[]).map((c) => c.locs),
        )
      : null;
    return { termination: 'time_limit', decision, bound: rootBound, details: details({ rootBound }) };
  }
  if (!bestPick)
    return {
      termination: 'infeasible',
      decision: null,
      message: 'no choice of placements fits the servers’ memory and load caps',
      details: details({}),
    };
  const decision = toDecision(
    problem,
    (bestPick as Candidate[]).map((c) => c.locs),
  );
  return { termination: 'optimal', decision, bound: best, details: details({ rootBound }) };
}

function solveWorst(
  problem: Problem,
  lists: readonly Candidate[][],
  incumbent: Candidate[] | null,
  tick: () => void,
  details: (extra: Record<string, unknown>) => Record<string, unknown>,
  context: ExactContext<Decision>,
): ExactResult<Decision> {
  const values = [...new Set(lists.flatMap((l) => l.map((c) => c.value)))].sort((a, b) => a - b);
  const floor = lists.reduce((m, l) => Math.max(m, l[0].value), 0);
  let lo = values.indexOf(floor);
  const incumbentValue = incumbent ? incumbent.reduce((m, c) => Math.max(m, c.value), 0) : Infinity;
  let hi = incumbent ? values.findIndex((v) => v >= incumbentValue) : values.length - 1;
  if (hi < 0) hi = values.length - 1;
  let bestPick: Candidate[] | null = incumbent;

  /** A choice with every candidate's latency ≤ threshold that fits the servers, or null. */
  const feasible = (threshold: number): Candidate[] | null => {
    const allowed = lists.map((l) =>
      prune(
        l.filter((c) => c.value <= threshold),
        false,
      ),
    );
    if (allowed.some((l) => l.length === 0)) return null;
    const order = allowed.map((_, u) => u).sort((a, b) => allowed[a].length - allowed[b].length || a - b);
    const servers = new Servers(problem);
    const pick: Candidate[] = new Array<Candidate>(problem.users.length);
    const dfs = (depth: number): boolean => {
      if (depth === order.length) return true;
      const u = order[depth];
      for (const c of allowed[u]) {
        tick();
        if (!servers.add(c)) continue;
        pick[u] = c;
        if (dfs(depth + 1)) return true;
        servers.remove(c);
      }
      return false;
    };
    return dfs(0) ? pick : null;
  };

  const decisionOf = (p: Candidate[] | null): Decision | null =>
    p
      ? toDecision(
          problem,
          p.map((c) => c.locs),
        )
      : null;
  try {
    if (!incumbent) {
      const top = feasible(values[hi]);
      if (!top)
        return {
          termination: 'infeasible',
          decision: null,
          message: 'no choice of placements fits the servers’ memory and load caps',
          details: details({ thresholds: values.length }),
        };
      bestPick = top;
    }
    // Invariant: values[hi] is achieved by bestPick; every threshold below values[lo] is infeasible.
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const found = feasible(values[mid]);
      if (found) {
        hi = mid;
        bestPick = found;
        context.progress?.('threshold feasible', { incumbent: values[mid], bound: values[lo] });
      } else lo = mid + 1;
    }
  } catch (e) {
    if (!(e instanceof Timeout)) throw e;
    return { termination: 'time_limit', decision: decisionOf(bestPick), bound: values[lo], details: details({}) };
  }
  const objective = (bestPick as Candidate[]).reduce((m, c) => Math.max(m, c.value), 0);
  return {
    termination: 'optimal',
    decision: decisionOf(bestPick),
    bound: objective,
    details: details({ thresholds: values.length }),
  };
}
