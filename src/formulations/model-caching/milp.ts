/**
 * MILP: x[n][m] model m cached on server n, y[n][b] block b stored on n (y ≥ x for each block of
 * m), storage on y; per demand group g (a model and the users with the same serving options)
 * a continuous served share bounded by the servers that cover the group. Users with identical
 * options for a model are merged, which keeps the model small for hundreds of users.
 */
import { ModelBuilder, term, type Term } from '../../milp/model.ts';
import type { Compiled } from '../types.ts';
import { requestMass, serveGain } from './cost.ts';
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
      const options = problem.servers.map((___, n) => ({ server: n, gain: serveGain(problem, u, n, m) })).filter((o) => o.gain > 0);
      if (options.length === 0) return;
      const key = `${m}|${options.map((o) => `${o.server}:${o.gain}`).join(',')}`;
      const g = groups.get(key);
      if (g) g.mass += mass;
      else groups.set(key, { model: m, options, mass });
    }),
  );
  return [...groups.values()];
}

/** Column vector for a decision, used as a warm start. */
function encode(problem: Problem, decision: Decision, layout: Layout): number[] {
  const values = new Array<number>(layout.columns).fill(0);
  const serverIndex = new Map(problem.servers.map((s, i) => [s.id, i]));
  const modelIndex = new Map(problem.models.map((m, i) => [m.id, i]));
  const held: Set<number>[] = problem.servers.map(() => new Set());
  for (const [sid, ids] of Object.entries(decision.cached)) {
    const n = serverIndex.get(sid);
    if (n === undefined) continue;
    for (const id of ids) {
      const m = modelIndex.get(id);
      if (m === undefined) continue;
      held[n].add(m);
      const col = layout.x[n][m];
      if (col !== undefined) values[col] = 1;
      for (const b of problem.models[m].blocks) {
        const yc = layout.y[n][b];
        if (yc !== undefined) values[yc] = 1;
      }
    }
  }
  layout.groups.forEach((g, gi) => {
    const ranked = g.options.filter((o) => held[o.server].has(g.model)).sort((a, b) => b.gain - a.gain);
    if (ranked.length > 0) values[layout.serve[gi][ranked[0].server] as number] = 1;
  });
  // A warm start must satisfy every row: drop x columns whose model is not useful (absent column).
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

export function compile(problem: Problem, warm?: Decision | null): Compiled<Decision> {
  const sense = problem.objective === 'hit-ratio' ? 'max' : 'min';
  const b = new ModelBuilder(`model-caching`, sense);
  const groups = demandGroups(problem);
  const N = problem.servers.length;
  const x: (number | undefined)[][] = problem.servers.map(() => problem.models.map(() => undefined));
  const y: (number | undefined)[][] = problem.servers.map(() => problem.blocks.map(() => undefined));

  // Only (server, model) pairs that some demand group can use get a column.
  for (const g of groups) for (const o of g.options) if (x[o.server][g.model] === undefined) x[o.server][g.model] = b.binary(`x[${problem.servers[o.server].id}][${problem.models[g.model].id}]`);

  for (let n = 0; n < N; n++) {
    const storage: Term[] = [];
    if (problem.parameterSharing) {
      problem.models.forEach((m, k) => {
        const xc = x[n][k];
        if (xc === undefined) return;
        for (const blk of m.blocks) {
          let yc = y[n][blk];
          if (yc === undefined) {
            yc = b.binary(`y[${problem.servers[n].id}][${problem.blocks[blk].id}]`);
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
    if (storage.length > 0) b.lessEqual(`storage[${problem.servers[n].id}]`, storage, problem.servers[n].storageBytes);
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
      const cached: Record<string, string[]> = {};
      problem.servers.forEach((s, n) => {
        cached[s.id] = problem.models.filter((_, k) => {
          const col = x[n][k];
          return col !== undefined && values[col] > 0.5;
        }).map((m) => m.id);
      });
      return { cached };
    },
    warmStart: warm ? encode(problem, warm, layout) : undefined,
  };
}
