/**
 * Contract generator for fleet-serving: tiny fleets (≤ 3 nodes, ≤ 4 layers) with random,
 * non-monotone throughput tables, some links missing and some capacities that bind, sometimes
 * limited source/sink links or whole-model replicas. The brute force enumerates every placement
 * (each node idle or on one (start, k)) and scores it with evaluate's own max flow (no routing
 * given), so it shares nothing with the solvers.
 *
 * Seeds above PLAIN_SEEDS are the variants (issue 16): a latency SLO (per-node latency tables or
 * per-layer seconds, link latencies), a minimum-cost fleet (prices, a target), or both. Their brute
 * force also enumerates, per placement, every set of usable links (the routing's support): a set
 * counts when its longest source → sink path meets the SLO (its own pass), and its max flow is
 * evaluate's on the fleet restricted to that set.
 *
 * Seeds above PLAIN_SEEDS + VARIANT_SEEDS add a time-to-first-token SLO (measured prefill tables,
 * a short prompt so that its transfer over the slow links matters), alone, with the per-token SLO,
 * or with a target; the brute force checks the TTFT of every path of a link set with its own pass.
 */
import { evaluateFleet } from '../../../src/formulations/fleet-serving/evaluate.ts';
import { parseFleet } from '../../../src/formulations/fleet-serving/index.ts';
import type { FleetDecision, FleetProblem } from '../../../src/formulations/fleet-serving/schema.ts';
import { atLeast, withinLimit } from '../../../src/formulations/tolerance.ts';
import { mulberry32 } from '../../../src/util/random.ts';
import type { BruteForce, ContractGenerator, Relaxation } from '../types.ts';

interface RawLink {
  from: string;
  to: string;
  tokensPerSecond?: number;
  latencySeconds?: number;
}
interface RawNode {
  name: string;
  throughputByLayers: Record<string, number>;
  maxLayers: number;
  latencyByLayers?: Record<string, number>;
  secondsPerLayer?: number;
  costPerHour?: number;
  prefillByLayers?: Record<string, number>;
}
type Raw = Record<string, unknown> & {
  layers: number;
  nodes: RawNode[];
  links: RawLink[];
  latencySloSeconds?: number;
  ttftSloSeconds?: number;
  workload?: { promptTokens: number };
  targetTokensPerSecond?: number;
};

/** Seeds 1..PLAIN_SEEDS are the plain family; the ones above carry the variants. */
const PLAIN_SEEDS = 16;
const VARIANT_SEEDS = 18;
const TTFT_SEEDS = 12;

function tiny(seed: number): Raw {
  if (seed > PLAIN_SEEDS + VARIANT_SEEDS) return ttftTiny(seed);
  const raw = plainTiny(seed);
  if (seed <= PLAIN_SEEDS) return raw;
  const random = mulberry32(seed * 7919);
  const slo = seed % 3 !== 1;
  const cost = seed % 3 !== 0;
  if (slo) {
    for (const node of raw.nodes) {
      if (random() < 0.5) {
        node.secondsPerLayer = Math.round(1 + 9 * random()) / 1000;
      } else {
        node.latencyByLayers = {};
        for (const k of Object.keys(node.throughputByLayers))
          node.latencyByLayers[k] = Math.round(Number(k) * (2 + 10 * random())) / 1000;
      }
    }
    for (const l of raw.links) l.latencySeconds = Math.round(20 * random()) / 1000;
    // Around what a path of 2 – 3 hops takes, so that the SLO binds on some instances and not others.
    raw.latencySloSeconds = Math.round(10 + 35 * random()) / 1000;
  }
  if (cost) {
    for (const node of raw.nodes) node.costPerHour = Math.round(1 + 9 * random()) / 2;
    raw.targetTokensPerSecond = Math.round(5 + 35 * random());
  }
  return raw;
}

/**
 * TTFT seeds: at least two nodes and two layers; every node has a prefill table (k × 5 – 40 ms),
 * links have latencies, the prompt is 1 – 2 tokens (capacities here are 5 – 65 tokens/s, so a
 * prompt's transfer is tens of ms), and the TTFT SLO (40 – 250 ms) is around what a path of one to
 * three hops takes; by seed, alone, with the per-token SLO (as the variant seeds), or with a target.
 */
