/**
 * The fleet-serving variants' cost functions (used by compile, the exact method's hand-over and the
 * peers, never by evaluate): a problem restricted to some links (the routing a decision allows),
 * a routing of a placement that meets a latency SLO, the rent of a placement, and the decision a
 * peer's placement becomes under the variants (SLO-aware routing, rented nodes that carry nothing
 * dropped).
 */
import { withinLimit } from '../tolerance.ts';
import { decisionOfPlacement, maxFlowOfPlacement, placementOfDecision, type Placement } from './cost.ts';
import { SINK, SOURCE, type FleetDecision, type FleetLink, type FleetProblem } from './schema.ts';

export interface Allowed {
  link(l: FleetLink): boolean;
  source(j: number): boolean;
  sink(i: number): boolean;
}

/** The same fleet with only the allowed links (source and sink links of the others closed). */
export function restrictedProblem(problem: FleetProblem, allowed: Allowed): FleetProblem {
  return {
    ...problem,
    links: problem.links.filter((l) => allowed.link(l)),
    sourceCapacity: problem.sourceCapacity.map((c, j) => (allowed.source(j) ? c : 0)),
    sinkCapacity: problem.sinkCapacity.map((c, i) => (allowed.sink(i) ? c : 0)),
  };
}

/** Per-token compute seconds of node i holding k layers (0 when the node has no latency model). */
export function computeSeconds(problem: FleetProblem, i: number, k: number): number {
  return k > 0 ? (problem.nodes[i].latencySeconds?.[k] ?? 0) : 0;
}

/** Rent per hour of the nodes a placement uses. */
export function rentOf(problem: FleetProblem, pl: Placement): number {
  return pl.k.reduce((sum, k, i) => sum + (k > 0 ? (problem.nodes[i].costPerHour ?? 0) : 0), 0);
}

interface Edge {
  readonly from: number;
  readonly to: number;
  readonly seconds: number;
}

/** Adjacent edges of a placement in a problem (-1 = source or sink), with their latency. */
function adjacentEdges(problem: FleetProblem, pl: Placement): Edge[] {
  const L = problem.layers;
  const out: Edge[] = [];
  for (let i = 0; i < pl.k.length; i++) {
    if (pl.k[i] === 0) continue;
    if (pl.start[i] === 0 && problem.sourceCapacity[i] > 0)
      out.push({ from: -1, to: i, seconds: problem.sourceLatencySeconds[i] });
    if (pl.start[i] + pl.k[i] === L && problem.sinkCapacity[i] > 0)
      out.push({ from: i, to: -1, seconds: problem.sinkLatencySeconds[i] });
  }
  for (const l of problem.links) {
    if (pl.k[l.from] > 0 && pl.k[l.to] > 0 && pl.start[l.from] + pl.k[l.from] === pl.start[l.to])
      out.push({ from: l.from, to: l.to, seconds: l.latencySeconds });
  }
  return out;
}

/**
 * Longest source → sink path over the given edges (ranges strictly increase along an adjacent edge,
 * so processing nodes by start layer is a topological order). Returns its latency and its edges.
 */
function longestPath(problem: FleetProblem, pl: Placement, edges: readonly Edge[]): { seconds: number; path: Edge[] } {
  const n = pl.k.length;
  const arrival = new Array<number>(n).fill(-Infinity);
  const via = new Array<Edge | null>(n).fill(null);
  const order = [...Array(n).keys()].filter((i) => pl.k[i] > 0).sort((a, b) => pl.start[a] - pl.start[b]);
  const into: Edge[][] = Array.from({ length: n }, () => []);
  for (const e of edges) if (e.to >= 0) into[e.to].push(e);
  for (const j of order) {
    for (const e of into[j]) {
      const before = e.from === -1 ? 0 : arrival[e.from];
      const a = before + e.seconds + computeSeconds(problem, j, pl.k[j]);
      if (a > arrival[j]) {
        arrival[j] = a;
        via[j] = e;
      }
    }
  }
  let best: { seconds: number; last: Edge } | null = null;
  for (const e of edges) {
    if (e.to !== -1 || !Number.isFinite(arrival[e.from])) continue;
    const total = arrival[e.from] + e.seconds;
    if (best === null || total > best.seconds) best = { seconds: total, last: e };
  }
  if (best === null) return { seconds: -Infinity, path: [] };
  const path: Edge[] = [best.last];
  for (let v = best.last.from; v >= 0 && via[v] !== null; v = (via[v] as Edge).from) path.unshift(via[v] as Edge);
  return { seconds: best.seconds, path };
}

const key = (e: { from: number; to: number }): string => `${e.from}>${e.to}`;

function allowedOf(edges: readonly Edge[]): Allowed {
  const on = new Set(edges.map(key));
  return {
    link: (l) => on.has(key(l)),
    source: (j) => on.has(`-1>${j}`),
    sink: (i) => on.has(`${i}>-1`),
  };
}

/**
 * A routing of the placement whose every support path meets the SLO (or null when none carries
 * flow): first the edges that lie on no path within the SLO are dropped (nothing is lost), then,
 * while the max flow's support has a path over the SLO, the edge of that path carrying the least
 * flow is dropped and the flow recomputed. A heuristic: the best such routing is a MILP (milp.ts).
 */
