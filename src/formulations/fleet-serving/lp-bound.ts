/**
 * The link-aware bound of fleet-serving: the LP relaxation of the per-node column model, in its path
 * form, solved by column generation over pipelines with a longest-path (here: cheapest-path) DP
 * pricing over the layered graph of (layer boundary, node) states. Every certificate is a vector of
 * resource prices checked by that DP, so the bound is valid whatever the LP solver returned.
 *
 * Normalised at a target F: a pipeline P is a sequence of (node, k) columns tiling layers 1..L along
 * links (source → first, last → sink). A placement carrying flow F* ≥ F, scaled down to F, is a
 * combination ψ ≥ 0, Σ ψ_P = 1, of its paths with, per resource r,
 *   Σ_P a_rP(F)·ψ_P ≤ 1,   a_node i = Σ_{(i,k)∈P} max(F / T_i(k), 1)   (its table, and ≤ F through it)
 *                          a_link e = F / c_e · [e ∈ P]                 (link capacity; same for
 *                                                                         source and sink links).
 * For any prices w ≥ 0 write m(w) = min_P Σ_r w_r a_rP(F) over all relaxed pipelines (any node may
 * take any of its columns, even twice: a superset of real paths). Then 1 = Σ ψ_P ≤ Σ_P ψ_P a_P·w / m(w)
 * ≤ Σ_r w_r / m(w). So Σ_r w_r < m(w) proves that no placement carries F; and a_rP(F) does not
 * decrease with F, so none carries more either: F is an upper bound. The docs page has the proof
 * in full. Prices come from the dual of the restricted master LP (pipelines generated so far),
 * solved by the chain's MILP backend; the DP then checks them (or finds the next pipeline).
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import type { SolveMilp } from '../types.ts';
import type { FleetProblem } from './schema.ts';

/** A relaxed pipeline: the (node, start, k) columns and the links it uses, in order. */
interface Pipeline {
  readonly steps: readonly { i: number; k: number }[];
  /** Indices into the resource list of the link resources it uses (source, links, sink). */
  readonly linkResources: readonly number[];
}

/** The resources that can bind: every node, and the links, source and sink links that can. */
interface Resources {
  /** Number of resources: the n nodes (indices 0 … n − 1), then link-type ones. */
  readonly count: number;
  /** Resource index of link e, or -1 when it cannot bind. */
  readonly link: readonly number[];
  readonly source: readonly number[];
  readonly sink: readonly number[];
  /** Capacity (tokens/s) by resource index: nodes first (NaN), then the link-type resources. */
  readonly capacity: readonly number[];
}

function resourcesOf(problem: FleetProblem): Resources {
  const n = problem.nodes.length;
  const best = problem.nodes.map((node) => Math.max(0, ...node.throughput));
  const capacity: number[] = new Array<number>(n).fill(NaN);
  // A link, source or sink link of capacity ≥ the best tokens/s of an end it touches never binds:
  // in the relaxation too a node passes at most its best tokens/s in all (Σ over its columns).
  const add = (c: number, ends: number): number => {
    if (!(c < ends) || !(c > 0)) return -1;
    capacity.push(c);
    return capacity.length - 1;
  };
  const link = problem.links.map((l) => add(l.capacity, Math.min(best[l.from], best[l.to])));
  const source = problem.sourceCapacity.map((c, i) => add(c, best[i]));
  const sink = problem.sinkCapacity.map((c, i) => add(c, best[i]));
  return { count: capacity.length, link, source, sink, capacity };
}

/** Coefficient of pipeline P on each resource at target F (sparse: index → coefficient). */
function coefficients(problem: FleetProblem, res: Resources, p: Pipeline, F: number): Map<number, number> {
  const a = new Map<number, number>();
  for (const { i, k } of p.steps) a.set(i, (a.get(i) ?? 0) + Math.max(F / problem.nodes[i].throughput[k], 1));
  for (const r of p.linkResources) a.set(r, (a.get(r) ?? 0) + F / res.capacity[r]);
  return a;
}

interface Pricing {
  readonly cost: number;
  readonly pipeline: Pipeline | null;
}

