/**
 * Pattern staging: an incumbent heuristic of the exact method that looks at the whole fleet at once.
 * stages.ts builds a staged pipeline greedily from layer 1 and backtracks locally; on fleets where
 * edge nodes reach each other only through a few hubs (Helix's pruned clusters) that walk spends
 * the hubs early and ends far below the bound (helix-42: 5 127 tokens/s). Here the choice is split
 * in two small integer programs, each solved by the chain's MILP backend:
 *
 * 1. Which stages, at target F (no order, no names). Nodes fall into classes (same throughput table,
 *    same side of the independent set I of cost.ts — no two members of I are linked, so a pipeline
 *    never has two I-stages in a row — and the same source/sink links). A pattern is a stage: up to
 *    MAX_MEMBERS nodes of one side holding the same k layers whose tokens/s at k sum to ≥ F, minimal
 *    (no member can be dropped). Integer counts of patterns: layers covered ≥ L, class sizes
 *    respected, one first stage of source-linked nodes and one last stage of sink-linked nodes, and
 *    I-stages ≤ other stages + 1 − [first is not I] − [last is not I] (they must alternate).
 * 2. Who and in which order: stages to positions and nodes to stages, every member of a stage
 *    linked to every member of the next (so each stage passes its full F on, whatever the split),
 *    the first stage's members linked from the source and the last stage's to the sink, no two
 *    I-stages adjacent. Where some link is slower than F, member-to-member linking no longer carries
 *    F, so instead the program routes F between consecutive stages over the links (addTransport) and
 *    members need not all be linked. Then the stages are laid from layer 1 (the last ones cut to end at L:
 *    fewer layers never lower a node's tokens/s in the tables used here, and the placement is
 *    valued by its own max flow anyway).
 *
 * Both are restrictions of the problem (a feasible answer is a placement; the placement is valued
 * by cost.ts's max flow), so this can only find incumbents, never bounds. Targets are bisected
 * between the incumbent and the bound while time allows; a target whose stage program or
 * realisation fails counts as out of reach.
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import { mulberry32 } from '../../util/random.ts';
import type { SolveMilp } from '../types.ts';
import { heldOptions, independentSet, maxFlowOfPlacement, sameTableGroups, type Placement } from './cost.ts';
import type { FleetProblem } from './schema.ts';

/** Most members of one stage (more: many more patterns, rarely better — a stage of four T4s is still one). */
export const MAX_MEMBERS = 3;
/** Sets of stages proposed per target before it counts as out of reach (the links decide which can be ordered). */
const ATTEMPTS = 4;
/** Patterns above which the stage program is not built (fleets with very many classes). */
const MAX_PATTERNS = 20_000;

interface NodeClass {
  readonly members: readonly number[];
  /** Member of the independent set (no links among such nodes). */
  readonly independent: boolean;
  readonly source: boolean;
  readonly sink: boolean;
  /** A representative member (all members have its throughput table). */
  readonly node: number;
}

interface Pattern {
  readonly k: number;
  /** Members per class index. */
  readonly use: readonly number[];
  readonly independent: boolean;
  /** Every member is linked from the source / to the sink. */
  readonly source: boolean;
  readonly sink: boolean;
}

/** A stage chosen by the stage program: a pattern, and whether it is the first or last stage. */
interface ChosenStage {
  readonly pattern: Pattern;
  readonly role: 'first' | 'middle' | 'last';
}

function classesOf(problem: FleetProblem): NodeClass[] {
  const inI = independentSet(problem);
  const source = (i: number): boolean => problem.sourceCapacity[i] > 0;
  const sink = (i: number): boolean => problem.sinkCapacity[i] > 0;
  return sameTableGroups(problem, (i) => [inI[i], source(i), sink(i)]).map((members) => ({
    members,
    independent: inI[members[0]],
    source: source(members[0]),
    sink: sink(members[0]),
    node: members[0],
  }));
}