export function sloRouting(problem: FleetProblem, pl: Placement): FleetDecision | null {
  const slo = problem.latencySloSeconds ?? Infinity;
  let edges = adjacentEdges(problem, pl);
  // Earliest arrival at each node's end and shortest time from its end to the sink.
  const n = pl.k.length;
  const order = [...Array(n).keys()].filter((i) => pl.k[i] > 0).sort((a, b) => pl.start[a] - pl.start[b]);
  const early = new Array<number>(n).fill(Infinity);
  const late = new Array<number>(n).fill(Infinity);
  for (const j of order) {
    for (const e of edges) {
      if (e.to !== j) continue;
      const before = e.from === -1 ? 0 : early[e.from];
      early[j] = Math.min(early[j], before + e.seconds + computeSeconds(problem, j, pl.k[j]));
    }
  }
  for (const i of [...order].reverse()) {
    for (const e of edges) {
      if (e.from !== i) continue;
      const after = e.to === -1 ? 0 : computeSeconds(problem, e.to, pl.k[e.to]) + late[e.to];
      late[i] = Math.min(late[i], e.seconds + after);
    }
  }
  edges = edges.filter((e) => {
    const before = e.from === -1 ? 0 : early[e.from];
    const after = e.to === -1 ? 0 : computeSeconds(problem, e.to, pl.k[e.to]) + late[e.to];
    return withinLimit(before + e.seconds + after, slo);
  });
  for (let guard = 0; guard <= edges.length + 1; guard++) {
    const allowed = restrictedProblem(problem, allowedOf(edges));
    const flow = maxFlowOfPlacement(allowed, pl);
    if (!(flow.value > 0)) return null;
    const eps = 1e-9 * flow.value;
    const carried = new Map<string, number>();
    flow.sourceFlow.forEach((f, j) => carried.set(`-1>${j}`, f));
    flow.sinkFlow.forEach((f, i) => carried.set(`${i}>-1`, f));
    allowed.links.forEach((l, e) => carried.set(key(l), flow.linkFlow[e]));
    const support = edges.filter((e) => (carried.get(key(e)) ?? 0) > eps);
    const worst = longestPath(problem, pl, support);
    if (withinLimit(worst.seconds, slo)) return decisionOfPlacement(allowed, pl);
    let drop = worst.path[0];
    for (const e of worst.path) if ((carried.get(key(e)) ?? 0) < (carried.get(key(drop)) ?? 0)) drop = e;
    edges = edges.filter((e) => e !== drop);
  }
  return null;
}

/**
 * The decision a placement becomes under the variants: routed within the SLO when there is one;
 * with a target, the nodes that carry no flow are not rented (dropped from the placement).
 */
export function decideVariant(problem: FleetProblem, pl: Placement): FleetDecision | null {
  const route = (p: Placement): FleetDecision | null =>
    problem.latencySloSeconds !== undefined ? sloRouting(problem, p) : decisionOfPlacement(problem, p);
  const d = route(pl);
  if (d === null || problem.targetTokensPerSecond === undefined) return d;
  const carrying = new Set((d.routing ?? []).flatMap((r) => [r.from, r.to]));
  const trimmed = d.placement.filter((p) => carrying.has(p.node));
  if (trimmed.length === d.placement.length) return d;
  const kept = placementOfDecision(problem, { placement: trimmed });
  return kept === null ? d : route(kept);
}

/** Tokens/s a decision routes (the sum of its source links). */
export function routedFlow(d: FleetDecision): number {
  return (d.routing ?? []).reduce((s, r) => s + (r.from === SOURCE ? r.tokensPerSecond : 0), 0);
}

/**
 * The warm start of the SLO model: the fleet restricted to the decision's support (links with
 * positive flow) and, per node, the longest arrival over that support; null when a support path
 * breaks the SLO (the decision is not a point of the model).
 */
export function sloEncoding(
  problem: FleetProblem,
  d: FleetDecision,
  pl: Placement,
): { problem: FleetProblem; arrival: number[] } | null {
  if (d.routing === undefined) return null;
  const index = new Map(problem.nodes.map((node, i) => [node.name, i]));
  const on = new Set<string>();
  for (const r of d.routing) {
    if (!(r.tokensPerSecond > 0)) continue;
    const a = r.from === SOURCE ? -1 : index.get(r.from);
    const b = r.to === SINK ? -1 : index.get(r.to);
    if (a === undefined || b === undefined) return null;
    on.add(`${a}>${b}`);
  }
  const edges = adjacentEdges(problem, pl).filter((e) => on.has(key(e)));
  const worst = longestPath(problem, pl, edges);
  const slo = problem.latencySloSeconds ?? Infinity;
  if (worst.seconds > slo) return null;
  const n = pl.k.length;
  const arrival = new Array<number>(n).fill(0);
  const order = [...Array(n).keys()].filter((i) => pl.k[i] > 0).sort((a, b) => pl.start[a] - pl.start[b]);
  for (const j of order) {
    for (const e of edges) {
      if (e.to !== j) continue;
      const before = e.from === -1 ? 0 : arrival[e.from];
      arrival[j] = Math.max(arrival[j], before + e.seconds + computeSeconds(problem, j, pl.k[j]));
    }
  }
  if (arrival.some((a) => a > slo)) return null;
  // The model's arrival times are in units of the SLO (milp.ts).
  return { problem: restrictedProblem(problem, allowedOf(edges)), arrival: arrival.map((a) => Math.min(1, a / slo)) };
}
