/**
 * Online view of the caching problem (seed §IV-3; companion paper 003): replay a request trace
 * against an eviction policy and report, over the trace and per window, the metric the problem
 * optimises (hit ratio, or mean serve latency with cloud fallback) with the hit ratio beside it.
 *
 * A request (u, m) is served at the edge when a server that serves u's requests for m (covers u
 * and, under expected latency, is faster than the cloud — `edgeServes`, the objective's rule)
 * holds m; its latency is the fastest such holder's, else the cloud's.
 * - On a hit, every such holder counts the use (each saw a request from its coverage area), not
 *   only the one that served it: a copy that is the second choice of one user can be the first
 *   of another, and must not age as if unused.
 * - On a miss the model is fetched into one server that serves the request and can hold it: the
 *   fastest; among equally fast ones (always, with coverage given), the one that needs the fewest
 *   extra bytes (blocks it already holds are free), then the one with most free storage. Models
 *   are then evicted by the policy until the union of blocks fits.
 * Policies:
 * - `lru`: evict the least recently used model.
 * - `laoc` (least age of context): each cached model keeps a context score, the sum over its past
 *   uses of δ^(age of the use in requests); evict the lowest. The companion paper names the
 *   policy without a formula in its abstract; this exponentially aged use count is our reading.
 * - `belady`: offline reference (it reads the future trace): evict the model whose next request
 *   served by that server is farthest away, the newly fetched one included (then it is not kept).
 *   Belady's MIN, optimal for one cache of equal-size items; with shared blocks, unequal sizes
 *   and several servers it is the classical farthest-next-use rule, not a proven optimum.
 * - `static`: a fixed placement (e.g. the offline optimum); nothing is fetched or evicted.
 */
import { mulberry32 } from '../../util/random.ts';
import { edgeServes, fitsStorage, storageBytes } from './cost.ts';
import { cachedSets } from './decision.ts';
import type { Decision, Problem } from './schema.ts';

export interface Request {
  readonly user: number;
  readonly model: number;
}

export type ReplayPolicy =
  | { kind: 'lru' }
  | { kind: 'laoc'; decay: number }
  | { kind: 'belady' }
  | { kind: 'static'; name: string; decision: Decision };

export interface ReplayWindow {
  readonly endRequest: number;
  readonly hitRatio: number;
  /** Mean serve latency over the window; present under the expected-latency objective. */
  readonly meanLatencySeconds?: number;
}

export interface ReplayResult {
  readonly policy: string;
  /** What the problem optimises, and so what `value` measures. */
  readonly objective: Problem['objective'];
  /** The optimised metric over the trace: the hit ratio, or the mean serve latency (s). */
  readonly value: number;
  readonly requests: number;
  readonly hits: number;
  /** Share of requests served at the edge (reported beside the latency under that objective). */
  readonly hitRatio: number;
  /** Mean serve latency with cloud fallback; present under the expected-latency objective. */
  readonly meanLatencySeconds?: number;
  /** Models fetched into an edge server over the trace. */
  readonly fetches: number;
  /** Per consecutive window of requests. */
  readonly windows: readonly ReplayWindow[];
}

function sample(weights: readonly number[], r: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i];
    if (r < acc) return i;
  }
  let last = weights.length - 1;
  while (last > 0 && weights[last] === 0) last--;
  return last;
}

/** A trace drawn from the problem's own request model: user by share, model by the user's probabilities. */
export function generateTrace(problem: Problem, requests: number, seed: number): Request[] {
  const rand = mulberry32(seed);
  const shares = problem.users.map((u) => u.share);
  const trace: Request[] = [];
  for (let i = 0; i < requests; i++) {
    const user = sample(shares, rand());
    trace.push({ user, model: sample(problem.users[user].requests, rand()) });
  }
  return trace;
}

function policyName(policy: ReplayPolicy): string {
  if (policy.kind === 'static') return policy.name;
  if (policy.kind === 'laoc') return `laoc(δ=${policy.decay})`;
  return policy.kind;
}

/** For Belady: per (server, model), the trace positions of the requests that server would serve. */
function futureUses(problem: Problem, trace: readonly Request[]): Map<number, number[]> {
  const M = problem.models.length;
  const uses = new Map<number, number[]>();
  trace.forEach((r, i) => {
    problem.servers.forEach((_, n) => {
      if (!edgeServes(problem, r.user, n, r.model)) return;
      const key = n * M + r.model;
      const list = uses.get(key);
      if (list) list.push(i);
      else uses.set(key, [i]);
    });
  });
  return uses;
}

/** First entry of a sorted list after `now` (Infinity when none). */
function nextAfter(list: readonly number[] | undefined, now: number): number {
  if (!list) return Infinity;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] <= now) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length ? list[lo] : Infinity;
}

interface Entry {
  last: number;
  score: number;
}

