/**
 * The caching family's cost model: storage of a server's cache (the union of the blocks of the
 * models it holds), serve latency (download over the user's link plus on-device inference), and
 * the request value each (user, model) pair carries.
 */
import { rooflineTime, type DeviceSpec } from '../../cost/device.ts';
import { downlinkSeconds, type LinkSpec } from '../../cost/link.ts';
import { layerForwardFlopsPerToken, totalParams, weightBytes, type ModelSpec } from '../../cost/model.ts';
import { runtimeStepSeconds, type RuntimeSpec } from '../../cost/runtime.ts';
import { deviceUnderRuntime } from '../../cost/runtime-time.ts';
import { withinLimit } from '../tolerance.ts';
import type { Problem } from './schema.ts';

/**
 * Seconds for a user to receive a model from a server and run one request on its device: the
 * model's bytes over the downlink, then `tokens` decode steps (roofline, batch 1) when the
 * architecture and the device are known, or the given compute time. Under a runtime the device
 * keeps only the runtime's share minus its fixed overhead for the weights (less than that and they
 * stream from storage: the roofline's rule), each layer call costs the runtime's host time and each
 * token its per-step time (scheduler, sampling).
 */
export function computeServeLatency(
  modelBytes: number,
  link: LinkSpec,
  device: DeviceSpec | null,
  architecture: ModelSpec | null,
  givenComputeSeconds: number | null,
  tokens: number,
  runtime: RuntimeSpec | null = null,
): number {
  const download = downlinkSeconds(link, modelBytes);
  if (givenComputeSeconds !== null) return download + givenComputeSeconds;
  if (!device || !architecture || tokens === 0) return download;
  const served = deviceUnderRuntime(device, runtime);
  let flops = 0;
  for (let l = 1; l <= architecture.layers; l++) flops += layerForwardFlopsPerToken(architecture, l, 0);
  const weights = weightBytes(totalParams(architecture), architecture.dtype);
  const perToken = rooflineTime(
    served,
    { flops, memoryTrafficBytes: 0, weightBytes: weights, calls: architecture.layers },
    weights,
  );
  return download + tokens * (perToken.seconds + runtimeStepSeconds(runtime));
}

/** Bytes a server needs to hold the given models: each shared block once (or each model in full). */
export function storageBytes(problem: Problem, modelIndices: Iterable<number>): number {
  if (!problem.parameterSharing) {
    let s = 0;
    for (const m of modelIndices) s += problem.models[m].sizeBytes;
    return s;
  }
  const blocks = new Set<number>();
  for (const m of modelIndices) for (const b of problem.models[m].blocks) blocks.add(b);
  let s = 0;
  for (const b of blocks) s += problem.blocks[b].sizeBytes;
  return s;
}

/** Probability mass of (user, model) requests: user share × request probability. */
export function requestMass(problem: Problem, user: number, model: number): number {
  const u = problem.users[user];
  return u.share * u.requests[model];
}

/** Whether server n can serve user u's requests for model m within the user's bound. */
export function covers(problem: Problem, user: number, server: number, model: number): boolean {
  return problem.latencySeconds[user][server][model] !== null;
}

/**
 * Value of serving (u, m) from server n relative to the cloud: 1 for the hit-ratio objective;
 * the latency saved against the cloud for the expected-latency objective (never negative: a
 * server slower than the cloud is not used).
 */
export function serveGain(problem: Problem, user: number, server: number, model: number): number {
  const t = problem.latencySeconds[user][server][model];
  if (t === null) return 0;
  if (problem.objective === 'hit-ratio') return 1;
  return Math.max(0, (problem.cloudLatencySeconds as number) - t);
}

/**
 * Whether server n serving (u, m) counts as an edge serve: it covers u for m and, under the
 * expected-latency objective, is faster than the cloud (a slower server is never used: the
 * request goes to the cloud). One rule for evaluate's hit ratio, the MILP's groups and replay.
 */
export function edgeServes(problem: Problem, user: number, server: number, model: number): boolean {
  const t = problem.latencySeconds[user][server][model];
  if (t === null) return false;
  return problem.objective === 'hit-ratio' || t < (problem.cloudLatencySeconds as number);
}

/** Whether `bytes` fit a server's storage under the one tolerance policy (src/formulations/tolerance.ts). */
export function fitsStorage(bytes: number, capacityBytes: number): boolean {
  return withinLimit(bytes, capacityBytes);
}