function ttftTiny(seed: number): Raw {
  // At least two nodes and two layers, so that there are several paths for the bound to choose from.
  let raw = plainTiny(seed * 31);
  for (let t = 1; raw.nodes.length < 2 || raw.layers < 2 || raw.layers > 3; t++) raw = plainTiny(seed * 31 + t);
  const random = mulberry32(seed * 104_729);
  const mode = seed % 3;
  for (const node of raw.nodes) {
    node.prefillByLayers = {};
    for (const k of Object.keys(node.throughputByLayers))
      node.prefillByLayers[k] = Math.round(Number(k) * (5 + 35 * random())) / 1000;
    if (mode === 1) node.secondsPerLayer = Math.round(1 + 9 * random()) / 1000;
    if (mode === 2) node.costPerHour = Math.round(1 + 9 * random()) / 2;
  }
  for (const l of raw.links) l.latencySeconds = Math.round(20 * random()) / 1000;
  raw.workload = { promptTokens: 1 + Math.floor(2 * random()) };
  raw.ttftSloSeconds = Math.round(30 + 100 * random()) / 1000;
  if (mode === 1) raw.latencySloSeconds = Math.round(10 + 35 * random()) / 1000;
  if (mode === 2) raw.targetTokensPerSecond = Math.round(5 + 35 * random());
  return raw;
}

function plainTiny(seed: number): Raw {
  const random = mulberry32(seed);
  const L = 1 + Math.floor(random() * 4);
  const n = 1 + Math.floor(random() * 3);
  const nodes = Array.from({ length: n }, (_, i) => {
    const maxLayers = 1 + Math.floor(random() * L);
    const table: Record<string, number> = {};
    for (let k = 1; k <= maxLayers; k++)
      if (k === 1 || random() < 0.8) table[String(k)] = Math.round(10 + 90 * random());
    return { name: `n${i}`, throughputByLayers: table, maxLayers };
  });
  const links: RawLink[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j || random() < 0.2) continue;
      links.push({
        from: `n${i}`,
        to: `n${j}`,
        ...(random() < 0.4 ? { tokensPerSecond: Math.round(5 + 60 * random()) } : {}),
      });
    }
  }
  // Endpoints: every node (unlimited) or a random subset with capacities; at least one each.
  if (random() < 0.4) {
    for (const end of ['source', 'sink'] as const) {
      const chosen = nodes.filter(() => random() < 0.6);
      for (const node of chosen.length > 0 ? chosen : [nodes[0]]) {
        const cap = random() < 0.5 ? { tokensPerSecond: Math.round(20 + 80 * random()) } : {};
        links.push(
          end === 'source' ? { from: 'source', to: node.name, ...cap } : { from: node.name, to: 'sink', ...cap },
        );
      }
    }
  }
  return { kind: 'fleet-serving', layers: L, nodes, links, ...(random() < 0.15 ? { replicas: 'whole-model' } : {}) };
}

/** Every node idle or on one (start, k) of its table; the placement's max flow from evaluate. */
function bruteForce(raw: unknown): BruteForce {
  const problem = parseFleet(raw);
  if (
    problem.latencySloSeconds !== undefined ||
    problem.ttftSloSeconds !== undefined ||
    problem.targetTokensPerSecond !== undefined
  )
    return variantBruteForce(problem);
  const options = rangesOf(problem);
  let best = 0;
  const pick: Range[] = [];
  const walk = (i: number): void => {
    if (i === options.length) {
      const decision: FleetDecision = {
        placement: pick.flatMap((o, j) =>
          o === null ? [] : [{ node: problem.nodes[j].name, firstLayer: o.first, lastLayer: o.last }],
        ),
      };
      const e = evaluateFleet(problem, decision);
      if (e.feasible && e.objective > best) best = e.objective;
      return;
    }
    for (const o of options[i]) {
      pick.push(o);
      walk(i + 1);
      pick.pop();
    }
  };
  walk(0);
  return best > 0 ? { status: 'optimal', objective: best } : { status: 'infeasible' };
}

type Range = { first: number; last: number } | null;