/** Minimal stages of up to MAX_MEMBERS nodes of one side, same k, tokens/s at k summing to ≥ F. */
function patternsAt(problem: FleetProblem, classes: readonly NodeClass[], F: number): Pattern[] | null {
  const out: Pattern[] = [];
  // Tokens/s of class q holding k layers, 0 where it may not (cost.ts heldOptions).
  const tables = classes.map((c) => {
    const t = new Array<number>(problem.layers + 1).fill(0);
    for (const o of heldOptions(problem, c.node)) t[o.k] = o.tokensPerSecond;
    return t;
  });
  const tput = (q: number, k: number): number => tables[q][k];
  for (const independent of [true, false]) {
    const side = classes.map((_, q) => q).filter((q) => classes[q].independent === independent);
    for (let k = 1; k <= problem.layers; k++) {
      const use = new Array<number>(classes.length).fill(0);
      const walk = (from: number, count: number, sum: number): void => {
        if (sum >= F) {
          // Minimal: dropping any member falls below F (else the smaller stage is a pattern too).
          const minimal = use.every((u, q) => u === 0 || sum - tput(q, k) < F);
          if (minimal) {
            const members = use.flatMap((u, q) => (u > 0 ? [q] : []));
            out.push({
              k,
              use: [...use],
              independent,
              source: members.every((q) => classes[q].source),
              sink: members.every((q) => classes[q].sink),
            });
          }
          return;
        }
        if (count === MAX_MEMBERS) return;
        for (let a = from; a < side.length; a++) {
          const q = side[a];
          const t = tput(q, k);
          if (!(t > 0) || use[q] >= classes[q].members.length) continue;
          use[q]++;
          walk(a, count + 1, sum + t);
          use[q]--;
        }
      };
      walk(0, 0, 0);
      if (out.length > MAX_PATTERNS) return null;
    }
  }
  return out;
}

/** The stage program (1. in the file comment): the stages of a staged pipeline at F, or null. */
async function chooseStages(
  problem: FleetProblem,
  classes: readonly NodeClass[],
  patterns: readonly Pattern[],
  solveMilp: SolveMilp,
  seconds: number,
  attempt: number,
): Promise<ChosenStage[] | null> {
  if (patterns.length === 0) return null;
  const b = new ModelBuilder('fleet-stage-patterns', 'min');
  const middle = patterns.map((_, j) => b.addVariable(`x_${j}`, { type: 'integer', lower: 0, upper: problem.layers }));
  const first = patterns.map((p, j) => (p.source ? b.addVariable(`first_${j}`, { type: 'binary' }) : -1));
  const last = patterns.map((p, j) => (p.sink ? b.addVariable(`last_${j}`, { type: 'binary' }) : -1));
  const firsts = first.filter((v) => v >= 0);
  const lasts = last.filter((v) => v >= 0);
  if (firsts.length === 0 || lasts.length === 0) return null;
  const uses = (j: number): number[] => [middle[j], first[j], last[j]].filter((v) => v >= 0);
  b.equal(
    'first',
    firsts.map((v) => term(v, 1)),
    1,
  );
  b.equal(
    'last',
    lasts.map((v) => term(v, 1)),
    1,
  );
  b.greaterEqual(
    'layers',
    patterns.flatMap((p, j) => uses(j).map((v) => term(v, p.k))),
    problem.layers,
  );
  classes.forEach((c, q) => {
    const terms = patterns.flatMap((p, j) => (p.use[q] > 0 ? uses(j).map((v) => term(v, p.use[q])) : []));
    if (terms.length > 0) b.lessEqual(`class_${q}`, terms, c.members.length);
  });
  const alternation: Term[] = patterns.flatMap((p, j) => uses(j).map((v) => term(v, p.independent ? 1 : -1)));
  patterns.forEach((p, j) => {
    if (p.independent) return;
    if (first[j] >= 0) alternation.push(term(first[j], 1));
    if (last[j] >= 0) alternation.push(term(last[j], 1));
  });
  b.lessEqual('alternation', alternation, 1);
  // Fewest stages (fewer hand-offs to realise); a retry after a failed realisation perturbs the
  // costs so that the program proposes another set of stages.
  const random = mulberry32(attempt + 1);
  patterns.forEach((_, j) => {
    const cost = attempt === 0 ? 1 : 1 + random();
    for (const v of uses(j)) b.addObjective(v, cost);
  });
  const r = await solveMilp(b.build(), { timeLimitSeconds: Math.max(0.1, seconds), mipGap: 1 });
  if (r.solution === null) return null;
  const values = r.solution.values;
  const stages: ChosenStage[] = [];
  patterns.forEach((pattern, j) => {
    for (let c = 0; c < Math.round(values[middle[j]] ?? 0); c++) stages.push({ pattern, role: 'middle' });
    if (first[j] >= 0 && (values[first[j]] ?? 0) > 0.5) stages.push({ pattern, role: 'first' });
    if (last[j] >= 0 && (values[last[j]] ?? 0) > 0.5) stages.push({ pattern, role: 'last' });
  });
  return stages;
}

