/**
 * The fleet-serving cost functions, used by compile, the exact method and the peers (never by
 * evaluate, which has its own max-flow): the cost model of a device node, each node's columns
 * (start, k, tokens/s), the maximum flow of a placement (Dinic), the path decomposition of a flow
 * into pipelines, classes of interchangeable nodes, and the layer-work bound.
 */
import { rooflineTime, type DeviceSpec } from '../../cost/device.ts';
import { layerTable } from '../../cost/layers.ts';
import { kvBytesPerTokenPerLayer, layerForwardFlopsPerToken, layerParams, type ModelSpec } from '../../cost/model.ts';
import { bytesPerValue } from '../../cost/units.ts';
import { SINK, SOURCE, type DeviceTable, type FleetDecision, type FleetProblem } from './schema.ts';

/**
 * A device node's tokens/s when it holds k layers: one decode step of `batch` sequences through k
 * layers (roofline: weights read once per step, the KV of the whole context read per sequence)
 * yields `batch` tokens. The memory limit holds k layers' weights plus the KV cache of the batch
 * at full context. A tensor-parallel group of g GPUs has g× compute, bandwidth and memory (its
 * all-reduce cost is not modelled: give a measured table when it matters). The embedding and the
 * LM head run at the front end (source and sink), as in Helix's coordinator.
 */
export const deviceTable: DeviceTable = (device, gpus, memoryBytes, c, L) => {
  const group: DeviceSpec = {
    ...device,
    peakFlopsPerSecond: device.peakFlopsPerSecond * gpus,
    memoryBandwidthBytesPerSecond: device.memoryBandwidthBytesPerSecond * gpus,
    memoryBytes: memoryBytes,
  };
  const model: ModelSpec = c.model;
  const beta = bytesPerValue(model.dtype);
  let weights = 0;
  let flops = 0;
  for (let l = 1; l <= L; l++) {
    weights += layerParams(model, l) * beta;
    flops += layerForwardFlopsPerToken(model, l, c.contextTokens);
  }
  const weightPerLayer = weights / L;
  const flopsPerLayer = flops / L;
  const kvPerLayer = c.batch * c.contextTokens * kvBytesPerTokenPerLayer(model);
  const maxLayers = Math.min(L, Math.floor(memoryBytes / (weightPerLayer + kvPerLayer)));
  const throughput = [0];
  for (let k = 1; k <= Math.max(0, maxLayers); k++) {
    const step = rooflineTime(
      group,
      {
        flops: c.batch * k * flopsPerLayer,
        memoryTrafficBytes: k * kvPerLayer,
        weightBytes: k * weightPerLayer,
        calls: k,
      },
      k * weightPerLayer,
    ).seconds;
    throughput.push(c.batch / step);
  }
  if (c.prefillTokens === undefined) return { throughput, maxLayers };
  return { throughput, maxLayers, prefillSeconds: prefillByLayers(group, c, maxLayers, c.prefillTokens) };
};

/**
 * Seconds to prefill one prompt of P tokens through k layers (index k = 0..maxLayers), the roofline
 * of src/cost's layer table (the one `reproduce measurements` checks prefill against): one request
 * alone (batch 1: its TTFT without queueing), the whole prompt per pass or the runtime's chunks,
 * each chunk attending to the prompt so far; weights resident (the node holds its k layers). Per
 * layer the mean decoder row, k times — the same per-layer averaging as the throughput table.
 */
function prefillByLayers(
  group: DeviceSpec,
  c: { readonly model: ModelSpec; readonly prefillChunkTokens?: number },
  maxLayers: number,
  P: number,
): number[] {
  const chunk = c.prefillChunkTokens ?? P;
  let perLayer = 0;
  for (let done = 0; done < P; done += chunk) {
    const tokens = Math.min(chunk, P - done);
    const rows = layerTable(
      c.model,
      group,
      { batch: 1, tokens, contextTokens: done + tokens, logitsTokens: 1 },
      { residentBytes: 0 },
    ).rows.filter((r) => r.kind === 'decoder');
    perLayer += rows.reduce((s, r) => s + r.seconds, 0) / rows.length;
  }
  return Array.from({ length: Math.max(0, maxLayers) + 1 }, (_, k) => k * perLayer);
}

/** One way a node can be used: layers [start, start + k) (0-based) at `tokensPerSecond`. */
export interface Column {
  readonly start: number;
  readonly k: number;
  readonly tokensPerSecond: number;
}

