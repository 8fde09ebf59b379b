/**
 * Independent re-check of a split-finetune decision: every constraint and the objective are
 * recomputed from the decision alone (never from solver output). Per-client times, energy and
 * memory come from the cost model (cost.ts); the rule checks and the training time are this
 * file's own: the run is walked aggregation period by aggregation period (rules.ts and the
 * solvers use the period-type tables of cost.ts instead), so a slip in either shows as a mismatch.
 * Also the family's explanations: why no decision exists, and the human summary of one.
 */
import type { Evaluation, Violation } from '../types.ts';
import { excessOver, withinLimit } from '../tolerance.ts';
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
import { formatBytes as GBf, formatSeconds as secs } from './format.ts';
import { allowedPairs, clientOptions } from './options.ts';
import type { SplitFinetuneDecision, SplitFinetuneProblem } from './schema.ts';

export interface ClientBreakdown {
  readonly client: string;
  readonly device: string;
  readonly cut: number;
  readonly frozenLayers: number;
  readonly freezingRatio: number;
  readonly trainableParams: number;
  readonly trainableParamFraction: number;
  readonly fullyFrozen: boolean;
  readonly subchannels: number;
  /** Smashed-data compression level ("none" when not compressed) and the bytes the uplink carries per round. */
  readonly compression: string;
  readonly uplinkBytesPerRound: number;
  readonly uplinkBitsPerSecond: number;
  /** The client's own busy time over the run / R·E (barrier waits excluded). */
  readonly roundSeconds: number;
  readonly firstEpochRoundSeconds: number;
  readonly laterRoundSeconds: number;
  readonly clientForwardSeconds: number;
  readonly uplinkSeconds: number;
  readonly serverSeconds: number;
  readonly gradientDownlinkSeconds: number;
  readonly clientBackwardSeconds: number;
  /** Adapter upload + download at each aggregation. */
  readonly aggregationSeconds: number;
  readonly energyJoulesPerRound: number;
  readonly clientMemoryBytes: number;
  readonly deviceMemoryBytes: number;
  readonly serverMemoryBytes: number;
}

export interface SplitFinetuneBreakdown {
  /** Training time / R·E: the average round, barrier waits included. */
  readonly roundSeconds: number;
  /** The client with the longest busy time. */
  readonly bottleneckClient: string;
  /** Training time: Σ over aggregation periods of the slowest client's time in the period. */
  readonly totalSeconds: number;
  readonly totalDeviceEnergyJoules: number;
  readonly rounds: number;
  /** Aggregations over the run (every aggregationIntervalRounds rounds and after the last). */
  readonly aggregations: number;
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
    v.push({
      constraint: 'decision.clients',
      message: `the decision lists ${decision.clients.length} clients, the problem has ${K}`,
    });
    return v;
  }
  decision.clients.forEach((d, k) => {
    const name = problem.clients[k].name;
    if (!Number.isInteger(d.cut) || d.cut < 0 || d.cut > L)
      v.push({ constraint: `client[${k}].cut`, message: `${name}: cut ${d.cut} is outside 0..${L}` });
    if (!Number.isInteger(d.frozenLayers) || d.frozenLayers < 0 || d.frozenLayers > L)
      v.push({
        constraint: `client[${k}].frozenLayers`,
        message: `${name}: frozen prefix ${d.frozenLayers} is outside 0..${L}`,
      });
    if (!Number.isInteger(d.subchannels) || d.subchannels < 1)
      v.push({
        constraint: `client[${k}].subchannels`,
        message: `${name}: needs at least one whole uplink subchannel, got ${d.subchannels}`,
      });
  });
  return v;
}

/**
 * Training time with a barrier at every aggregation, walked over the run: rounds 1..R·E, an
 * aggregation after every I-th round and after the last; a period's length is its slowest
 * client's time. Runs of identical periods are taken at once (a handful of steps for any run).
 */
