/**
 * Independent re-check of a split-finetune decision: every constraint and the objective are
 * recomputed from the decision alone through cost.ts (never from solver output).
 */
import { totalParams } from '../../cost/model.ts';
import type { Evaluation, Violation } from '../types.ts';
import {
  decisionCost,
  objectiveCoefficients,
  optionPhysics,
  sharedServerWeightBytes,
  splitContext,
  totalRounds,
  trainableParams,
  type OptionCost,
} from './cost.ts';
import { allowedPairs, clientOptions } from './options.ts';
import type { SplitFinetuneDecision, SplitFinetuneProblem } from './schema.ts';

/** Bytes in the unit a reader expects for their size (GB for models, MB/kB for small fixtures). */
const GBf = (bytes: number) =>
  Math.abs(bytes) >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : Math.abs(bytes) >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
const secs = (s: number) => (s >= 1 ? `${s.toFixed(3)} s` : `${(s * 1e3).toFixed(2)} ms`);

export interface ClientBreakdown {
  readonly client: string;
  readonly device: string;
  readonly cut: number;
  readonly frozenLayers: number;
  readonly freezingRatio: number;
  readonly trainableParamFraction: number;
  readonly fullyFrozen: boolean;
  readonly subchannels: number;
  readonly uplinkBitsPerSecond: number;
  readonly roundSeconds: number;
  readonly clientForwardSeconds: number;
  readonly uplinkSeconds: number;
  readonly serverSeconds: number;
  readonly gradientDownlinkSeconds: number;
  readonly clientBackwardSeconds: number;
  readonly aggregationSecondsPerRound: number;
  readonly energyJoulesPerRound: number;
  readonly clientMemoryBytes: number;
  readonly deviceMemoryBytes: number;
  readonly serverMemoryBytes: number;
}

export interface SplitFinetuneBreakdown {
  readonly roundSeconds: number;
  readonly bottleneckClient: string;
  readonly totalSeconds: number;
  readonly totalDeviceEnergyJoules: number;
  readonly rounds: number;
  readonly subchannelsUsed: number;
  readonly subchannels: number;
  readonly server: {
    readonly lowestServerLayer: number;
    readonly sharedWeightBytes: number;
    readonly perClientBytes: number;
    readonly memoryBytes: number;
    readonly capacityBytes: number;
  };
  readonly clients: readonly ClientBreakdown[];
}

function structuralViolations(problem: SplitFinetuneProblem, decision: SplitFinetuneDecision): Violation[] {
  const v: Violation[] = [];
  const K = problem.clients.length;
  const L = problem.model.layers;
  if (decision.clients.length !== K) {
    v.push({ constraint: 'decision.clients', message: `the decision lists ${decision.clients.length} clients, the problem has ${K}` });
    return v;
  }
  decision.clients.forEach((d, k) => {
    const name = problem.clients[k].name;
    if (!Number.isInteger(d.cut) || d.cut < 0 || d.cut > L) v.push({ constraint: `client[${k}].cut`, message: `${name}: cut ${d.cut} is outside 0..${L}` });
    if (!Number.isInteger(d.frozenLayers) || d.frozenLayers < 0 || d.frozenLayers > L)
      v.push({ constraint: `client[${k}].frozenLayers`, message: `${name}: frozen prefix ${d.frozenLayers} is outside 0..${L}` });
    if (!Number.isInteger(d.subchannels) || d.subchannels < 1) v.push({ constraint: `client[${k}].subchannels`, message: `${name}: needs at least one whole uplink subchannel, got ${d.subchannels}` });
  });
  return v;
}