/** Every number of layers k a node may hold, with its tokens/s: k within memory and L, a positive table entry, whole model if asked. */
export function heldOptions(problem: FleetProblem, i: number): { k: number; tokensPerSecond: number }[] {
  const node = problem.nodes[i];
  const L = problem.layers;
  const out: { k: number; tokensPerSecond: number }[] = [];
  for (let k = 1; k <= Math.min(node.maxLayers, L); k++) {
    const t = node.throughput[k] ?? 0;
    if (!(t > 0)) continue;
    if (problem.wholeModel && k !== L) continue;
    out.push({ k, tokensPerSecond: t });
  }
  return out;
}

/**
 * Nodes grouped by what heldOptions sees (throughput table and memory limit), split further by
 * `also(i)` when a caller's relaxation tells more apart (patterns.ts: side of the independent set,
 * source and sink links). Members in index order; groups in order of their first member.
 */
export function sameTableGroups(problem: FleetProblem, also: (i: number) => unknown[] = () => []): number[][] {
  const byKey = new Map<string, number[]>();
  problem.nodes.forEach((node, i) => {
    const key = JSON.stringify([node.throughput, node.maxLayers, ...also(i)]);
    const members = byKey.get(key);
    if (members === undefined) byKey.set(key, [i]);
    else members.push(i);
  });
  return [...byKey.values()];
}

/** Every (start, k) a node may take (heldOptions, at every start). */
export function columnsOf(problem: FleetProblem, i: number): Column[] {
  const out: Column[] = [];
  for (const { k, tokensPerSecond } of heldOptions(problem, i))
    for (let s = 0; s + k <= problem.layers; s++) out.push({ start: s, k, tokensPerSecond });
  return out;
}

/** A placement in 0-based form: start[i] and k[i] (k = 0: idle). */
export interface Placement {
  readonly start: readonly number[];
  readonly k: readonly number[];
}

export function placementOfDecision(problem: FleetProblem, d: FleetDecision): Placement | null {
  const index = new Map(problem.nodes.map((n, i) => [n.name, i]));
  const start = new Array<number>(problem.nodes.length).fill(0);
  const k = new Array<number>(problem.nodes.length).fill(0);
  for (const p of d.placement) {
    const i = index.get(p.node);
    if (i === undefined || k[i] !== 0 || p.lastLayer < p.firstLayer) return null;
    start[i] = p.firstLayer - 1;
    k[i] = p.lastLayer - p.firstLayer + 1;
  }
  return { start, k };
}

export interface FlowResult {
  readonly value: number;
  /** Flow per node-to-node link index (problem.links order). */
  readonly linkFlow: number[];
  readonly sourceFlow: number[];
  readonly sinkFlow: number[];
}

interface Arc {
  to: number;
  cap: number;
  rev: number;
}

/** Dinic's maximum flow on the placement's graph (node capacities split into in/out arcs). */
export function maxFlowOfPlacement(problem: FleetProblem, pl: Placement): FlowResult {
  const n = problem.nodes.length;
  const L = problem.layers;
  const S = 2 * n;
  const T = 2 * n + 1;
  const graph: Arc[][] = Array.from({ length: 2 * n + 2 }, () => []);
  const add = (u: number, v: number, cap: number): [number, number] => {
    graph[u].push({ to: v, cap, rev: graph[v].length });
    graph[v].push({ to: u, cap: 0, rev: graph[u].length - 1 });
    return [u, graph[u].length - 1];
  };
  const used = (i: number): boolean => pl.k[i] > 0 && (problem.nodes[i].throughput[pl.k[i]] ?? 0) > 0;
  const nodeArc: ([number, number] | null)[] = [];
  for (let i = 0; i < n; i++)
    nodeArc.push(used(i) ? add(2 * i, 2 * i + 1, problem.nodes[i].throughput[pl.k[i]]) : null);
  const srcArc: ([number, number] | null)[] = [];
  const sinkArc: ([number, number] | null)[] = [];
  for (let i = 0; i < n; i++) {
    srcArc.push(
      used(i) && pl.start[i] === 0 && problem.sourceCapacity[i] > 0 ? add(S, 2 * i, problem.sourceCapacity[i]) : null,
    );
    const ends = pl.start[i] + pl.k[i] === L;
    sinkArc.push(used(i) && ends && problem.sinkCapacity[i] > 0 ? add(2 * i + 1, T, problem.sinkCapacity[i]) : null);
  }
  const linkArc = problem.links.map((l) =>
    used(l.from) && used(l.to) && pl.start[l.from] + pl.k[l.from] === pl.start[l.to]
      ? add(2 * l.from + 1, 2 * l.to, l.capacity)
      : null,
  );
  const level = new Int32Array(graph.length);
  const it = new Int32Array(graph.length);
  const bfs = (): boolean => {
    level.fill(-1);
    level[S] = 0;
    const queue = [S];
    for (let h = 0; h < queue.length; h++) {
      const u = queue[h];
      for (const a of graph[u]) {
        if (a.cap > 1e-12 && level[a.to] < 0) {
          level[a.to] = level[u] + 1;
          queue.push(a.to);
        }
      }
    }
    return level[T] >= 0;
  };
  const dfs = (u: number, f: number): number => {
    if (u === T) return f;
    for (; it[u] < graph[u].length; it[u]++) {
      const a = graph[u][it[u]];
      if (a.cap > 1e-12 && level[a.to] === level[u] + 1) {
        const d = dfs(a.to, Math.min(f, a.cap));
        if (d > 0) {
          a.cap -= d;
          graph[a.to][a.rev].cap += d;
          return d;
        }
      }
    }
    return 0;
  };
  let value = 0;
  while (bfs()) {
    it.fill(0);
    for (let f = dfs(S, Infinity); f > 0; f = dfs(S, Infinity)) value += f;
  }
  const flowOn = (arc: [number, number] | null): number => {
    if (arc === null) return 0;
    const a = graph[arc[0]][arc[1]];
    return graph[a.to][a.rev].cap;
  };
  void nodeArc;
  return { value, linkFlow: linkArc.map(flowOn), sourceFlow: srcArc.map(flowOn), sinkFlow: sinkArc.map(flowOn) };
}