/** The realisation program (2. in the file comment): a placement of the chosen stages, or null. */
async function realise(
  problem: FleetProblem,
  classes: readonly NodeClass[],
  stages: readonly ChosenStage[],
  solveMilp: SolveMilp,
  seconds: number,
  F: number,
): Promise<Placement | null> {
  const n = problem.nodes.length;
  const P = stages.length;
  // Links slower than the target: linking every member of a stage to every member of the next no
  // longer carries F, so the program routes F between consecutive stages itself (transport below).
  const slow = problem.links.some((l) => l.capacity > 0 && l.capacity < F);
  const linked: boolean[][] = problem.nodes.map(() => new Array<boolean>(n).fill(false));
  for (const l of problem.links) if (l.capacity > 0) linked[l.from][l.to] = true;
  const b = new ModelBuilder('fleet-stage-realisation', 'min');
  const at = stages.map((_, s) =>
    Array.from({ length: P }, (_, pos) => b.addVariable(`x_${s}_${pos}`, { type: 'binary' })),
  );
  const holds = Array.from({ length: n }, (_, i) =>
    Array.from({ length: P }, (_, pos) => b.addVariable(`a_${i}_${pos}`, { type: 'binary' })),
  );
  stages.forEach((st, s) => {
    b.equal(
      `stage_${s}`,
      at[s].map((v) => term(v, 1)),
      1,
    );
    if (st.role === 'first') b.equal(`first_${s}`, [term(at[s][0], 1)], 1);
    if (st.role === 'last') b.equal(`last_${s}`, [term(at[s][P - 1], 1)], 1);
  });
  for (let i = 0; i < n; i++)
    b.lessEqual(
      `node_${i}`,
      holds[i].map((v) => term(v, 1)),
      1,
    );
  for (let pos = 0; pos < P; pos++) {
    b.equal(
      `position_${pos}`,
      stages.map((_, s) => term(at[s][pos], 1)),
      1,
    );
    classes.forEach((c, q) => {
      const terms = [
        ...c.members.map((i) => term(holds[i][pos], 1)),
        ...stages.flatMap((st, s) => (st.pattern.use[q] > 0 ? [term(at[s][pos], -st.pattern.use[q])] : [])),
      ];
      b.equal(`members_${q}_${pos}`, terms, 0);
    });
    if (pos + 1 < P) {
      const independent = stages.flatMap((st, s) =>
        st.pattern.independent ? [term(at[s][pos], 1), term(at[s][pos + 1], 1)] : [],
      );
      if (independent.length > 0) b.lessEqual(`alternate_${pos}`, independent, 1);
      // Node i at pos excludes every node it is not linked to at pos + 1 (one aggregated row per node).
      for (let i = 0; i < n && !slow; i++) {
        const unlinked = [...Array(n).keys()].filter((j) => j !== i && !linked[i][j]);
        if (unlinked.length === 0) continue;
        b.lessEqual(
          `links_${i}_${pos}`,
          [term(holds[i][pos], unlinked.length), ...unlinked.map((j) => term(holds[j][pos + 1], 1))],
          unlinked.length,
        );
      }
    }
  }
  for (let i = 0; i < n; i++) {
    if (!(problem.sourceCapacity[i] > 0)) b.equal(`source_${i}`, [term(holds[i][0], 1)], 0);
    if (!(problem.sinkCapacity[i] > 0)) b.equal(`sink_${i}`, [term(holds[i][P - 1], 1)], 0);
  }
  if (slow) addTransport(problem, b, stages, at, holds, F);
  const r = await solveMilp(b.build(), { timeLimitSeconds: Math.max(0.1, seconds), mipGap: 1 });
  if (r.solution === null) return null;
  const values = r.solution.values;
  const start = new Array<number>(n).fill(0);
  const k = new Array<number>(n).fill(0);
  let layer = 0;
  for (let pos = 0; pos < P && layer < problem.layers; pos++) {
    const s = stages.findIndex((_, q) => (values[at[q][pos]] ?? 0) > 0.5);
    if (s < 0) return null;
    const width = Math.min(stages[s].pattern.k, problem.layers - layer);
    for (let i = 0; i < n; i++) {
      if ((values[holds[i][pos]] ?? 0) > 0.5) {
        start[i] = layer;
        k[i] = width;
      }
    }
    layer += width;
  }
  // The last stage must end at L (the sink is only reachable from there); cut stages past it.
  return layer === problem.layers ? { start, k } : null;
}