function barrierWalk(
  problem: SplitFinetuneProblem,
  costs: readonly OptionCost[],
): { seconds: number; aggregations: number } {
  const R = problem.roundsPerEpoch;
  const I = problem.aggregationIntervalRounds;
  const total = R * problem.epochs;
  let round = 0;
  let seconds = 0;
  let aggregations = 0;
  while (round < total) {
    const end = Math.min(round + I, total);
    const inFirstEpoch = Math.max(0, Math.min(end, R) - round);
    const later = end - round - inFirstEpoch;
    let span = 0;
    for (const c of costs)
      span = Math.max(
        span,
        inFirstEpoch * c.firstEpochRoundSeconds + later * c.laterRoundSeconds + c.aggregationSeconds,
      );
    let repeat = 1;
    if (inFirstEpoch === I) repeat = Math.floor((R - round) / I);
    else if (inFirstEpoch === 0 && end - round === I) repeat = Math.floor((total - round) / I);
    seconds += repeat * span;
    aggregations += repeat;
    round = repeat > 1 ? round + repeat * I : end;
  }
  return { seconds, aggregations };
}

export function evaluateSplitFinetune(
  problem: SplitFinetuneProblem,
  decision: SplitFinetuneDecision,
): Evaluation<SplitFinetuneBreakdown | null> {
  const structural = structuralViolations(problem, decision);
  if (structural.length > 0) return { feasible: false, objective: Infinity, violations: structural, breakdown: null };
  const ctx = splitContext(problem);
  const L = problem.model.layers;
  const violations: Violation[] = [];
  const costs: OptionCost[] = decision.clients.map((d, k) => decisionCost(ctx, k, d));
  decision.clients.forEach((d, k) => {
    const name = problem.clients[k].name;
    const cost = costs[k];
    if (d.cut < problem.cutMin || d.cut > problem.cutMax)
      violations.push({
        constraint: `client[${k}].cut`,
        message: `${name}: cut ${d.cut} is outside the allowed range ${problem.cutMin}..${problem.cutMax}`,
        excess: Math.max(problem.cutMin - d.cut, d.cut - problem.cutMax),
      });
    if (d.frozenLayers > L - 1)
      violations.push({
        constraint: `client[${k}].accuracy`,
        message: `${name}: all ${L} layers frozen, nothing is fine-tuned`,
        excess: d.frozenLayers - (L - 1),
      });
    else if (d.frozenLayers > problem.maxFrozenLayers)
      violations.push({
        constraint: `client[${k}].accuracy`,
        message:
          `${name}: ${d.frozenLayers} frozen layers (ratio ${(d.frozenLayers / L).toFixed(3)}) exceed the accuracy ` +
          `proxy's limit of ${problem.maxFrozenLayers}`,
        excess: d.frozenLayers - problem.maxFrozenLayers,
      });
    if (d.frozenLayers < problem.minFrozenLayers)
      violations.push({
        constraint: `client[${k}].accuracy`,
        message:
          `${name}: ${d.frozenLayers} frozen layers, ` + `the fixed freezing ratio requires ${problem.minFrozenLayers}`,
        excess: problem.minFrozenLayers - d.frozenLayers,
      });
    const device = problem.clients[k].device;
    if (!withinLimit(cost.clientMemoryBytes, device.memoryBytes))
      violations.push({
        constraint: `client[${k}].memory`,
        message:
          `${name} needs ${GBf(cost.clientMemoryBytes)} for layers 1..${d.cut} ` +
          `(${d.cut - Math.min(d.cut, d.frozenLayers)} trainable), its ${device.name} has ${GBf(device.memoryBytes)}`,
        excess: excessOver(cost.clientMemoryBytes, device.memoryBytes),
      });
    const floor = problem.clients[k].minDeviceLayers;
    if (d.cut < floor)
      violations.push({
        constraint: `client[${k}].privacy`,
        message:
          `${name}: cut ${d.cut} sends layers ${d.cut + 1}..${floor} off the device, ` +
          `its privacy floor is ${floor}`,
        excess: floor - d.cut,
      });
    if (d.compression !== undefined) {
      const level = problem.compressionLevels.find((l) => l.name === d.compression);
      const cap = problem.clients[k].maxCompressionCost;
      if (level === undefined)
        violations.push({
          constraint: `client[${k}].compression`,
          message: `${name}: compression "${d.compression}" is not one of the problem's levels`,
        });
      else if (!withinLimit(level.accuracyCost, cap))
        violations.push({
          constraint: `client[${k}].accuracy`,
          message:
            `${name}: compression "${level.name}" costs ${level.accuracyCost} accuracy-proxy points, ` +
            `the cap is ${cap}`,
          excess: excessOver(level.accuracyCost, cap),
        });
    }
    const fixedBlocks = problem.clients[k].fixedSubchannels;
    if (fixedBlocks !== null && d.subchannels !== fixedBlocks)
      violations.push({
        constraint: `client[${k}].subchannels`,
        message: `${name}'s resource blocks are fixed at ${fixedBlocks} by the input, the decision gives ${d.subchannels}`,
        excess: Math.abs(d.subchannels - fixedBlocks),
      });
    const budget = problem.clients[k].energyBudgetJoulesPerRound;
    if (budget !== undefined && !withinLimit(cost.energyJoulesPerRound, budget))
      violations.push({
        constraint: `client[${k}].energy`,
        message: `${name} uses ${cost.energyJoulesPerRound.toPrecision(4)} J per round, its budget is ${budget} J`,
        excess: excessOver(cost.energyJoulesPerRound, budget),
      });
  });
  if (problem.cutPolicy === 'shared') {
    const first = decision.clients[0];
    decision.clients.forEach((d, k) => {
      if (d.cut !== first.cut || d.frozenLayers !== first.frozenLayers)
        violations.push({
          constraint: `client[${k}].shared-cut`,
          message:
            `cutPolicy is shared but ${problem.clients[k].name} uses (cut ${d.cut}, frozen ${d.frozenLayers}) ` +
            `instead of (${first.cut}, ${first.frozenLayers})`,
        });
    });
  }
  const subchannelsUsed = decision.clients.reduce((s, d) => s + d.subchannels, 0);
  if (subchannelsUsed > problem.subchannels)
    violations.push({
      constraint: 'subchannels',
      message: `the clients use ${subchannelsUsed} uplink subchannels, the cell has ${problem.subchannels}`,
      excess: subchannelsUsed - problem.subchannels,
    });
  const lowestCut = Math.min(...decision.clients.map((d) => d.cut));
  const sharedWeightBytes = sharedServerWeightBytes(ctx, lowestCut);
  const perClientBytes = costs.reduce((s, c) => s + c.serverClientMemoryBytes, 0);
  const serverBytes = sharedWeightBytes + perClientBytes;
  if (!withinLimit(serverBytes, problem.server.memoryBytes))
    violations.push({
      constraint: 'server-memory',
      message:
        `the server needs ${GBf(serverBytes)} (${GBf(sharedWeightBytes)} shared weights ` +
        `of layers ${lowestCut + 1}..${L} ` +
        `and the head, ${GBf(perClientBytes)} for the clients' adapters and activations), its ` +
        `${problem.server.name} has ${GBf(problem.server.memoryBytes)}`,
      excess: excessOver(serverBytes, problem.server.memoryBytes),
    });
  const { timeCoefficient, energyCoefficient } = objectiveCoefficients(problem);
  const rounds = totalRounds(problem);
  const walk = barrierWalk(problem, costs);
  let bottleneck = 0;
  costs.forEach((c, k) => {
    if (c.roundSeconds > costs[bottleneck].roundSeconds) bottleneck = k;
  });
  const energyPerRound = costs.reduce((s, c) => s + c.energyJoulesPerRound, 0);
  const objective = (timeCoefficient > 0 ? timeCoefficient * walk.seconds : 0) + energyCoefficient * energyPerRound;
  const clients: ClientBreakdown[] = costs.map((c, k) => {
    const trainable = trainableParams(ctx, c.frozenLayers);
    return {
      client: problem.clients[k].name,
      device: problem.clients[k].device.id,
      cut: c.cut,
      frozenLayers: c.frozenLayers,
      freezingRatio: c.frozenLayers / L,
      trainableParams: trainable,
      trainableParamFraction: trainable / problem.modelParams,
      fullyFrozen: c.fullyFrozen,
      subchannels: c.subchannels,
      compression: problem.compressionLevels[c.compression].name,
      uplinkBytesPerRound: c.uplinkBytes,
      uplinkBitsPerSecond: c.uplinkBitsPerSecond,
      roundSeconds: c.roundSeconds,
      firstEpochRoundSeconds: c.firstEpochRoundSeconds,
      laterRoundSeconds: c.laterRoundSeconds,
      clientForwardSeconds: c.clientForwardSeconds,
      uplinkSeconds: c.uplinkSeconds,
      serverSeconds: c.serverSeconds,
      gradientDownlinkSeconds: c.gradientDownlinkSeconds,
      clientBackwardSeconds: c.clientBackwardSeconds,
      aggregationSeconds: c.aggregationSeconds,
      energyJoulesPerRound: c.energyJoulesPerRound,
      clientMemoryBytes: c.clientMemoryBytes,
      deviceMemoryBytes: problem.clients[k].device.memoryBytes,
      serverMemoryBytes: c.serverClientMemoryBytes,
    };
  });
  const breakdown: SplitFinetuneBreakdown = {
    roundSeconds: walk.seconds / rounds,
    bottleneckClient: problem.clients[bottleneck].name,
    totalSeconds: walk.seconds,
    totalDeviceEnergyJoules: rounds * energyPerRound,
    rounds,
    aggregations: walk.aggregations,
    subchannelsUsed,
    subchannels: problem.subchannels,
    server: {
      lowestServerLayer: lowestCut + 1,
      sharedWeightBytes,
      perClientBytes,
      memoryBytes: serverBytes,
      capacityBytes: problem.server.memoryBytes,
    },
    clients,
  };
  return { feasible: violations.length === 0, objective, violations, breakdown };
}

