/**
 * moe-placement: which servers hold which experts of an MoE model (with replicas), and what share
 * of each expert's tokens each replica serves, minimising per-token latency (seed §VI-A3).
 */
import { bestFeasibleBaseline } from '../best-baseline.ts';
import type { Evaluation, Formulation } from '../types.ts';
import { baselines } from './baselines.ts';
import { evaluateDecision, type MoeBreakdown } from './evaluate.ts';
import { explainShortage, notApplicable, solveExact } from './exact.ts';
import { compileProblem } from './milp.ts';
import { decisionSchema, inputSchema, parseProblem, type MoePlacementDecision, type MoePlacementProblem } from './schema.ts';

/** The feasible baseline with the best objective, used as the MILP's warm start. */
export function bestBaseline(problem: MoePlacementProblem): MoePlacementDecision | null {
  return bestFeasibleBaseline(problem, baselines, evaluateDecision)?.decision ?? null;
}

function formatObjective(problem: MoePlacementProblem, value: number): string {
  return problem.objective === 'traffic' ? `${(value / 1e6).toFixed(3)} MB per step` : `${(value * 1e3).toFixed(4)} ms per token`;
}

function describe(problem: MoePlacementProblem, decision: MoePlacementDecision, evaluation: Evaluation): string {
  const lines: string[] = [];
  const b = evaluation.breakdown as MoeBreakdown | null;
  lines.push(`${problem.modelName}: ${problem.layers} MoE layers × ${problem.experts} experts (top-${problem.topK}) on ${problem.servers.length} servers, objective ${problem.objective} = ${formatObjective(problem, evaluation.objective)}`);
  if (b === null) return lines.join('\n');
  const replicated = decision.placement.reduce((a, row) => a + row.filter((reps) => reps.length > 1).length, 0);
  lines.push(`replicas per layer: ${Math.min(...b.replicasPerLayer)}–${Math.max(...b.replicasPerLayer)} (${replicated} expert-layers replicated)`);
  for (const s of b.servers) {
    const busiest = b.layers.filter((l) => l.busiestServer === s.server).length;
    lines.push(`  ${s.name}: ${s.replicas} experts, ${(s.memoryBytes / 1e9).toFixed(2)}/${(s.memoryLimitBytes / 1e9).toFixed(2)} GB; slowest in ${busiest} layer(s)`);
  }
  if (b.migration) lines.push(`migration: ${b.migration.replicasMoved} replicas moved (${(b.migration.bytesMoved / 1e9).toFixed(2)} GB, ${b.migration.seconds.toFixed(2)} s)`);
  if (problem.popularitySource.kind !== 'given') lines.push(`popularity: generated ${JSON.stringify(problem.popularitySource)}`);
  for (const v of evaluation.violations.slice(0, 5)) lines.push(`  violation: ${v.message}`);
  return lines.join('\n');
}

export const moePlacementFormulation: Formulation<MoePlacementProblem, MoePlacementDecision> = {
  objectiveLabel: (p) =>
    p.objective === 'traffic' ? 'cross-server traffic per decode step (bytes)' : p.objective === 'max-load' ? 'Σ over MoE layers of the busiest server’s compute time (s)' : 'expected per-token latency through the MoE layers (s)',
  kind: 'moe-placement',
  title: 'MoE expert placement and replication across heterogeneous edge servers (SplitMoE)',
  sense: 'min',
  inputSchema,
  parse: parseProblem,
  decisionSchema,
  compile: (problem) => compileProblem(problem, bestBaseline(problem)),
  exact: { notApplicable, solve: solveExact },
  evaluate: evaluateDecision,
  baselines,
  explainInfeasible: explainShortage,
  describe,
};
