/**
 * moe-placement: which servers hold which experts of an MoE model (with replicas), and what share
 * of each expert's tokens each replica serves, minimising per-token latency (seed §VI-A3).
 */
import { collectWarnings, linkWarnings, plausibility } from '../plausibility.ts';
import type { Formulation, InputWarning } from '../types.ts';
import { baselines } from './baselines.ts';
import { evaluateDecision } from './evaluate.ts';
import { solveExact, notApplicable } from './exact.ts';
import { describe, explainShortage } from './explain.ts';
import { compileProblem } from './milp.ts';
import { decisionSchema, inputSchema, parseProblem, type MoePlacementDecision, type MoePlacementProblem } from './schema.ts';

/** Physical quantities off by orders of magnitude (memory in GB typed as bytes, …); never a refusal. */
export function warnings(problem: MoePlacementProblem): InputWarning[] {
  const checks: (InputWarning | null)[] = [plausibility('$.moe.expertBytes', problem.expertBytes, 'memoryBytes')];
  problem.servers.forEach((server, i) => {
    const at = `$.servers[${i}]`;
    checks.push(
      plausibility(`${at}.expertMemoryBytes`, server.expertMemoryBytes, 'memoryBytes'),
      plausibility(`${at}.flopsPerSecond`, server.flopsPerSecond, 'flopsPerSecond'),
      plausibility(`${at}.device.memoryBandwidthBytesPerSecond`, server.device.memoryBandwidthBytesPerSecond, 'bytesPerSecond'),
      plausibility(`${at}.device.perCallOverheadSeconds`, server.device.perCallOverheadSeconds, 'seconds'),
      ...linkWarnings(`${at}.link`, server.link),
    );
  });
  checks.push(...linkWarnings('$.serverLink', problem.serverLink));
  return collectWarnings(checks);
}

export const moePlacementFormulation: Formulation<MoePlacementProblem, MoePlacementDecision> = {
  objectiveLabel: (p) =>
    p.objective === 'traffic'
      ? 'cross-server traffic per decode step (bytes)'
      : p.objective === 'max-load'
        ? 'Σ over MoE layers of the busiest server’s compute time (s)'
        : 'expected per-token latency through the MoE layers (s)',
  kind: 'moe-placement',
  title: 'MoE expert placement and replication across heterogeneous edge servers (server side only)',
  sense: 'min',
  inputSchema,
  parse: parseProblem,
  decisionSchema,
  compile: (problem, hints) => compileProblem(problem, hints?.incumbent),
  warnings,
  exact: { notApplicable, solve: solveExact },
  evaluate: evaluateDecision,
  baselines,
  explainInfeasible: explainShortage,
  describe,
};