const percent = (x: number) => `${(x * 100).toPrecision(3)}%`;

/** Why the accuracy rules leave no frozen prefix, or null when they leave one. */
function accuracyReason(problem: SplitFinetuneProblem): string | null {
  if (problem.minFrozenLayers <= problem.maxFrozenLayers) return null;
  const L = problem.model.layers;
  const a = problem.accuracy;
  const reach = problem.loraParamsAllLayers / problem.modelParams;
  if (a.minTrainableFraction !== undefined && reach < a.minTrainableFraction * (1 - 1e-9)) {
    return (
      `the LoRA adapters cannot reach minTrainableFraction ${a.minTrainableFraction} ` +
      `(${percent(a.minTrainableFraction)} of the model's parameters): rank ${problem.lora.rank} on ` +
      `${problem.lora.targets.join(', ')} in all ${L} layers ` +
      `trains ${problem.loraParamsAllLayers.toLocaleString('en-US')} of ` +
      `${problem.modelParams.toLocaleString('en-US')} ` +
      `parameters (${percent(reach)}); raise the rank or adapt more matrices`
    );
  }
  if (problem.minFrozenLayers > L - 1)
    return `the fixed freezing ratio freezes all ${L} layers; at least one layer must carry LoRA adapters`;
  const caps: string[] = [];
  if (a.maxFreezingRatio !== undefined) caps.push(`maxFreezingRatio ${a.maxFreezingRatio}`);
  if (a.minTrainableFraction !== undefined) caps.push(`minTrainableFraction ${a.minTrainableFraction}`);
  return (
    `the fixed freezing ratio ${a.freezingRatio} freezes ${problem.minFrozenLayers} layers, ` +
    `but ${caps.join(' and ')} ` +
    `allow at most ${problem.maxFrozenLayers}`
  );
}