export function evaluateSplitFinetune(problem: SplitFinetuneProblem, decision: SplitFinetuneDecision): Evaluation {
  const structural = structuralViolations(problem, decision);
  if (structural.length > 0) return { feasible: false, objective: Infinity, violations: structural, breakdown: null };
  const ctx = splitContext(problem);
  const L = problem.model.layers;
  const violations: Violation[] = [];
  const costs: OptionCost[] = decision.clients.map((d, k) => decisionCost(ctx, k, d));
  const total = totalParams(problem.model);
  decision.clients.forEach((d, k) => {
    const name = problem.clients[k].name;
    const cost = costs[k];
    if (d.cut < problem.cutMin || d.cut > problem.cutMax)
      violations.push({ constraint: `client[${k}].cut`, message: `${name}: cut ${d.cut} is outside the allowed range ${problem.cutMin}..${problem.cutMax}`, excess: Math.max(problem.cutMin - d.cut, d.cut - problem.cutMax) });
    if (d.frozenLayers > L - 1)
      violations.push({ constraint: `client[${k}].accuracy`, message: `${name}: all ${L} layers frozen, nothing is fine-tuned`, excess: d.frozenLayers - (L - 1) });
    else if (d.frozenLayers > problem.maxFrozenLayers)
      violations.push({
        constraint: `client[${k}].accuracy`,
        message: `${name}: ${d.frozenLayers} frozen layers (ratio ${(d.frozenLayers / L).toFixed(3)}) exceed the accuracy proxy's limit of ${problem.maxFrozenLayers}`,
        excess: d.frozenLayers - problem.maxFrozenLayers,
      });
    if (d.frozenLayers < problem.minFrozenLayers)
      violations.push({ constraint: `client[${k}].accuracy`, message: `${name}: ${d.frozenLayers} frozen layers, the fixed freezing ratio requires ${problem.minFrozenLayers}`, excess: problem.minFrozenLayers - d.frozenLayers });
    const device = problem.clients[k].device;
    if (cost.clientMemoryBytes > device.memoryBytes)
      violations.push({
        constraint: `client[${k}].memory`,
        message: `${name} needs ${GBf(cost.clientMemoryBytes)} for layers 1..${d.cut} (${d.cut - Math.min(d.cut, d.frozenLayers)} trainable), its ${device.name} has ${GBf(device.memoryBytes)}`,
        excess: cost.clientMemoryBytes - device.memoryBytes,
      });
    const budget = problem.clients[k].energyBudgetJoulesPerRound;
    if (budget !== undefined && cost.energyJoulesPerRound > budget)
      violations.push({ constraint: `client[${k}].energy`, message: `${name} uses ${cost.energyJoulesPerRound.toFixed(3)} J per round, its budget is ${budget} J`, excess: cost.energyJoulesPerRound - budget });
  });
  if (problem.cutPolicy === 'shared') {
    const first = decision.clients[0];
    decision.clients.forEach((d, k) => {
      if (d.cut !== first.cut || d.frozenLayers !== first.frozenLayers)
        violations.push({ constraint: `client[${k}].shared-cut`, message: `cutPolicy is shared but ${problem.clients[k].name} uses (cut ${d.cut}, frozen ${d.frozenLayers}) instead of (${first.cut}, ${first.frozenLayers})` });
    });
  }
  const subchannelsUsed = decision.clients.reduce((s, d) => s + d.subchannels, 0);
  if (subchannelsUsed > problem.subchannels)
    violations.push({ constraint: 'subchannels', message: `the clients use ${subchannelsUsed} uplink subchannels, the cell has ${problem.subchannels}`, excess: subchannelsUsed - problem.subchannels });
  const lowestCut = Math.min(...decision.clients.map((d) => d.cut));
  const sharedWeightBytes = sharedServerWeightBytes(ctx, lowestCut);
  const perClientBytes = costs.reduce((s, c) => s + c.serverClientMemoryBytes, 0);
  const serverBytes = sharedWeightBytes + perClientBytes;
  if (serverBytes > problem.server.memoryBytes)
    violations.push({
      constraint: 'server-memory',
      message: `the server needs ${GBf(serverBytes)} (${GBf(sharedWeightBytes)} shared weights of layers ${lowestCut + 1}..${L} and the head, ${GBf(perClientBytes)} for the clients' adapters and activations), its ${problem.server.name} has ${GBf(problem.server.memoryBytes)}`,
      excess: serverBytes - problem.server.memoryBytes,
    });
  const { timeCoefficient, energyCoefficient } = objectiveCoefficients(problem);
  let roundSeconds = 0;
  let bottleneck = 0;
  costs.forEach((c, k) => {
    if (c.roundSeconds > roundSeconds) {
      roundSeconds = c.roundSeconds;
      bottleneck = k;
    }
  });
  const energyPerRound = costs.reduce((s, c) => s + c.energyJoulesPerRound, 0);
  const rounds = totalRounds(problem);
  const objective = timeCoefficient * roundSeconds + energyCoefficient * energyPerRound;
  const clients: ClientBreakdown[] = costs.map((c, k) => ({
    client: problem.clients[k].name,
    device: problem.clients[k].device.id,
    cut: c.cut,
    frozenLayers: c.frozenLayers,
    freezingRatio: c.frozenLayers / L,
    trainableParamFraction: trainableParams(ctx, Math.min(c.frozenLayers, L)) / total,
    fullyFrozen: c.fullyFrozen,
    subchannels: c.subchannels,
    uplinkBitsPerSecond: c.uplinkBitsPerSecond,
    roundSeconds: c.roundSeconds,
    clientForwardSeconds: c.clientForwardSeconds,
    uplinkSeconds: c.uplinkSeconds,
    serverSeconds: c.serverSeconds,
    gradientDownlinkSeconds: c.gradientDownlinkSeconds,
    clientBackwardSeconds: c.clientBackwardSeconds,
    aggregationSecondsPerRound: c.aggregationSecondsPerRound,
    energyJoulesPerRound: c.energyJoulesPerRound,
    clientMemoryBytes: c.clientMemoryBytes,
    deviceMemoryBytes: problem.clients[k].device.memoryBytes,
    serverMemoryBytes: c.serverClientMemoryBytes,
  }));
  const breakdown: SplitFinetuneBreakdown = {
    roundSeconds,
    bottleneckClient: problem.clients[bottleneck].name,
    totalSeconds: rounds * roundSeconds,
    totalDeviceEnergyJoules: rounds * energyPerRound,
    rounds,
    subchannelsUsed,
    subchannels: problem.subchannels,
    server: { lowestServerLayer: lowestCut + 1, sharedWeightBytes, perClientBytes, memoryBytes: serverBytes, capacityBytes: problem.server.memoryBytes },
    clients,
  };
  return { feasible: violations.length === 0, objective, violations, breakdown };
}

