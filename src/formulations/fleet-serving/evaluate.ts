/**
 * The independent re-check of a fleet-serving decision, from the decision and the problem alone:
 * the ranges (contiguous, within memory, a measured k), the routing (links that exist, the
 * adjacency rule, capacities, conservation, node throughput) and the pipelines (chains of adjacent
 * nodes whose flows fit in the routing). The objective is the routed tokens/s; the placement's own
 * maximum flow is recomputed here by Edmonds–Karp (shortest augmenting paths, written apart from
 * cost.ts's Dinic) and reported beside it, and used as the objective when no routing is given.
 */
import { excessOver, withinLimit } from '../tolerance.ts';
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
  const objective = d.routing !== undefined ? routed : maxFlow;
  if (!(objective > 0))
    violations.push({ constraint: 'flow', message: 'no flow reaches the sink: the fleet serves nothing' });

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
    if (!withinLimit(Math.abs(pipelineTotal - objective), 1e-6 * Math.max(1, objective))) {
      violations.push({
        constraint: 'pipelines',
        message: `pipelines carry ${pipelineTotal} tokens/s, the routing ${objective}`,
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
    objective,
    violations,
    breakdown: {
      routedTokensPerSecond: objective,
      placementMaxFlowTokensPerSecond: maxFlow,
      nodes,
      idleNodes: n - nodes.length,
      pipelines: d.pipelines?.length ?? 0,
    },
  };
}