/**
 * Memories of the ng-route relaxation: ng[j] holds the nodes that a partial pipeline ending at j
 * still remembers having visited (always j itself). A real pipeline visits a node at most once
 * (ranges strictly increase along it); the relaxed set forbids a revisit only while the node is
 * remembered, so it contains every real pipeline for any choice of memories — small ones give a
 * weaker, faster pricing. Memories grow where the LP's pipelines revisit nodes.
 */
export type NgSets = boolean[][];

export function initialNgSets(n: number): NgSets {
  return Array.from({ length: n }, (_, j) => Array.from({ length: n }, (_, x) => x === j));
}

interface Label {
  readonly cost: number;
  /** Remembered nodes, ascending. */
  readonly memory: readonly number[];
  readonly node: number;
  readonly k: number;
  /** Link resource used to arrive (−1: none that can bind). */
  readonly via: number;
  readonly parent: Label | null;
}

/** Labels above which a state's list is not kept exact: the pricing then reports failure. */
const LABEL_LIMIT = 4_000_000;

/**
 * The cheapest relaxed pipeline under prices w at target F: a labelling DP over states (boundary p,
 * node i whose range ends at p), in order of p, each label carrying the ng memory; a label is
 * dropped only when another at the same state costs no more and remembers a subset. Exact over the
 * relaxed set. Returns null when the label count exceeds LABEL_LIMIT (no answer rather than a
 * wrong one).
 */
function price(problem: FleetProblem, res: Resources, w: readonly number[], F: number, ng: NgSets): Pricing | null {
  const L = problem.layers;
  const n = problem.nodes.length;
  const colCost = problem.nodes.map((node, i) => {
    const c = new Float64Array(node.maxLayers + 1).fill(Infinity);
    for (let k = 1; k <= Math.min(node.maxLayers, L); k++) {
      const t = node.throughput[k] ?? 0;
      if (t > 0 && (!problem.wholeModel || k === L)) c[k] = w[i] * Math.max(F / t, 1);
    }
    return c;
  });
  const linkCost = (r: number): number => (r < 0 ? 0 : (w[r] * F) / res.capacity[r]);
  const labels: Label[][] = Array.from({ length: (L + 1) * n }, () => []);
  let total = 0;
  const subset = (a: readonly number[], b: readonly number[]): boolean => {
    // a ⊆ b, both ascending.
    let q = 0;
    for (const x of a) {
      while (q < b.length && b[q] < x) q++;
      if (q === b.length || b[q] !== x) return false;
    }
    return true;
  };
  const insert = (state: number, label: Label): void => {
    const list = labels[state];
    for (const other of list) if (other.cost <= label.cost && subset(other.memory, label.memory)) return;
    let keep = 0;
    for (let q = 0; q < list.length; q++) {
      const other = list[q];
      if (!(label.cost <= other.cost && subset(label.memory, other.memory))) list[keep++] = other;
    }
    total -= list.length - keep;
    list.length = keep;
    list.push(label);
    total++;
  };
  for (let i = 0; i < n; i++) {
    if (!(problem.sourceCapacity[i] > 0)) continue;
    const base = linkCost(res.source[i]);
    for (let k = 1; k < colCost[i].length && k <= L; k++) {
      const c = base + colCost[i][k];
      if (c < Infinity) insert(k * n + i, { cost: c, memory: [i], node: i, k, via: res.source[i], parent: null });
    }
  }
  const out: { to: number; r: number }[][] = problem.nodes.map(() => []);
  problem.links.forEach((l, e) => {
    if (l.capacity > 0) out[l.from].push({ to: l.to, r: res.link[e] });
  });
  for (let p = 1; p < L; p++) {
    for (let i = 0; i < n; i++) {
      const list = labels[p * n + i];
      if (list.length === 0) continue;
      for (const { to: j, r } of out[i]) {
        const cj = colCost[j];
        const ngj = ng[j];
        const lc = linkCost(r);
        for (const label of list) {
          if (label.memory.includes(j)) continue;
          const base = label.cost + lc;
          let memory: number[] | null = null;
          for (let k = 1; k < cj.length && p + k <= L; k++) {
            const c = base + cj[k];
            if (c === Infinity) continue;
            memory ??= [...label.memory.filter((x) => ngj[x]), j].sort((a, b) => a - b);
            insert((p + k) * n + j, { cost: c, memory, node: j, k, via: r, parent: label });
            if (total > LABEL_LIMIT) return null;
          }
        }
      }
    }
  }
  let best: Label | null = null;
  let bestCost = Infinity;
  for (let i = 0; i < n; i++) {
    if (!(problem.sinkCapacity[i] > 0)) continue;
    for (const label of labels[L * n + i]) {
      const c = label.cost + linkCost(res.sink[i]);
      if (c < bestCost) {
        bestCost = c;
        best = label;
      }
    }
  }
  if (best === null) return { cost: Infinity, pipeline: null };
  const steps: { i: number; k: number }[] = [];
  const linkResources: number[] = [];
  if (res.sink[best.node] >= 0) linkResources.push(res.sink[best.node]);
  for (let l: Label | null = best; l !== null; l = l.parent) {
    steps.unshift({ i: l.node, k: l.k });
    if (l.via >= 0) linkResources.push(l.via);
  }
  return { cost: bestCost, pipeline: { steps, linkResources } };
}

