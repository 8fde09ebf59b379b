/**
 * Peers of split-moe, each following its own rule and scored by our evaluate:
 * - device-only: every class runs the whole model on its device (where it fits);
 * - all-to-one-server: cuts at the privacy floor, every expert on one edge server, every call there;
 * - moe-placement-fixed-cut: cuts at the floor, the placement moe-placement's own construction
 *   builds for the pooled routing (it has no device side and one requester), its shares for everyone;
 * - eplb-nearest: cuts at the floor, DeepSeek EPLB's replicate-then-pack placement (moe-placement's
 *   port, reused), each class calling the holder nearest to it.
 * Peers never call evaluate or the MILP.
 */
import type { LinkSpec } from '../../cost/link.ts';
import { eplbPlacement } from '../moe-placement/baselines.ts';
import { serverLayerObjective } from '../moe-placement/cost.ts';
import { greedyLayer, improveLayer } from '../moe-placement/exact.ts';
import {
  DEFAULT_EXACT_NODE_LIMIT,
  type MoePlacementProblem,
  type MoeServer,
  type Replica,
} from '../moe-placement/schema.ts';
import type { Baseline } from '../types.ts';
import { callSeconds, cutRange, serverCapacity } from './cost.ts';
import type { Route, SplitMoeDecision, SplitMoeProblem } from './schema.ts';

type Placement = number[][][];

function floors(problem: SplitMoeProblem): number[] {
  return problem.classes.map((c) => c.minDeviceLayers);
}

/** Each class's calls of each remote layer go to the holder with the least call time (ties: lowest index). */
export function routeNearest(
  problem: SplitMoeProblem,
  cuts: readonly number[],
  placement: Placement,
): SplitMoeDecision {
  const routing = problem.classes.map((c, u) =>
    placement.map((row, l) =>
      row.map((holders, e): Route[] => {
        if (l < cuts[u] || c.popularity[l][e] === 0 || holders.length === 0) return [];
        let best = holders[0];
        for (const s of holders) if (callSeconds(problem, u, s) < callSeconds(problem, u, best)) best = s;
        return [{ server: best, share: 1 }];
      }),
    ),
  );
  return { cuts: [...cuts], placement, routing };
}

function emptyPlacement(problem: SplitMoeProblem): Placement {
  return Array.from({ length: problem.layers }, () => Array.from({ length: problem.experts }, () => []));
}

export function deviceOnly(problem: SplitMoeProblem): SplitMoeDecision | null {
  if (problem.classes.some((_, u) => cutRange(problem, u).max < problem.layers)) return null;
  return routeNearest(
    problem,
    problem.classes.map(() => problem.layers),
    emptyPlacement(problem),
  );
}

/** The one server: the access server of most users (ties: more memory, then lower index). */
export function oneServer(problem: SplitMoeProblem): number {
  const users = problem.servers.map(() => 0);
  problem.classes.forEach((c) => (users[c.server] += c.users));
  let best = 0;
  for (let s = 1; s < problem.servers.length; s++)
    if (
      users[s] > users[best] ||
      (users[s] === users[best] && problem.servers[s].expertMemoryBytes > problem.servers[best].expertMemoryBytes)
    )
      best = s;
  return best;
}

export function allToOneServer(problem: SplitMoeProblem): SplitMoeDecision | null {
  const cuts = floors(problem);
  const first = Math.min(...cuts);
  const s = oneServer(problem);
  if (serverCapacity(problem, s) < (problem.layers - first) * problem.experts) return null;
  const placement = emptyPlacement(problem);
  for (let l = first; l < problem.layers; l++) for (let e = 0; e < problem.experts; e++) placement[l][e] = [s];
  return routeNearest(problem, cuts, placement);
}

/**
 * The instance as moe-placement sees it: one requester; the remote layers (from the lowest floor);
 * popularity pooled over the classes remote there, weighted by users; the batch all their users;
 * each server's link the user-weighted mean path (access link, plus the server link when the
 * server is not the user's access server).
 */
