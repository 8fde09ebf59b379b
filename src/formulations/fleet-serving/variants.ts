/**
 * The fleet-serving variants' cost functions (used by compile, the exact method's hand-over and the
 * peers, never by evaluate): a problem restricted to some links (the routing a decision allows),
 * the path bounds (per-token latency, time to first token) with their per-node and per-link times,
 * a routing of a placement that meets them, the rent of a placement, and the decision a peer's
 * placement becomes under the variants (SLO-aware routing, rented nodes that carry nothing dropped).
 */
import { withinLimit } from '../tolerance.ts';
import { decisionOfPlacement, heldOptions, maxFlowOfPlacement, placementOfDecision, type Placement } from './cost.ts';
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

/**
 * A bound on every source → sink path of the routing's support: the time a path takes is the sum
 * of its edges' and its nodes' times. `tpot`: per output token (link latency + decode step);
 * `ttft`: time to first token (link latency + the prompt's activations over the link + prefill).
 */
export interface PathBound {
  readonly kind: 'tpot' | 'ttft';
  readonly sloSeconds: number;
  /** Seconds of node i holding k layers (k > 0). */
  node(i: number, k: number): number;
  /** Seconds of source → j, i → sink, and of a node-to-node link. */
  source(j: number): number;
  sink(i: number): number;
  link(l: FleetLink): number;
}

/** Seconds to move `tokens` tokens' activations over a link of `capacity` tokens/s (0 when unlimited). */
export function transferSeconds(tokens: number, capacity: number): number {
  return Number.isFinite(capacity) && capacity > 0 ? tokens / capacity : 0;
}

/**
 * The path bounds the problem states. TTFT: the prompt's P tokens of activations cross the source
 * link and every node-to-node link; the sink link carries the last position's hidden state only
 * (what the head needs to sample the first token).
 */
export function pathBounds(problem: FleetProblem): PathBound[] {
  const out: PathBound[] = [];
  if (problem.latencySloSeconds !== undefined) {
    out.push({
      kind: 'tpot',
      sloSeconds: problem.latencySloSeconds,
      node: (i, k) => computeSeconds(problem, i, k),
      source: (j) => problem.sourceLatencySeconds[j],
      sink: (i) => problem.sinkLatencySeconds[i],
      link: (l) => l.latencySeconds,
    });
  }
  if (problem.ttftSloSeconds !== undefined) {
    const P = problem.promptTokens ?? 0;
    out.push({
      kind: 'ttft',
      sloSeconds: problem.ttftSloSeconds,
      node: (i, k) => (k > 0 ? (problem.nodes[i].prefillSeconds?.[k] ?? 0) : 0),
      source: (j) => problem.sourceLatencySeconds[j] + transferSeconds(P, problem.sourceCapacity[j]),
      sink: (i) => problem.sinkLatencySeconds[i] + transferSeconds(1, problem.sinkCapacity[i]),
      link: (l) => l.latencySeconds + transferSeconds(P, l.capacity),
    });
  }
  return out;
}

/** Whether the problem bounds its request paths (a TPOT or a TTFT SLO). */
export function hasPathBound(problem: FleetProblem): boolean {
  return problem.latencySloSeconds !== undefined || problem.ttftSloSeconds !== undefined;
}

/** Rent per hour of the nodes a placement uses. */
export function rentOf(problem: FleetProblem, pl: Placement): number {
  return pl.k.reduce((sum, k, i) => sum + (k > 0 ? (problem.nodes[i].costPerHour ?? 0) : 0), 0);
}

/** An adjacent edge of a placement (-1 = source or sink) and the link it takes (null: source/sink). */
interface Edge {
  readonly from: number;
  readonly to: number;
  readonly link: FleetLink | null;
}

/** Adjacent edges of a placement in a problem (-1 = source or sink). */
function adjacentEdges(problem: FleetProblem, pl: Placement): Edge[] {
  const L = problem.layers;
  const out: Edge[] = [];
  for (let i = 0; i < pl.k.length; i++) {
    if (pl.k[i] === 0) continue;
    if (pl.start[i] === 0 && problem.sourceCapacity[i] > 0) out.push({ from: -1, to: i, link: null });
    if (pl.start[i] + pl.k[i] === L && problem.sinkCapacity[i] > 0) out.push({ from: i, to: -1, link: null });
  }
  for (const l of problem.links) {
    if (pl.k[l.from] > 0 && pl.k[l.to] > 0 && pl.start[l.from] + pl.k[l.from] === pl.start[l.to])
      out.push({ from: l.from, to: l.to, link: l });
  }
  return out;
}

