/**
 * Peers, re-implemented from their published descriptions. They decide feasibility and value their
 * candidates with the cost functions and the problem's rules (rules.ts) — never with evaluate, and
 * never with the exact method; evaluate re-checks whatever they return.
 * - SplitLoRA (Lin et al., 2024): a fixed cut — GPT-2 with its first 3 blocks on the client,
 *   otherwise the first quarter of the layers — LoRA on every layer (no freezing), the uplink
 *   split uniformly.
 * - Neurosurgeon (Kang et al., ASPLOS 2017): each device scans every partition point with its own
 *   profile and bandwidth and keeps the one with the least latency (least energy under an energy
 *   objective); no freezing, uniform uplink split; server memory is not part of its rule.
 * - Uniform uplink split, best cut: every client takes its own best (cut, frozen prefix) at its
 *   uniform share of the uplink, for the lowest cut that lets the server hold everyone (an
 *   ablation: what allocating the uplink adds).
 * - SplitFrozen-style fully frozen client: the client side entirely frozen (F = c, the server
 *   trains the rest), the same per-client choice of the cut, uniform split — the seed's §V-A3 case.
 */
import type { Baseline } from '../types.ts';
import { objectiveCoefficients, periodWeights, sharedServerWeightBytes, splitContext } from './cost.ts';
import { formatBytes } from './format.ts';
import { clientOptions, type OptionFilter, type SplitOption } from './options.ts';
import { checkRules } from './rules.ts';
import type { ClientDecision, SplitFinetuneDecision, SplitFinetuneProblem } from './schema.ts';
import { withinLimit } from '../tolerance.ts';

type SplitBaseline = Baseline<SplitFinetuneProblem, SplitFinetuneDecision>;

/** n_k = ⌊N/K⌋, the remainder going one each to the first clients; null when N < K. */
export function uniformSubchannels(problem: SplitFinetuneProblem): number[] | null {
  const K = problem.clients.length;
  const q = Math.floor(problem.subchannels / K);
  if (q < 1) return null;
  const r = problem.subchannels - q * K;
  return problem.clients.map((_, k) => q + (k < r ? 1 : 0));
}

const noUniformSplit = (p: SplitFinetuneProblem) =>
  `the uniform uplink split needs one subchannel per client: ${p.clients.length} clients, ${p.subchannels} subchannels`;

/** SplitLoRA's cut: 3 GPT-2 blocks on the client, otherwise the first quarter of the layers. */
export function splitLoraCut(problem: SplitFinetuneProblem): number {
  const m = problem.model;
  return m.id.startsWith('gpt2') ? 3 : Math.max(1, Math.floor(m.layers / 4));
}

function splitLoraDecision(problem: SplitFinetuneProblem): SplitFinetuneDecision | string {
  const n = uniformSubchannels(problem);
  if (n === null) return noUniformSplit(problem);
  const cut = splitLoraCut(problem);
  return { clients: n.map((subchannels) => ({ cut, frozenLayers: problem.minFrozenLayers, subchannels })) };
}

/** The decision when the rules accept it, else the first broken rule prefixed by what the peer did. */
function feasibleOr(
  problem: SplitFinetuneProblem,
  decision: SplitFinetuneDecision | string,
  what: string,
): SplitFinetuneDecision | string {
  if (typeof decision === 'string') return decision;
  const { broken } = checkRules(problem, decision);
  if (broken.length === 0) return decision;
  // The first broken rule in full (with its figures); the rest counted, so the line stays readable.
  return `${what}: ${broken[0]}${broken.length > 1 ? ` (and ${broken.length - 1} more broken rules)` : ''}`;
}

const orNull = (r: SplitFinetuneDecision | string) => (typeof r === 'string' ? null : r);
const reason = (r: SplitFinetuneDecision | string) => (typeof r === 'string' ? r : 'it found a decision');

function splitLora(problem: SplitFinetuneProblem): SplitFinetuneDecision | string {
  return feasibleOr(problem, splitLoraDecision(problem), `its fixed cut ${splitLoraCut(problem)} does not fit`);
}

