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
import { blockBytes, fits, interactionBytes, interactionSeconds, userValue } from './cost.ts';
import { readDecision, toDecision } from './decision.ts';
import type { Decision, Problem } from './schema.ts';

/** Placements enumerated per user at most. */
export const MAX_CANDIDATES_PER_USER = 200_000;
/** Above this many candidates the quadratic dominance filter is skipped (the search stays exact). */
const MAX_DOMINANCE = 4_000;

interface ServerUse {
  readonly server: number;
  readonly blocks: readonly number[];
  readonly kvBytes: number;
  readonly busy: number;
}

interface Candidate {
  readonly locs: readonly number[];
  /** Per-user objective value: seconds (latency objectives) or bit/s (network). */
  readonly value: number;
  /** Its share in a sum objective (rate-weighted for the mean). */
  readonly weighted: number;
  readonly uses: readonly ServerUse[];
}

function choices(problem: Problem, user: number): number[][] {
  return problem.users[user].computeSeconds.map((row) =>
    row.map((t, loc) => (t === null ? -1 : loc)).filter((loc) => loc >= 0),
  );
}

export function notApplicable(problem: Problem): string | null {
  for (let u = 0; u < problem.users.length; u++) {
    const count = choices(problem, u).reduce((p, c) => p * Math.max(1, c.length), 1);
    if (count > MAX_CANDIDATES_PER_USER)
      return `user ${problem.users[u].id} has ${count} placements, more than the ${MAX_CANDIDATES_PER_USER} enumerated`;
  }
  return null;
}

/** Server resources of one user's placement; null when it breaks the device memory. */
function serverUses(problem: Problem, user: number, locs: readonly number[]): ServerUse[] | null {
  const u = problem.users[user];
  const modules = problem.tasks[u.task].modules;
  const blocksAt = new Map<number, Set<number>>();
  const kvAt = new Map<number, number>();
  const busyAt = new Map<number, number>();
  modules.forEach((m, k) => {
    const loc = locs[k];
    const set = blocksAt.get(loc) ?? new Set<number>();
    m.blocks.forEach((b) => set.add(b));
    blocksAt.set(loc, set);
    kvAt.set(loc, (kvAt.get(loc) ?? 0) + m.kvBytes);
    if (loc > 0) busyAt.set(loc, (busyAt.get(loc) ?? 0) + u.rate * u.loadSeconds[k][loc]);
  });
  const onDevice = blocksAt.get(0);
  if (onDevice && !fits(blockBytes(problem, onDevice) + (kvAt.get(0) ?? 0), u.memoryBytes)) return null;
  const uses: ServerUse[] = [];
  for (const [loc, set] of blocksAt)
    if (loc > 0)
      uses.push({
        server: loc - 1,
        blocks: [...set].sort((a, b) => a - b),
        kvBytes: kvAt.get(loc) ?? 0,
        busy: busyAt.get(loc) ?? 0,
      });
  return uses.sort((a, b) => a.server - b.server);
}

function enumerate(problem: Problem, user: number): Candidate[] {
  const u = problem.users[user];
  const options = choices(problem, user);
  if (options.some((o) => o.length === 0)) return [];
  const totalRate = problem.users.reduce((s, x) => s + x.rate, 0);
  const out: Candidate[] = [];
  const digit = options.map(() => 0);
  for (;;) {
    const locs = digit.map((d, k) => options[k][d]);
    const seconds = interactionSeconds(problem, user, locs);
    const uses =
      Number.isFinite(seconds) && (u.sloSeconds === null || fits(seconds, u.sloSeconds))
        ? serverUses(problem, user, locs)
        : null;
    if (uses) {
      const value = userValue(problem, user, seconds, interactionBytes(problem, user, locs));
      const weighted = problem.objective === 'mean-latency' ? (u.rate / totalRate) * value : value;
      out.push({ locs, value, weighted, uses });
    }
    let k = 0;
    while (k < digit.length && ++digit[k] === options[k].length) digit[k++] = 0;
    if (k === digit.length) break;
  }
  return out.sort((a, b) => a.value - b.value);
}

function usesNoMore(a: Candidate, b: Candidate): boolean {
  for (const ua of a.uses) {
    const ub = b.uses.find((x) => x.server === ua.server);
    if (!ub || ua.kvBytes > ub.kvBytes || ua.busy > ub.busy) return false;
    if (!ua.blocks.every((blk) => ub.blocks.includes(blk))) return false;
  }
  return true;
}

/** Drops candidates another one dominates (value no worse when `byValue`, resources no more). */
function prune(list: readonly Candidate[], byValue: boolean): Candidate[] {
  if (list.length > MAX_DOMINANCE) return [...list];
  const kept: Candidate[] = [];
  // Sorted by value, so a dominating candidate always comes first (ties: the first kept wins).
  for (const c of list) if (!kept.some((k) => (!byValue || k.value <= c.value) && usesNoMore(k, c))) kept.push(c);
  return kept;
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

export async function solveExact(problem: Problem, context: ExactContext<Decision>): Promise<ExactResult<Decision>> {
  const why = notApplicable(problem);
  if (why) return { termination: 'error', decision: null, message: `exact method does not apply: ${why}` };
  const deadline = performance.now() + (context.timeLimitSeconds ?? Infinity) * 1000;
  const lists = problem.users.map((_, u) => enumerate(problem, u));
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