export interface LinkBoundOptions {
  /** Wall-clock deadline (performance.now() ms) after which the best certified bound is returned. */
  readonly deadlineMs?: number;
  /** Stop the bisection when the bound is within this relative distance of `lower`. */
  readonly tolerance?: number;
}

export interface LinkBoundResult {
  /** An upper bound on the flow of every placement (valid always). */
  readonly bound: number;
  /** Whether no relaxed pipeline exists at all (then nothing serves). */
  readonly empty: boolean;
  readonly targetsTried: number;
  readonly masterSolves: number;
}

/** 'failed': the master LP failed (numerical trouble); the pool is kept. */
type Verdict = 'infeasible' | 'open' | 'unknown' | 'failed';

/** The state of one bound computation: prices, pipelines found so far, memories. */
interface Context {
  readonly problem: FleetProblem;
  readonly res: Resources;
  readonly solveMilp: SolveMilp;
  readonly deadlineMs: number;
  readonly ng: NgSets;
  pool: Pipeline[];
  masters: number;
  ngGrowths: number;
}

/** Most nodes one memory holds (larger memories: a stronger bound, more labels). */
const NG_SIZE = 12;

function secondsLeft(ctx: Context): number {
  return (ctx.deadlineMs - performance.now()) / 1000;
}

/** Whether the pipeline belongs to the ng-relaxed set (no revisit of a remembered node). */
function ngFeasible(ng: NgSets, p: Pipeline): boolean {
  let memory: number[] = [];
  for (const { i } of p.steps) {
    if (memory.includes(i)) return false;
    memory = [...memory.filter((x) => ng[i][x]), i];
  }
  return true;
}

/** Grow memories so that the revisits of these pipelines leave the relaxed set; true if any grew. */
function forbidRevisits(ng: NgSets, pipelines: readonly Pipeline[]): boolean {
  let grown = false;
  for (const p of pipelines) {
    const seen = new Map<number, number>();
    p.steps.forEach(({ i }, q) => {
      const first = seen.get(i);
      if (first !== undefined) {
        for (let r = first + 1; r <= q; r++) {
          const memory = ng[p.steps[r].i];
          if (!memory[i] && memory.filter(Boolean).length < NG_SIZE) {
            memory[i] = true;
            grown = true;
          }
        }
      }
      seen.set(i, q);
    });
  }
  return grown;
}