/** Why no decision exists, in domain words: the first resource found short, with the shortfall. */
export function explainSplitFinetuneInfeasible(problem: SplitFinetuneProblem): string {
  const K = problem.clients.length;
  const N = problem.subchannels;
  const L = problem.model.layers;
  if (K > N) return `${K} clients need at least one uplink subchannel each, the cell has only ${N} (${K - N} short)`;
  if (problem.minFrozenLayers > problem.maxFrozenLayers) {
    if (problem.minFrozenLayers > L - 1) return `the fixed freezing ratio freezes all ${L} layers; at least one layer must carry LoRA adapters`;
    return `the accuracy proxy allows at most ${problem.maxFrozenLayers} frozen layers but the fixed freezing ratio needs ${problem.minFrozenLayers}`;
  }
  const ctx = splitContext(problem);
  const pairs = allowedPairs(problem);
  const M = problem.server.memoryBytes;
  const reasons: string[] = [];
  const perClient = problem.clients.map((_, k) => clientOptions(problem, k, {}, ctx));
  perClient.forEach((opts, k) => {
    if (opts.length > 0) return;
    const client = problem.clients[k];
    let minClient = Infinity;
    let minServer = Infinity;
    let bestPair = pairs[0];
    for (const pr of pairs) {
      const ph = optionPhysics(ctx, k, pr.cut, pr.frozenLayers);
      if (ph.clientMemoryBytes < minClient) {
        minClient = ph.clientMemoryBytes;
        bestPair = pr;
      }
      if (ph.clientMemoryBytes <= client.device.memoryBytes) minServer = Math.min(minServer, sharedServerWeightBytes(ctx, pr.cut) + ph.serverClientMemoryBytes);
    }
    if (minClient > client.device.memoryBytes) {
      reasons.push(
        `${client.name} needs at least ${GBf(minClient)} (cut ${bestPair.cut}, ${Math.min(bestPair.cut, bestPair.frozenLayers)} of its layers frozen), its ${client.device.name} has ${GBf(client.device.memoryBytes)} (${GBf(minClient - client.device.memoryBytes)} short)`,
      );
    } else if (minServer > M) {
      reasons.push(`serving ${client.name} alone needs at least ${GBf(minServer)} on the server, which has ${GBf(M)} (${GBf(minServer - M)} short)`);
    } else if (client.energyBudgetJoulesPerRound !== undefined) {
      reasons.push(`${client.name} cannot stay within its energy budget of ${client.energyBudgetJoulesPerRound} J per round with any cut, frozen prefix and subchannel count`);
    }
  });
  if (reasons.length > 0) return reasons.join('; ');
  // Server memory: least total over the lowest cut m, each client at its least server memory.
  let leastServer = Infinity;
  const cuts = [...new Set(perClient.flatMap((l) => l.map((o) => o.cut)))];
  for (const m of cuts) {
    let s = sharedServerWeightBytes(ctx, m);
    for (const opts of perClient) {
      const ok = opts.filter((o) => o.cut >= m && (problem.cutPolicy === 'per-client' || o.cut === m));
      s += ok.length > 0 ? Math.min(...ok.map((o) => o.serverBytes)) : Infinity;
    }
    leastServer = Math.min(leastServer, s);
  }
  if (leastServer > M) return `the server needs at least ${GBf(leastServer)} for the shared layers and the ${K} clients' adapters and activations, its ${problem.server.name} has ${GBf(M)} (${GBf(leastServer - M)} short)`;
  const leastSubchannels = perClient.reduce((s, opts) => s + Math.min(...opts.map((o) => o.subchannels)), 0);
  if (leastSubchannels > N) return `the clients' energy budgets need at least ${leastSubchannels} uplink subchannels in total, the cell has ${N}`;
  if (problem.cutPolicy === 'shared') return 'no single (cut, frozen prefix) pair fits every client and the server at once';
  return `the server memory (${GBf(M)}) and the ${N} uplink subchannels cannot be met together`;
}