export function asMoePlacement(
  problem: SplitMoeProblem,
  cuts: readonly number[],
): { moe: MoePlacementProblem; first: number } {
  const first = Math.min(...cuts);
  const layers = problem.layers - first;
  const bits = 8 * problem.activationBytesPerToken;
  const popularity = Array.from({ length: layers }, (_, i) => {
    const l = first + i;
    const row = new Array<number>(problem.experts).fill(0);
    let total = 0;
    problem.classes.forEach((c, u) => {
      if (l < cuts[u]) return;
      c.popularity[l].forEach((p, e) => (row[e] += c.users * p));
      total += c.users;
    });
    return row.map((w) => (total > 0 ? w / total : 1 / problem.experts));
  });
  const users = problem.classes.reduce((a, c) => a + c.users, 0);
  const servers = problem.servers.map((server, s) => {
    let up = 0;
    let down = 0;
    let latency = 0;
    problem.classes.forEach((c) => {
      const w = c.users / users;
      const hop = c.server !== s ? problem.serverLinks[c.server][s] : null;
      up += w * (bits / c.link.uplinkBitsPerSecond + (hop ? bits / hop.uplinkBitsPerSecond : 0));
      down += w * (bits / c.link.downlinkBitsPerSecond + (hop ? bits / hop.downlinkBitsPerSecond : 0));
      latency += w * (c.link.latencySeconds + (hop ? hop.latencySeconds : 0));
    });
    const link: LinkSpec = {
      id: `path-${s}`,
      name: `mean path to ${server.name}`,
      uplinkBitsPerSecond: bits / up,
      downlinkBitsPerSecond: bits / down,
      latencySeconds: latency,
      source: 'split-moe peer',
    };
    // Asserted, not annotated: moe-placement's server may carry more optional facts (a runtime:
    // none modelled here), which this peer leaves at their "not modelled" value.
    return {
      runtime: null,
      name: server.name,
      device: server.device,
      expertMemoryBytes: server.expertMemoryBytes,
      flopsPerSecond: server.device.peakFlopsPerSecond * server.device.computeEfficiency,
      link,
      node: `node-${s}`,
    } as MoeServer;
  });
  const moe: MoePlacementProblem = {
    kind: 'moe-placement',
    modelName: problem.modelName,
    layers,
    experts: problem.experts,
    routedExperts: problem.experts,
    sharedExperts: 0,
    topK: problem.topK,
    expertBytes: problem.expertBytes,
    expertFlopsPerToken: problem.expertFlopsPerToken,
    activationBytesPerToken: problem.activationBytesPerToken,
    popularity,
    popularitySource: { kind: 'given' },
    batchTokens: users,
    servers,
    requesterServer: null,
    serverLink: problem.serverLink,
    maxReplicasPerLayer: null,
    expertGroups: null,
    current: null,
    migrationWeight: 0,
    objective: 'latency',
    exactNodeLimit: DEFAULT_EXACT_NODE_LIMIT,
  };
  return { moe, first };
}

function layerValue(moe: MoePlacementProblem, layer: number, rows: readonly (readonly Replica[])[]): number {
  const tokens = moe.servers.map(() => 0);
  const count = moe.servers.map(() => 0);
  rows.forEach((reps, e) =>
    reps.forEach((r) => {
      tokens[r.server] += r.share * moe.batchTokens * moe.topK * moe.popularity[layer][e];
      count[r.server] += 1;
    }),
  );
  return Math.max(...moe.servers.map((_, s) => serverLayerObjective(moe, s, tokens[s], count[s])));
}

/**
 * moe-placement's construction: each server's slots spread over the layers, greedy with spare copies, then
 * its local search.
 */