/** Why no decision exists, in domain words: the first resource found short, with the shortfall. */
export function explainSplitFinetuneInfeasible(problem: SplitFinetuneProblem): string {
  const K = problem.clients.length;
  const N = problem.subchannels;
  if (K > N) return `${K} clients need at least one uplink subchannel each, the cell has only ${N} (${K - N} short)`;
  const accuracy = accuracyReason(problem);
  if (accuracy !== null) return accuracy;
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
    // Only the cuts its privacy floor allows (layers 1..minDeviceLayers stay on the device).
    const own = pairs.filter((pr) => pr.cut >= client.minDeviceLayers);
    let bestPair = own[0];
    for (const pr of own) {
      const ph = optionPhysics(ctx, k, pr.cut, pr.frozenLayers);
      if (ph.clientMemoryBytes < minClient) {
        minClient = ph.clientMemoryBytes;
        bestPair = pr;
      }
      if (withinLimit(ph.clientMemoryBytes, client.device.memoryBytes))
        minServer = Math.min(minServer, sharedServerWeightBytes(ctx, pr.cut) + ph.serverClientMemoryBytes);
    }
    if (!withinLimit(minClient, client.device.memoryBytes)) {
      reasons.push(
        `${client.name} needs at least ${GBf(minClient)} (cut ${bestPair.cut}, ` +
          `${Math.min(bestPair.cut, bestPair.frozenLayers)} of its layers frozen), its ${client.device.name} has ` +
          `${GBf(client.device.memoryBytes)} (${GBf(minClient - client.device.memoryBytes)} short)` +
          (client.minDeviceLayers > 0 ? ` with its privacy floor of ${client.minDeviceLayers} layers` : ''),
      );
    } else if (!withinLimit(minServer, M)) {
      reasons.push(
        `serving ${client.name} alone needs at least ${GBf(minServer)} on the server, ` +
          `which has ${GBf(M)} (${GBf(minServer - M)} short)`,
      );
    } else if (client.energyBudgetJoulesPerRound !== undefined) {
      reasons.push(
        `${client.name} cannot stay within its energy budget of ${client.energyBudgetJoulesPerRound} J per round ` +
          'with any cut, frozen prefix and subchannel count',
      );
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
  if (!withinLimit(leastServer, M))
    return (
      `the server needs at least ${GBf(leastServer)} for the shared layers and the ${K} clients' adapters and ` +
      `activations, its ${problem.server.name} has ${GBf(M)} (${GBf(leastServer - M)} short)`
    );
  const leastSubchannels = perClient.reduce((s, opts) => s + Math.min(...opts.map((o) => o.subchannels)), 0);
  if (leastSubchannels > N)
    return (
      `the clients' energy budgets need at least ${leastSubchannels} uplink subchannels in total, ` +
      `the cell has ${N}`
    );
  if (problem.cutPolicy === 'shared')
    return 'no single (cut, frozen prefix) pair fits every client and the server at once';
  return `the server memory (${GBf(M)}) and the ${N} uplink subchannels cannot be met together`;
}

export function describeSplitFinetune(problem: SplitFinetuneProblem, decision: SplitFinetuneDecision): string {
  const evaluation = evaluateSplitFinetune(problem, decision);
  const b = evaluation.breakdown;
  if (b === null) return evaluation.violations.map((v) => v.message).join('\n');
  const lines: string[] = [];
  lines.push(
    `${problem.model.name}, ${problem.clients.length} clients, ${problem.server.name} server; ${b.rounds} rounds in ` +
      `${b.aggregations} aggregation periods → ${secs(b.totalSeconds)} (average round ${secs(b.roundSeconds)}, ` +
      `busiest ${b.bottleneckClient}), device energy ${b.totalDeviceEnergyJoules.toFixed(1)} J`,
  );
  lines.push(
    `server memory ${GBf(b.server.memoryBytes)} of ${GBf(b.server.capacityBytes)} (layers ` +
      `${b.server.lowestServerLayer}..${problem.model.layers} shared); ` +
      `subchannels ${b.subchannelsUsed}/${b.subchannels}`,
  );
  for (const c of b.clients) {
    const rounds =
      c.firstEpochRoundSeconds === c.laterRoundSeconds
        ? `round ${secs(c.firstEpochRoundSeconds)}`
        : `round ${secs(c.firstEpochRoundSeconds)} in epoch 1, ${secs(c.laterRoundSeconds)} after`;
    lines.push(
      `  ${c.client} (${c.device}): cut ${c.cut}, frozen ${c.frozenLayers} (${(c.freezingRatio * 100).toFixed(0)}%)` +
        `${c.fullyFrozen ? ' [client fully frozen]' : ''}, ${c.subchannels} subch, ${rounds}, ` +
        `mem ${GBf(c.clientMemoryBytes)}/${GBf(c.deviceMemoryBytes)}, ${c.energyJoulesPerRound.toFixed(2)} J/round`,
    );
  }
  for (const v of evaluation.violations) lines.push(`  VIOLATED: ${v.message}`);
  return lines.join('\n');
}
