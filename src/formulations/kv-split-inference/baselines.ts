/**
 * Peers, re-implemented from their published descriptions. They judge their own decisions with
 * the family's cost functions (cost.ts `assess`), never with evaluate (which re-checks them):
 *
 * - `neurosurgeon-repaired`: Neurosurgeon (Kang et al., ASPLOS 2017) picks, per request, the
 *   partition point minimising that request's end-to-end latency from per-layer device and server
 *   time estimates and the current link rate — each user on its own, as if the server ran its
 *   layers for it alone. Those per-user choices ignore the shared server memory and batch, so we
 *   repair them: while the joint decision is infeasible, the server-side user holding the most
 *   server KV moves its cut to its next larger allowed cut (one more layer on its device);
 *   if no user can move, the peer has no decision.
 * - `fixed-quarter`: SplitLoRA's inference setting puts the first quarter of the layers on the
 *   device (cut = round(L/4)) for every user.
 * - `all-server`: cut 0 for every user (cloud/edge-only inference).
 * - `all-device-where-fits`: a user whose device holds the whole model resident (weights and KV,
 *   no streaming) runs it locally (cut L); every other user is served entirely by the server.
 */
import type { Baseline } from '../types.ts';
import {
  assess,
  cutAllowed,
  defaultKvFormat,
  equalShares,
  formatProblems,
  kvDecisionOf,
  kvTables,
  serverStateOf,
  userLatencySeconds,
} from './cost.ts';
import type { KvDecision, KvProblem } from './schema.ts';
import { twoTierOptimumCuts } from './exact.ts';

type KvBaseline = Baseline<KvProblem, KvDecision>;

/** The peer's cuts with the cell split equally (peers do not co-plan the radio with the split). */
function withFairShares(problem: KvProblem, cuts: readonly (number | null)[]): KvDecision {
  return kvDecisionOf(problem, cuts, problem.cell === null ? null : equalShares(problem, kvTables(problem), cuts));
}

/** The peer's decision as judged: fair cell shares, and its cloud cuts kept (three tiers). */
function judged(problem: KvProblem, decision: KvDecision): KvDecision {
  const full = withFairShares(problem, decision.cuts);
  return decision.cloudCuts !== undefined ? { ...full, cloudCuts: decision.cloudCuts } : full;
}

function feasibleOrNull(problem: KvProblem, decision: KvDecision): KvDecision | null {
  const full = judged(problem, decision);
  return assess(problem, kvTables(problem), full).feasible ? full : null;
}

function whyInfeasible(problem: KvProblem, decision: KvDecision | null, what: string): string {
  if (decision === null) return `${what} has no decision`;
  const a = assess(problem, kvTables(problem), judged(problem, decision));
  return a.feasible ? `${what} is feasible` : `${what} is infeasible: ${a.reasons.join('; ')}`;
}

/** Each user's own best cut, as if it were alone on the server. */
function selfishCuts(problem: KvProblem): (number | null)[] {
  const tables = kvTables(problem);
  // A cell user expects the fair share it would get with every cell user transmitting.
  const inCell = problem.users.filter((user) => user.radio !== null && user.radio.fixedShare === null).length;
  const fixedSum = problem.users.reduce((a, user) => a + (user.radio?.fixedShare ?? 0), 0);
  return problem.users.map((user, u) => {
    const share = user.radio?.fixedShare ?? (inCell > 0 ? Math.max(0, 1 - fixedSum) / inCell : 1);
    let best: number | null = null;
    let bestSeconds = Infinity;
    for (const k of tables.users[u]) {
      if (!cutAllowed(k)) continue;
      const alone = problem.users.map((__, w) => (w === u ? k.cut : null));
      const seconds = userLatencySeconds(tables, u, k.cut, serverStateOf(problem, tables, alone).stepSeconds, share);
      if (seconds < bestSeconds) {
        bestSeconds = seconds;
        best = k.cut;
      }
    }
    return best;
  });
}

function neurosurgeonRepaired(problem: KvProblem): KvDecision | null {
  const tables = kvTables(problem);
  const L = tables.layers;
  const cuts = selfishCuts(problem);
  if (cuts.some((c) => c === null)) return null;
  for (;;) {
    const decision = withFairShares(problem, cuts);
    if (assess(problem, tables, decision).feasible) return decision;
    let mover = -1;
    let moverKv = -1;
    let moverNext = -1;
    cuts.forEach((c, u) => {
      if (c === null || c >= L) return;
      const next = tables.users[u].find((k) => k.cut > c && cutAllowed(k));
      if (next === undefined) return;
      const kv = tables.users[u][c].serverKvBytes;
      if (kv > moverKv) {
        mover = u;
        moverKv = kv;
        moverNext = next.cut;
      }
    });
    if (mover < 0) return null;
    cuts[mover] = moverNext;
  }
}

function fixedQuarter(problem: KvProblem): KvDecision {
  const c = Math.round(problem.model.layers / 4);
  return { cuts: problem.users.map((user) => Math.max(c, user.minDeviceLayers)) };
}

// A privacy floor is the user's own rule, not a planning choice: the fixed peers keep it
// (cut = floor where they would put 0), so that they stay comparable on floored problems.
function allServer(problem: KvProblem): KvDecision {
  return { cuts: problem.users.map((user) => user.minDeviceLayers) };
}

function allDeviceWhereFits(problem: KvProblem): KvDecision {
  const tables = kvTables(problem);
  const L = tables.layers;
  return {
    cuts: problem.users.map((_, u) => {
      const k = tables.users[u][L];
      return !k.deviceStreams && cutAllowed(k) ? L : problem.users[u].minDeviceLayers;
    }),
  };
}

