/** Reading and writing placements: location indices (0 = device, n + 1 = server n) ↔ the decision JSON. */
import type { Violation } from '../types.ts';
import { locationName } from './cost.ts';
import { DEVICE, type Decision, type Problem } from './schema.ts';

export function toDecision(problem: Problem, locs: readonly (readonly number[])[]): Decision {
  return {
    placements: problem.users.map((u, i) => ({
      user: u.id,
      modules: problem.tasks[u.task].modules.map((m, k) => ({ module: m.id, at: locationName(problem, locs[i][k]) })),
    })),
  };
}

/**
 * Location indices per user and module from a decision; a missing, unknown or repeated name is a
 * violation (and the module is read as placed nowhere: -1).
 */
export function readDecision(problem: Problem, decision: Decision): { locs: number[][]; violations: Violation[] } {
  const violations: Violation[] = [];
  const serverIndex = new Map(problem.servers.map((s, n) => [s.id, n + 1]));
  const userIndex = new Map(problem.users.map((u, i) => [u.id, i]));
  const locs = problem.users.map((u) => problem.tasks[u.task].modules.map(() => -1));
  const seen = new Set<number>();
  for (const p of decision.placements) {
    const i = userIndex.get(p.user);
    if (i === undefined || seen.has(i)) {
      const message = i === undefined ? `unknown user "${p.user}"` : `user ${p.user} is placed twice`;
      violations.push({ constraint: `user[${p.user}].placement`, message });
      continue;
    }
    seen.add(i);
    const modules = problem.tasks[problem.users[i].task].modules;
    for (const entry of p.modules) {
      const k = modules.findIndex((m) => m.id === entry.module);
      const at = entry.at === DEVICE ? 0 : serverIndex.get(entry.at);
      if (k < 0 || at === undefined || locs[i][k] !== -1) {
        const why =
          k < 0
            ? `unknown module "${entry.module}"`
            : at === undefined
              ? `unknown location "${entry.at}"`
              : 'placed twice';
        violations.push({ constraint: `user[${p.user}].module[${entry.module}]`, message: `user ${p.user}: ${why}` });
        continue;
      }
      locs[i][k] = at;
    }
  }
  problem.users.forEach((u, i) =>
    problem.tasks[u.task].modules.forEach((m, k) => {
      if (locs[i][k] === -1)
        violations.push({
          constraint: `user[${u.id}].module[${m.id}]`,
          message: `user ${u.id}: module ${m.id} is not placed`,
        });
    }),
  );
  return { locs, violations };
}