/** The restricted dual min Σ w s.t. a_P·w ≥ 1 (P in the pool), w ≥ 0: its prices, or null. */
async function masterPrices(ctx: Context, F: number): Promise<{ prices: number[]; optimal: boolean } | null> {
  const b = new ModelBuilder('fleet-link-bound-dual', 'min');
  const w = Array.from({ length: ctx.res.count }, (_, r) => b.addVariable(`w_${r}`, { lower: 0 }));
  for (const r of w) b.addObjective(r, 1);
  ctx.pool.forEach((p, q) => {
    const a = coefficients(ctx.problem, ctx.res, p, F);
    b.greaterEqual(
      `p_${q}`,
      [...a].map(([r, c]) => term(w[r], c)),
      1,
    );
  });
  const left = secondsLeft(ctx);
  const sol = await ctx.solveMilp(b.build(), Number.isFinite(left) ? { timeLimitSeconds: Math.max(0.05, left) } : {});
  ctx.masters++;
  if (sol.solution === null) return null;
  const values = sol.solution.values;
  return { prices: w.map((v) => Math.max(0, values[v] ?? 0)), optimal: sol.termination === 'optimal' };
}

/**
 * Decide for target F whether prices proving "no placement carries F" exist, by column generation:
 * the restricted dual's prices are priced by the DP. A certificate is Σ w < m(w) checked by the DP
 * (never trusted from the LP). 'open' when the restricted LP's value reaches 1 (its pipelines are
 * all in the relaxed set, so the full LP value is then ≥ 1 too: no certificate exists at F); with
 * `converge`, column generation goes on until no pipeline prices below 1 (the LP's own optimum).
 */
async function decide(ctx: Context, F: number, converge = false): Promise<Verdict> {
  const { problem, res, ng } = ctx;
  if (ctx.pool.length === 0) {
    const first = price(problem, res, new Array<number>(res.count).fill(1), F, ng);
    if (first === null) return 'failed';
    if (first.pipeline === null) return 'infeasible';
    ctx.pool.push(first.pipeline);
  }
  for (let round = 0; round < 400; round++) {
    if (performance.now() > ctx.deadlineMs) return 'unknown';
    const master = await masterPrices(ctx, F);
    if (master === null) return performance.now() > ctx.deadlineMs ? 'unknown' : 'failed';
    const { prices } = master;
    const total = prices.reduce((s, x) => s + x, 0);
    if (!converge && master.optimal && total >= 1 - 1e-9) return 'open';
    const pr = price(problem, res, prices, F, ng);
    if (pr === null) return 'failed';
    if (pr.pipeline === null) return 'infeasible';
    // Certificate: Σ w < m(w), with a margin so that round-off in the DP cannot fake one.
    if (total < pr.cost * (1 - 1e-9)) return 'infeasible';
    if (converge && pr.cost >= 1 - 1e-7) return 'open';
    const key = JSON.stringify(pr.pipeline.steps);
    if (ctx.pool.some((p) => JSON.stringify(p.steps) === key)) return 'open';
    ctx.pool.push(pr.pipeline);
  }
  return 'unknown';
}

/** The restricted primal max Σ ψ s.t. Σ_P a_rP ψ_P ≤ 1 over the pool: value and ψ, or null. */
async function masterShares(ctx: Context, F: number): Promise<{ value: number; shares: number[] } | null> {
  const b = new ModelBuilder('fleet-link-lp-primal', 'max');
  const psi = ctx.pool.map((_, q) => b.addVariable(`psi_${q}`, { lower: 0 }));
  for (const x of psi) b.addObjective(x, 1);
  const rows = new Map<number, Term[]>();
  ctx.pool.forEach((p, q) => {
    for (const [r, c] of coefficients(ctx.problem, ctx.res, p, F)) {
      const list = rows.get(r) ?? [];
      list.push(term(psi[q], c));
      rows.set(r, list);
    }
  });
  for (const [r, terms] of rows) b.lessEqual(`r_${r}`, terms, 1);
  const left = secondsLeft(ctx);
  const sol = await ctx.solveMilp(b.build(), Number.isFinite(left) ? { timeLimitSeconds: Math.max(0.05, left) } : {});
  if (sol.solution === null) return null;
  const values = sol.solution.values;
  return { value: sol.solution.objective, shares: psi.map((v) => Math.max(0, values[v] ?? 0)) };
}

/**
 * Decide F, and while the LP carries F only through pipelines that revisit nodes, remember those
 * nodes (the relaxed set shrinks towards real pipelines) and decide again.
 */
