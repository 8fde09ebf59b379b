/**
 * Independent re-check of a pipeline decision: structure (known, distinct servers; contiguous
 * layer ranges covering 1..L in order; source first; stage count; listed order), links, per-stage
 * memory, and the objective with its per-stage breakdown — all from the decision and cost.ts.
 * The structural check is its own (not the search side's planOfDecision), so a decoding or search
 * slip is caught here; the per-layer numbers are the family's cost functions.
 */
import type { DType } from '../../cost/units.ts';
import { excessOver, withinLimit } from '../tolerance.ts';
import type { Evaluation, Violation } from '../types.ts';
import {
  commSeconds,
  inflightMicroBatches,
  objectiveFrom,
  stageMemory,
  stageSeconds,
  tablesOf,
  type StagePlan,
} from './cost.ts';
import type { PipelineDecision, PipelineProblem } from './schema.ts';

export interface StageReport {
  readonly stage: number;
  readonly server: string;
  readonly device: string;
  readonly firstLayer: number;
  readonly lastLayer: number;
  readonly layers: number;
  readonly computeSeconds: number;
  /** Boundary transfer to the next stage (training: activations forward + gradients back); 0 for the last. */
  readonly commSeconds: number;
  readonly memoryBytes: number;
  readonly capacityBytes: number;
  readonly stateBytes: number;
  readonly kvBytes: number;
  readonly activationBytes: number;
  readonly inflightMicroBatches: number;
  readonly timeSource: 'profile' | 'roofline';
  /** The measured profile this server's times and memory come from, or null (roofline). */
  readonly profile: string | null;
  /** Number format of this server's weights, KV cache and the activations it sends. */
  readonly precision: DType;
  /** Bytes sent to the next stage per step (in this server's activation format); 0 for the last. */
  readonly hopBytes: number;
}

export interface PipelineBreakdown {
  readonly objectiveKind: 'training' | 'latency' | 'throughput';
  readonly stages: readonly StageReport[];
  readonly computeSeconds: number;
  readonly commSeconds: number;
  readonly returnSeconds: number;
  /** max over stages of max(compute, comm). */
  readonly bottleneckSeconds: number;
  /** Training: (B − 1)·bottleneck per iteration. */
  readonly bubbleSeconds: number;
  /** Training: one iteration; latency: the request; throughput: one pipeline step. */
  readonly iterationSeconds: number;
  readonly iterations: number;
  /** Throughput mode: batch / bottleneck. */
  readonly tokensPerSecond?: number;
  /** Precisions used by the stages, when more than one (explicit mixed precision). */
  readonly mixedPrecision?: readonly DType[];
}

const GBf = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;

/** Turns a decision into index form, collecting structural violations. */
export function planOf(
  problem: PipelineProblem,
  decision: PipelineDecision,
): { plan: StagePlan[]; violations: Violation[] } {
  const violations: Violation[] = [];
  const L = problem.model.layers;
  const names = new Map(problem.servers.map((s, i) => [s.name, i] as const));
  const plan: StagePlan[] = [];
  const seen = new Map<number, number>();
  let expectedFirst = 1;
  decision.stages.forEach((s, i) => {
    const server = names.get(s.server);
    if (server === undefined) {
      violations.push({
        constraint: `stage[${i}].server`,
        message: `stage ${i + 1} names server "${s.server}", which is not in the pool`,
      });
      return;
    }
    const before = seen.get(server);
    if (before !== undefined)
      violations.push({
        constraint: `stage[${i}].server`,
        message: `server ${s.server} holds stage ${before + 1} and stage ${i + 1}; a server holds one contiguous stage`,
      });
    seen.set(server, i);
    if (s.firstLayer > s.lastLayer)
      violations.push({
        constraint: `stage[${i}].layers`,
        message: `stage ${i + 1} has no layers (${s.firstLayer}..${s.lastLayer}); every used server holds at least one layer`,
      });
    if (s.firstLayer !== expectedFirst)
      violations.push({
        constraint: `stage[${i}].firstLayer`,
        message: `stage ${i + 1} starts at layer ${s.firstLayer}, but the previous stage ends at layer ${expectedFirst - 1}`,
      });
    if (s.lastLayer > L)
      violations.push({
        constraint: `stage[${i}].lastLayer`,
        message: `stage ${i + 1} ends at layer ${s.lastLayer}, but the model has ${L} layers`,
        excess: s.lastLayer - L,
      });
    expectedFirst = s.lastLayer + 1;
    plan.push({ server, first: s.firstLayer, last: s.lastLayer });
  });
  if (expectedFirst !== L + 1 && violations.length === 0)
    violations.push({ constraint: 'layers', message: `layers ${expectedFirst}..${L} are on no server` });
  return { plan, violations };
}