export const splitLoraFixedCut: SplitBaseline = {
  name: 'splitlora-fixed-cut',
  description:
    'SplitLoRA: fixed cut (3 GPT-2 blocks / first quarter of the layers on the client), no freezing, ' +
    'uniform uplink split',
  run: (problem) => orNull(splitLora(problem)),
  whyNoDecision: (problem) => reason(splitLora(problem)),
};

function neurosurgeon(problem: SplitFinetuneProblem): SplitFinetuneDecision | string {
  const n = uniformSubchannels(problem);
  if (n === null) return noUniformSplit(problem);
  const F = problem.minFrozenLayers;
  if (F > problem.maxFrozenLayers) return 'the accuracy rules leave no frozen prefix';
  const ctx = splitContext(problem);
  const weights = periodWeights(ctx);
  const { energyCoefficient } = objectiveCoefficients(problem);
  // Per device: its own round time (or energy), with no regard for the server or the other clients.
  const perClient = problem.clients.map((_, k) =>
    clientOptions(
      problem,
      k,
      { subchannels: () => n[k], cutFrozen: (_k, _c, f) => f === F, compression: () => 0 },
      ctx,
    ),
  );
  const score = (o: SplitOption) =>
    o.periodSeconds.reduce((s, p, t) => s + weights[t] * p, 0) + energyCoefficient * o.joules;
  const missing = perClient.findIndex((l) => l.length === 0);
  if (missing >= 0)
    return `${problem.clients[missing].name}: no cut fits its memory (and energy budget) without freezing`;
  if (problem.cutPolicy === 'shared') {
    let best: { cut: number; value: number } | null = null;
    const cuts = new Set(perClient[0].map((o) => o.cut));
    for (const c of cuts) {
      const picked = perClient.map((l) => l.find((o) => o.cut === c));
      if (picked.some((o) => o === undefined)) continue;
      const scores = (picked as SplitOption[]).map(score);
      const v = weights.some((w) => w > 0) ? Math.max(...scores) : scores.reduce((a, b) => a + b, 0);
      if (best === null || v < best.value) best = { cut: c, value: v };
    }
    if (best === null) return 'no cut fits every client without freezing';
    const cut = best.cut;
    return feasibleOr(
      problem,
      { clients: n.map((subchannels) => ({ cut, frozenLayers: F, subchannels })) },
      `its cut ${cut}`,
    );
  }
  const clients: ClientDecision[] = perClient.map((l) => {
    const o = l.reduce((a, b) => (score(b) < score(a) ? b : a));
    return { cut: o.cut, frozenLayers: F, subchannels: o.subchannels };
  });
  return feasibleOr(problem, { clients }, 'the per-device cuts');
}

export const neurosurgeonPerDevice: SplitBaseline = {
  name: 'neurosurgeon-per-device',
  description:
    'Neurosurgeon: each client scans every cut for its own least latency (energy under an energy objective), ' +
    'no freezing, uniform uplink split',
  run: (problem) => orNull(neurosurgeon(problem)),
  whyNoDecision: (problem) => reason(neurosurgeon(problem)),
};

/**
 * Every client at its uniform share picks its own best option (weighted period times + energy)
 * among those with cut ≥ m; the lowest cut m is tried from the deepest down, and the plan with the
 * best objective whose server memory fits is kept. Shared policy: every common pair is tried.
 */
