/**
 * Online view of the caching problem (seed §IV-3; companion paper 003): replay a request trace
 * against an eviction policy and report hit ratios over time, next to the offline optimum used
 * as a static cache.
 *
 * A request (user, model) hits when some server that covers the user holds the model. On a miss
 * the model is fetched into the user's best covering server (lowest serve latency) and cached
 * there; models are evicted by the policy until the union of blocks fits.
 * - `lru`: evict the least recently used model.
 * - `laoc` (least age of context): each cached model keeps a context score, the sum over its past
 *   uses of δ^(age of the use in requests); evict the lowest. The companion paper names the
 *   policy without a formula in its abstract; this exponentially aged use count is our reading,
 *   documented in docs/formulations/model-caching.md.
 * - `static`: a fixed placement (e.g. the offline optimum); nothing is fetched or evicted.
 */
import { mulberry32 } from '../../util/random.ts';
import { storageBytes } from './cost.ts';
import { cachedSets } from './evaluate.ts';
import type { Decision, Problem } from './schema.ts';

export interface Request {
  readonly user: number;
  readonly model: number;
}

export type ReplayPolicy = { kind: 'lru' } | { kind: 'laoc'; decay: number } | { kind: 'static'; name: string; decision: Decision };

export interface ReplayResult {
  readonly policy: string;
  readonly requests: number;
  readonly hits: number;
  readonly hitRatio: number;
  /** Hit ratio of each consecutive window of requests. */
  readonly windows: readonly { readonly endRequest: number; readonly hitRatio: number }[];
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

function bestCoveringServer(problem: Problem, user: number, model: number): number | null {
  let best: number | null = null;
  problem.servers.forEach((_, n) => {
    const t = problem.latencySeconds[user][n][model];
    if (t !== null && (best === null || t < (problem.latencySeconds[user][best][model] as number))) best = n;
  });
  return best;
}

function policyName(policy: ReplayPolicy): string {
  return policy.kind === 'static' ? policy.name : policy.kind === 'laoc' ? `laoc(δ=${policy.decay})` : 'lru';
}

export function replay(problem: Problem, trace: readonly Request[], policy: ReplayPolicy, windowSize = 100): ReplayResult {
  const N = problem.servers.length;
  const held: Map<number, { last: number; score: number }>[] = Array.from({ length: N }, () => new Map());
  if (policy.kind === 'static') cachedSets(problem, policy.decision).sets.forEach((set, n) => set.forEach((m) => held[n].set(m, { last: -1, score: 0 })));

  const scoreAt = (e: { last: number; score: number }, now: number): number => (policy.kind === 'laoc' ? e.score * policy.decay ** (now - e.last) : e.last);
  const touch = (n: number, m: number, now: number): void => {
    const e = held[n].get(m);
    if (!e) return;
    const score = policy.kind === 'laoc' ? e.score * policy.decay ** (now - e.last) + 1 : 0;
    held[n].set(m, { last: now, score });
  };

  let hits = 0;
  let windowHits = 0;
  const windows: { endRequest: number; hitRatio: number }[] = [];
  trace.forEach((req, now) => {
    let server: number | null = null;
    problem.servers.forEach((_, n) => {
      const t = problem.latencySeconds[req.user][n][req.model];
      if (t !== null && held[n].has(req.model) && (server === null || t < (problem.latencySeconds[req.user][server][req.model] as number))) server = n;
    });
    if (server !== null) {
      hits++;
      windowHits++;
      touch(server, req.model, now);
    } else if (policy.kind !== 'static') {
      const target = bestCoveringServer(problem, req.user, req.model);
      if (target !== null && problem.models[req.model].sizeBytes <= problem.servers[target].storageBytes) {
        const cache = held[target];
        cache.set(req.model, { last: now, score: 1 });
        while (storageBytes(problem, cache.keys()) > problem.servers[target].storageBytes) {
          let victim = -1;
          let victimScore = Infinity;
          for (const [m, e] of cache) {
            if (m === req.model) continue;
            const s = scoreAt(e, now);
            if (s < victimScore) {
              victim = m;
              victimScore = s;
            }
          }
          cache.delete(victim);
        }
      }
    }
    if ((now + 1) % windowSize === 0 || now === trace.length - 1) {
      const size = now % windowSize + 1;
      windows.push({ endRequest: now + 1, hitRatio: windowHits / size });
      windowHits = 0;
    }
  });
  return { policy: policyName(policy), requests: trace.length, hits, hitRatio: trace.length > 0 ? hits / trace.length : 0, windows };
}
