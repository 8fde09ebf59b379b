/**
 * The `agent-placement` family (issue 21 item 3): LLM-agent modules (perception, grounding,
 * alignment …, a small DAG per task) placed on each user's device or on edge servers, with
 * parameter sharing of common bases on a location (companion paper 003; model-caching's blocks).
 */
import { collectWarnings, plausibility } from '../plausibility.ts';
import type { Formulation, InputWarning } from '../types.ts';
import { baselines } from './baselines.ts';
import { evaluate } from './evaluate.ts';
import { notApplicable, solveExact } from './exact.ts';
import { explainInfeasible } from './explain.ts';
import { compile } from './milp.ts';
import { decisionSchema, inputSchema, parseProblem, type Decision, type Problem } from './schema.ts';

export type { Decision as AgentDecision, Problem as AgentProblem } from './schema.ts';

function warnings(problem: Problem): InputWarning[] {
  return collectWarnings([
    ...problem.linkPaths.flatMap(({ path, link }) => [
      plausibility(`${path}.uplinkBitsPerSecond`, link.uplinkBitsPerSecond, 'bitsPerSecond'),
      plausibility(`${path}.downlinkBitsPerSecond`, link.downlinkBitsPerSecond, 'bitsPerSecond'),
    ]),
    ...problem.servers.map((s, n) => plausibility(`$.servers[${n}].memoryBytes`, s.memoryBytes, 'memoryBytes')),
    ...problem.users.map((u, i) => plausibility(`$.users[${i}].memoryBytes`, u.memoryBytes, 'memoryBytes')),
  ]);
}

function describe(problem: Problem, decision: Decision): string {
  const e = evaluate(problem, decision).breakdown;
  const lines = [
    `worst interaction ${e.worstLatencySeconds.toFixed(3)} s, mean ${e.meanLatencySeconds.toFixed(3)} s, ` +
      `network ${(e.networkBitsPerSecond / 1e6).toFixed(3)} Mbit/s`,
  ];
  const shown = e.users.slice(0, 12);
  for (const u of shown)
    lines.push(
      `  ${u.user}: ${u.modules.map((m) => `${m.module}@${m.at}`).join(', ')}  (${u.latencySeconds.toFixed(3)} s)`,
    );
  if (e.users.length > shown.length) lines.push(`  … ${e.users.length - shown.length} more users`);
  for (const s of e.servers)
    lines.push(
      `  server ${s.location}: ${(s.memoryBytes / 1e9).toFixed(2)} / ${(s.capacityBytes / 1e9).toFixed(2)} GB, ` +
        `busy ${(100 * (s.utilisation ?? 0)).toFixed(1)}%`,
    );
  return lines.join('\n');
}

export const agentPlacementFormulation: Formulation<Problem, Decision> = {
  kind: 'agent-placement',
  title: 'LLM-agent modules (a DAG per task) across devices and edge servers, with shared base weights',
  sense: 'min',
  objectiveLabel: (problem) =>
    problem.objective === 'worst-latency'
      ? "worst user's per-interaction latency (s)"
      : problem.objective === 'mean-latency'
        ? 'rate-weighted mean per-interaction latency (s)'
        : 'network load over all links (bit/s)',
  inputSchema,
  parse: parseProblem,
  decisionSchema,
  compile: (problem) => compile(problem),
  warnings,
  exact: { notApplicable, solve: solveExact },
  evaluate,
  baselines,
  explainInfeasible,
  describe: (problem, decision) => describe(problem, decision),
};
