/**
 * MILP compiles of fleet-serving.
 *
 * The strong model (default) works per class of interchangeable nodes (cost.ts nodeClasses) and per
 * column (start s, k layers): an integer n[c,s,k] counts the class members holding [s, s + k), and
 * g[c,s,k] ≤ T_c(k)·n[c,s,k] is the flow they pass. Flow is conserved at every layer boundary b:
 * what the columns ending at b send equals what the columns starting at b receive, through
 * transfer variables f[c,d,b] per linked class pair (omitted when every node is linked to every
 * other by a link that cannot bind: then boundary conservation is the whole routing). No big-M
 * appears: a column's flow is switched off by its own count. The LP relaxation already implies the
 * layer-work inequality L·F ≤ Σ k·T·n (each unit of flow crosses L layers); we add what it does
 * not imply: a node passes at most the total flow (Σ g over a class ≤ |c|·F), which gives the
 * min(T, F) form of cost.ts's bound, and a cap F ≤ that bound.
 *
 * Variants (docs/formulations/fleet-serving.md): with a target the objective is the rent of the
 * counted columns (classes split by price) and F ≥ target replaces F ≥ the smallest capacity; with
 * a latency SLO the model is per node (a class count cannot name the links a pipeline takes), with
 * a binary per link, source link and sink link that its flow needs (flow ≤ M·u) and an arrival
 * time per node: a_j ≥ a_i + latency_ij + compute_j − M·(1 − u_ij), a_i + sink latency ≤ SLO
 * when i feeds the sink. Every path through used links then meets the SLO, and every routing whose
 * support meets it has such times (the longest arrival over its support), so the model is exact.
 * A time-to-first-token SLO is a second, independent set of arrival times p_i over the same
 * binaries, with the prompt's transfer on each link and the prefill of each node (variants.ts).
 *
 * The Helix model (`milpFormulation: "helix"`) is Helix's as published: integer start per node,
 * one-hot throughput columns per k, a binary per link that is 1 only when the ranges meet
 * (big-M = L on the layer equations), link flow ≤ capacity × that binary (5e8 on the unlimited
 * source and sink links).
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import { withinLimit } from '../tolerance.ts';
import type { CompileHints, Compiled } from '../types.ts';
import {
  columnsOf,
  coverBound,
  decisionOfPlacement,
  maxFlowOfPlacement,
  nodeClasses,
  placementOfDecision,
  smallestCapacity,
  type Column,
  type Placement,
} from './cost.ts';
import type { FleetDecision, FleetProblem } from './schema.ts';
import { rentLowerBound } from './rent-bound.ts';
import {
  chainTimes,
  columnWithinBounds,
  pathBounds,
  restrictedProblem,
  sloEncoding,
  type PathBound,
} from './variants.ts';

/** Stand-in capacity of an unlimited source/sink link in the Helix model (Helix's own value). */
export const HELIX_BIG_CAPACITY = 5e8;

export function compileFleet(problem: FleetProblem, hints: CompileHints<FleetDecision> = {}): Compiled<FleetDecision> {
  return problem.milpFormulation === 'helix' ? compileHelix(problem) : compileStrong(problem, hints);
}

interface ColumnVar {
  readonly cls: number;
  readonly start: number;
  readonly k: number;
  readonly count: number;
  readonly flow: number;
}

/**
 * A restriction of the strong model for large-neighbourhood search: each node keeps only the
 * columns given (a fixed node one, a free node all of its own); nodes are not merged into classes.
 */
export type ColumnRestriction = (i: number) => Column[];

