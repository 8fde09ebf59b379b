/**
 * The independent re-check of a fleet-serving decision, from the decision and the problem alone:
 * the ranges (contiguous, within memory, a measured k), the routing (links that exist, the
 * adjacency rule, capacities, conservation, node throughput) and the pipelines (chains of adjacent
 * nodes whose flows fit in the routing). The objective is the routed tokens/s; the placement's own
 * maximum flow is recomputed here by Edmonds–Karp (shortest augmenting paths, written apart from
 * cost.ts's Dinic) and reported beside it, and used as the objective when no routing is given.
 * Variants: under a latency SLO every source → sink path of the routing's support must meet it
 * (a longest-path pass over the support, which is acyclic); under a TTFT SLO a second pass with
 * prefill times and the prompt's transfer over each link; under a target the objective is the
 * rent of the placed nodes and the flow must reach the target.
 */
import { atLeast, excessOver, withinLimit } from '../tolerance.ts';
import type { Evaluation, Violation } from '../types.ts';
import { SINK, SOURCE, type FleetDecision, type FleetProblem } from './schema.ts';

export interface FleetNodeReport {
  readonly node: string;
  readonly firstLayer: number;
  readonly lastLayer: number;
  readonly capacityTokensPerSecond: number;
  /** null when the decision gives no routing. */
  readonly inflowTokensPerSecond: number | null;
}

export interface FleetBreakdown {
  readonly routedTokensPerSecond: number;
  /** The placement's maximum flow (Edmonds–Karp), ≥ the routed flow. */
  readonly placementMaxFlowTokensPerSecond: number;
  readonly nodes: readonly FleetNodeReport[];
  readonly idleNodes: number;
  readonly pipelines: number;
  /** Latency variant: the slowest source → sink path of the routing's support (per token). */
  readonly worstPathLatencySeconds?: number;
  readonly worstPath?: readonly string[];
  /** TTFT variant: the slowest source → sink path of the support to the first token (prefill). */
  readonly worstTtftSeconds?: number;
  readonly worstTtftPath?: readonly string[];
  /** Rent of the placed nodes per hour (when the nodes have prices). */
  readonly rentPerHour?: number;
  /** Placed nodes whose price is the assumed reference price of their device. */
  readonly assumedPrices?: readonly string[];
}

/**
 * Longest source → sink path of the routing's support: per node its compute latency at its k plus
 * the worst arrival over its support in-links. The support is acyclic when the adjacency rule holds
 * (ranges strictly increase); a cycle, only possible in a routing already refused, is reported.
 */
function worstPath(
  problem: FleetProblem,
  support: readonly { from: number; to: number }[],
  compute: readonly number[],
  seconds: (from: number, to: number) => number,
): { seconds: number; path: number[] } | 'cycle' | null {
  const n = problem.nodes.length;
  const into: { from: number; seconds: number }[][] = Array.from({ length: n }, () => []);
  const exits: number[] = [];
  for (const e of support) {
    if (e.to === -1) exits.push(e.from);
    else into[e.to].push({ from: e.from, seconds: seconds(e.from, e.to) });
  }
  const arrival = new Array<number>(n).fill(NaN);
  const prev = new Array<number>(n).fill(-1);
  const state = new Array<number>(n).fill(0);
  const visit = (i: number): number | 'cycle' => {
    if (state[i] === 2) return arrival[i];
    if (state[i] === 1) return 'cycle';
    state[i] = 1;
    let best = -Infinity;
    for (const e of into[i]) {
      const before = e.from === -1 ? 0 : visit(e.from);
      if (before === 'cycle') return 'cycle';
      if (before + e.seconds > best) {
        best = before + e.seconds;
        prev[i] = e.from;
      }
    }
    state[i] = 2;
    // -Infinity: no support path from the source reaches i (it cannot be on a source → sink path).
    arrival[i] = best + compute[i];
    return arrival[i];
  };
  let worst: { seconds: number; path: number[] } | null = null;
  for (const i of exits) {
    const a = visit(i);
    if (a === 'cycle') return 'cycle';
    const total = a + seconds(i, -1);
    if (Number.isFinite(total) && (worst === null || total > worst.seconds)) {
      const path: number[] = [];
      for (let v = i; v >= 0 && path.length <= n; v = prev[v]) path.unshift(v);
      worst = { seconds: total, path };
    }
  }
  return worst;
}