export function replay(
  problem: Problem,
  trace: readonly Request[],
  policy: ReplayPolicy,
  windowSize = 100,
): ReplayResult {
  const N = problem.servers.length;
  const M = problem.models.length;
  const latencyObjective = problem.objective === 'expected-latency';
  const cloud = problem.cloudLatencySeconds ?? 0;
  const held: Map<number, Entry>[] = Array.from({ length: N }, () => new Map());
  if (policy.kind === 'static') {
    cachedSets(problem, policy.decision).sets.forEach((set, n) =>
      set.forEach((m) => held[n].set(m, { last: -1, score: 0 })),
    );
  }
  const future = policy.kind === 'belady' ? futureUses(problem, trace) : null;

  const laocScore = (e: Entry, now: number, decay: number): number => e.score * decay ** (now - e.last);
  const touch = (n: number, m: number, now: number): void => {
    const e = held[n].get(m);
    if (!e) return;
    held[n].set(m, { last: now, score: policy.kind === 'laoc' ? laocScore(e, now, policy.decay) + 1 : 0 });
  };
  /** The model the policy evicts from server n; `incoming` may be chosen only by Belady (bypass). */
  const victim = (n: number, incoming: number, now: number): number => {
    let chosen = -1;
    let chosenKey = 0;
    for (const [m, e] of held[n]) {
      let key: number;
      if (policy.kind === 'belady') key = -nextAfter(future?.get(n * M + m), now);
      else if (m === incoming) continue;
      else key = policy.kind === 'laoc' ? laocScore(e, now, policy.decay) : e.last;
      // Lowest key evicted; on a tie Belady drops the incoming model (nothing was gained by keeping it).
      if (chosen < 0 || key < chosenKey || (key === chosenKey && m === incoming)) {
        chosen = m;
        chosenKey = key;
      }
    }
    return chosen;
  };
  const fetchTarget = (req: Request): number | null => {
    let best: number | null = null;
    let bestKey: [number, number, number] = [0, 0, 0];
    problem.servers.forEach((s, n) => {
      if (!edgeServes(problem, req.user, n, req.model)) return;
      if (!fitsStorage(problem.models[req.model].sizeBytes, s.storageBytes)) return;
      const before = storageBytes(problem, held[n].keys());
      const extra = storageBytes(problem, [...held[n].keys(), req.model]) - before;
      // Fastest, then fewest extra bytes, then most free storage (used − capacity smallest).
      const t = problem.latencySeconds[req.user][n][req.model] as number;
      const key: [number, number, number] = [t, extra, before - s.storageBytes];
      const lexLess = (a: readonly number[], b: readonly number[]): boolean => {
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
        return false;
      };
      const better = best === null || lexLess(key, bestKey);
      if (better) {
        best = n;
        bestKey = key;
      }
    });
    return best;
  };

  let hits = 0;
  let latency = 0;
  let fetches = 0;
  let windowHits = 0;
  let windowLatency = 0;
  const windows: ReplayWindow[] = [];
  trace.forEach((req, now) => {
    let served: number | null = null;
    for (let n = 0; n < N; n++) {
      if (!held[n].has(req.model) || !edgeServes(problem, req.user, n, req.model)) continue;
      const t = problem.latencySeconds[req.user][n][req.model] as number;
      served = served === null ? t : Math.min(served, t);
      touch(n, req.model, now);
    }
    if (served !== null) {
      hits++;
      windowHits++;
    } else if (policy.kind !== 'static') {
      const target = fetchTarget(req);
      if (target !== null) {
        const cache = held[target];
        cache.set(req.model, { last: now, score: 1 });
        fetches++;
        const capacity = problem.servers[target].storageBytes;
        while (!fitsStorage(storageBytes(problem, cache.keys()), capacity)) {
          const v = victim(target, req.model, now);
          if (v < 0) break; // unreachable: the model alone fits (checked by fetchTarget)
          cache.delete(v);
          if (v === req.model) fetches--;
        }
      }
    }
    const t = served ?? cloud;
    latency += t;
    windowLatency += t;
    if ((now + 1) % windowSize === 0 || now === trace.length - 1) {
      const size = (now % windowSize) + 1;
      windows.push({
        endRequest: now + 1,
        hitRatio: windowHits / size,
        ...(latencyObjective ? { meanLatencySeconds: windowLatency / size } : {}),
      });
      windowHits = 0;
      windowLatency = 0;
    }
  });
  const count = trace.length;
  const hitRatio = count > 0 ? hits / count : 0;
  const meanLatency = count > 0 ? latency / count : 0;
  return {
    policy: policyName(policy),
    objective: problem.objective,
    value: latencyObjective ? meanLatency : hitRatio,
    requests: count,
    hits,
    hitRatio,
    ...(latencyObjective ? { meanLatencySeconds: meanLatency } : {}),
    fetches,
    windows,
  };
}