export function evaluatePipeline(
  problem: PipelineProblem,
  decision: PipelineDecision,
): Evaluation<PipelineBreakdown | null> {
  const t = tablesOf(problem);
  const { plan, violations } = planOf(problem, decision);
  const S = decision.stages.length;
  if (violations.length > 0 || plan.length !== S) {
    return { feasible: false, objective: Infinity, violations, breakdown: null };
  }
  if (problem.source !== null && plan[0].server !== problem.source) {
    violations.push({
      constraint: 'source',
      message: `stage 1 must run on the source ${problem.servers[problem.source].name}, not on ${problem.servers[plan[0].server].name}`,
    });
  }
  if (problem.stages !== null && S !== problem.stages)
    violations.push({
      constraint: 'stages',
      message: `the problem asks for exactly ${problem.stages} stages, the decision has ${S}`,
      excess: Math.abs(S - problem.stages),
    });
  if (S > problem.maxStages)
    violations.push({
      constraint: 'maxStages',
      message: `${S} stages exceed the limit of ${problem.maxStages}`,
      excess: S - problem.maxStages,
    });
  if (problem.serverOrder === 'listed') {
    const rank = (j: number): number => (j === problem.source ? -1 : j);
    for (let i = 0; i + 1 < S; i++) {
      if (rank(plan[i].server) >= rank(plan[i + 1].server)) {
        violations.push({
          constraint: `stage[${i + 1}].order`,
          message: `servers must follow the listed order (source first): ${problem.servers[plan[i].server].name} comes before ${problem.servers[plan[i + 1].server].name}`,
        });
      }
    }
  }
  const stages: StageReport[] = plan.map((s, i) => {
    const m = stageMemory(t, s.server, s.first, s.last, S - i);
    const comm = i + 1 < S ? commSeconds(t, s.server, plan[i + 1].server) : 0;
    const server = problem.servers[s.server];
    if (!Number.isFinite(comm))
      violations.push({
        constraint: `link[${i}]`,
        message: `no link from ${server.name} to ${problem.servers[plan[i + 1].server].name}${t.objective === 'training' ? ' (or back, for the gradients)' : ''}`,
      });
    if (!withinLimit(m.totalBytes, server.memoryBytes)) {
      violations.push({
        constraint: `stage[${i}].memory`,
        message: `stage ${i + 1} on ${server.name} needs ${GBf(m.totalBytes)} (${t.objective === 'training' ? `weights and training state ${GBf(m.stateBytes)}, activations ${GBf(m.activationBytes)} for ${m.inflightMicroBatches} micro-batches in flight` : `weights ${GBf(m.stateBytes)}, KV cache ${GBf(m.kvBytes)}`}), the server has ${GBf(server.memoryBytes)}`,
        excess: excessOver(m.totalBytes, server.memoryBytes),
      });
    }
    return {
      stage: i + 1,
      server: server.name,
      device: server.device.id,
      firstLayer: s.first,
      lastLayer: s.last,
      layers: s.last - s.first + 1,
      computeSeconds: stageSeconds(t, s.server, s.first, s.last),
      commSeconds: comm,
      memoryBytes: m.totalBytes,
      capacityBytes: server.memoryBytes,
      stateBytes: m.stateBytes,
      kvBytes: m.kvBytes,
      activationBytes: m.activationBytes,
      inflightMicroBatches: inflightMicroBatches(t, S - i),
      timeSource: t.timeSource[s.server],
      profile: t.profileId[s.server],
      precision: t.precision[s.server],
      hopBytes: i + 1 < S ? t.hopBytes[s.server] : 0,
    };
  });
  const returnSeconds = t.ret[plan[S - 1].server];
  if (!Number.isFinite(returnSeconds))
    violations.push({
      constraint: 'return',
      message: `no link from ${problem.servers[plan[S - 1].server].name} back to the source`,
    });
  const times = stages.map((s) => s.computeSeconds);
  const comms = stages.slice(0, -1).map((s) => s.commSeconds);
  const objective = objectiveFrom(t, times, comms, returnSeconds);
  const computeSeconds = times.reduce((a, b) => a + b, 0);
  const commTotal = comms.reduce((a, b) => a + b, 0);
  const bottleneckSeconds = Math.max(...times, ...comms, t.objective === 'throughput' ? returnSeconds : 0);
  const bubbleSeconds = t.objective === 'training' ? (t.microBatches - 1) * bottleneckSeconds : 0;
  const batch = problem.mode.kind === 'training' ? problem.mode.microBatchSize : problem.mode.batch;
  const precisions = [...new Set(stages.map((s) => s.precision))];
  const breakdown: PipelineBreakdown = {
    objectiveKind: t.objective,
    stages,
    computeSeconds,
    commSeconds: commTotal,
    returnSeconds,
    bottleneckSeconds,
    bubbleSeconds,
    iterationSeconds: t.objective === 'training' ? objective / t.iterations : objective,
    iterations: t.iterations,
    tokensPerSecond: t.objective === 'throughput' ? batch / objective : undefined,
    ...(precisions.length > 1 ? { mixedPrecision: precisions } : {}),
  };
  return { feasible: violations.length === 0, objective, violations, breakdown };
}