function bestCutsAtUniformSplit(
  problem: SplitFinetuneProblem,
  filter: OptionFilter['cutFrozen'],
  what: string,
): SplitFinetuneDecision | string {
  const n = uniformSubchannels(problem);
  if (n === null) return noUniformSplit(problem);
  const ctx = splitContext(problem);
  const weights = periodWeights(ctx);
  const { energyCoefficient } = objectiveCoefficients(problem);
  const perClient = problem.clients.map((_, k) =>
    clientOptions(
      problem,
      k,
      { subchannels: () => n[k], compression: () => 0, ...(filter ? { cutFrozen: filter } : {}) },
      ctx,
    ),
  );
  const missing = perClient.findIndex((l) => l.length === 0);
  if (missing >= 0)
    return (
      `${problem.clients[missing].name}: no ${what} fits its memory and energy budget ` + `at ${n[missing]} subchannels`
    );
  const score = (o: SplitOption) =>
    o.periodSeconds.reduce((s, p, t) => s + weights[t] * p, 0) + energyCoefficient * o.joules;
  const toDecision = (picked: readonly SplitOption[]): SplitFinetuneDecision => ({
    clients: picked.map((o) => ({ cut: o.cut, frozenLayers: o.frozenLayers, subchannels: o.subchannels })),
  });
  let best: { decision: SplitFinetuneDecision; value: number } | null = null;
  let leastServer = Infinity;
  const consider = (picked: readonly SplitOption[]) => {
    const lowest = Math.min(...picked.map((o) => o.cut));
    const bytes = sharedServerWeightBytes(ctx, lowest) + picked.reduce((s, o) => s + o.serverBytes, 0);
    leastServer = Math.min(leastServer, bytes);
    if (!withinLimit(bytes, problem.server.memoryBytes)) return;
    const check = checkRules(problem, toDecision(picked));
    if (check.broken.length === 0 && (best === null || check.objective < best.value))
      best = { decision: toDecision(picked), value: check.objective };
  };
  if (problem.cutPolicy === 'shared') {
    const pairs = new Set(perClient[0].map((o) => `${o.cut}:${o.frozenLayers}`));
    for (const key of pairs) {
      const picked = perClient.map((l) => l.find((o) => `${o.cut}:${o.frozenLayers}` === key));
      if (picked.every((o) => o !== undefined)) consider(picked as SplitOption[]);
    }
  } else {
    const cuts = [...new Set(perClient.flatMap((l) => l.map((o) => o.cut)))].sort((a, b) => b - a);
    for (const m of cuts) {
      const lists = perClient.map((l) => l.filter((o) => o.cut >= m));
      if (lists.some((l) => l.length === 0)) continue;
      // Own best; ties go to the option that needs less server memory.
      consider(
        lists.map((l) =>
          l.reduce((a, b) => (score(b) < score(a) || (score(b) === score(a) && b.serverBytes < a.serverBytes) ? b : a)),
        ),
      );
    }
  }
  const found = best as { decision: SplitFinetuneDecision } | null;
  if (found !== null) return found.decision;
  if (Number.isFinite(leastServer))
    return (
      `with each client at its own best ${what}, the server needs at least ${formatBytes(leastServer)}, ` +
      `its ${problem.server.name} has ${formatBytes(problem.server.memoryBytes)}`
    );
  return `no ${what} is common to every client`;
}

const uniformBest = (p: SplitFinetuneProblem) => bestCutsAtUniformSplit(p, undefined, '(cut, frozen prefix)');
const frozenBest = (p: SplitFinetuneProblem) =>
  bestCutsAtUniformSplit(
    p,
    (_k, cut, frozenLayers) => frozenLayers === Math.max(cut, p.minFrozenLayers),
    'fully frozen cut',
  );

export const uniformSplitBestCut: SplitBaseline = {
  name: 'uniform-split-best-cut',
  description:
    'uniform uplink split; each client its own best cut and frozen prefix, the lowest cut chosen so the server fits',
  run: (problem) => orNull(uniformBest(problem)),
  whyNoDecision: (problem) => reason(uniformBest(problem)),
};

export const frozenClientBestCut: SplitBaseline = {
  name: 'frozen-client-best-cut',
  description:
    'SplitFrozen-style: client side fully frozen (F = c, forward only, smashed data sent once), ' +
    'best cut per client, uniform uplink split',
  run: (problem) => orNull(frozenBest(problem)),
  whyNoDecision: (problem) => reason(frozenBest(problem)),
};

export const splitFinetuneBaselines: readonly SplitBaseline[] = [
  splitLoraFixedCut,
  neurosurgeonPerDevice,
  uniformSplitBestCut,
  frozenClientBestCut,
];
