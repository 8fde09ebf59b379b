/**
 * Independent re-check of a parallel-placement decision: structure (contiguous stages covering
 * 1..L; known servers, each used once; per stage one TP degree from the allowed list, one group in
 * inference, at most maxDataParallel in training; every TP group on one host, of one device and
 * memory, linked pairwise above the floor; training sample split), links between stages, memory
 * of every server, KV blocks, and the objective with its per-stage breakdown. Structure is checked
 * here on its own; the numbers are the family's cost functions.
 */
import { excessOver, withinLimit } from '../tolerance.ts';
import type { Evaluation, Violation } from '../types.ts';
import {
  blocksThatFit,
  combineObjective,
  dataParallelSeconds,
  groupCost,
  hopSeconds,
  inflightOf,
  kvBlockBytes,
  objectiveKind,
  slowestLink,
  type ObjectiveKind,
} from './cost.ts';
import { VLLM_BLOCK_TOKENS, type ParallelDecision, type ParallelProblem } from './schema.ts';

export interface GroupReport {
  readonly servers: readonly string[];
  readonly device: string;
  readonly host: string;
  readonly samples: number | null;
  readonly seconds: number;
  readonly computeSeconds: number;
  readonly tensorParallelSeconds: number;
  /** Bytes on each server of the group, and the least any of them may use. */
  readonly memoryBytes: number;
  readonly usableBytes: number;
  readonly stateBytes: number;
  readonly kvBytes: number;
  readonly activationBytes: number;
}

export interface StageReport {
  readonly stage: number;
  readonly firstLayer: number;
  readonly lastLayer: number;
  readonly tensorParallel: number;
  readonly dataParallel: number;
  readonly groups: readonly GroupReport[];
  /** Slowest group's time. */
  readonly seconds: number;
  /** Boundary to the next stage; 0 for the last. */
  readonly hopSeconds: number;
  readonly dataParallelSeconds: number;
  /** kv-capacity: whole blocks this stage holds (the same count on every stage is the min). */
  readonly kvBlocks: number | null;
}

export interface ParallelBreakdown {
  readonly objectiveKind: ObjectiveKind;
  readonly stages: readonly StageReport[];
  readonly sumSeconds: number;
  readonly bottleneckSeconds: number;
  readonly dataParallelSeconds: number;
  readonly kvBlocks: number | null;
  /** kv-capacity: sequences of contextTokens that fit at once (blocks / blocks per sequence). */
  readonly concurrentSequences: number | null;
  /** What vLLM needs to run the plan: VLLM_PP_LAYER_PARTITION and the TP size per stage. */
  readonly serving: {
    readonly ppLayerPartition: string;
    readonly tensorParallelPerStage: readonly number[];
    readonly uniformTensorParallel: boolean;
  };
}

const fail = (constraint: string, message: string): Evaluation<null> => ({
  feasible: false,
  objective: NaN,
  violations: [{ constraint, message }],
  breakdown: null,
});

