/**
 * Peers, re-implemented from their published descriptions and scored by our evaluate:
 * - SplitLoRA (Lin et al., 2024): a fixed cut — GPT-2 with its first 3 blocks on the client,
 *   otherwise the first quarter of the layers — LoRA on every layer (no freezing), the uplink
 *   split uniformly.
 * - Neurosurgeon (Kang et al., ASPLOS 2017): each device scans every partition point with its own
 *   profile and bandwidth and keeps the one with the least latency (least energy under an energy
 *   objective); no freezing, uniform uplink split; server memory is not part of its rule.
 * - Uniform uplink split: our exact method with every client's subchannels fixed to its uniform
 *   share (isolates the value of allocating the uplink).
 * - SplitFrozen-style fully frozen client: the client side entirely frozen (F = c, the server
 *   trains the rest), best cut per client, uniform split — the seed's §V-A3 special case.
 */
import { bestFeasibleBaseline } from '../best-baseline.ts';
import type { Baseline } from '../types.ts';
import { decisionCost, objectiveCoefficients, optionPhysics, splitContext } from './cost.ts';
import { evaluateSplitFinetune } from './evaluate.ts';
import { solveExact } from './exact.ts';
import type { ClientDecision, SplitFinetuneDecision, SplitFinetuneProblem } from './schema.ts';

type SplitBaseline = Baseline<SplitFinetuneProblem, SplitFinetuneDecision>;

/** n_k = ⌊N/K⌋, the remainder going one each to the first clients; null when N < K. */
export function uniformSubchannels(problem: SplitFinetuneProblem): number[] | null {
  const K = problem.clients.length;
  const q = Math.floor(problem.subchannels / K);
  if (q < 1) return null;
  const r = problem.subchannels - q * K;
  return problem.clients.map((_, k) => q + (k < r ? 1 : 0));
}

/** SplitLoRA's cut: 3 GPT-2 blocks on the client, otherwise the first quarter of the layers. */
export function splitLoraCut(problem: SplitFinetuneProblem): number {
  const m = problem.model;
  return m.id.startsWith('gpt2') ? 3 : Math.max(1, Math.floor(m.layers / 4));
}

function feasibleOrNull(problem: SplitFinetuneProblem, decision: SplitFinetuneDecision): SplitFinetuneDecision | null {
  return evaluateSplitFinetune(problem, decision).feasible ? decision : null;
}

export const splitLoraFixedCut: SplitBaseline = {
  name: 'splitlora-fixed-cut',
  description: 'SplitLoRA: fixed cut (3 GPT-2 blocks / first quarter of the layers on the client), no freezing, uniform uplink split',
  run(problem) {
    const n = uniformSubchannels(problem);
    if (n === null) return null;
    const cut = splitLoraCut(problem);
    const F = problem.minFrozenLayers;
    return feasibleOrNull(problem, { clients: n.map((subchannels) => ({ cut, frozenLayers: F, subchannels })) });
  },
};

export const neurosurgeonPerDevice: SplitBaseline = {
  name: 'neurosurgeon-per-device',
  description: 'Neurosurgeon: each client scans every cut for its own least latency (energy under an energy objective), no freezing, uniform uplink split',
  run(problem) {
    const n = uniformSubchannels(problem);
    if (n === null) return null;
    const ctx = splitContext(problem);
    const F = problem.minFrozenLayers;
    const { timeCoefficient, energyCoefficient } = objectiveCoefficients(problem);
    const score = (k: number, cut: number) => {
      const cost = decisionCost(ctx, k, { cut, frozenLayers: F, subchannels: n[k] });
      return timeCoefficient * cost.roundSeconds + energyCoefficient * cost.energyJoulesPerRound;
    };
    const fits = (k: number, cut: number) => optionPhysics(ctx, k, cut, F).clientMemoryBytes <= problem.clients[k].device.memoryBytes;
    if (problem.cutPolicy === 'shared') {
      let best: number | null = null;
      let bestValue = Infinity;
      for (let c = problem.cutMin; c <= problem.cutMax; c++) {
        if (!problem.clients.every((_, k) => fits(k, c))) continue;
        const v = timeCoefficient > 0 ? Math.max(...problem.clients.map((_, k) => score(k, c))) : problem.clients.reduce((s, _, k) => s + score(k, c), 0);
        if (v < bestValue) {
          bestValue = v;
          best = c;
        }
      }
      if (best === null) return null;
      const cut = best;
      return feasibleOrNull(problem, { clients: n.map((subchannels) => ({ cut, frozenLayers: F, subchannels })) });
    }
    const clients: ClientDecision[] = [];
    for (let k = 0; k < problem.clients.length; k++) {
      let best: number | null = null;
      let bestValue = Infinity;
      for (let c = problem.cutMin; c <= problem.cutMax; c++) {
        if (!fits(k, c)) continue;
        const v = score(k, c);
        if (v < bestValue) {
          bestValue = v;
          best = c;
        }
      }
      if (best === null) return null;
      clients.push({ cut: best, frozenLayers: F, subchannels: n[k] });
    }
    return feasibleOrNull(problem, { clients });
  },
};

export const uniformSplitBestCut: SplitBaseline = {
  name: 'uniform-split-best-cut',
  description: 'uniform uplink split with the optimal cut and frozen prefix per client (our exact method with subchannels fixed)',
  run(problem) {
    const n = uniformSubchannels(problem);
    if (n === null) return null;
    return solveExact(problem, { subchannels: (k) => n[k] }).decision;
  },
};

export const frozenClientBestCut: SplitBaseline = {
  name: 'frozen-client-best-cut',
  description: 'SplitFrozen-style: client side fully frozen (F = c, forward only, smashed data sent once), best cut, uniform uplink split',
  run(problem) {
    const n = uniformSubchannels(problem);
    if (n === null) return null;
    return solveExact(problem, {
      subchannels: (k) => n[k],
      cutFrozen: (_k, cut, frozenLayers) => frozenLayers === Math.max(cut, problem.minFrozenLayers),
    }).decision;
  },
};

export const splitFinetuneBaselines: readonly SplitBaseline[] = [splitLoraFixedCut, neurosurgeonPerDevice, uniformSplitBestCut, frozenClientBestCut];

/** The feasible baseline decision with the best objective, for the MILP's warm start. */
export function bestBaselineDecision(problem: SplitFinetuneProblem): SplitFinetuneDecision | null {
  return bestFeasibleBaseline(problem, splitFinetuneBaselines, evaluateSplitFinetune)?.decision ?? null;
}
