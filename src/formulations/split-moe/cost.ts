/**
 * Cost model of split-moe, on the shared roofline and link physics. Per decode step every user
 * generates one token. The device runs the dense parts of every layer (embeddings, attention with
 * its KV cache, routers, shared experts, head), so raw text and the KV cache never leave it, and
 * also the routed experts of its first `cut` MoE layers. In every later MoE layer it sends the
 * token's hidden state to its access server (one round trip), which forwards each expert call to
 * a holder of that expert (over the server-to-server link unless it holds it itself).
 *
 * Expected-value (fluid) view, as moe-placement: a layer's expert phase is charged the expected
 * time of one expert call, Σ_e p_e Σ_s r_es · (hop to s + s's call time); the k calls of a token
 * are issued together. A replica serves its calls in one batched read of the expert's weights; the
 * batch is limited to the roofline knee (beyond it the call would turn compute-bound and slower),
 * so the call time is the one-token roofline and does not grow with load.
 */
import { rooflineTime } from '../../cost/device.ts';
import { downlinkSeconds, uplinkSeconds } from '../../cost/link.ts';
import { withinLimit } from '../tolerance.ts';
import type { SplitMoeProblem } from './schema.ts';

/** Seconds per token of the dense parts on class u's device (weights and the KV cache read once). */
export function denseSeconds(problem: SplitMoeProblem, u: number): number {
  const c = problem.classes[u];
  return rooflineTime(c.device, {
    flops: problem.denseFlopsPerToken,
    memoryTrafficBytes: problem.kvBytesPerToken * c.contextTokens,
    weightBytes: problem.denseBytes,
    calls: problem.denseCalls,
  }).seconds;
}

/** Seconds per token of one MoE layer's routed experts on class u's device (top-k read and run). */
export function deviceLayerSeconds(problem: SplitMoeProblem, u: number): number {
  const k = problem.topK;
  return rooflineTime(problem.classes[u].device, {
    flops: k * problem.expertFlopsPerToken,
    memoryTrafficBytes: 2 * k * problem.activationBytesPerToken,
    weightBytes: k * problem.expertBytes,
    calls: k,
  }).seconds;
}

/** One round trip device ↔ access server carrying one hidden state each way (per remote layer). */
export function linkRoundTripSeconds(problem: SplitMoeProblem, u: number): number {
  const link = problem.classes[u].link;
  return uplinkSeconds(link, problem.activationBytesPerToken) + downlinkSeconds(link, problem.activationBytesPerToken);
}

/** One expert call on server s: the one-token roofline (weights read once, the batch within the knee). */
export function serverCallSeconds(problem: SplitMoeProblem, s: number): number {
  return rooflineTime(problem.servers[s].device, {
    flops: problem.expertFlopsPerToken,
    memoryTrafficBytes: 2 * problem.activationBytesPerToken,
    weightBytes: problem.expertBytes,
    calls: 1,
  }).seconds;
}

/** Access server a → holder s and back: zero when a holds it itself. */
export function hopSeconds(problem: SplitMoeProblem, a: number, s: number): number {
  if (a === s) return 0;
  const link = problem.serverLinks[a][s];
  if (link === null) return Infinity;
  return uplinkSeconds(link, problem.activationBytesPerToken) + downlinkSeconds(link, problem.activationBytesPerToken);
}

/** Time of one expert call of class u served on s (forwarding included). */
export function callSeconds(problem: SplitMoeProblem, u: number, s: number): number {
  return hopSeconds(problem, problem.classes[u].server, s) + serverCallSeconds(problem, s);
}

/** Network bytes of one expert call of class u served on s beyond the access link. */
export function callBytes(problem: SplitMoeProblem, u: number, s: number): number {
  return problem.classes[u].server === s ? 0 : 2 * problem.activationBytesPerToken;
}

/** Access-link bytes per remote layer per token (one hidden state up, one down). */
export function linkBytesPerLayer(problem: SplitMoeProblem): number {
  return 2 * problem.activationBytesPerToken;
}