/** Flows below this share of the total are dropped from a routing (solver round-off). */
const FLOW_EPSILON = 1e-9;

/**
 * The decision for a placement: its ranges, the routing of its maximum flow, and the pipelines
 * (a path decomposition of that routing: repeatedly the widest remaining source-to-sink path of
 * the acyclic flow, so that a few large pipelines come first).
 */
export function decisionOfPlacement(problem: FleetProblem, pl: Placement): FleetDecision {
  const flow = maxFlowOfPlacement(problem, pl);
  const n = problem.nodes.length;
  const eps = FLOW_EPSILON * Math.max(1, flow.value);
  const placement = [];
  for (let i = 0; i < n; i++) {
    if (pl.k[i] > 0) {
      placement.push({ node: problem.nodes[i].name, firstLayer: pl.start[i] + 1, lastLayer: pl.start[i] + pl.k[i] });
    }
  }
  const routing: { from: string; to: string; tokensPerSecond: number }[] = [];
  const residual: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  const sourceLeft = flow.sourceFlow.map((f) => (f > eps ? f : 0));
  const sinkLeft = flow.sinkFlow.map((f) => (f > eps ? f : 0));
  for (let i = 0; i < n; i++)
    if (sourceLeft[i] > 0) routing.push({ from: SOURCE, to: problem.nodes[i].name, tokensPerSecond: sourceLeft[i] });
  problem.links.forEach((l, e) => {
    const f = flow.linkFlow[e];
    if (f > eps) {
      routing.push({ from: problem.nodes[l.from].name, to: problem.nodes[l.to].name, tokensPerSecond: f });
      residual[l.from].set(l.to, f);
    }
  });
  for (let i = 0; i < n; i++)
    if (sinkLeft[i] > 0) routing.push({ from: problem.nodes[i].name, to: SINK, tokensPerSecond: sinkLeft[i] });
  const pipelines = decompose(problem, pl, sourceLeft, residual, sinkLeft, eps);
  return { placement, routing, pipelines };
}

