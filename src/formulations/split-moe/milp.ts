/**
 * The split-moe MILP (problem → model only; no peer, no evaluate).
 *
 * Columns: a_ul ∈ {0,1} (class u's MoE layer l is remote; local layers are a prefix, so
 * a_ul ≤ a_u,l+1 and the cut is L − Σ_l a_ul), fixed to 0 below the privacy floor and to 1 beyond
 * what the device memory allows; x_les ∈ {0,1} (server s holds expert e of layer l); r_ules ∈
 * [0,1] (share of class u's calls to (l,e) served by s); d_ule ∈ [0,1] (share dropped, only for
 * classes with a drop budget).
 *
 * Rows: Σ_s r_ules + d_ule = a_ul (every call of a remote layer served or dropped); r ≤ x;
 * Σ_{l,e} x_les ≤ slots_s (memory); Σ_u visits_ule · r_ules ≤ knee_s · x_les (replica batch);
 * Σ_{l,e} p_ule d_ule ≤ δ_u · L (accuracy proxy); T_u ≤ SLO_u. With
 * T_u = dense_u + L·dev_u + Σ_l (link_u − dev_u)·a_ul + Σ_{l,e,s} p_ule · t_us · r_ules,
 * the objective is max_u T_u (an epigraph variable), Σ_u n_u T_u / N, or the network bytes
 * Σ_u n_u (Σ_l 2·act·a_ul + Σ k·p·callBytes·r). Every coefficient is a cost.ts function, so the
 * MILP's objective at a decision equals evaluate's.
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import type { Compiled } from '../types.ts';
import {
  callBytes,
  callSeconds,
  classVisits,
  cutRange,
  denseSeconds,
  deviceLayerSeconds,
  linkBytesPerLayer,
  linkRoundTripSeconds,
  replicaTokenLimit,
  serverCapacity,
} from './cost.ts';
import type { Route, SplitMoeDecision, SplitMoeProblem } from './schema.ts';

/** Shares below this are read back as zero (solver noise). */
const SHARE_EPSILON = 1e-9;