export function describeSplitFinetune(problem: SplitFinetuneProblem, _decision: SplitFinetuneDecision, evaluation: Evaluation): string {
  const b = evaluation.breakdown as SplitFinetuneBreakdown | null;
  if (b === null) return evaluation.violations.map((v) => v.message).join('\n');
  const lines: string[] = [];
  lines.push(
    `${problem.model.name}, ${problem.clients.length} clients, ${problem.server.name} server; round ${secs(b.roundSeconds)} (bottleneck ${b.bottleneckClient}), ${b.rounds} rounds → ${secs(b.totalSeconds)}, device energy ${b.totalDeviceEnergyJoules.toFixed(1)} J`,
  );
  lines.push(`server memory ${GBf(b.server.memoryBytes)} of ${GBf(b.server.capacityBytes)} (layers ${b.server.lowestServerLayer}..${problem.model.layers} shared); subchannels ${b.subchannelsUsed}/${b.subchannels}`);
  for (const c of b.clients) {
    lines.push(
      `  ${c.client} (${c.device}): cut ${c.cut}, frozen ${c.frozenLayers} (${(c.freezingRatio * 100).toFixed(0)}%)${c.fullyFrozen ? ' [client fully frozen]' : ''}, ${c.subchannels} subch, round ${secs(c.roundSeconds)}, mem ${GBf(c.clientMemoryBytes)}/${GBf(c.deviceMemoryBytes)}, ${c.energyJoulesPerRound.toFixed(2)} J/round`,
    );
  }
  for (const v of evaluation.violations) lines.push(`  VIOLATED: ${v.message}`);
  return lines.join('\n');
}