/**
 * Tokens per step one replica on s may serve before its call turns compute-bound: the b where
 * b·FLOPs/speed = (weights + 2·b·activation)/bandwidth (the roofline knee), or the user's number;
 * Infinity for 'none' or when the server is never compute-bound.
 */
export function replicaTokenLimit(problem: SplitMoeProblem, s: number): number {
  const limit = problem.replicaTokenLimit;
  if (limit === 'none') return Infinity;
  if (typeof limit === 'number') return limit;
  const d = problem.servers[s].device;
  const speed = d.peakFlopsPerSecond * d.computeEfficiency;
  const bandwidth = d.memoryBandwidthBytesPerSecond * d.bandwidthEfficiency;
  const denominator = (problem.expertFlopsPerToken * bandwidth) / speed - 2 * problem.activationBytesPerToken;
  return denominator <= 0 ? Infinity : problem.expertBytes / denominator;
}

/** Expected calls per step class u sends to expert e of layer l (users × k × probability). */
export function classVisits(problem: SplitMoeProblem, u: number, l: number, e: number): number {
  const c = problem.classes[u];
  return c.users * problem.topK * c.popularity[l][e];
}

/** Largest whole number n with n × bytes within `limit` under the one feasibility tolerance. */
function fitCount(bytes: number, limit: number): number {
  if (bytes <= 0) return Infinity;
  let n = Math.floor(limit / bytes);
  while (n > 0 && !withinLimit(n * bytes, limit)) n -= 1;
  while (withinLimit((n + 1) * bytes, limit)) n += 1;
  return n;
}

/** Experts server s can hold (over all layers). */
export function serverCapacity(problem: SplitMoeProblem, s: number): number {
  return fitCount(problem.expertBytes, problem.servers[s].expertMemoryBytes);
}

/** Device bytes class u needs at cut c: dense weights, its KV cache, and every expert of c layers. */
export function deviceBytes(problem: SplitMoeProblem, u: number, cut: number): number {
  const c = problem.classes[u];
  return problem.denseBytes + problem.kvBytesPerToken * c.contextTokens + cut * problem.experts * problem.expertBytes;
}

/** Largest cut class u's device memory allows (−1 when even the dense parts and the KV cache do not fit). */
export function maxCut(problem: SplitMoeProblem, u: number): number {
  const memory = problem.classes[u].memoryBytes;
  if (!withinLimit(deviceBytes(problem, u, 0), memory)) return -1;
  let c = 0;
  while (c < problem.layers && withinLimit(deviceBytes(problem, u, c + 1), memory)) c += 1;
  return c;
}

/** The cuts class u may take: from its privacy floor to what its memory allows (empty when none). */
export function cutRange(problem: SplitMoeProblem, u: number): { readonly min: number; readonly max: number } {
  return { min: problem.classes[u].minDeviceLayers, max: maxCut(problem, u) };
}

/**
 * Per-token latency of class u given its cut and, per remote layer, its expected call time
 * Σ_e p_e Σ_s r_es·callSeconds (the caller sums that from the routing).
 */
export function classLatency(problem: SplitMoeProblem, u: number, cut: number, remoteCallSeconds: number): number {
  return (
    denseSeconds(problem, u) +
    cut * deviceLayerSeconds(problem, u) +
    (problem.layers - cut) * linkRoundTripSeconds(problem, u) +
    remoteCallSeconds
  );
}

/** Values of every class and the objective from per-class latencies and network bytes per user. */
export function objectiveOf(
  problem: SplitMoeProblem,
  latency: readonly number[],
  bytesPerUser: readonly number[],
): number {
  if (problem.objective === 'max') return Math.max(...latency);
  if (problem.objective === 'mean') {
    const users = problem.classes.reduce((a, c) => a + c.users, 0);
    return problem.classes.reduce((a, c, u) => a + c.users * latency[u], 0) / users;
  }
  return problem.classes.reduce((a, c, u) => a + c.users * bytesPerUser[u], 0);
}