/** Path decomposition of an acyclic flow (layer ranges strictly increase along every link). */
function decompose(
  problem: FleetProblem,
  pl: Placement,
  sourceLeft: number[],
  residual: Map<number, number>[],
  sinkLeft: number[],
  eps: number,
): { nodes: string[]; tokensPerSecond: number }[] {
  const out: { nodes: string[]; tokensPerSecond: number }[] = [];
  const n = problem.nodes.length;
  for (let guard = 0; guard < 4 * n * n + 4; guard++) {
    // Widest path by a DP in order of start layer (the flow graph is a DAG in that order).
    const order = [...Array(n).keys()].filter((i) => pl.k[i] > 0).sort((a, b) => pl.start[a] - pl.start[b]);
    const width = new Array<number>(n).fill(0);
    const prev = new Array<number>(n).fill(-1);
    for (const i of order) if (sourceLeft[i] > eps) width[i] = sourceLeft[i];
    for (const i of order) {
      if (width[i] <= eps) continue;
      for (const [j, f] of residual[i]) {
        const w = Math.min(width[i], f);
        if (f > eps && w > width[j]) {
          width[j] = w;
          prev[j] = i;
        }
      }
    }
    let best = -1;
    let bestWidth = eps;
    for (const i of order) {
      const w = Math.min(width[i], sinkLeft[i]);
      if (w > bestWidth) {
        bestWidth = w;
        best = i;
      }
    }
    if (best < 0) break;
    const path: number[] = [];
    for (let i = best; i >= 0; i = prev[i]) path.unshift(i);
    sourceLeft[path[0]] -= bestWidth;
    sinkLeft[best] -= bestWidth;
    for (let p = 0; p + 1 < path.length; p++)
      residual[path[p]].set(path[p + 1], (residual[path[p]].get(path[p + 1]) ?? 0) - bestWidth);
    out.push({ nodes: path.map((i) => problem.nodes[i].name), tokensPerSecond: bestWidth });
  }
  return out;
}

/**
 * Classes of interchangeable nodes: same throughput table and limits, same source and sink links,
 * the same links to and from every node outside the class, every pair inside linked both ways,
 * and every link touching it unable to bind (capacity ≥ the smaller of its two ends' best
 * throughput: a link never carries more than either end passes). Permuting the members of a class
 * maps feasible placements to feasible placements of the same flow, so a model may count how
 * many members take each (start, k) instead of naming them.
 */
export function nodeClasses(problem: FleetProblem): number[][] {
  const n = problem.nodes.length;
  const best = problem.nodes.map((node) => Math.max(0, ...node.throughput));
  const cap = new Map<number, number>();
  for (const l of problem.links) cap.set(l.from * n + l.to, l.capacity);
  const loose = (i: number, j: number): boolean => {
    const c = cap.get(i * n + j);
    return c !== undefined && c >= Math.min(best[i], best[j]);
  };
  const bindingFree = problem.nodes.map((_, i) =>
    problem.links.every((l) => (l.from !== i && l.to !== i) || loose(l.from, l.to)),
  );
  const signature = problem.nodes.map((node, i) => {
    const ends = [problem.sourceCapacity[i], problem.sinkCapacity[i], bindingFree[i]];
    return [node.maxLayers, node.throughput.join(','), ...ends].join('|');
  });
  const classes: number[][] = [];
  const classOf = new Array<number>(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (classOf[i] >= 0) continue;
    const members = [i];
    classOf[i] = classes.length;
    if (bindingFree[i]) {
      for (let j = i + 1; j < n; j++) {
        if (classOf[j] >= 0 || signature[j] !== signature[i]) continue;
        if (!loose(i, j) || !loose(j, i)) continue;
        // j must see every outside node as i does (and every member so far must be linked to j).
        let twin = true;
        for (let m = 0; m < n && twin; m++) {
          if (m === i || m === j) continue;
          if (members.includes(m)) twin = loose(m, j) && loose(j, m);
          else twin = loose(i, m) === loose(j, m) && loose(m, i) === loose(m, j);
        }
        if (twin) {
          members.push(j);
          classOf[j] = classes.length;
        }
      }
    }
    classes.push(members);
  }
  return classes;
}

/**
 * Upper bounds on the throughput, valid for every placement and routing (docs/formulations/
 * fleet-serving.md has the proofs). Let F be the total flow and, per node i holding k_i layers,
 * ψ_i = φ_i/F its share of it, c_i = min(T_i(k_i), F)/F ≥ ψ_i (its table and the total), and call
 * the node solo when c_i = 1, partial otherwise (h_i = 1 or ½). Then
 *   (a) Σ_i k_i·ψ_i = L              every unit of flow crosses the L layers, one node per layer;
 *   (b) Σ_i k_i·h_i ≥ L              a layer has a solo node or at least two partial ones;
 *   (c) Σ_{i∈I} ψ_i − Σ_{i∉I} ψ_i ≤ 1  for a set I of nodes with no link between two of them
 *       (a pipeline cannot visit two nodes of I in a row, so it visits at most one more of I).
 * For multipliers λ ∈ [0, 1] and μ ≥ 0, adding λ·(a) + (1 − λ)·(b) + μ·(c) and maximising each
 * node's term on its own (idle, or any k with 0 ≤ ψ ≤ c) gives
 *   L ≤ μ + Σ_i max(0, max_k [max(0, λ·k − μ·σ_i)·c_i(k) + (1 − λ)·k·h_i(k)]) =: g(F),
 * σ_i = +1 in I, −1 outside. c and h do not increase with F, so neither does g: {F : g(F) ≥ L}
 * is an interval [0, F*] and F* bounds the throughput; so do the total source and sink
 * capacities. λ = 1, μ = 0 is the layer-work bound L·F ≤ Σ k·min(T, F). The smallest F* over a
 * grid of (λ, μ) is returned, rounded up (bisection's upper end).
 */
