/**
 * Reading and writing caching decisions. Server and model ids are user strings (`__proto__` is a
 * legal id), so a decision's `cached` record is read through its own keys only and written as a
 * null-prototype record, never a plain `{}`.
 */
import type { Violation } from '../types.ts';
import type { Decision, Problem } from './schema.ts';

/** An empty `cached` record that any id can key (no prototype to collide with). */
export function emptyCached(): Record<string, string[]> {
  return Object.create(null) as Record<string, string[]>;
}

/** The model ids a decision caches on a server (own keys only: an absent server caches nothing). */
export function cachedOn(decision: Decision, serverId: string): readonly string[] {
  return Object.hasOwn(decision.cached, serverId) ? decision.cached[serverId] : [];
}

/** The decision caching model indices `sets[n]` on server n (ids in index order). */
export function toDecision(problem: Problem, sets: readonly (readonly number[])[]): Decision {
  const cached = emptyCached();
  problem.servers.forEach((s, n) => {
    cached[s.id] = [...sets[n]].sort((a, b) => a - b).map((m) => problem.models[m].id);
  });
  return { cached };
}

/** Cached model indices per server, with violations for ids that do not exist. */
export function cachedSets(problem: Problem, decision: Decision): { sets: number[][]; violations: Violation[] } {
  const violations: Violation[] = [];
  const serverIndex = new Map(problem.servers.map((s, i) => [s.id, i]));
  const modelIndex = new Map(problem.models.map((m, i) => [m.id, i]));
  const sets: number[][] = problem.servers.map(() => []);
  for (const serverId of Object.keys(decision.cached)) {
    const n = serverIndex.get(serverId);
    if (n === undefined) {
      const message = `decision names server "${serverId}", which the problem does not have`;
      violations.push({ constraint: `server[${serverId}]`, message });
      continue;
    }
    const seen = new Set<number>();
    for (const id of decision.cached[serverId]) {
      const m = modelIndex.get(id);
      if (m === undefined) {
        const message = `decision caches model "${id}", which the problem does not have`;
        violations.push({ constraint: `server[${serverId}].model`, message });
      } else if (!seen.has(m)) {
        seen.add(m);
        sets[n].push(m);
      }
    }
  }
  return { sets, violations };
}