/** Every node idle or on one (start, k), as 1-based ranges. */
function rangesOf(problem: FleetProblem): Range[][] {
  const L = problem.layers;
  return problem.nodes.map((node) => {
    const list: Range[] = [null];
    for (let k = 1; k <= node.maxLayers; k++) {
      if (!((node.throughput[k] ?? 0) > 0) || (problem.wholeModel && k !== L)) continue;
      for (let s = 0; s + k <= L; s++) list.push({ first: s + 1, last: s + k });
    }
    return list;
  });
}

/**
 * Variants: per placement, every set of usable links among the adjacent ones (source links of nodes
 * starting at layer 1, links whose ranges meet, sink links of nodes ending at L). A set counts when
 * every source → sink path through it meets the SLO; its flow is evaluate's max flow on the fleet
 * restricted to it. Objective: the best flow, or under a target the least rent reaching it.
 */
function variantBruteForce(problem: FleetProblem): BruteForce {
  const L = problem.layers;
  const n = problem.nodes.length;
  const slo = problem.latencySloSeconds ?? Infinity;
  const ttft = problem.ttftSloSeconds ?? Infinity;
  const P = problem.promptTokens ?? 0;
  const target = problem.targetTokensPerSecond;
  const plain: FleetProblem = { ...problem };
  delete (plain as { latencySloSeconds?: number }).latencySloSeconds;
  delete (plain as { ttftSloSeconds?: number }).ttftSloSeconds;
  delete (plain as { targetTokensPerSecond?: number }).targetTokensPerSecond;
  // Seconds to move `tokens` tokens over a link of `capacity` tokens/s (unlimited: 0).
  const move = (tokens: number, capacity: number): number => (Number.isFinite(capacity) ? tokens / capacity : 0);
  const options = rangesOf(problem);
  let best: number | null = null;
  const pick: Range[] = [];
  const score = (): void => {
    const held = pick.map((r) => (r === null ? 0 : r.last - r.first + 1));
    const rent = pick.reduce((s, r, i) => s + (r === null ? 0 : (problem.nodes[i].costPerHour ?? 0)), 0);
    if (target !== undefined && best !== null && rent >= best) return;
    // Per edge its per-token seconds and its seconds to the first token (the prompt's P tokens over
    // the source and node links, the last position's one token over the sink link).
    type E = { from: number; to: number; seconds: number; first: number };
    const edges: E[] = [];
    for (let i = 0; i < n; i++) {
      const r = pick[i];
      if (r === null) continue;
      if (r.first === 1 && problem.sourceCapacity[i] > 0) {
        const seconds = problem.sourceLatencySeconds[i];
        edges.push({ from: -1, to: i, seconds, first: seconds + move(P, problem.sourceCapacity[i]) });
      }
      if (r.last === L && problem.sinkCapacity[i] > 0) {
        const seconds = problem.sinkLatencySeconds[i];
        edges.push({ from: i, to: -1, seconds, first: seconds + move(1, problem.sinkCapacity[i]) });
      }
    }
    for (const l of problem.links) {
      const a = pick[l.from];
      const b = pick[l.to];
      if (a !== null && b !== null && b.first === a.last + 1) {
        const seconds = l.latencySeconds;
        edges.push({ from: l.from, to: l.to, seconds, first: seconds + move(P, l.capacity) });
      }
    }
    const compute = (i: number): number => problem.nodes[i].latencySeconds?.[held[i]] ?? 0;
    const prefill = (i: number): number => problem.nodes[i].prefillSeconds?.[held[i]] ?? 0;
    const bounded = problem.latencySloSeconds !== undefined || problem.ttftSloSeconds !== undefined;
    const subsets = bounded ? [] : [edges.length === 0 ? 0 : 2 ** edges.length - 1];
    if (subsets.length === 0) for (let mask = 1; mask < 2 ** edges.length; mask++) subsets.push(mask);
    // Longest path by relaxing n + 1 times (ranges increase along a link, so paths are short).
    const longest = (on: readonly E[], edge: (e: E) => number, node: (i: number) => number): number => {
      const arrive = new Array<number>(n).fill(-Infinity);
      for (let round = 0; round <= n; round++) {
        for (const e of on) {
          if (e.to < 0) continue;
          const before = e.from < 0 ? 0 : arrive[e.from];
          arrive[e.to] = Math.max(arrive[e.to], before + edge(e) + node(e.to));
        }
      }
      return Math.max(-Infinity, ...on.filter((e) => e.to < 0).map((e) => arrive[e.from] + edge(e)));
    };
    for (const mask of subsets) {
      const on = edges.filter((_, e) => (mask >> e) & 1);
      if (!withinLimit(longest(on, (e) => e.seconds, compute), slo)) continue;
      if (!withinLimit(longest(on, (e) => e.first, prefill), ttft)) continue;
      const restricted: FleetProblem = {
        ...plain,
        links: problem.links.filter((l) => on.some((e) => e.from === l.from && e.to === l.to)),
        sourceCapacity: problem.sourceCapacity.map((c, j) => (on.some((e) => e.from === -1 && e.to === j) ? c : 0)),
        sinkCapacity: problem.sinkCapacity.map((c, i) => (on.some((e) => e.from === i && e.to === -1) ? c : 0)),
      };
      const decision: FleetDecision = {
        placement: pick.flatMap((o, j) =>
          o === null ? [] : [{ node: problem.nodes[j].name, firstLayer: o.first, lastLayer: o.last }],
        ),
      };
      const e = evaluateFleet(restricted, decision);
      if (!e.feasible) continue;
      if (target === undefined) {
        if (best === null || e.objective > best) best = e.objective;
      } else if (atLeast(e.objective, target) && (best === null || rent < best)) {
        best = rent;
        return;
      }
    }
  };
  const walk = (i: number): void => {
    if (i === n) return score();
    for (const o of options[i]) {
      pick.push(o);
      walk(i + 1);
      pick.pop();
    }
  };
  walk(0);
  return best !== null ? { status: 'optimal', objective: best } : { status: 'infeasible' };
}

