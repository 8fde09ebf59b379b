/**
 * split-moe: SplitMoE (seed §VI-A3) — per user class a device cut (dense parts and the first MoE
 * layers' experts on the device), expert placement with replicas across edge servers, and per
 * class the holder serving each expert call, minimising worst-class or mean per-token latency or
 * network load. Solved as one MILP (warm-started by heuristic.ts); the chain certifies the gap.
 */
import { collectWarnings, linkWarnings, plausibility } from '../plausibility.ts';
import type { Formulation, InputWarning } from '../types.ts';
import { baselines } from './baselines.ts';
import { evaluateDecision } from './evaluate.ts';
import { describe, explainInfeasible } from './explain.ts';
import { warmStart } from './heuristic.ts';
import { compileProblem } from './milp.ts';
import { decisionSchema, inputSchema, parseProblem, type SplitMoeDecision, type SplitMoeProblem } from './schema.ts';

export function warnings(problem: SplitMoeProblem): InputWarning[] {
  const checks: (InputWarning | null)[] = [plausibility('$.moe.expertBytes', problem.expertBytes, 'memoryBytes')];
  problem.servers.forEach((s, i) =>
    checks.push(plausibility(`$.servers[${i}].expertMemoryBytes`, s.expertMemoryBytes, 'memoryBytes')),
  );
  problem.classes.forEach((c, u) => {
    checks.push(
      plausibility(`$.classes[${u}].memoryBytes`, c.memoryBytes, 'memoryBytes'),
      ...linkWarnings(`$.classes[${u}].link`, c.link),
    );
    if (c.latencySloSeconds !== null)
      checks.push(plausibility(`$.classes[${u}].latencySloSeconds`, c.latencySloSeconds, 'seconds'));
  });
  checks.push(...linkWarnings('$.serverLink', problem.serverLink));
  return collectWarnings(checks);
}

export const splitMoeFormulation: Formulation<SplitMoeProblem, SplitMoeDecision> = {
  kind: 'split-moe',
  title: 'SplitMoE: device cut per user class + expert placement and routing across edge servers',
  sense: 'min',
  objectiveLabel: (p) =>
    p.objective === 'network'
      ? 'network bytes per decode step, all users (B)'
      : p.objective === 'mean'
        ? 'mean per-token latency over users (s)'
        : 'worst class’s per-token latency (s)',
  inputSchema,
  parse: parseProblem,
  decisionSchema,
  compile: (problem) => compileProblem(problem),
  warmStart,
  warnings,
  evaluate: evaluateDecision,
  baselines,
  explainInfeasible,
  describe,
};