/** Edmonds–Karp on a small dense residual matrix (node i: in = 2i, out = 2i + 1). */
function edmondsKarp(size: number, s: number, t: number, cap: Float64Array): number {
  let total = 0;
  const parent = new Int32Array(size);
  for (;;) {
    parent.fill(-1);
    parent[s] = s;
    const queue = [s];
    for (let h = 0; h < queue.length && parent[t] < 0; h++) {
      const u = queue[h];
      for (let v = 0; v < size; v++) {
        if (parent[v] < 0 && cap[u * size + v] > 1e-12) {
          parent[v] = u;
          queue.push(v);
        }
      }
    }
    if (parent[t] < 0) return total;
    let push = Infinity;
    for (let v = t; v !== s; v = parent[v]) push = Math.min(push, cap[parent[v] * size + v]);
    for (let v = t; v !== s; v = parent[v]) {
      cap[parent[v] * size + v] -= push;
      cap[v * size + parent[v]] += push;
    }
    total += push;
    if (!Number.isFinite(total)) return total;
  }
}

export function evaluateFleet(problem: FleetProblem, d: FleetDecision): Evaluation<FleetBreakdown> {
  const violations: Violation[] = [];
  const n = problem.nodes.length;
  const L = problem.layers;
  const index = new Map(problem.nodes.map((node, i) => [node.name, i]));
  const first = new Array<number>(n).fill(0);
  const last = new Array<number>(n).fill(0);
  const cap = new Array<number>(n).fill(0);
  d.placement.forEach((p, r) => {
    const at = `placement[${r}]`;
    const i = index.get(p.node);
    if (i === undefined) return violations.push({ constraint: `${at}.node`, message: `unknown node "${p.node}"` });
    if (last[i] > 0) return violations.push({ constraint: `${at}.node`, message: `node ${p.node} is placed twice` });
    if (p.firstLayer > p.lastLayer || p.lastLayer > L) {
      return violations.push({
        constraint: `${at}.layers`,
        message: `layers ${p.firstLayer}..${p.lastLayer} are not a range of 1..${L}`,
      });
    }
    const k = p.lastLayer - p.firstLayer + 1;
    const node = problem.nodes[i];
    if (k > node.maxLayers) {
      violations.push({
        constraint: `${p.node}.memory`,
        message: `${p.node} holds ${k} layers, at most ${node.maxLayers} fit`,
        excess: k - node.maxLayers,
      });
    } else if (!((node.throughput[k] ?? 0) > 0)) {
      violations.push({ constraint: `${p.node}.table`, message: `${p.node} has no throughput for ${k} layers` });
    }
    if (problem.wholeModel && k !== L) {
      violations.push({
        constraint: `${p.node}.whole-model`,
        message: `replicas are whole-model: ${p.node} holds ${k} of ${L} layers`,
      });
    }
    first[i] = p.firstLayer;
    last[i] = p.lastLayer;
    cap[i] = k <= node.maxLayers ? (node.throughput[k] ?? 0) : 0;
  });

  // Independent maximum flow of the placement.
  const size = 2 * n + 2;
  const S = 2 * n;
  const T = 2 * n + 1;
  const m = new Float64Array(size * size);
  const big = (c: number): number => (Number.isFinite(c) ? c : 1e300);
  for (let i = 0; i < n; i++) {
    if (last[i] === 0) continue;
    m[2 * i * size + 2 * i + 1] = cap[i];
    if (first[i] === 1) m[S * size + 2 * i] = big(problem.sourceCapacity[i]);
    if (last[i] === L) m[(2 * i + 1) * size + T] = big(problem.sinkCapacity[i]);
  }
  const linkOf = new Map<string, number>();
  problem.links.forEach((l, e) => {
    linkOf.set(`${l.from}>${l.to}`, e);
    if (last[l.from] > 0 && last[l.to] > 0 && first[l.to] === last[l.from] + 1)
      m[(2 * l.from + 1) * size + 2 * l.to] = big(l.capacity);
  });
  const maxFlow = edmondsKarp(size, S, T, m);

  // The routing as given.
  const inflow = new Array<number>(n).fill(0);
  const outflow = new Array<number>(n).fill(0);
  let routed = 0;
  const endpoint = (name: string, path: string, side: 'from' | 'to'): number | null => {
    if (name === (side === 'from' ? SOURCE : SINK)) return -1;
    const i = index.get(name);
    if (i === undefined) {
      violations.push({ constraint: path, message: `unknown endpoint "${name}"` });
      return null;
    }
    if (last[i] === 0) {
      violations.push({ constraint: path, message: `flow touches ${name}, which holds no layers` });
      return null;
    }
    return i;
  };
  const edgeFlow = new Map<string, number>();
  const support: { from: number; to: number }[] = [];
  if (d.routing !== undefined) {
    d.routing.forEach((r, e) => {
      const at = `routing[${e}]`;
      if (r.tokensPerSecond < 0)
        violations.push({ constraint: at, message: `negative flow ${r.tokensPerSecond} tokens/s` });
      const a = endpoint(r.from, `${at}.from`, 'from');
      const b = endpoint(r.to, `${at}.to`, 'to');
      if (a === null || b === null) return;
      const key = `${r.from}>${r.to}`;
      if (edgeFlow.has(key))
        return violations.push({ constraint: at, message: `link ${r.from} → ${r.to} is routed twice` });
      edgeFlow.set(key, r.tokensPerSecond);
      if (r.tokensPerSecond > 0) support.push({ from: a, to: b });
      let limit: number;
      if (a === -1 && b === -1) {
        return violations.push({ constraint: at, message: 'source → sink skips every layer' });
      }
      if (a === -1) {
        limit = problem.sourceCapacity[b];
        if (first[b] !== 1)
          violations.push({
            constraint: at,
            message: `source feeds ${r.to}, which starts at layer ${first[b]}, not 1`,
          });
        routed += r.tokensPerSecond;
        inflow[b] += r.tokensPerSecond;
      } else if (b === -1) {
        limit = problem.sinkCapacity[a];
        if (last[a] !== L)
          violations.push({
            constraint: at,
            message: `${r.from} ends at layer ${last[a]}, not ${L}, yet feeds the sink`,
          });
        outflow[a] += r.tokensPerSecond;
      } else {
        const link = linkOf.get(`${a}>${b}`);
        limit = link === undefined ? 0 : problem.links[link].capacity;
        if (link === undefined) violations.push({ constraint: at, message: `no link ${r.from} → ${r.to}` });
        if (first[b] !== last[a] + 1) {
          violations.push({
            constraint: at,
            message: `${r.to} starts at layer ${first[b]}, but ${r.from} ends at ${last[a]}`,
          });
        }
        outflow[a] += r.tokensPerSecond;
        inflow[b] += r.tokensPerSecond;
      }
      if (!withinLimit(r.tokensPerSecond, limit)) {
        violations.push({
          constraint: `${at}.capacity`,
          message: `${r.tokensPerSecond} tokens/s over a ${limit} tokens/s link`,
          excess: excessOver(r.tokensPerSecond, limit),
        });
      }
    });
    for (let i = 0; i < n; i++) {
      if (last[i] === 0) continue;
      const name = problem.nodes[i].name;
      if (!withinLimit(inflow[i], cap[i])) {
        violations.push({
          constraint: `${name}.throughput`,
          message: `${name} receives ${inflow[i]} tokens/s, sustains ${cap[i]}`,
          excess: excessOver(inflow[i], cap[i]),
        });
      }
      const scale = Math.max(inflow[i], outflow[i]);
      if (!withinLimit(Math.abs(inflow[i] - outflow[i]), 1e-9 * scale)) {
        violations.push({
          constraint: `${name}.conservation`,
          message: `${name} receives ${inflow[i]} tokens/s but sends ${outflow[i]}`,
        });
      }
    }
  }
  const served = d.routing !== undefined ? routed : maxFlow;
  if (!(served > 0))
    violations.push({ constraint: 'flow', message: 'no flow reaches the sink: the fleet serves nothing' });
  const objective = served;

  // Latency SLOs: every path a request may take (the routing's support) must meet them.
  const heldOf = (i: number): number => (last[i] > 0 ? last[i] - first[i] + 1 : 0);
  const linkAt = new Map(problem.links.map((l) => [`${l.from}>${l.to}`, l]));
  const slo = problem.latencySloSeconds;
  const ttft = problem.ttftSloSeconds;
  if ((slo !== undefined || ttft !== undefined) && d.routing === undefined) {
    violations.push({
      constraint: slo !== undefined ? 'latency-slo' : 'ttft-slo',
      message: 'under a latency SLO the routing is part of the decision (which links requests may take)',
    });
  }
  const pathCheck = (
    constraint: string,
    limit: number,
    compute: readonly number[],
    seconds: (from: number, to: number) => number,
    words: string,
  ): { seconds: number; path: number[] } | null => {
    if (d.routing === undefined) return null;
    const w = worstPath(problem, support, compute, seconds);
    if (w === 'cycle') {
      violations.push({ constraint, message: 'the routing has a cycle: a path latency is unbounded' });
      return null;
    }
    if (w !== null && !withinLimit(w.seconds, limit)) {
      const names = ['source', ...w.path.map((i) => problem.nodes[i].name), 'sink'];
      violations.push({
        constraint,
        message: `path ${names.join(' → ')} takes ${w.seconds} s ${words}, above the SLO of ${limit} s`,
        excess: excessOver(w.seconds, limit),
      });
    }
    return w;
  };
  let worst: { seconds: number; path: number[] } | null = null;
  if (slo !== undefined) {
    const compute = problem.nodes.map((node, i) => node.latencySeconds?.[heldOf(i)] ?? 0);
    const latency = (a: number, b: number): number =>
      a === -1
        ? problem.sourceLatencySeconds[b]
        : b === -1
          ? problem.sinkLatencySeconds[a]
          : (linkAt.get(`${a}>${b}`)?.latencySeconds ?? 0);
    worst = pathCheck('latency-slo', slo, compute, latency, 'per token');
  }
  // TTFT: the prompt's P tokens of activations cross the source link and every node-to-node link
  // at the link's rate; the sink link carries the last position only (the head samples from it).
  let worstTtft: { seconds: number; path: number[] } | null = null;
  if (ttft !== undefined) {
    const P = problem.promptTokens ?? 0;
    const moving = (tokens: number, capacity: number): number =>
      capacity > 0 && capacity < Infinity ? tokens / capacity : 0;
    const prefill = problem.nodes.map((node, i) => node.prefillSeconds?.[heldOf(i)] ?? 0);
    const toFirstToken = (a: number, b: number): number => {
      if (a === -1) return problem.sourceLatencySeconds[b] + moving(P, problem.sourceCapacity[b]);
      if (b === -1) return problem.sinkLatencySeconds[a] + moving(1, problem.sinkCapacity[a]);
      const l = linkAt.get(`${a}>${b}`);
      return l === undefined ? 0 : l.latencySeconds + moving(P, l.capacity);
    };
    worstTtft = pathCheck('ttft-slo', ttft, prefill, toFirstToken, `to the first token (a ${P}-token prompt)`);
  }

  // Prices: the rent of every placed node (a rented node costs whether or not it carries flow).
  let rent: number | undefined;
  const assumed: string[] = [];
  if (problem.nodes.some((node) => node.costPerHour !== undefined)) {
    rent = 0;
    for (let i = 0; i < n; i++) {
      if (last[i] === 0) continue;
      rent += problem.nodes[i].costPerHour ?? 0;
      if (problem.nodes[i].priceAssumed === true) assumed.push(problem.nodes[i].name);
    }
  }
  const target = problem.targetTokensPerSecond;
  if (target !== undefined && !atLeast(served, target)) {
    violations.push({
      constraint: 'target',
      message: `the rented nodes serve ${served} tokens/s, below the target of ${target}`,
      excess: target - served,
    });
  }

  // Pipelines: chains of adjacent, linked nodes whose summed flows fit within the routing.
  const onEdge = new Map<string, number>();
  let pipelineTotal = 0;
  (d.pipelines ?? []).forEach((p, q) => {
    const at = `pipelines[${q}]`;
    const ids = p.nodes.map((name) => index.get(name));
    if (ids.some((i) => i === undefined || last[i] === 0))
      return violations.push({ constraint: at, message: 'names a node that holds no layers' });
    const chain = ids as number[];
    if (first[chain[0]] !== 1 || last[chain[chain.length - 1]] !== L) {
      violations.push({ constraint: at, message: `does not run from layer 1 to layer ${L}` });
    }
    const hops = [SOURCE, ...p.nodes, SINK];
    for (let h = 0; h + 1 < hops.length; h++) {
      const key = `${hops[h]}>${hops[h + 1]}`;
      onEdge.set(key, (onEdge.get(key) ?? 0) + p.tokensPerSecond);
    }
    for (let h = 0; h + 1 < chain.length; h++) {
      if (first[chain[h + 1]] !== last[chain[h]] + 1)
        violations.push({ constraint: at, message: `${p.nodes[h]} → ${p.nodes[h + 1]} is not adjacent` });
    }
    pipelineTotal += p.tokensPerSecond;
  });
  if (d.pipelines !== undefined) {
    const routedOn = (key: string): number => (d.routing !== undefined ? (edgeFlow.get(key) ?? 0) : Infinity);
    for (const [key, f] of onEdge) {
      if (!withinLimit(f, routedOn(key)))
        violations.push({
          constraint: 'pipelines',
          message: `pipelines put ${f} tokens/s on ${key.replace('>', ' → ')}, routed ${routedOn(key)}`,
        });
    }
    if (!withinLimit(Math.abs(pipelineTotal - served), 1e-6 * Math.max(1, served))) {
      violations.push({
        constraint: 'pipelines',
        message: `pipelines carry ${pipelineTotal} tokens/s, the routing ${served}`,
      });
    }
  }

  const nodes: FleetNodeReport[] = [];
  for (let i = 0; i < n; i++) {
    if (last[i] === 0) continue;
    nodes.push({
      node: problem.nodes[i].name,
      firstLayer: first[i],
      lastLayer: last[i],
      capacityTokensPerSecond: cap[i],
      inflowTokensPerSecond: d.routing !== undefined ? inflow[i] : null,
    });
  }
  return {
    feasible: violations.length === 0,
    objective: target !== undefined ? (rent ?? 0) : objective,
    violations,
    breakdown: {
      routedTokensPerSecond: served,
      placementMaxFlowTokensPerSecond: maxFlow,
      nodes,
      idleNodes: n - nodes.length,
      pipelines: d.pipelines?.length ?? 0,
      ...(worst !== null
        ? { worstPathLatencySeconds: worst.seconds, worstPath: worst.path.map((i) => problem.nodes[i].name) }
        : {}),
      ...(worstTtft !== null
        ? { worstTtftSeconds: worstTtft.seconds, worstTtftPath: worstTtft.path.map((i) => problem.nodes[i].name) }
        : {}),
      ...(rent !== undefined ? { rentPerHour: rent, assumedPrices: assumed } : {}),
    },
  };
}