const copy = (raw: unknown): Raw => structuredClone(raw) as Raw;

const relaxations: readonly Relaxation[] = [
  {
    name: 'double every throughput',
    apply(raw) {
      const r = copy(raw);
      for (const node of r.nodes) for (const k of Object.keys(node.throughputByLayers)) node.throughputByLayers[k] *= 2;
      return r;
    },
  },
  {
    name: 'lift every link capacity',
    apply(raw) {
      const r = copy(raw);
      r.links = r.links.map((l) => ({
        from: l.from,
        to: l.to,
        ...(l.latencySeconds !== undefined ? { latencySeconds: l.latencySeconds } : {}),
      }));
      return r;
    },
  },
  {
    name: 'a looser latency SLO (× 1.5)',
    apply(raw) {
      const r = copy(raw);
      if (r.latencySloSeconds !== undefined) r.latencySloSeconds *= 1.5;
      return r;
    },
  },
  {
    name: 'a looser TTFT SLO (× 1.5)',
    apply(raw) {
      const r = copy(raw);
      if (r.ttftSloSeconds !== undefined) r.ttftSloSeconds *= 1.5;
      return r;
    },
  },
  {
    name: 'a shorter prompt (one token fewer, at least 1; prefill tables kept)',
    apply(raw) {
      const r = copy(raw);
      if (r.workload !== undefined) r.workload.promptTokens = Math.max(1, r.workload.promptTokens - 1);
      return r;
    },
  },
  {
    name: 'a lower target (× 0.7)',
    apply(raw) {
      const r = copy(raw);
      if (r.targetTokensPerSecond !== undefined) r.targetTokensPerSecond *= 0.7;
      return r;
    },
  },
  {
    name: 'every rent halved',
    apply(raw) {
      const r = copy(raw);
      for (const node of r.nodes) if (node.costPerHour !== undefined) node.costPerHour /= 2;
      return r;
    },
  },
  {
    name: 'add every missing node-to-node link',
    apply(raw) {
      const r = copy(raw);
      for (const a of r.nodes) {
        for (const b of r.nodes) {
          if (a !== b && !r.links.some((l) => l.from === a.name && l.to === b.name))
            r.links.push({ from: a.name, to: b.name });
        }
      }
      return r;
    },
  },
  {
    name: 'allow shared stages (replicas no longer whole-model)',
    apply(raw) {
      const r = copy(raw);
      delete r.replicas;
      return r;
    },
  },
];

export const fleetServingGenerator: ContractGenerator = {
  kind: 'fleet-serving',
  tiny,
  bruteForce,
  relaxations,
  seeds: PLAIN_SEEDS + VARIANT_SEEDS + TTFT_SEEDS,
};

export default fleetServingGenerator;