export function coverBound(
  problem: FleetProblem,
  lambdas: readonly number[] = LAMBDAS,
  mus: readonly number[] = MUS,
): number {
  const L = problem.layers;
  const cols = problem.nodes.map((_, i) => {
    const best = new Map<number, number>();
    for (const c of columnsOf(problem, i)) best.set(c.k, c.tokensPerSecond);
    return [...best.entries()];
  });
  const src = problem.sourceCapacity.reduce((s, c, i) => s + (cols[i].length > 0 ? c : 0), 0);
  const snk = problem.sinkCapacity.reduce((s, c, i) => s + (cols[i].length > 0 ? c : 0), 0);
  const plain = cols.reduce((sum, list) => sum + list.reduce((b, [k, t]) => Math.max(b, k * t), 0), 0) / L;
  let bound = Math.min(plain, src, snk);
  if (!(bound > 0)) return 0;
  const sigma = independentSet(problem).map((inI) => (inI ? 1 : -1));
  for (const mu of mus) {
    for (const lambda of lambdas) {
      const g = (F: number): number => {
        let sum = mu;
        cols.forEach((list, i) => {
          let b = 0;
          for (const [k, t] of list) {
            const c = Math.min(t, F) / F;
            const h = t >= F ? 1 : 0.5;
            b = Math.max(b, Math.max(0, lambda * k - mu * sigma[i]) * c + (1 - lambda) * k * h);
          }
          sum += b;
        });
        return sum;
      };
      // g(F) = L holds with equality on whole intervals (a chain at F uses every node at F); the
      // test is loosened by 1e-12 so that round-off can only move the answer up, keeping it a bound.
      const holds = (F: number): boolean => g(F) >= L * (1 - 1e-12);
      let hi = bound;
      if (holds(hi)) continue;
      let lo = 0;
      for (let it = 0; it < 200 && hi - lo > 1e-13 * hi; it++) {
        const mid = (lo + hi) / 2;
        if (holds(mid)) lo = mid;
        else hi = mid;
      }
      bound = Math.min(bound, hi);
    }
  }
  return bound;
}

const LAMBDAS = Array.from({ length: 21 }, (_, r) => r / 20);
const MUS = [0, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12];

/**
 * A set of nodes no two of which are linked (either direction): greedily the node with the fewest
 * links among those left, its neighbours removed. In a fleet where edge nodes reach each other only
 * through a few hubs this is the edge nodes, and (c) says pipelines alternate.
 */
export function independentSet(problem: FleetProblem): boolean[] {
  const n = problem.nodes.length;
  const adj: Set<number>[] = problem.nodes.map(() => new Set());
  for (const l of problem.links) {
    adj[l.from].add(l.to);
    adj[l.to].add(l.from);
  }
  const inI = new Array<boolean>(n).fill(false);
  const gone = new Array<boolean>(n).fill(false);
  for (;;) {
    let pick = -1;
    for (let i = 0; i < n; i++) if (!gone[i] && (pick < 0 || adj[i].size < adj[pick].size)) pick = i;
    if (pick < 0) break;
    inI[pick] = true;
    gone[pick] = true;
    for (const j of adj[pick]) gone[j] = true;
  }
  return inI;
}

/** The layer-work bound alone (λ = 1, μ = 0 of coverBound): L·F ≤ Σ_i max_k k·min(T_i(k), F). */
export function layerWorkBound(problem: FleetProblem): number {
  return coverBound(problem, [1], [0]);
}

/**
 * The smallest positive capacity anywhere (node throughput, link): a placement that carries any
 * flow carries at least this much (one path's bottleneck), so "F ≥ this" separates a placement
 * that serves from one that serves nothing without excluding any serving placement.
 */
export function smallestCapacity(problem: FleetProblem): number {
  let m = Infinity;
  for (const node of problem.nodes) for (const t of node.throughput) if (t > 0) m = Math.min(m, t);
  for (const l of problem.links) if (l.capacity > 0) m = Math.min(m, l.capacity);
  for (const c of [...problem.sourceCapacity, ...problem.sinkCapacity]) if (c > 0) m = Math.min(m, c);
  return Number.isFinite(m) ? m : 0;
}
