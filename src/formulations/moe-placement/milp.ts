/**
 * The placement MILP. Per layer l, expert e, server s: x_les ∈ {0,1} (s holds a replica),
 * y_les ∈ [0,1] (share of the expert's tokens s serves), y ≤ x, Σ_s y_les = 1; z_ls ∈ {0,1}
 * (s takes part in layer l; pays its link latency), x ≤ z; T_l ≥ every time row of every server
 * (the roofline max written as one row per side); per-server memory Σ_{l,e} x ≤ capacity;
 * replica budget Σ_{e,s} x ≤ R per layer. Objective Σ_l T_l (+ migration), equal to evaluate's.
 *
 * The same builder compiles a subset of the layers with given per-server replica caps: the
 * decomposition in exact.ts solves single layers with it.
 */
import { ModelBuilder, term, type Model, type Term } from '../../milp/model.ts';
import type { Compiled } from '../types.ts';
import { expertTokens, layerLoads, migrationObjective, placementValue, replicaCapacity, serverRows } from './cost.ts';
import { aggregateLayerBound } from './bound.ts';
import type { MoePlacementDecision, MoePlacementProblem, Replica } from './schema.ts';

export interface BuildOptions {
  /** Layers to include (default: all). */
  readonly layers?: readonly number[];
  /** Replicas each server may hold over the included layers (default: its memory capacity). */
  readonly replicaCaps?: readonly number[];
  readonly symmetryBreaking?: boolean;
  /**
   * Objective units per second (default 1, i.e. the objective in evaluate's units). Internal
   * single-layer solves use ≈ 1/bound so that HiGHS's absolute tolerances act on numbers near 1.
   */
  readonly scale?: number;
  /** Valid lower bounds on each included layer's T_l (from a relaxation), in seconds. */
  readonly layerLowerBounds?: readonly number[];
  /**
   * Per included layer and server, at most this many replicas (0 forbids the server in that
   * layer). exact.ts derives them from an incumbent: a server whose time rows alone exceed what
   * an improving solution may spend on the layer cannot take part in it.
   */
  readonly layerServerCaps?: readonly (readonly number[])[];
  /**
   * Multiplies every time row (T_l's coefficient included) without touching the objective, so
   * that a solver's absolute row tolerance (≈ 1e-7) is small next to a layer time of
   * milliseconds: the T_l it returns then matches evaluate's layer value to ~1e-10 relative.
   */
  readonly rowScale?: number;
}

export interface LayerModel {
  readonly model: Model;
  readonly layers: readonly number[];
  /** Placement rows for the included layers, in `layers` order. */
  decode(values: readonly number[]): Replica[][][];
  /** Column vector of a placement of the included layers (rows in `layers` order). */
  encode(rows: readonly (readonly (readonly Replica[])[])[]): number[];
}

/** Groups of interchangeable servers (same device, speed, memory and link; not the requester's). */
export function identicalServerGroups(problem: MoePlacementProblem): number[][] {
  if (problem.current !== null) return [];
  const key = (s: number): string => {
    const sv = problem.servers[s];
    return JSON.stringify([sv.device, sv.expertMemoryBytes, sv.flopsPerSecond, sv.link]);
  };
  const groups = new Map<string, number[]>();
  problem.servers.forEach((sv, s) => {
    if (sv.link === null) return;
    const k = key(s);
    const g = groups.get(k);
    if (g) g.push(s);
    else groups.set(k, [s]);
  });
  return [...groups.values()].filter((g) => g.length > 1);
}

/**
 * Relabels identical servers so that, within each group, the server serving more tokens in the
 * first layer comes first — the representative the symmetry-breaking rows keep. Identical servers
 * are interchangeable, so the objective does not change.
 */
export function canonicalize(problem: MoePlacementProblem, decision: MoePlacementDecision, firstLayer = 0): MoePlacementDecision {
  const groups = identicalServerGroups(problem);
  if (groups.length === 0) return decision;
  const { tokens } = layerLoads(problem, decision);
  const map = problem.servers.map((_, s) => s);
  for (const g of groups) {
    const sorted = [...g].sort((a, b) => tokens[firstLayer][b] - tokens[firstLayer][a] || a - b);
    g.forEach((target, i) => {
      map[sorted[i]] = target;
    });
  }
  return { placement: decision.placement.map((row) => row.map((reps) => reps.map((r) => ({ server: map[r.server], share: r.share })))) };
}