export function compileProblem(problem: SplitMoeProblem): Compiled<SplitMoeDecision> {
  const U = problem.classes.length;
  const L = problem.layers;
  const E = problem.experts;
  const S = problem.servers.length;
  const b = new ModelBuilder(`split-moe-${problem.modelName}`, 'min');
  const ranges = problem.classes.map((_, u) => cutRange(problem, u));

  // a[u][l]: a column index, or the constant 0 / 1 (as a number wrapped in an object).
  type Remote = { readonly column: number } | { readonly constant: 0 | 1 };
  const a: Remote[][] = [];
  for (let u = 0; u < U; u++) {
    const { min, max } = ranges[u];
    a.push([]);
    if (max < min) {
      // No cut is allowed (the floor is above what the memory holds, or nothing fits): infeasible rows.
      const w = b.binary(`no_cut_${u}`);
      b.greaterEqual(`no_cut_${u}_lo`, [term(w)], 1);
      b.lessEqual(`no_cut_${u}_hi`, [term(w)], 0);
    }
    for (let l = 0; l < L; l++) {
      if (l < min) a[u].push({ constant: 0 });
      else if (l >= Math.max(max, min)) a[u].push({ constant: 1 });
      else a[u].push({ column: b.binary(`a_${u}_${l}`) });
    }
    for (let l = 0; l + 1 < L; l++) {
      const cur = a[u][l];
      const next = a[u][l + 1];
      if ('column' in cur && 'column' in next)
        b.lessEqual(`prefix_${u}_${l}`, [term(cur.column), term(next.column, -1)], 0);
    }
  }
  const remoteTerms = (u: number, l: number, coefficient: number): { terms: Term[]; constant: number } => {
    const v = a[u][l];
    return 'column' in v
      ? { terms: [term(v.column, coefficient)], constant: 0 }
      : { terms: [], constant: v.constant * coefficient };
  };
  const canBeRemote = (u: number, l: number): boolean => {
    const v = a[u][l];
    return 'column' in v || v.constant === 1;
  };

  const x = Array.from({ length: L }, (_, l) =>
    Array.from({ length: E }, (_, e) => Array.from({ length: S }, (_, s) => b.binary(`x_${l}_${e}_${s}`))),
  );
  const r: (number | null)[][][][] = [];
  const d: (number | null)[][][] = [];
  for (let u = 0; u < U; u++) {
    const c = problem.classes[u];
    r.push([]);
    d.push([]);
    for (let l = 0; l < L; l++) {
      r[u].push([]);
      d[u].push([]);
      for (let e = 0; e < E; e++) {
        const remote = canBeRemote(u, l);
        r[u][l].push(
          Array.from({ length: S }, (_, s) =>
            remote && c.popularity[l][e] > 0 && Number.isFinite(callSeconds(problem, u, s))
              ? b.addVariable(`r_${u}_${l}_${e}_${s}`, { upper: 1 })
              : null,
          ),
        );
        d[u][l].push(
          remote && c.maxDroppedShare > 0 && c.popularity[l][e] > 0
            ? b.addVariable(`d_${u}_${l}_${e}`, { upper: 1 })
            : null,
        );
        if (!remote || c.popularity[l][e] === 0) continue;
        // Served or dropped: Σ_s r + d − a = 0 (or = 1 for a layer that must be remote).
        const rt = remoteTerms(u, l, -1);
        const terms: Term[] = [...rt.terms];
        for (const v of r[u][l][e]) if (v !== null) terms.push(term(v));
        const dv = d[u][l][e];
        if (dv !== null) terms.push(term(dv));
        b.equal(`serve_${u}_${l}_${e}`, terms, -rt.constant);
        r[u][l][e].forEach((v, s) => {
          if (v !== null) b.lessEqual(`hold_${u}_${l}_${e}_${s}`, [term(v), term(x[l][e][s], -1)], 0);
        });
      }
    }
    if (c.maxDroppedShare > 0) {
      const terms: Term[] = [];
      for (let l = 0; l < L; l++)
        for (let e = 0; e < E; e++) {
          const dv = d[u][l][e];
          if (dv !== null) terms.push(term(dv, c.popularity[l][e]));
        }
      if (terms.length > 0) b.lessEqual(`drop_budget_${u}`, terms, c.maxDroppedShare * L);
    }
  }

  for (let s = 0; s < S; s++) {
    const cap = serverCapacity(problem, s);
    if (cap < L * E)
      b.lessEqual(
        `memory_${s}`,
        x.flatMap((row) => row.map((cell) => term(cell[s]))),
        cap,
      );
    const limit = replicaTokenLimit(problem, s);
    if (!Number.isFinite(limit)) continue;
    for (let l = 0; l < L; l++)
      for (let e = 0; e < E; e++) {
        const terms: Term[] = [];
        let most = 0;
        for (let u = 0; u < U; u++) {
          const v = r[u][l][e][s];
          if (v === null) continue;
          const visits = classVisits(problem, u, l, e);
          most += visits;
          terms.push(term(v, visits));
        }
        if (most > limit) b.lessEqual(`batch_${l}_${e}_${s}`, [...terms, term(x[l][e][s], -limit)], 0);
      }
  }

  // T_u as terms + constant (seconds), and the network bytes per user likewise.
  const latency = problem.classes.map((c, u) => {
    const dev = deviceLayerSeconds(problem, u);
    const link = linkRoundTripSeconds(problem, u);
    const terms: Term[] = [];
    let constant = denseSeconds(problem, u) + L * dev;
    for (let l = 0; l < L; l++) {
      const rt = remoteTerms(u, l, link - dev);
      terms.push(...rt.terms);
      constant += rt.constant;
      for (let e = 0; e < E; e++)
        r[u][l][e].forEach((v, s) => {
          if (v !== null) terms.push(term(v, c.popularity[l][e] * callSeconds(problem, u, s)));
        });
    }
    return { terms, constant };
  });
  const bytes = problem.classes.map((c, u) => {
    const terms: Term[] = [];
    let constant = 0;
    for (let l = 0; l < L; l++) {
      const rt = remoteTerms(u, l, linkBytesPerLayer(problem));
      terms.push(...rt.terms);
      constant += rt.constant;
      for (let e = 0; e < E; e++)
        r[u][l][e].forEach((v, s) => {
          const perCall = callBytes(problem, u, s);
          if (v !== null && perCall > 0) terms.push(term(v, problem.topK * c.popularity[l][e] * perCall));
        });
    }
    return { terms, constant };
  });

  problem.classes.forEach((c, u) => {
    if (c.latencySloSeconds !== null)
      b.lessEqual(`slo_${u}`, latency[u].terms, c.latencySloSeconds - latency[u].constant);
  });

  let top: number | null = null;
  if (problem.objective === 'max') {
    top = b.addVariable('worst_latency', { lower: 0 });
    b.addObjective(top, 1);
    latency.forEach((t, u) =>
      b.greaterEqual(
        `worst_${u}`,
        [term(top as number), ...t.terms.map((q) => term(q.variable, -q.coefficient))],
        t.constant,
      ),
    );
  } else {
    const users = problem.classes.reduce((sum, c) => sum + c.users, 0);
    const weight = (u: number): number =>
      problem.objective === 'mean' ? problem.classes[u].users / users : problem.classes[u].users;
    const parts = problem.objective === 'mean' ? latency : bytes;
    parts.forEach((p, u) => {
      for (const q of p.terms) b.addObjective(q.variable, weight(u) * q.coefficient);
      b.addObjectiveConstant(weight(u) * p.constant);
    });
  }
  const model = b.build();

  const decode = (values: readonly number[]): SplitMoeDecision => {
    const placement = x.map((row) => row.map((cell) => cell.flatMap((v, s) => (values[v] > 0.5 ? [s] : []))));
    const cuts = problem.classes.map((_, u) =>
      a[u].reduce((n, v) => n + ('column' in v ? (values[v.column] > 0.5 ? 0 : 1) : 1 - v.constant), 0),
    );
    const routing = problem.classes.map((c, u) =>
      Array.from({ length: L }, (_, l) =>
        Array.from({ length: E }, (_, e): Route[] => {
          if (l < cuts[u] || c.popularity[l][e] === 0) return [];
          const routes: Route[] = [];
          r[u][l][e].forEach((v, s) => {
            if (v !== null && placement[l][e].includes(s) && values[v] > SHARE_EPSILON)
              routes.push({ server: s, share: Math.min(1, values[v]) });
          });
          const sum = routes.reduce((t, q) => t + q.share, 0);
          // Without a drop budget the shares must sum to 1: remove the solver's rounding.
          const target = c.maxDroppedShare > 0 ? Math.min(1, sum) : 1;
          return sum > 0
            ? routes.map((q) => ({ server: q.server, share: (q.share / sum) * target }))
            : c.maxDroppedShare > 0
              ? []
              : fallback(placement[l][e]);
        }),
      ),
    );
    return { cuts, placement, routing };
  };

  const encode = (decision: SplitMoeDecision): readonly number[] | null => {
    if (decision.cuts.length !== U || decision.placement.length !== L || decision.routing.length !== U) return null;
    const values = new Array<number>(model.variables.length).fill(0);
    for (let u = 0; u < U; u++) {
      const cut = decision.cuts[u];
      if (cut < ranges[u].min || cut > ranges[u].max) return null;
      for (let l = 0; l < L; l++) {
        const v = a[u][l];
        if ('column' in v) values[v.column] = l >= cut ? 1 : 0;
      }
    }
    for (let l = 0; l < L; l++)
      for (let e = 0; e < E; e++)
        for (const s of decision.placement[l]?.[e] ?? []) if (s >= 0 && s < S) values[x[l][e][s]] = 1;
    for (let u = 0; u < U; u++)
      for (let l = decision.cuts[u]; l < L; l++)
        for (let e = 0; e < E; e++) {
          let sum = 0;
          for (const q of decision.routing[u]?.[l]?.[e] ?? []) {
            const v = r[u][l][e][q.server];
            if (v === null || v === undefined) return null;
            values[v] = q.share;
            sum += q.share;
          }
          const dv = d[u][l][e];
          if (dv !== null) values[dv] = Math.max(0, 1 - sum);
        }
    if (top !== null) {
      let worst = 0;
      for (const t of latency)
        worst = Math.max(worst, t.constant + t.terms.reduce((acc, q) => acc + q.coefficient * values[q.variable], 0));
      values[top] = worst;
    }
    return values;
  };

  return { model, decode, encode };
}

/** A layer routed to nobody although no drop is allowed: spread over the holders (evaluate judges it). */
function fallback(holders: readonly number[]): Route[] {
  return holders.map((s) => ({ server: s, share: 1 / holders.length }));
}