/** One target: a placement built from stages of tokens/s ≥ F (its own flow may differ), or null. */
export async function stagedAtTarget(
  problem: FleetProblem,
  F: number,
  solveMilp: SolveMilp,
  seconds: number,
  classes: readonly NodeClass[] = classesOf(problem),
): Promise<{ placement: Placement | null; outcome: string }> {
  const deadline = performance.now() + seconds * 1000;
  const left = (): number => (deadline - performance.now()) / 1000;
  // The patterns depend on F only: enumerated once for every attempt at this target.
  const patterns = patternsAt(problem, classes, F);
  if (patterns === null) return { placement: null, outcome: 'no stages' };
  for (let attempt = 0; attempt < ATTEMPTS && left() > 0.2; attempt++) {
    const stages = await chooseStages(problem, classes, patterns, solveMilp, left() / 4, attempt);
    if (stages === null) return { placement: null, outcome: 'no stages' };
    const placement = await realise(problem, classes, stages, solveMilp, left() / (ATTEMPTS - attempt), F);
    if (placement !== null) return { placement, outcome: 'realised' };
  }
  return { placement: null, outcome: 'not realised' };
}

/**
 * F routed between every pair of consecutive stages over the links (each at most its capacity, and
 * only between nodes at those positions), each node passing what it receives and at most its
 * tokens/s at the k of its stage — then the placement's max flow is at least F whatever the links.
 */
