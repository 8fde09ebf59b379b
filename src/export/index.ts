/**
 * `export`: a solved plan → the configuration of the system that runs it. Reads the problem (its family decides which
 * exporters apply) and the solution (a `solve --json` report or a bare decision), re-checks the decision with the
 * family's `check` (an infeasible plan is refused, not exported), and hands a checked plan to the exporter.
 */
import { InputError } from '../errors.ts';
import type { PipelineDecision, PipelineProblem } from '../formulations/pipeline-placement/schema.ts';
import { check, parseDecision } from '../solve/check.ts';
import type { FleetDecision } from '../formulations/fleet-serving/schema.ts';
import { exportFleetPlan } from './fleet.ts';
import type { ParallelBreakdown } from '../formulations/parallel-placement/evaluate.ts';
import type { ParallelProblem } from '../formulations/parallel-placement/schema.ts';
import { exportParallelPlan } from './parallel.ts';
import { toParsed } from '../solve/problem.ts';
import { EXPORT_TARGETS, exportPipelinePlan, pipelinePlan, type ExportResult, type ExportTarget } from './pipeline.ts';

export { EXPORT_TARGETS, exportPipelinePlan, pipelinePlan } from './pipeline.ts';
export type { ExportResult, ExportTarget, PipelinePlan, PlanStage } from './pipeline.ts';
export { routingTable } from './fleet.ts';
export { exportParallelPlan } from './parallel.ts';
export type { RoutingEntry, RoutingHop, RoutingTable } from './fleet.ts';

/** Families with an exporter. */
export const EXPORTABLE_KINDS: readonly string[] = ['pipeline-placement', 'parallel-placement', 'fleet-serving'];

export interface ExportOptions {
  /** Server name → host (address or name) where that stage runs. */
  readonly hosts?: ReadonlyMap<string, string>;
}

function decisionOf(solution: unknown): unknown {
  if (typeof solution === 'object' && solution !== null && 'solution' in solution) {
    const held = (solution as { solution: unknown }).solution;
    if (typeof held === 'object' && held !== null && 'decision' in held)
      return (held as { decision: unknown }).decision;
  }
  return solution;
}

/** The plan in `solution` for `problem`, as configuration for `target`. */
export function exportPlan(problem: unknown, solution: unknown, target: ExportTarget, options: ExportOptions = {}) {
  if (!(EXPORT_TARGETS as readonly string[]).includes(target)) {
    throw new InputError('--to', `unknown target "${target}"; targets: ${EXPORT_TARGETS.join(', ')}`);
  }
  const parsed = toParsed(problem);
  if (!EXPORTABLE_KINDS.includes(parsed.kind)) {
    throw new InputError(
      '$.kind',
      `no exporter for kind ${parsed.kind}; exportable kinds: ${EXPORTABLE_KINDS.join(', ')}`,
    );
  }
  const report = check(parsed, solution);
  if (!report.evaluation.feasible) {
    const first = report.evaluation.violations[0];
    throw new InputError(
      '$.solution',
      `the plan is infeasible (${first?.message ?? 'see edgeplan check'}); not exported`,
    );
  }
  if (parsed.kind === 'fleet-serving') {
    const decision = parseDecision(parsed, decisionOf(solution)) as FleetDecision;
    const fleet = exportFleetPlan(decision, target);
    return { ...fleet, partition: [] as number[], plan: null, objective: report.objective };
  }
  if (parsed.kind === 'parallel-placement') {
    // The family's evaluate breakdown is the checked layout (TP/DP per stage, hosts, devices): export reads it.
    const breakdown = report.evaluation.breakdown as ParallelBreakdown;
    const result = exportParallelPlan(parsed.problem as ParallelProblem, breakdown, target, options.hosts);
    return { ...result, plan: null, objective: report.objective };
  }
  const p = parsed.problem as PipelineProblem;
  const decision = parseDecision(parsed, decisionOf(solution)) as PipelineDecision;
  const devices = new Map(p.servers.map((s) => [s.name, s.device.name]));
  const plan = pipelinePlan(p.model.name, p.model.layers, p.mode.kind, decision.stages, devices, options.hosts);
  const result: ExportResult = exportPipelinePlan(plan, target);
  return { ...result, plan, objective: report.objective };
}
