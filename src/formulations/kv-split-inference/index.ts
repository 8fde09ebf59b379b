/**
 * kv-split-inference: per-user split points for multi-user split inference of one LLM under KV-cache
 * memory limits, with the server's weights shared by all users (seed §VI-A1, §VI-A2).
 */
import type { Formulation } from '../types.ts';
import { bestBaselineDecision, kvBaselines } from './baselines.ts';
import { gb, kvTables, ms, serverStateOf, userLatencySeconds, withinLimit } from './cost.ts';
import { describeKv, evaluateKv } from './evaluate.ts';
import { exactNotApplicable, solveKvExact } from './exact.ts';
import { compileKv } from './milp.ts';
import { kvDecisionSchema, kvSplitInputSchema, parseKvProblem, type KvDecision, type KvProblem } from './schema.ts';

export type { KvDecision, KvProblem } from './schema.ts';

/** Which resource rules out every decision, in domain words. */
export function explainKvInfeasible(problem: KvProblem): string {
  const tables = kvTables(problem);
  const L = tables.layers;
  const lines: string[] = [];
  problem.users.forEach((user, u) => {
    const costs = tables.users[u];
    if (costs.every((k) => k.staticViolation !== null)) {
      lines.push(`${user.name} cannot use any cut: at cut 0 ${costs[0].staticViolation}; at cut ${L} ${costs[L].staticViolation}`);
    }
  });
  if (lines.length > 0) return problem.admission ? `${lines.join('\n')}\n(these users stay unserved under admission)` : lines.join('\n');
  // Every user at its largest allowed cut uses the least of every server resource.
  const cuts = tables.users.map((costs) => {
    const ok = costs.filter((k) => k.staticViolation === null);
    return ok[ok.length - 1].cut;
  });
  const state = serverStateOf(problem, tables, cuts);
  if (!withinLimit(state.memoryBytes, tables.serverMemoryBytes)) {
    lines.push(
      `even with every user running as many layers on its device as it can, the server needs ${gb(state.memoryBytes)} (weights ${gb(state.weightBytes)}, adapters ${gb(state.adapterBytes)}, KV ${gb(state.kvBytes)}, workspace ${gb(state.workspaceBytes)}) and the ${problem.server.name} has ${gb(tables.serverMemoryBytes)}: ${gb(state.memoryBytes - tables.serverMemoryBytes)} short`,
    );
  }
  problem.users.forEach((user, u) => {
    if (user.latencySloSeconds === null) return;
    let bestSeconds = Infinity;
    for (const k of tables.users[u]) if (k.staticViolation === null) bestSeconds = Math.min(bestSeconds, userLatencySeconds(tables, u, k.cut, state.stepSeconds));
    if (!withinLimit(bestSeconds, user.latencySloSeconds))
      lines.push(`${user.name}'s latency SLO of ${ms(user.latencySloSeconds)} cannot be met: its best cut takes ${ms(bestSeconds)} even with the server's smallest possible step of ${ms(state.stepSeconds)}`);
  });
  if (lines.length === 0) lines.push('the latency SLOs cannot all be met at once: the server step time needed by the users who must use the server exceeds what the others tolerate');
  return lines.join('\n');
}

export const kvSplitInferenceFormulation: Formulation<KvProblem, KvDecision> = {
  objectiveLabel: (p) => (p.objective === 'max' ? 'worst user’s per-token decode latency (s)' : 'sum over users of per-token decode latency (s)'),
  kind: 'kv-split-inference',
  title: 'multi-user split inference under KV-cache memory limits with shared server weights',
  sense: 'min',
  inputSchema: kvSplitInputSchema,
  parse: parseKvProblem,
  decisionSchema: kvDecisionSchema,
  compile: (problem) => compileKv(problem, bestBaselineDecision(problem)),
  exact: {
    notApplicable: exactNotApplicable,
    solve: solveKvExact,
  },
  evaluate: evaluateKv,
  baselines: kvBaselines,
  explainInfeasible: explainKvInfeasible,
  describe: describeKv,
};