/** Seconds of an edge under a bound. */
function edgeSeconds(bound: PathBound, e: Edge): number {
  if (e.from === -1) return bound.source(e.to);
  if (e.to === -1) return bound.sink(e.from);
  return bound.link(e.link as FleetLink);
}

/** Nodes of a placement in topological order of any adjacent edges (by start layer). */
function byStart(pl: Placement): number[] {
  return [...Array(pl.k.length).keys()].filter((i) => pl.k[i] > 0).sort((a, b) => pl.start[a] - pl.start[b]);
}

/**
 * Latest arrival at every node's end over the given edges (ranges strictly increase along an
 * adjacent edge, so processing nodes by start layer is a topological order); -Infinity where no
 * path from the source arrives.
 */
function arrivals(problem: FleetProblem, pl: Placement, edges: readonly Edge[], bound: PathBound): number[] {
  const arrival = new Array<number>(pl.k.length).fill(-Infinity);
  for (const j of byStart(pl)) {
    for (const e of edges) {
      if (e.to !== j) continue;
      const before = e.from === -1 ? 0 : arrival[e.from];
      arrival[j] = Math.max(arrival[j], before + edgeSeconds(bound, e) + bound.node(j, pl.k[j]));
    }
  }
  return arrival;
}

/** Longest source → sink path over the given edges under a bound: its time and its edges. */
function longestPath(
  problem: FleetProblem,
  pl: Placement,
  edges: readonly Edge[],
  bound: PathBound,
): { seconds: number; path: Edge[] } {
  const n = pl.k.length;
  const arrival = new Array<number>(n).fill(-Infinity);
  const via = new Array<Edge | null>(n).fill(null);
  for (const j of byStart(pl)) {
    for (const e of edges) {
      if (e.to !== j) continue;
      const before = e.from === -1 ? 0 : arrival[e.from];
      const a = before + edgeSeconds(bound, e) + bound.node(j, pl.k[j]);
      if (a > arrival[j]) {
        arrival[j] = a;
        via[j] = e;
      }
    }
  }
  let best: { seconds: number; last: Edge } | null = null;
  for (const e of edges) {
    if (e.to !== -1 || !Number.isFinite(arrival[e.from])) continue;
    const total = arrival[e.from] + edgeSeconds(bound, e);
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
 * A routing of the placement whose every support path meets every path bound (or null when none
 * carries flow): first the edges that lie on no path within a bound are dropped (nothing is lost),
 * then, while the max flow's support has a path over a bound, the edge of that path carrying the
 * least flow is dropped and the flow recomputed. A heuristic: the best such routing is a MILP
 * (milp.ts).
 */
export function sloRouting(problem: FleetProblem, pl: Placement): FleetDecision | null {
  const bounds = pathBounds(problem);
  let edges = adjacentEdges(problem, pl);
  const order = byStart(pl);
  for (const bound of bounds) {
    // Earliest arrival at each node's end and shortest time from its end to the sink.
    const n = pl.k.length;
    const early = new Array<number>(n).fill(Infinity);
    const late = new Array<number>(n).fill(Infinity);
    for (const j of order) {
      for (const e of edges) {
        if (e.to !== j) continue;
        const before = e.from === -1 ? 0 : early[e.from];
        early[j] = Math.min(early[j], before + edgeSeconds(bound, e) + bound.node(j, pl.k[j]));
      }
    }
    for (const i of [...order].reverse()) {
      for (const e of edges) {
        if (e.from !== i) continue;
        const after = e.to === -1 ? 0 : bound.node(e.to, pl.k[e.to]) + late[e.to];
        late[i] = Math.min(late[i], edgeSeconds(bound, e) + after);
      }
    }
    edges = edges.filter((e) => {
      const before = e.from === -1 ? 0 : early[e.from];
      const after = e.to === -1 ? 0 : bound.node(e.to, pl.k[e.to]) + late[e.to];
      return withinLimit(before + edgeSeconds(bound, e) + after, bound.sloSeconds);
    });
  }
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
    const broken = bounds
      .map((bound) => ({ bound, worst: longestPath(problem, pl, support, bound) }))
      .find(({ bound, worst }) => !withinLimit(worst.seconds, bound.sloSeconds));
    if (broken === undefined) return decisionOfPlacement(allowed, pl);
    let drop = broken.worst.path[0];
    for (const e of broken.worst.path) if ((carried.get(key(e)) ?? 0) < (carried.get(key(drop)) ?? 0)) drop = e;
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
    hasPathBound(problem) ? sloRouting(problem, p) : decisionOfPlacement(problem, p);
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
 * positive flow) and, per path bound and node, the longest arrival over that support in units of
 * the bound's SLO (milp.ts); null when a support path breaks a bound (the decision is not a point
 * of the model).
 */
export function sloEncoding(
  problem: FleetProblem,
  d: FleetDecision,
  pl: Placement,
): { problem: FleetProblem; arrival: Map<PathBound['kind'], number[]> } | null {
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
  const arrival = new Map<PathBound['kind'], number[]>();
  for (const bound of pathBounds(problem)) {
    const slo = bound.sloSeconds;
    if (longestPath(problem, pl, edges, bound).seconds > slo) return null;
    const a = arrivals(problem, pl, edges, bound).map((x) => Math.max(0, x));
    if (a.some((x) => x > slo)) return null;
    arrival.set(
      bound.kind,
      a.map((x) => Math.min(1, x / slo)),
    );
  }
  return { problem: restrictedProblem(problem, allowedOf(edges)), arrival };
}

/**
 * Least times under a path bound over chains of linked nodes, nodes allowed to repeat (a
 * relaxation: every real path is such a chain, so these are lower bounds on real paths' times).
 * `ending[b][j]`: from the source to the end of node j's range when it ends at boundary b (its own
 * time included); `starting[b][j]`: from the start of node j's range at boundary b to the sink.
 */
export interface ChainTimes {
  readonly ending: readonly (readonly number[])[];
  readonly starting: readonly (readonly number[])[];
  /** The fastest source → sink chain: min over j of ending[L][j] + sink(j). */
  readonly fastest: number;
}

export function chainTimes(problem: FleetProblem, bound: PathBound): ChainTimes {
  const L = problem.layers;
  const n = problem.nodes.length;
  const ks = problem.nodes.map((_, i) => heldOptions(problem, i).map((o) => o.k));
  const into: FleetLink[][] = Array.from({ length: n }, () => []);
  const out: FleetLink[][] = Array.from({ length: n }, () => []);
  for (const l of problem.links) {
    into[l.to].push(l);
    out[l.from].push(l);
  }
  const ending = Array.from({ length: L + 1 }, () => new Array<number>(n).fill(Infinity));
  for (let b = 1; b <= L; b++) {
    for (let j = 0; j < n; j++) {
      for (const k of ks[j]) {
        if (k > b) continue;
        let before = Infinity;
        if (b === k && problem.sourceCapacity[j] > 0) before = bound.source(j);
        if (b > k) for (const l of into[j]) before = Math.min(before, ending[b - k][l.from] + bound.link(l));
        ending[b][j] = Math.min(ending[b][j], before + bound.node(j, k));
      }
    }
  }
  const starting = Array.from({ length: L + 1 }, () => new Array<number>(n).fill(Infinity));
  for (let b = L - 1; b >= 0; b--) {
    for (let j = 0; j < n; j++) {
      for (const k of ks[j]) {
        if (b + k > L) continue;
        let after = Infinity;
        if (b + k === L && problem.sinkCapacity[j] > 0) after = bound.sink(j);
        if (b + k < L) for (const l of out[j]) after = Math.min(after, bound.link(l) + starting[b + k][l.to]);
        starting[b][j] = Math.min(starting[b][j], bound.node(j, k) + after);
      }
    }
  }
  let fastest = Infinity;
  for (let j = 0; j < n; j++) {
    if (problem.sinkCapacity[j] > 0) fastest = Math.min(fastest, ending[L][j] + bound.sink(j));
  }
  return { ending, starting, fastest };
}

/**
 * Whether node i holding [start, start + k) lies on some chain within every path bound (the chain
 * relaxation above). A column that does not can carry no flow in any decision that meets the
 * bounds, so the SLO model leaves it out (placing it idle never helps: it serves nothing and, under
 * a target, costs its rent).
 */
export function columnWithinBounds(
  problem: FleetProblem,
  bounds: readonly PathBound[],
  times: readonly ChainTimes[],
  i: number,
  start: number,
  k: number,
): boolean {
  const L = problem.layers;
  return bounds.every((bound, r) => {
    const t = times[r];
    let before = start === 0 && problem.sourceCapacity[i] > 0 ? bound.source(i) : Infinity;
    let after = start + k === L && problem.sinkCapacity[i] > 0 ? bound.sink(i) : Infinity;
    for (const l of problem.links) {
      if (l.to === i && start > 0) before = Math.min(before, t.ending[start][l.from] + bound.link(l));
      if (l.from === i && start + k < L) after = Math.min(after, bound.link(l) + t.starting[start + k][l.to]);
    }
    return withinLimit(before + bound.node(i, k) + after, bound.sloSeconds);
  });
}
