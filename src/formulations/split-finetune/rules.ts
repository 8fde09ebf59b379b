/**
 * The problem's rules applied to a whole decision with the cost functions — what the peers, the
 * exact method's incumbent and the MILP's cut-off use to decide whether a decision is feasible and
 * what it is worth. evaluate.ts re-checks independently (its own rule checks and its own walk over
 * the aggregation periods); this file exists so that nothing but evaluate calls evaluate.
 */
import { withinLimit } from '../tolerance.ts';
import {
  compressionIndex,
  decisionCost,
  decisionObjective,
  sharedServerWeightBytes,
  splitContext,
  type OptionCost,
} from './cost.ts';
import { formatBytes } from './format.ts';
import type { SplitFinetuneDecision, SplitFinetuneProblem } from './schema.ts';

export interface RuleCheck {
  /** The broken rules in domain words (empty: feasible). */
  readonly broken: readonly string[];
  /** The objective by the cost functions (meaningful when feasible). */
  readonly objective: number;
  readonly costs: readonly OptionCost[];
}

export function checkRules(problem: SplitFinetuneProblem, decision: SplitFinetuneDecision): RuleCheck {
  const K = problem.clients.length;
  const L = problem.model.layers;
  if (decision.clients.length !== K) {
    return {
      broken: [`the decision lists ${decision.clients.length} clients, the problem has ${K}`],
      objective: Infinity,
      costs: [],
    };
  }
  const shape = decision.clients.flatMap((d, k) =>
    Number.isInteger(d.cut) &&
    d.cut >= 0 &&
    d.cut <= L &&
    Number.isInteger(d.frozenLayers) &&
    d.frozenLayers >= 0 &&
    d.frozenLayers <= L &&
    Number.isInteger(d.subchannels) &&
    d.subchannels >= 1
      ? []
      : [
          `${problem.clients[k].name}: (cut ${d.cut}, frozen ${d.frozenLayers}, ` +
            `${d.subchannels} subchannels) is not a decision`,
        ],
  );
  if (shape.length > 0) return { broken: shape, objective: Infinity, costs: [] };
  const ctx = splitContext(problem);
  const costs = decision.clients.map((d, k) => decisionCost(ctx, k, d));
  const broken: string[] = [];
  decision.clients.forEach((d, k) => {
    const client = problem.clients[k];
    const cost = costs[k];
    if (d.cut < problem.cutMin || d.cut > problem.cutMax)
      broken.push(`${client.name}: cut ${d.cut} is outside the allowed ${problem.cutMin}..${problem.cutMax}`);
    if (d.frozenLayers < problem.minFrozenLayers || d.frozenLayers > problem.maxFrozenLayers)
      broken.push(
        `${client.name}: ${d.frozenLayers} frozen layers, the accuracy rules allow ` +
          `${problem.minFrozenLayers}..${problem.maxFrozenLayers}`,
      );
    if (!withinLimit(cost.clientMemoryBytes, client.device.memoryBytes))
      broken.push(
        `${client.name} needs ${formatBytes(cost.clientMemoryBytes)} for layers 1..${d.cut} ` +
          `(${d.cut - Math.min(d.cut, d.frozenLayers)} trainable), its ${client.device.name} has ` +
          `${formatBytes(client.device.memoryBytes)}`,
      );
    if (d.cut < client.minDeviceLayers)
      broken.push(`${client.name}: cut ${d.cut} sends layers below its privacy floor of ${client.minDeviceLayers}`);
    const q = compressionIndex(problem, d.compression);
    if (q < 0) broken.push(`${client.name}: compression "${d.compression}" is not a level of the problem`);
    else if (!client.compressionLevels.includes(q))
      broken.push(
        `${client.name}: compression "${d.compression}" costs ${problem.compressionLevels[q].accuracyCost} ` +
          'accuracy-proxy points, above its cap',
      );
    if (client.fixedSubchannels !== null && d.subchannels !== client.fixedSubchannels)
      broken.push(`${client.name}'s resource blocks are fixed at ${client.fixedSubchannels}, not ${d.subchannels}`);
    const budget = client.energyBudgetJoulesPerRound;
    if (budget !== undefined && !withinLimit(cost.energyJoulesPerRound, budget))
      broken.push(
        `${client.name} uses ${cost.energyJoulesPerRound.toPrecision(4)} J per round, its budget is ${budget} J`,
      );
  });
  if (problem.cutPolicy === 'shared') {
    const first = decision.clients[0];
    if (decision.clients.some((d) => d.cut !== first.cut || d.frozenLayers !== first.frozenLayers))
      broken.push('cutPolicy is shared but the clients use different (cut, frozen prefix) pairs');
  }
  const used = decision.clients.reduce((s, d) => s + d.subchannels, 0);
  if (used > problem.subchannels)
    broken.push(`the clients use ${used} uplink subchannels, the cell has ${problem.subchannels}`);
  const lowest = Math.min(...decision.clients.map((d) => d.cut));
  const serverBytes = sharedServerWeightBytes(ctx, lowest) + costs.reduce((s, c) => s + c.serverClientMemoryBytes, 0);
  if (!withinLimit(serverBytes, problem.server.memoryBytes))
    broken.push(
      `the server needs ${formatBytes(serverBytes)} (layers ${lowest + 1}..${L} shared, plus every client's adapters ` +
        `and activations), its ${problem.server.name} has ${formatBytes(problem.server.memoryBytes)}`,
    );
  return { broken, objective: broken.length === 0 ? decisionObjective(ctx, costs) : Infinity, costs };
}