export function moePlacementFixedCut(problem: SplitMoeProblem): SplitMoeDecision | null {
  const cuts = floors(problem);
  const { moe, first } = asMoePlacement(problem, cuts);
  const caps = problem.servers.map((_, s) => serverCapacity(problem, s));
  const slotCaps = caps.map((c) => Math.min(problem.experts, Math.floor(c / Math.max(1, moe.layers))));
  const spare = slotCaps.reduce((a, b) => a + b, 0) - problem.experts;
  if (spare < 0) return null;
  const free = caps.map((c, s) => c - slotCaps[s] * moe.layers);
  const placement = emptyPlacement(problem);
  const shares: Replica[][][] = [];
  for (let layer = 0; layer < moe.layers; layer++) {
    let best: Replica[][] | null = null;
    let bestValue = Infinity;
    for (const extra of [0, Math.floor(spare / 4), Math.floor(spare / 2), spare]) {
      const rows = greedyLayer(moe, layer, slotCaps, extra);
      if (rows.some((reps) => reps.length === 0)) continue;
      const v = layerValue(moe, layer, rows);
      if (v < bestValue) {
        best = rows;
        bestValue = v;
      }
    }
    if (best === null) return null;
    // The local search may move replicas into memory left over after the even spread.
    const layerFree = slotCaps.map(
      (c, s) => c - best.reduce((n, reps) => n + reps.filter((r) => r.server === s).length, 0) + free[s],
    );
    const improved = improveLayer(moe, layer, best, layerFree);
    improved.forEach((reps, e) => (placement[first + layer][e] = reps.map((r) => r.server)));
    shares.push(improved);
    layerFree.forEach((f, s) => (free[s] = Math.min(free[s], f)));
  }
  const routing = problem.classes.map((c, u) =>
    placement.map((row, l) =>
      row.map((_, e): Route[] =>
        l < cuts[u] || c.popularity[l][e] === 0
          ? []
          : shares[l - first][e].map((r) => ({ server: r.server, share: r.share })),
      ),
    ),
  );
  return { cuts, placement, routing };
}

export function eplbNearest(problem: SplitMoeProblem): SplitMoeDecision | null {
  const cuts = floors(problem);
  const { moe, first } = asMoePlacement(problem, cuts);
  const eplb = eplbPlacement(moe);
  if (eplb === null) return null;
  const placement = emptyPlacement(problem);
  eplb.placement.forEach((row, layer) =>
    row.forEach((reps, e) => (placement[first + layer][e] = reps.map((r) => r.server))),
  );
  return routeNearest(problem, cuts, placement);
}

export const baselines: readonly Baseline<SplitMoeProblem, SplitMoeDecision>[] = [
  {
    name: 'device-only',
    description: 'every class runs the whole model, experts included, on its own device',
    run: deviceOnly,
    whyNoDecision: () =>
      'some class’s device cannot hold every layer’s experts besides the dense parts and its KV cache',
  },
  {
    name: 'all-to-one-server',
    description: 'cuts at the privacy floor; every expert on the access server of most users; every call sent there',
    run: allToOneServer,
    whyNoDecision: (p) => `${p.servers[oneServer(p)].name} cannot hold every remote layer’s experts`,
  },
  {
    name: 'moe-placement-fixed-cut',
    description:
      'cuts at the privacy floor; moe-placement’s placement construction (greedy with EPLB spare ' +
      'copies, then its local search) for the pooled routing and mean paths; its shares for every class',
    run: moePlacementFixedCut,
    whyNoDecision: () =>
      'an even spread of the servers’ memory over the remote layers leaves some expert without a slot',
  },
  {
    name: 'eplb-nearest',
    description:
      'cuts at the privacy floor; DeepSeek EPLB (replicate the heaviest per copy, pack balanced, ' +
      'equal slots per server) on the pooled routing; each class calls its nearest holder',
    run: eplbNearest,
    whyNoDecision: () => 'EPLB’s equal slots per server (limited by the smallest server) cannot hold every expert',
  },
];