export function buildLayerModel(problem: MoePlacementProblem, options: BuildOptions = {}): LayerModel {
  const layers = options.layers ?? Array.from({ length: problem.layers }, (_, l) => l);
  const S = problem.servers.length;
  const E = problem.experts;
  const caps = options.replicaCaps ?? problem.servers.map((_, s) => replicaCapacity(problem, s));
  const b = new ModelBuilder(`moe-placement-${problem.modelName}`, 'min');
  const rows = problem.servers.map((_, s) => serverRows(problem, s));
  const maxType = problem.objective !== 'traffic';
  const needsZ = maxType && rows.some((r) => r.some((row) => row.fixed > 0));
  const k = options.scale ?? 1;

  const x: number[][][] = [];
  const y: number[][][] = [];
  const z: number[][] = [];
  const T: number[] = [];
  layers.forEach((l, li) => {
    x.push([]);
    y.push([]);
    for (let e = 0; e < E; e++) {
      x[li].push(Array.from({ length: S }, (_, s) => b.addVariable(`x_${l}_${e}_${s}`, { type: 'binary', upper: options.layerServerCaps?.[li][s] === 0 ? 0 : 1 })));
      y[li].push(Array.from({ length: S }, (_, s) => b.addVariable(`y_${l}_${e}_${s}`, { lower: 0, upper: 1 })));
    }
    z.push(needsZ ? Array.from({ length: S }, (_, s) => b.binary(`z_${l}_${s}`)) : []);
    if (maxType) T.push(b.addVariable(`T_${l}`, { lower: k * (options.layerLowerBounds?.[li] ?? 0) }));
  });

  layers.forEach((l, li) => {
    for (let e = 0; e < E; e++) {
      b.equal(`share_${l}_${e}`, y[li][e].map((v) => term(v)), 1);
      for (let s = 0; s < S; s++) {
        b.lessEqual(`hold_${l}_${e}_${s}`, [term(y[li][e][s]), term(x[li][e][s], -1)], 0);
        if (needsZ) b.lessEqual(`active_${l}_${e}_${s}`, [term(x[li][e][s]), term(z[li][s], -1)], 0);
      }
    }
    if (maxType) {
      for (let s = 0; s < S; s++) {
        rows[s].forEach((row, r) => {
          const q = options.rowScale ?? 1;
          const terms: Term[] = [term(T[li], q)];
          for (let e = 0; e < E; e++) {
            const perToken = q * k * row.perToken * expertTokens(problem, l, e);
            if (perToken !== 0) terms.push(term(y[li][e][s], -perToken));
            if (row.perReplica !== 0) terms.push(term(x[li][e][s], -q * k * row.perReplica));
          }
          if (row.fixed !== 0) terms.push(term(z[li][s], -q * k * row.fixed));
          b.greaterEqual(`time_${l}_${s}_${r}`, terms, 0);
        });
      }
      b.addObjective(T[li], 1);
    } else {
      for (let s = 0; s < S; s++) {
        const perToken = problem.servers[s].link === null ? 0 : 2 * problem.activationBytesPerToken;
        for (let e = 0; e < E; e++) if (perToken > 0) b.addObjective(y[li][e][s], k * perToken * expertTokens(problem, l, e));
      }
    }
    for (let e = 0; e < E; e++) for (let s = 0; s < S; s++) {
      const m = migrationObjective(problem, l, e, s);
      if (m !== 0) b.addObjective(x[li][e][s], k * m);
    }
    if (options.layerServerCaps !== undefined) {
      for (let s = 0; s < S; s++) {
        const cap = options.layerServerCaps[li][s];
        if (cap > 0 && cap < E) b.lessEqual(`count_${l}_${s}`, x[li].map((row) => term(row[s])), cap);
      }
    }
    if (problem.maxReplicasPerLayer !== null && problem.maxReplicasPerLayer < E * S)
      b.lessEqual(`budget_${l}`, x[li].flatMap((row) => row.map((v) => term(v))), problem.maxReplicasPerLayer);
  });

  for (let s = 0; s < S; s++) {
    if (caps[s] >= layers.length * E) continue;
    b.lessEqual(`memory_${s}`, x.flatMap((layer) => layer.map((row) => term(row[s]))), caps[s]);
  }

  // Symmetry breaking: within a group of identical servers, order by tokens served in the first
  // included layer (any solution can be relabelled to satisfy it; see canonicalize).
  if ((options.symmetryBreaking ?? true) && layers.length > 0) {
    const l0 = layers[0];
    for (const g of identicalServerGroups(problem)) {
      for (let i = 0; i + 1 < g.length; i++) {
        const terms: Term[] = [];
        for (let e = 0; e < E; e++) {
          const t = expertTokens(problem, l0, e);
          terms.push(term(y[0][e][g[i]], t), term(y[0][e][g[i + 1]], -t));
        }
        b.greaterEqual(`symmetry_${g[i]}_${g[i + 1]}`, terms, 0);
      }
    }
  }

  const model = b.build();

  const decode = (values: readonly number[]): Replica[][][] =>
    layers.map((_, li) =>
      Array.from({ length: E }, (_, e) => {
        const held = [];
        for (let s = 0; s < S; s++) if (values[x[li][e][s]] > 0.5) held.push(s);
        const raw = held.map((s) => Math.max(0, Math.min(1, values[y[li][e][s]])));
        const sum = raw.reduce((a, v) => a + v, 0);
        return held.map((s, i) => ({ server: s, share: sum > 0 ? raw[i] / sum : 1 / held.length }));
      }),
    );

  const encode = (placement: readonly (readonly (readonly Replica[])[])[]): number[] => {
    const values = new Array<number>(model.variables.length).fill(0);
    layers.forEach((l, li) => {
      const replicas = new Array<number>(S).fill(0);
      const tokens = new Array<number>(S).fill(0);
      for (let e = 0; e < E; e++) {
        for (const r of placement[li][e]) {
          values[x[li][e][r.server]] = 1;
          values[y[li][e][r.server]] = r.share;
          replicas[r.server] += 1;
          tokens[r.server] += r.share * expertTokens(problem, l, e);
        }
      }
      if (needsZ) for (let s = 0; s < S; s++) values[z[li][s]] = replicas[s] > 0 ? 1 : 0;
      if (maxType) {
        let t = 0;
        for (let s = 0; s < S; s++) {
          if (replicas[s] === 0) continue;
          for (const row of rows[s]) t = Math.max(t, row.perToken * tokens[s] + row.perReplica * replicas[s] + row.fixed);
        }
        values[T[li]] = k * Math.max(t, options.layerLowerBounds?.[li] ?? 0);
      }
    });
    return values;
  };

  return { model, layers, decode, encode };
}