export function compileStrong(
  problem: FleetProblem,
  hints: CompileHints<FleetDecision> = {},
  restrict?: ColumnRestriction,
): Compiled<FleetDecision> {
  const L = problem.layers;
  const n = problem.nodes.length;
  // Path bounds (TPOT and/or TTFT SLO): the model names every node (see the file comment).
  const bounds = pathBounds(problem);
  const bounded = bounds.length > 0;
  const chains = bounds.map((bound) => chainTimes(problem, bound));
  const target = problem.targetTokensPerSecond;
  const classes =
    restrict !== undefined || bounded
      ? problem.nodes.map((_, i) => [i])
      : target !== undefined
        ? splitByPrice(problem, nodeClasses(problem))
        : nodeClasses(problem);
  const classOf = new Array<number>(n);
  classes.forEach((members, c) => members.forEach((i) => (classOf[i] = c)));
  const b = new ModelBuilder('fleet-serving', target !== undefined ? 'min' : 'max');
  const bound = coverBound(problem);
  // F ≥ the smallest capacity: a serving placement carries at least that (cost.ts), so the model is
  // infeasible exactly when no placement serves — as evaluate, which refuses a flow of zero. With a
  // target, F = target: a placement that serves more also serves exactly the target (its flow scaled
  // down), so fixing F loses no placement and lets each member's flow be capped by the target.
  const least = target ?? smallestCapacity(problem);
  const F = b.addVariable('F', { lower: least, upper: target ?? Math.max(bound, least) });
  const perMember = target ?? Infinity;
  // Minimum cost: per layer, a node passing the whole target counts 1, one passing less ½ (the
  // solo/partial rule of the cover bound: a layer without a solo node needs two partial ones).
  const layerCover: Term[][] = Array.from({ length: L }, () => []);
  const rent: Term[] = [];
  if (target === undefined) b.addObjective(F, 1);
  const columns: ColumnVar[] = [];
  const endingAt: number[][][] = classes.map(() => Array.from({ length: L + 1 }, () => []));
  const startingAt: number[][][] = classes.map(() => Array.from({ length: L + 1 }, () => []));
  classes.forEach((members, c) => {
    const size = members.length;
    const rep = members[0];
    const counts: Term[] = [];
    const flows: Term[] = [];
    const startCount: Term[] = [];
    const endCount: Term[] = [];
    const candidates = restrict !== undefined ? restrict(rep) : columnsOf(problem, rep);
    // Under path bounds a column on no chain within them carries no flow in any point (variants.ts).
    const usable = bounded
      ? candidates.filter((col) => columnWithinBounds(problem, bounds, chains, rep, col.start, col.k))
      : candidates;
    for (const col of usable) {
      const count = b.addVariable(`n_${c}_${col.start}_${col.k}`, {
        type: size === 1 ? 'binary' : 'integer',
        lower: 0,
        upper: size,
      });
      const flow = b.addVariable(`g_${c}_${col.start}_${col.k}`, { upper: col.tokensPerSecond * size });
      b.lessEqual(
        `cap_${c}_${col.start}_${col.k}`,
        [term(flow), term(count, -Math.min(col.tokensPerSecond, perMember))],
        0,
      );
      if (target !== undefined) {
        const h = col.tokensPerSecond >= target ? 1 : 0.5;
        for (let l = col.start; l < col.start + col.k; l++) layerCover[l].push(term(count, h));
      }
      columns.push({ cls: c, start: col.start, k: col.k, count, flow });
      if (target !== undefined) {
        b.addObjective(count, problem.nodes[rep].costPerHour ?? 0);
        rent.push(term(count, problem.nodes[rep].costPerHour ?? 0));
      }
      counts.push(term(count));
      flows.push(term(flow));
      endingAt[c][col.start + col.k].push(flow);
      startingAt[c][col.start].push(flow);
      if (col.start === 0) startCount.push(term(count));
      if (col.start + col.k === L) endCount.push(term(count));
    }
    b.lessEqual(`members_${c}`, counts, size);
    // Each member passes at most the total flow.
    b.lessEqual(`share_${c}`, [...flows, term(F, -size)], 0);
    const srcCap = problem.sourceCapacity[rep];
    if (Number.isFinite(srcCap))
      b.lessEqual(
        `source_${c}`,
        [...startingAt[c][0].map((v) => term(v)), ...startCount.map((t) => term(t.variable, -srcCap))],
        0,
      );
    const sinkCap = problem.sinkCapacity[rep];
    if (Number.isFinite(sinkCap))
      b.lessEqual(
        `sink_${c}`,
        [...endingAt[c][L].map((v) => term(v)), ...endCount.map((t) => term(t.variable, -sinkCap))],
        0,
      );
  });
  b.equal('entering', [...classes.flatMap((_, c) => startingAt[c][0].map((v) => term(v))), term(F, -1)], 0);
  if (target !== undefined) {
    layerCover.forEach((terms, l) => terms.length > 0 && b.greaterEqual(`cover_${l}`, terms, 1));
    // The rent is at least the whole-node layer-work knapsack's (rent-bound.ts): the LP alone
    // would rent fractions of a node.
    const floor = rentLowerBound(problem);
    if (Number.isFinite(floor) && floor > 0) b.greaterEqual('rent_bound', rent, floor);
  }

  // Transfers: needed unless every ordered pair of distinct nodes has a link that cannot bind.
  const best = problem.nodes.map((node) => Math.max(0, ...node.throughput));
  const complete =
    !bounded &&
    problem.links.length === n * (n - 1) &&
    problem.links.every((l) => l.capacity >= Math.min(best[l.from], best[l.to]));
  if (complete) {
    for (let p = 1; p < L; p++) {
      const terms = classes.flatMap((_, c) => [
        ...endingAt[c][p].map((v) => term(v)),
        ...startingAt[c][p].map((v) => term(v, -1)),
      ]);
      if (terms.length > 0) b.equal(`boundary_${p}`, terms, 0);
    }
  } else {
    // Class-level links: a class pair is linked when its members are (twins share their links).
    const pairCap = new Map<number, { capacity: number; singleton: boolean }>();
    for (const l of problem.links) {
      const key = classOf[l.from] * classes.length + classOf[l.to];
      const singleton = classes[classOf[l.from]].length === 1 && classes[classOf[l.to]].length === 1;
      pairCap.set(key, { capacity: l.capacity, singleton });
    }
    const sent: Term[][][] = classes.map(() => Array.from({ length: L + 1 }, () => []));
    const received: Term[][][] = classes.map(() => Array.from({ length: L + 1 }, () => []));
    const linkFlows = new Map<number, Term[]>();
    for (const [key, { capacity, singleton }] of pairCap) {
      const c = Math.floor(key / classes.length);
      const d = key % classes.length;
      const used: Term[] = [];
      for (let p = 1; p < L; p++) {
        if (endingAt[c][p].length === 0 || startingAt[d][p].length === 0) continue;
        const f = b.addVariable(`f_${c}_${d}_${p}`);
        sent[c][p].push(term(f));
        received[d][p].push(term(f));
        used.push(term(f));
      }
      if (singleton && Number.isFinite(capacity) && used.length > 0) b.lessEqual(`link_${c}_${d}`, used, capacity);
      linkFlows.set(key, used);
    }
    if (bounded) {
      // Per node (classes are singletons here): class c is node c. A binary per link, source link
      // and sink link switches its flow on; every path bound then has its own arrival times over
      // the switched-on links.
      const best = problem.nodes.map((node) => Math.max(0, ...node.throughput));
      const edges: ArrivalEdge[] = [];
      for (let j = 0; j < n; j++) {
        const flows = startingAt[j][0];
        if (flows.length === 0) continue;
        const u = b.binary(`us_${j}`);
        const m = Math.min(problem.sourceCapacity[j], best[j]);
        b.lessEqual(`usecap_s_${j}`, [...flows.map((v) => term(v)), term(u, -m)], 0);
        edges.push({ name: `s_${j}`, from: -1, to: j, u, seconds: (bound) => bound.source(j) });
      }
      for (const l of problem.links) {
        const used = linkFlows.get(l.from * classes.length + l.to) ?? [];
        if (used.length === 0) continue;
        const u = b.binary(`u_${l.from}_${l.to}`);
        const m = Math.min(l.capacity, best[l.from], best[l.to]);
        b.lessEqual(`usecap_${l.from}_${l.to}`, [...used, term(u, -m)], 0);
        edges.push({ name: `${l.from}_${l.to}`, from: l.from, to: l.to, u, seconds: (bound) => bound.link(l) });
      }
      for (let i = 0; i < n; i++) {
        const flows = endingAt[i][L];
        if (flows.length === 0) continue;
        const u = b.binary(`ut_${i}`);
        const m = Math.min(problem.sinkCapacity[i], best[i]);
        b.lessEqual(`usecap_t_${i}`, [...flows.map((v) => term(v)), term(u, -m)], 0);
        edges.push({ name: `t_${i}`, from: i, to: -1, u, seconds: (bound) => bound.sink(i) });
      }
      for (const bound of bounds) addArrivals(b, bound, edges, columns, n);
    }
    classes.forEach((_, c) => {
      for (let p = 1; p < L; p++) {
        if (endingAt[c][p].length > 0)
          b.equal(
            `out_${c}_${p}`,
            [...endingAt[c][p].map((v) => term(v)), ...sent[c][p].map((t) => term(t.variable, -1))],
            0,
          );
        if (startingAt[c][p].length > 0)
          b.equal(
            `in_${c}_${p}`,
            [...startingAt[c][p].map((v) => term(v)), ...received[c][p].map((t) => term(t.variable, -1))],
            0,
          );
      }
    });
  }
  void hints;
  const model = b.build();

  const decode = (values: readonly number[]): FleetDecision => {
    const start = new Array<number>(n).fill(0);
    const k = new Array<number>(n).fill(0);
    const free = classes.map((members) => [...members]);
    for (const col of columns) {
      const count = Math.round(values[col.count]);
      for (let r = 0; r < count; r++) {
        const i = free[col.cls].shift();
        if (i === undefined) break;
        start[i] = col.start;
        k[i] = col.k;
      }
    }
    if (!bounded) return decisionOfPlacement(problem, { start, k });
    // Route only over the links the model switched on: every path through them meets the SLO.
    const on = (name: string): boolean => {
      const idx = b.indexOf(name);
      return idx !== undefined && values[idx] > 0.5;
    };
    const allowed = restrictedProblem(problem, {
      link: (l) => on(`u_${l.from}_${l.to}`),
      source: (j) => on(`us_${j}`),
      sink: (i) => on(`ut_${i}`),
    });
    return decisionOfPlacement(allowed, { start, k });
  };

  const encode = (d: FleetDecision): number[] | null => {
    const pl = placementOfDecision(problem, d);
    if (pl === null) return null;
    // Under an SLO the decision's own support says which links may carry flow.
    const slack = bounded ? sloEncoding(problem, d, pl) : null;
    if (bounded && slack === null) return null;
    const routed = slack?.problem ?? problem;
    const flow = maxFlowOfPlacement(routed, pl);
    const values = new Array<number>(model.variables.length).fill(0);
    if (flow.value > bound || flow.value < least) return null;
    values[F] = flow.value;
    const inflow = new Array<number>(n).fill(0);
    routed.links.forEach((l, e) => (inflow[l.to] += flow.linkFlow[e]));
    flow.sourceFlow.forEach((f, i) => (inflow[i] += f));
    const colIndex = new Map(columns.map((col) => [`${col.cls}_${col.start}_${col.k}`, col]));
    for (let i = 0; i < n; i++) {
      if (pl.k[i] === 0) continue;
      const col = colIndex.get(`${classOf[i]}_${pl.start[i]}_${pl.k[i]}`);
      // A node placed on a column the bounds left out carries nothing: the point leaves it idle.
      if (col === undefined && bounded && !(inflow[i] > 0)) continue;
      if (col === undefined) return null;
      values[col.count] += 1;
      values[col.flow] += inflow[i];
    }
    if (!complete) {
      routed.links.forEach((l, e) => {
        if (flow.linkFlow[e] <= 0) return;
        const p = pl.start[l.from] + pl.k[l.from];
        const idx = b.indexOf(`f_${classOf[l.from]}_${classOf[l.to]}_${p}`);
        if (idx !== undefined) values[idx] += flow.linkFlow[e];
      });
    }
    if (slack !== null) {
      const set = (name: string, v: number): boolean => {
        const idx = b.indexOf(name);
        if (idx !== undefined) values[idx] = v;
        return idx !== undefined || v === 0;
      };
      for (const [kind, arrival] of slack.arrival) arrival.forEach((a, i) => set(`${ARRIVAL_PREFIX[kind]}_${i}`, a));
      routed.links.forEach((l, e) => {
        if (flow.linkFlow[e] > 0 && !set(`u_${l.from}_${l.to}`, 1)) values[F] = NaN;
      });
      flow.sourceFlow.forEach((f, j) => f > 0 && !set(`us_${j}`, 1) && (values[F] = NaN));
      flow.sinkFlow.forEach((f, i) => f > 0 && !set(`ut_${i}`, 1) && (values[F] = NaN));
      if (Number.isNaN(values[F])) return null;
    }
    if (target !== undefined) {
      // F is fixed at the target: scale the placement's flow down to it (every flow column).
      const scale = target / flow.value;
      model.variables.forEach((v, idx) => {
        if (v.name.startsWith('g_') || v.name.startsWith('f_')) values[idx] *= scale;
      });
      values[F] = target;
    }
    return values;
  };
  return { model, decode, encode };
}