async function decideWithMemories(ctx: Context, F: number, maxGrowths: number): Promise<Verdict> {
  let v = await decide(ctx, F);
  for (let g = 0; v === 'open' && g < maxGrowths; g++) {
    v = await decide(ctx, F, true);
    if (v !== 'open') break;
    const primal = await masterShares(ctx, F);
    if (primal === null) break;
    const used = ctx.pool.filter((_, q) => primal.shares[q] > 1e-9);
    if (!forbidRevisits(ctx.ng, used)) break;
    ctx.ngGrowths++;
    ctx.pool = ctx.pool.filter((p) => ngFeasible(ctx.ng, p));
    v = await decide(ctx, F);
  }
  return v;
}

export interface LinkBoundOptions {
  /** Wall-clock deadline (performance.now() ms) after which the best certified bound is returned. */
  readonly deadlineMs?: number;
  /** Stop the bisection when hi − lo is within this share of hi. */
  readonly tolerance?: number;
  /** Relative gap to the incumbent `lower` at which the first target is set (the caller's mipGap). */
  readonly gap?: number;
  /** Rounds of memory growth per target (0: plain LP of pipelines with revisits allowed). */
  readonly memoryRounds?: number;
}

export interface LinkBoundResult {
  /** An upper bound on the flow of every placement (valid always). */
  readonly bound: number;
  /** Whether no relaxed pipeline exists at all (then nothing serves). */
  readonly empty: boolean;
  readonly targetsTried: number;
  readonly masterSolves: number;
  readonly memoryGrowths: number;
}

/**
 * The link-aware bound: the smallest target F in [lower, upper] that `decide` proves infeasible,
 * found by bisection (a_rP(F) only grows with F, so the proven targets are an upper interval).
 * `upper` must itself be a valid bound (e.g. the cover bound); `lower` a flow known to be feasible
 * (or 0). Returns `upper` when nothing below it can be proven.
 */
export async function linkAwareBound(
  problem: FleetProblem,
  lower: number,
  upper: number,
  solveMilp: SolveMilp,
  options: LinkBoundOptions = {},
): Promise<LinkBoundResult> {
  const res = resourcesOf(problem);
  const ctx: Context = {
    problem,
    res,
    solveMilp,
    deadlineMs: options.deadlineMs ?? Infinity,
    ng: initialNgSets(problem.nodes.length),
    pool: [],
    masters: 0,
    ngGrowths: 0,
  };
  const tol = options.tolerance ?? 1e-4;
  const maxGrowths = options.memoryRounds ?? 30;
  let tried = 0;
  const any = price(problem, res, new Array<number>(res.count).fill(1), 1, ctx.ng);
  if (any !== null && any.pipeline === null)
    return { bound: 0, empty: true, targetsTried: 0, masterSolves: 0, memoryGrowths: 0 };
  let hi = upper;
  let lo = Math.max(0, Math.min(lower, upper));
  // Just above the incumbent, within the gap asked for: when proven, the incumbent is optimal.
  if (lo > 0) {
    const F = Math.min(hi, lo * (1 + (options.gap ?? 0.01) / 2));
    tried++;
    if ((await decide(ctx, F)) === 'infeasible') hi = F;
  }
  // Bisection, first on the plain pipeline LP (cheap), then again from the last open target with
  // memories grown (tighter, slower); a target proven stays proven (memories only shrink the set).
  for (const growths of [0, maxGrowths]) {
    if (growths > 0) lo = Math.max(0, Math.min(lower, hi));
    let F = (lo + hi) / 2;
    while (hi - lo > tol * Math.max(hi, 1e-9) && performance.now() < ctx.deadlineMs) {
      tried++;
      const v = growths > 0 ? await decideWithMemories(ctx, F, growths) : await decide(ctx, F);
      if (v === 'unknown') break;
      // A failed master or pricing proves nothing: the target counts as open.
      if (v === 'infeasible') hi = F;
      else lo = F;
      F = (lo + hi) / 2;
    }
    if (growths === 0 && maxGrowths === 0) break;
  }
  return {
    bound: hi,
    empty: false,
    targetsTried: tried,
    masterSolves: ctx.masters,
    memoryGrowths: ctx.ngGrowths,
  };
}