function fixedBaseline(name: string, description: string, make: (p: KvProblem) => KvDecision): KvBaseline {
  return {
    name,
    description,
    run: (problem) => feasibleOrNull(problem, make(problem)),
    whyNoDecision: (problem) => whyInfeasible(problem, make(problem), name),
  };
}

/**
 * Three tiers, "two tiers only": today's planner without the cloud — the exact two-tier optimum
 * (the fixed-point descent of exact.ts on the problem with its cloud removed, max objective).
 */
function twoTierOptimum(problem: KvProblem): KvDecision | null {
  if (problem.cloud === null || problem.objective !== 'max') return null;
  const cuts = twoTierOptimumCuts({ ...problem, cloud: null });
  if (cuts === null) return null;
  const L = problem.model.layers;
  const decision: KvDecision = { cuts, cloudCuts: problem.users.map(() => L) };
  return assess(problem, kvTables(problem), decision).feasible ? decision : null;
}

/** Three tiers, "all to the cloud": the device keeps its privacy floor (0 without one), the cloud runs the rest. */
function allCloud(problem: KvProblem): KvDecision {
  const floors = problem.users.map((user) => user.minDeviceLayers);
  return { cuts: floors, cloudCuts: floors };
}

const threeTierPeers: readonly KvBaseline[] = [
  {
    name: 'two-tier-optimum',
    description:
      'the cloud left out: the exact two-tier optimum (device | edge server) of the same users, ' +
      'by the fixed-point descent',
    run: twoTierOptimum,
    whyNoDecision: (problem) =>
      problem.cloud === null
        ? 'the problem has no cloud tier (this peer is the two-tier optimum of a three-tier problem)'
        : problem.objective !== 'max'
          ? 'the two-tier optimum of the sum objective needs the MILP, which a peer does not run'
          : 'no two-tier split is feasible: the edge server cannot carry the users without the cloud',
  },
  {
    name: 'all-cloud',
    description: 'every user sends everything above its privacy floor to the cloud (the edge only relays)',
    run: (problem) => (problem.cloud === null ? null : feasibleOrNull(problem, allCloud(problem))),
    whyNoDecision: (problem) =>
      problem.cloud === null ? 'the problem has no cloud tier' : whyInfeasible(problem, allCloud(problem), 'all-cloud'),
  },
];

/**
 * KV formats, "one format for everyone": every user keeps its KV in format f and the cuts are the
 * exact optimum for that format (the fixed-point descent of exact.ts on the problem whose model
 * stores its KV in f; max objective). Null when infeasible or over the accuracy budget.
 */
function uniformFormatOptimum(problem: KvProblem, f: number): KvDecision | null {
  const formats = problem.kvFormats ?? null;
  if (formats === null || problem.objective !== 'max') return null;
  const cuts = twoTierOptimumCuts(formatProblems(problem)[f]);
  if (cuts === null) return null;
  const decision: KvDecision = { cuts, kvFormats: problem.users.map(() => formats[f].id) };
  return assess(problem, kvTables(problem), decision).feasible ? decision : null;
}

/** The best of the uniform-format optima that fit the budget. */
function bestUniformFormat(problem: KvProblem): KvDecision | null {
  let best: KvDecision | null = null;
  let bestObjective = Infinity;
  (problem.kvFormats ?? []).forEach((_, f) => {
    const decision = uniformFormatOptimum(problem, f);
    if (decision === null) return;
    const objective = assess(problem, kvTables(problem), decision).objective;
    if (objective < bestObjective) {
      best = decision;
      bestObjective = objective;
    }
  });
  return best;
}

const formatWhy = (problem: KvProblem, what: string): string =>
  !problem.kvFormats
    ? 'the problem declares no kvFormats'
    : problem.objective !== 'max'
      ? 'the cut optimum of the sum objective needs the MILP, which a peer does not run'
      : `${what} is infeasible or over the accuracy budget`;

const kvFormatPeers: readonly KvBaseline[] = [
  {
    name: 'uncompressed-kv-optimum',
    description:
      'every user keeps the least-loss KV format (fp16 by default): the exact optimum of the cuts alone, ' +
      'by the fixed-point descent',
    run: (problem) => uniformFormatOptimum(problem, defaultKvFormat(problem)),
    whyNoDecision: (problem) => formatWhy(problem, 'no split with the least-loss KV format for everyone'),
  },
  {
    name: 'best-uniform-kv-format',
    description:
      'one KV format for every user (the best one the accuracy budget allows), ' +
      'with the exact optimum of the cuts for it',
    run: bestUniformFormat,
    whyNoDecision: (problem) => formatWhy(problem, 'every uniform KV format'),
  },
];

export const kvBaselines: readonly KvBaseline[] = [
  {
    name: 'neurosurgeon-repaired',
    description:
      'Neurosurgeon (Kang et al. 2017): each user picks its own latency-optimal cut as if alone on the server; then the server user with the most server KV moves one allowed cut deeper until the joint decision is feasible',
    run: neurosurgeonRepaired,
    whyNoDecision: (problem) =>
      selfishCuts(problem).some((c) => c === null)
        ? 'some user has no cut allowed on its own (device memory, TTFT or SLO)'
        : 'moving cuts onto the devices could not make the joint decision feasible',
  },
  fixedBaseline(
    'fixed-quarter',
    'SplitLoRA-style fixed split: the first quarter of the layers on every device, the rest on the server',
    fixedQuarter,
  ),
  fixedBaseline(
    'all-server',
    'everything on the edge server (cut 0 for every user; its privacy floor for a user with one)',
    allServer,
  ),
  fixedBaseline(
    'all-device-where-fits',
    'users whose device holds the whole model resident run it locally; all others are served entirely by the server',
    allDeviceWhereFits,
  ),
  ...threeTierPeers,
  ...kvFormatPeers,
];