/** An edge of the per-node SLO model: its on/off binary and its seconds under a path bound. */
interface ArrivalEdge {
  readonly name: string;
  /** -1: the source (as `from`) or the sink (as `to`). */
  readonly from: number;
  readonly to: number;
  readonly u: number;
  readonly seconds: (bound: PathBound) => number;
}

/** Arrival-time variables of each path bound: a_i (per-token latency), p_i (time to first token). */
const ARRIVAL_PREFIX: Readonly<Record<PathBound['kind'], string>> = { tpot: 'a', ttft: 'p' };

/**
 * One path bound's arrival times t_i ∈ [0, 1], in units of its SLO (so that a backend's absolute
 * row tolerance is relative to the SLO, as evaluate's tolerance is), over the switched-on edges:
 *   t_j ≥ t_i + seconds(i, j) + node_j − M(1 − u_ij)   (t_source = 0),   t_i + seconds(i, t)·u_it ≤ 1,
 * node_j = Σ_{s,k} seconds_j(k)·x[j,s,k]. An edge that alone takes more than the SLO is switched off.
 */
function addArrivals(
  b: ModelBuilder,
  bound: PathBound,
  edges: readonly ArrivalEdge[],
  columns: readonly ColumnVar[],
  n: number,
): void {
  const slo = bound.sloSeconds;
  const tag = ARRIVAL_PREFIX[bound.kind];
  const rows = bound.kind === 'tpot' ? '' : `${bound.kind}_`;
  const byNode: ColumnVar[][] = Array.from({ length: n }, () => []);
  for (const col of columns) byNode[col.cls].push(col);
  const nodeTerms = (i: number): Term[] => byNode[i].map((col) => term(col.count, -bound.node(i, col.k) / slo));
  const maxNode = byNode.map((cols, i) => Math.max(0, ...cols.map((col) => bound.node(i, col.k) / slo)));
  const arrival = Array.from({ length: n }, (_, i) => b.addVariable(`${tag}_${i}`, { lower: 0, upper: 1 }));
  for (const e of edges) {
    const seconds = e.seconds(bound) / slo;
    if (!withinLimit(seconds, 1)) {
      b.lessEqual(`${rows}off_${e.name}`, [term(e.u)], 0);
      continue;
    }
    if (e.to === -1) {
      b.lessEqual(`${rows}leave_${e.from}`, [term(arrival[e.from]), term(e.u, seconds)], 1);
      continue;
    }
    const before = e.from === -1 ? [] : [term(arrival[e.from], -1)];
    const bigM = (e.from === -1 ? 0 : 1) + seconds + maxNode[e.to];
    b.greaterEqual(
      `${rows}arrive_${e.name}`,
      [term(arrival[e.to]), ...before, ...nodeTerms(e.to), term(e.u, -bigM)],
      seconds - bigM,
    );
  }
}