/** Whether every expert of every layer has a whole-expert slot somewhere (the family's feasibility test). */
export function enoughSlots(problem: MoePlacementProblem): boolean {
  const slots = problem.servers.reduce((a, _, s) => a + replicaCapacity(problem, s), 0);
  return slots >= problem.layers * problem.experts;
}

/**
 * The whole problem as one MILP — problem → model only: no peer, no exact method, no evaluate.
 * Each T_l is bounded below by the layer's aggregate relaxation (bound.ts), a valid inequality
 * that leaves the objective (seconds, evaluate's) untouched but spares the solver the weakest part
 * of its LP relaxation. `incumbent` (the chain's warm start), valued with the cost functions, only
 * gives the bisection a starting point.
 *
 * When the servers lack slots for every expert the model is built without those bounds (there is
 * none: no T is feasible); its memory rows are then infeasible already in the LP relaxation, every
 * coefficient stays finite, and the backend's "infeasible" is explained by explainInfeasible.
 */
export function compileProblem(problem: MoePlacementProblem, incumbent?: MoePlacementDecision | null): Compiled<MoePlacementDecision> {
  const caps = problem.servers.map((_, s) => replicaCapacity(problem, s));
  const start = incumbent ? placementValue(problem, incumbent) : null;
  const upper = (l: number): number => (start !== null && start.feasible ? start.layers[l] : 0);
  const layerLowerBounds =
    problem.objective === 'traffic' || !enoughSlots(problem)
      ? undefined
      : Array.from({ length: problem.layers }, (_, l) => finiteBound(aggregateLayerBound(problem, l, caps, upper(l))?.bound));
  const typical = layerLowerBounds ? Math.max(...layerLowerBounds) : 0;
  const rowScale = typical > 0 ? 1 / typical : 1;
  const built = buildLayerModel(problem, { rowScale, ...(layerLowerBounds ? { layerLowerBounds } : {}) });
  return {
    model: built.model,
    decode: (values) => ({ placement: built.decode(values) }),
    encode: (decision) => {
      // Not representable: a broken or infeasible decision (the model's rows would reject it).
      if (!placementValue(problem, decision).feasible) return null;
      return built.encode(canonicalize(problem, decision).placement);
    },
  };
}

/** A lower bound usable as a column bound: finite and within the model builder's ±1e15, else 0 (no bound). */
function finiteBound(bound: number | undefined): number {
  return bound !== undefined && Number.isFinite(bound) && bound >= 0 && bound <= 1e15 ? bound : 0;
}