export function evaluateParallel(
  p: ParallelProblem,
  d: ParallelDecision,
): Evaluation<ParallelBreakdown | null> {
  const L = p.model.layers;
  const index = new Map(p.servers.map((s, j) => [s.name, j]));
  const S = d.stages.length;
  if (S > p.maxStages) return fail('stages', `${S} stages exceed the most allowed (${p.maxStages})`);
  let next = 1;
  const used = new Map<number, number>();
  const stageServers: number[][][] = [];
  for (let s = 0; s < S; s++) {
    const st = d.stages[s];
    const at = `stages[${s}]`;
    if (st.firstLayer !== next)
      return fail(`${at}.firstLayer`, `stage ${s + 1} must start at layer ${next}, starts at ${st.firstLayer}`);
    if (st.lastLayer < st.firstLayer || st.lastLayer > L)
      return fail(`${at}.lastLayer`, `stage ${s + 1} ends at layer ${st.lastLayer}, outside ${st.firstLayer}..${L}`);
    next = st.lastLayer + 1;
    const dp = st.groups.length;
    if (p.mode.kind !== 'training' && dp !== 1)
      return fail(`${at}.groups`, `inference stages hold one TP group; stage ${s + 1} has ${dp}`);
    if (dp > p.maxDataParallel)
      return fail(`${at}.groups`, `${dp} DP groups exceed maxDataParallel (${p.maxDataParallel})`);
    const g = st.groups[0].servers.length;
    if (!p.tpDegrees.includes(g))
      return fail(`${at}.groups`, `TP degree ${g} is not among the allowed degrees (${p.tpDegrees.join(', ')})`);
    const groups: number[][] = [];
    for (let k = 0; k < dp; k++) {
      const grp = st.groups[k];
      const gat = `${at}.groups[${k}]`;
      if (grp.servers.length !== g)
        return fail(gat, `every group of a stage has the stage's TP degree ${g}; this one has ${grp.servers.length}`);
      const members: number[] = [];
      for (const name of grp.servers) {
        const j = index.get(name);
        if (j === undefined) return fail(gat, `unknown server "${name}"`);
        if (used.has(j)) return fail(gat, `server "${name}" is used twice (also stage ${(used.get(j) ?? 0) + 1})`);
        used.set(j, s);
        members.push(j);
      }
      const lead = p.servers[members[0]];
      for (const j of members) {
        const sv = p.servers[j];
        if (sv.host !== lead.host)
          return fail(gat, `a TP group stays on one host: "${sv.name}" is on ${sv.host}, "${lead.name}" on ${lead.host}`);
        if (sv.device.id !== lead.device.id || sv.memoryBytes !== lead.memoryBytes || sv.usableBytes !== lead.usableBytes)
          return fail(gat, `a TP group splits work evenly, so its servers must be alike: "${sv.name}" differs from "${lead.name}"`);
      }
      for (const i of members)
        for (const j of members)
          if (i !== j && (p.bitsPerSecond[i][j] <= 0 || p.bitsPerSecond[i][j] < p.tpMinBitsPerSecond * (1 - 1e-9)))
            return fail(
              gat,
              `"${p.servers[i].name}" → "${p.servers[j].name}" has ${p.bitsPerSecond[i][j]} bit/s, below the TP floor (${p.tpMinBitsPerSecond})`,
            );
      if (p.mode.kind === 'training') {
        if (grp.samples === undefined) return fail(gat, 'training groups state their samples per micro-batch');
      } else if (grp.samples !== undefined) return fail(gat, 'samples apply to training only');
      groups.push(members);
    }
    if (p.mode.kind === 'training') {
      const samples = st.groups.map((x) => x.samples ?? 0);
      const total = samples.reduce((a, b) => a + b, 0);
      if (total !== p.mode.microBatchSize)
        return fail(`${at}.groups`, `samples add up to ${total}, the micro-batch has ${p.mode.microBatchSize}`);
      if (p.mode.batchSplit === 'even' && samples.some((x) => x !== samples[0]))
        return fail(`${at}.groups`, `batchSplit "even" gives every DP group the same samples; got ${samples.join(', ')}`);
    }
    stageServers.push(groups);
  }
  if (next !== L + 1) return fail('stages', `the stages cover layers 1..${next - 1}, the model has ${L}`);

  const violations: Violation[] = [];
  const stages: StageReport[] = [];
  let sum = 0;
  let bottleneck = 0;
  let allReduce = 0;
  let blocks = Infinity;
  for (let s = 0; s < S; s++) {
    const st = d.stages[s];
    const groups = stageServers[s];
    const g = groups[0].length;
    const inflight = inflightOf(p, s + 1, S);
    const reports: GroupReport[] = [];
    let stageSeconds = 0;
    let stageParams = 0;
    let stageBlocks = Infinity;
    groups.forEach((members, k) => {
      const samples = st.groups[k].samples ?? 1;
      const c = groupCost(p, members[0], g, st.firstLayer, st.lastLayer, samples, inflight, slowestLink(p, members), S);
      const usable = Math.min(...members.map((j) => p.servers[j].usableBytes));
      if (!withinLimit(c.memoryBytes, usable))
        violations.push({
          constraint: `stages[${s}].groups[${k}].memory`,
          message: `stage ${s + 1} group ${k + 1} needs ${(c.memoryBytes / 1e9).toFixed(3)} GB per server, ${(usable / 1e9).toFixed(3)} GB usable`,
          excess: excessOver(c.memoryBytes, usable),
        });
      if (p.mode.kind === 'kv-capacity')
        stageBlocks = Math.min(stageBlocks, blocksThatFit(usable - c.memoryBytes, kvBlockBytes(p, g, st.firstLayer, st.lastLayer)));
      stageSeconds = Math.max(stageSeconds, c.seconds);
      stageParams = c.stageParams;
      reports.push({
        servers: members.map((j) => p.servers[j].name),
        device: p.servers[members[0]].device.id,
        host: p.servers[members[0]].host,
        samples: st.groups[k].samples ?? null,
        seconds: c.seconds,
        computeSeconds: c.computeSeconds,
        tensorParallelSeconds: c.tensorParallelSeconds,
        memoryBytes: c.memoryBytes,
        usableBytes: usable,
        stateBytes: c.stateBytes,
        kvBytes: c.kvBytes,
        activationBytes: c.activationBytes,
      });
    });
    let hop = 0;
    if (s + 1 < S) {
      const link = slowestLink(p, groups.flat(), stageServers[s + 1].flat());
      hop = hopSeconds(p, link);
      if (!Number.isFinite(hop))
        violations.push({ constraint: `stages[${s}].link`, message: `some server of stage ${s + 1} has no link to one of stage ${s + 2}` });
    }
    // Ranks of different DP groups exchange gradients: the slowest link between two groups carries the ring.
    let dpLink = slowestLink(p, groups[0]);
    if (groups.length > 1) {
      dpLink = { bitsPerSecond: Infinity, latencySeconds: 0 };
      for (let a = 0; a < groups.length; a++)
        for (let b = 0; b < groups.length; b++)
          if (a !== b) {
            const l = slowestLink(p, groups[a], groups[b]);
            dpLink = {
              bitsPerSecond: Math.min(dpLink.bitsPerSecond, l.bitsPerSecond),
              latencySeconds: Math.max(dpLink.latencySeconds, l.latencySeconds),
            };
          }
    }
    const ar = dataParallelSeconds(p, groups.length, g, stageParams, dpLink);
    if (!Number.isFinite(ar))
      violations.push({ constraint: `stages[${s}].dataParallel`, message: `stage ${s + 1}'s DP groups are not all linked` });
    sum += stageSeconds + hop;
    bottleneck = Math.max(bottleneck, stageSeconds, hop);
    allReduce = Math.max(allReduce, ar);
    if (p.mode.kind === 'kv-capacity') {
      blocks = Math.min(blocks, stageBlocks);
      const need = Math.ceil(p.mode.contextTokens / p.mode.blockTokens);
      if (stageBlocks < need)
        violations.push({
          constraint: `stages[${s}].kvBlocks`,
          message: `stage ${s + 1} holds ${stageBlocks} KV blocks, one ${p.mode.contextTokens}-token sequence needs ${need}`,
          excess: need - stageBlocks,
        });
    }
    stages.push({
      stage: s + 1,
      firstLayer: st.firstLayer,
      lastLayer: st.lastLayer,
      tensorParallel: g,
      dataParallel: groups.length,
      groups: reports,
      seconds: stageSeconds,
      hopSeconds: hop,
      dataParallelSeconds: ar,
      kvBlocks: p.mode.kind === 'kv-capacity' ? stageBlocks : null,
    });
  }
  const kv = p.mode.kind === 'kv-capacity' ? blocks : null;
  const objective = combineObjective(p, sum, bottleneck, allReduce, kv ?? 0);
  const tps = stages.map((s) => s.tensorParallel);
  return {
    feasible: violations.length === 0,
    objective,
    violations,
    breakdown: {
      objectiveKind: objectiveKind(p),
      stages,
      sumSeconds: sum,
      bottleneckSeconds: bottleneck,
      dataParallelSeconds: allReduce,
      kvBlocks: kv,
      concurrentSequences:
        p.mode.kind === 'kv-capacity' && kv !== null
          ? Math.floor(kv / Math.ceil(p.mode.contextTokens / (p.mode.blockTokens ?? VLLM_BLOCK_TOKENS)))
          : null,
      serving: {
        ppLayerPartition: stages.map((s) => s.lastLayer - s.firstLayer + 1).join(','),
        tensorParallelPerStage: tps,
        uniformTensorParallel: tps.every((g) => g === tps[0]),
      },
    },
  };
}