/**
 * Classes split by price: members of one class with the same rent stay interchangeable (a subset
 * of a class keeps its links and limits), so the count of the rented members of each column prices
 * them exactly.
 */
function splitByPrice(problem: FleetProblem, classes: number[][]): number[][] {
  const out: number[][] = [];
  for (const members of classes) {
    const byPrice = new Map<number, number[]>();
    for (const i of members) {
      const price = problem.nodes[i].costPerHour ?? 0;
      byPrice.set(price, [...(byPrice.get(price) ?? []), i]);
    }
    out.push(...byPrice.values());
  }
  return out;
}

/** Helix's MILP as published (see the file comment); kept for the "same model, open solver" peer. */
export function compileHelix(problem: FleetProblem): Compiled<FleetDecision> {
  const L = problem.layers;
  const n = problem.nodes.length;
  const b = new ModelBuilder('fleet-serving-helix', 'max');
  const startVar: number[] = [];
  const oneHot: { k: number; v: number }[][] = [];
  const inflow: Term[][] = Array.from({ length: n }, () => []);
  const outflow: Term[][] = Array.from({ length: n }, () => []);
  const entering: Term[] = [];
  const endTerms = (i: number): Term[] => [term(startVar[i]), ...oneHot[i].map((h) => term(h.v, h.k))];
  for (let i = 0; i < n; i++) {
    startVar.push(b.addVariable(`s_${i}`, { type: 'integer', lower: 0, upper: L - 1 }));
    const hot: { k: number; v: number }[] = [];
    for (let k = 1; k <= problem.nodes[i].maxLayers; k++) {
      if (!((problem.nodes[i].throughput[k] ?? 0) > 0) || (problem.wholeModel && k !== L)) continue;
      hot.push({ k, v: b.binary(`u_${i}_${k}`) });
    }
    oneHot.push(hot);
    b.lessEqual(
      `onehot_${i}`,
      hot.map((h) => term(h.v)),
      1,
    );
    b.lessEqual(`end_${i}`, endTerms(i), L);
  }
  const best = problem.nodes.map((node) => Math.max(0, ...node.throughput));
  const edges: { from: number; to: number; f: number; on: number }[] = [];
  const edge = (name: string, from: number, to: number, capacity: number): void => {
    const f = b.addVariable(`f_${name}`);
    const on = b.binary(`c_${name}`);
    edges.push({ from, to, f, on });
    // Helix writes 5e8 for an unlimited link; with it HiGHS returned a wrong "optimal 0" on a
    // 3-node fleet (and GLPK an infeasible point), so the unlimited link's M is the tokens/s of the
    // node it touches: the same model with a smaller valid M (a link never carries more).
    const cap = Number.isFinite(capacity) ? capacity : Math.min(HELIX_BIG_CAPACITY, best[from === -1 ? to : from]);
    b.lessEqual(`fcap_${name}`, [term(f), term(on, -cap)], 0);
    if (from === -1) {
      // source → j only when s_j = 0.
      b.lessEqual(`sstart_${name}`, [term(startVar[to]), term(on, L)], L);
      entering.push(term(f));
      inflow[to].push(term(f));
    } else if (to === -1) {
      // i → sink only when e_i = L.
      b.greaterEqual(`tend_${name}`, [...endTerms(from), term(on, -L)], 0);
      outflow[from].push(term(f));
    } else {
      // e_i = s_j when the link is on (big-M = L both ways).
      b.lessEqual(`meet1_${name}`, [...endTerms(from), term(startVar[to], -1), term(on, L)], L);
      b.lessEqual(
        `meet2_${name}`,
        [term(startVar[to]), ...endTerms(from).map((t) => term(t.variable, -t.coefficient)), term(on, L)],
        L,
      );
      outflow[from].push(term(f));
      inflow[to].push(term(f));
    }
  };
  for (let i = 0; i < n; i++) if (problem.sourceCapacity[i] > 0) edge(`s_${i}`, -1, i, problem.sourceCapacity[i]);
  for (const l of problem.links) edge(`${l.from}_${l.to}`, l.from, l.to, l.capacity);
  for (let i = 0; i < n; i++) if (problem.sinkCapacity[i] > 0) edge(`${i}_t`, i, -1, problem.sinkCapacity[i]);
  for (let i = 0; i < n; i++) {
    b.equal(`flow_${i}`, [...inflow[i], ...outflow[i].map((t) => term(t.variable, -1))], 0);
    b.lessEqual(
      `tput_${i}`,
      [...inflow[i], ...oneHot[i].map((h) => term(h.v, -(problem.nodes[i].throughput[h.k] ?? 0)))],
      0,
    );
  }
  for (const t of entering) b.addObjective(t.variable, 1);
  const model = b.build();
  const decode = (values: readonly number[]): FleetDecision => {
    const pl: Placement = {
      start: startVar.map((v) => Math.round(values[v])),
      k: oneHot.map((hot) => hot.find((h) => values[h.v] > 0.5)?.k ?? 0),
    };
    return decisionOfPlacement(problem, pl);
  };
  // The warm start every backend gets (the chain's best peer), written in Helix's variables.
  const encode = (d: FleetDecision): number[] | null => {
    const pl = placementOfDecision(problem, d);
    if (pl === null) return null;
    const flow = maxFlowOfPlacement(problem, pl);
    const values = new Array<number>(model.variables.length).fill(0);
    for (let i = 0; i < n; i++) {
      values[startVar[i]] = pl.start[i];
      if (pl.k[i] === 0) continue;
      const hot = oneHot[i].find((h) => h.k === pl.k[i]);
      if (hot === undefined) return null;
      values[hot.v] = 1;
    }
    const linkIndex = new Map(problem.links.map((l, e) => [`${l.from}>${l.to}`, e]));
    const end = (i: number): number => pl.start[i] + pl.k[i];
    for (const e of edges) {
      let f: number;
      let on: boolean;
      if (e.from === -1) {
        f = flow.sourceFlow[e.to];
        on = pl.start[e.to] === 0;
      } else if (e.to === -1) {
        f = flow.sinkFlow[e.from];
        on = end(e.from) === L;
      } else {
        f = flow.linkFlow[linkIndex.get(`${e.from}>${e.to}`) as number];
        on = end(e.from) === pl.start[e.to];
      }
      values[e.f] = f;
      values[e.on] = on ? 1 : 0;
    }
    return values;
  };
  return { model, decode, encode };
}