function addTransport(
  problem: FleetProblem,
  b: ModelBuilder,
  stages: readonly ChosenStage[],
  at: readonly (readonly number[])[],
  holds: readonly (readonly number[])[],
  F: number,
): void {
  const n = problem.nodes.length;
  const P = stages.length;
  const links = problem.links.filter((l) => l.capacity > 0);
  // Tokens/s of node i at position pos: its table at the k of the stage placed there.
  const capacityTerms = (i: number, pos: number, flow: readonly Term[], name: string, extra: number): void => {
    const terms = [
      ...flow,
      ...stages.map((st, s) => term(at[s][pos], -(problem.nodes[i].throughput[st.pattern.k] ?? 0))),
    ];
    b.lessEqual(
      name,
      terms.filter((t) => t.coefficient !== 0),
      0,
    );
    if (Number.isFinite(extra)) b.lessEqual(`${name}_end`, [...flow], extra);
  };
  const out: Term[][][] = Array.from({ length: n }, () => Array.from({ length: P }, () => []));
  const into: Term[][][] = Array.from({ length: n }, () => Array.from({ length: P }, () => []));
  for (let pos = 0; pos + 1 < P; pos++) {
    const total: Term[] = [];
    links.forEach((l, e) => {
      const cap = Math.min(l.capacity, F);
      const y = b.addVariable(`y_${e}_${pos}`, { lower: 0, upper: cap });
      b.lessEqual(`y_from_${e}_${pos}`, [term(y, 1), term(holds[l.from][pos], -cap)], 0);
      b.lessEqual(`y_to_${e}_${pos}`, [term(y, 1), term(holds[l.to][pos + 1], -cap)], 0);
      out[l.from][pos].push(term(y, 1));
      into[l.to][pos + 1].push(term(y, 1));
      total.push(term(y, 1));
    });
    b.greaterEqual(`transport_${pos}`, total, F);
  }
  for (let i = 0; i < n; i++) {
    for (let pos = 0; pos < P; pos++) {
      const inflow = into[i][pos];
      const outflow = out[i][pos];
      if (pos > 0 && pos + 1 < P && (inflow.length > 0 || outflow.length > 0))
        b.equal(`pass_${i}_${pos}`, [...inflow, ...outflow.map((t) => term(t.variable, -1))], 0);
      if (pos === 0 && outflow.length > 0) capacityTerms(i, pos, outflow, `cap_${i}_${pos}`, problem.sourceCapacity[i]);
      else if (pos > 0 && inflow.length > 0)
        capacityTerms(i, pos, inflow, `cap_${i}_${pos}`, pos === P - 1 ? problem.sinkCapacity[i] : Infinity);
    }
  }
}

export interface PatternStagingResult {
  readonly placement: Placement | null;
  readonly value: number;
  /** Targets tried, with what happened, for the method's details. */
  readonly targets: readonly { readonly target: number; readonly outcome: string }[];
}

/**
 * Bisection over targets in (lower, upper]: the best placement found (valued by its max flow) or
 * null. `lower` is the incumbent's flow, `upper` a valid bound; stops at `deadlineMs`.
 */
export async function patternStaging(
  problem: FleetProblem,
  lower: number,
  upper: number,
  solveMilp: SolveMilp,
  deadlineMs: number,
): Promise<PatternStagingResult> {
  const targets: { target: number; outcome: string }[] = [];
  if (problem.latencySloSeconds !== undefined || problem.targetTokensPerSecond !== undefined) {
    return { placement: null, value: 0, targets };
  }
  const classes = classesOf(problem);
  let best: Placement | null = null;
  let value = 0;
  let lo = Math.max(0, lower);
  let hi = upper;
  const left = (): number => (deadlineMs - performance.now()) / 1000;
  // Start just above the incumbent: a small win is likelier than a large one, and each realised
  // placement raises lo to its real flow (often above the target it was built for).
  let F = lo > 0 ? Math.min(hi, lo * 1.02) : hi / 2;
  while (hi - lo > 1e-3 * hi && left() > 0.5) {
    const step = await stagedAtTarget(problem, F, solveMilp, Math.min(left(), 90), classes);
    let outcome = step.outcome;
    if (step.placement !== null) {
      const flow = maxFlowOfPlacement(problem, step.placement).value;
      outcome = `realised, flow ${flow}`;
      if (flow > value) {
        value = flow;
        best = step.placement;
      }
      // Links below a stage's tokens/s can hold the flow under the target: then it counts as missed.
      if (flow >= F * (1 - 1e-9)) lo = Math.max(lo, flow);
      else hi = F;
    } else hi = F;
    targets.push({ target: F, outcome });
    F = (lo + hi) / 2;
  }
  return { placement: best, value, targets };
}
