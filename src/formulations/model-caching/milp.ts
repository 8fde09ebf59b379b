/**
 * MILP: x[n][m] model m cached on server n, y[n][b] block b stored on n (y ≥ x for each block of
 * m), storage on y; per demand group g (a model and the users with the same serving options)
 * a continuous served share bounded by the servers that cover the group. Users with identical
 * options for a model are merged, which keeps the model small for hundreds of users.
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import { FEASIBILITY_RTOL } from '../tolerance.ts';
import type { Compiled } from '../types.ts';
import { requestMass, serveGain } from './cost.ts';
import { cachedSets, toDecision } from './decision.ts';
import type { Decision, Problem } from './schema.ts';

/** Users with the same per-server gain vector for one model, merged. */
export interface DemandGroup {
  readonly model: number;
  /** Gain (1 for hit ratio; latency saved for expected latency) per covering server. */
  readonly options: readonly { server: number; gain: number }[];
  readonly mass: number;
}

export function demandGroups(problem: Problem): DemandGroup[] {
  const groups = new Map<string, { model: number; options: { server: number; gain: number }[]; mass: number }>();
  problem.users.forEach((_, u) =>
    problem.models.forEach((__, m) => {
      const mass = requestMass(problem, u, m);
      if (mass === 0) return;
      const options = problem.servers
        .map((___, n) => ({ server: n, gain: serveGain(problem, u, n, m) }))
        .filter((o) => o.gain > 0);
      if (options.length === 0) return;
      const key = `${m}|${options.map((o) => `${o.server}:${o.gain}`).join(',')}`;
      const g = groups.get(key);
      if (g) g.mass += mass;
      else groups.set(key, { model: m, options, mass });
    }),
  );
  return [...groups.values()];
}

/** Column vector of a decision (a warm start); null when it names servers or models the problem lacks. */
function encode(problem: Problem, decision: Decision, layout: Layout): number[] | null {
  const { sets, violations } = cachedSets(problem, decision);
  if (violations.length > 0) return null;
  const values = new Array<number>(layout.columns).fill(0);
  const held: Set<number>[] = sets.map((set) => new Set(set));
  sets.forEach((set, n) => {
    for (const m of set) {
      // A model no demand group can use has no column: leaving it out changes no objective term.
      const col = layout.x[n][m];
      if (col === undefined) continue;
      values[col] = 1;
      for (const b of problem.models[m].blocks) {
        const yc = layout.y[n][b];
        if (yc !== undefined) values[yc] = 1;
      }
    }
  });
  layout.groups.forEach((g, gi) => {
    const ranked = g.options.filter((o) => held[o.server].has(g.model)).sort((a, b) => b.gain - a.gain);
    if (ranked.length > 0) values[layout.serve[gi][ranked[0].server] as number] = 1;
  });
  return values;
}

interface Layout {
  readonly columns: number;
  readonly x: (number | undefined)[][];
  readonly y: (number | undefined)[][];
  readonly groups: readonly DemandGroup[];
  /** serve[g][n]: column of the share of group g served by server n. */
  readonly serve: (number | undefined)[][];
}

/** Problem → model only (no peer, exact method or evaluate runs here). */
export function compile(problem: Problem): Compiled<Decision> {
  const sense = problem.objective === 'hit-ratio' ? 'max' : 'min';
  const b = new ModelBuilder(`model-caching`, sense);
  const groups = demandGroups(problem);
  const N = problem.servers.length;
  const x: (number | undefined)[][] = problem.servers.map(() => problem.models.map(() => undefined));
  const y: (number | undefined)[][] = problem.servers.map(() => problem.blocks.map(() => undefined));

  // Only (server, model) pairs that some demand group can use get a column.
  for (const g of groups)
    for (const o of g.options)
      if (x[o.server][g.model] === undefined) x[o.server][g.model] = b.binary(`x[${o.server}][${g.model}]`);

  for (let n = 0; n < N; n++) {
    const storage: Term[] = [];
    if (problem.parameterSharing) {
      problem.models.forEach((m, k) => {
        const xc = x[n][k];
        if (xc === undefined) return;
        for (const blk of m.blocks) {
          let yc = y[n][blk];
          if (yc === undefined) {
            yc = b.binary(`y[${n}][${blk}]`);
            y[n][blk] = yc;
            storage.push(term(yc, problem.blocks[blk].sizeBytes));
          }
          b.lessEqual(`block[${n}][${blk}]>=model[${k}]`, [term(xc, 1), term(yc, -1)], 0);
        }
      });
    } else {
      problem.models.forEach((m, k) => {
        const xc = x[n][k];
        if (xc !== undefined) storage.push(term(xc, m.sizeBytes));
      });
    }
    if (storage.length > 0) {
      // In units of the capacity (bytes up to 1e10 next to ±1 rows misled GLPK), at the limit the
      // tolerance policy allows: C(1 + FEASIBILITY_RTOL).
      const capacity = problem.servers[n].storageBytes;
      const unit = capacity > 0 ? capacity : Math.max(...storage.map((t) => t.coefficient));
      const scaled = storage.map((t) => term(t.variable, t.coefficient / unit));
      b.lessEqual(`storage[${n}]`, scaled, capacity > 0 ? 1 + FEASIBILITY_RTOL : 0);
    }
  }

  const serve: (number | undefined)[][] = groups.map(() => new Array<number | undefined>(N).fill(undefined));
  groups.forEach((g, gi) => {
    const shares: Term[] = [];
    for (const o of g.options) {
      const col = b.addVariable(`serve[${gi}][${o.server}]`, { lower: 0, upper: 1 });
      serve[gi][o.server] = col;
      shares.push(term(col, 1));
      b.lessEqual(`serve[${gi}][${o.server}]<=x`, [term(col, 1), term(x[o.server][g.model] as number, -1)], 0);
      b.addObjective(col, problem.objective === 'hit-ratio' ? g.mass * o.gain : -g.mass * o.gain);
    }
    b.lessEqual(`served[${gi}]<=1`, shares, 1);
  });
  if (problem.objective === 'expected-latency') b.addObjectiveConstant(problem.cloudLatencySeconds as number);

  const model = b.build();
  const layout: Layout = { columns: model.variables.length, x, y, groups, serve };
  return {
    model,
    decode(values) {
      const sets = problem.servers.map((_, n) =>
        problem.models.flatMap((_, k) => {
          const col = x[n][k];
          return col !== undefined && values[col] > 0.5 ? [k] : [];
        }),
      );
      return toDecision(problem, sets);
    },
    encode: (decision) => encode(problem, decision, layout),
  };
}
