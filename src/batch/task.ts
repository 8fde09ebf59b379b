/**
 * One batch instance, solved through the one chain (`solve`) and, with peers, through
 * `SolveSession.runPeers()` as `compare` does. Runs inside a worker thread (src/batch/worker.ts)
 * or, with `workers: 0`, in the caller's thread. Never throws: every failure is an error record.
 */
import { optimumPeerRatio } from '../bench/runner.ts';
import { InputError, UsageError } from '../errors.ts';
import { SolveSession, solve } from '../solve/chain.ts';
import { normalizeOptions, type SolveOptions } from '../solve/options.ts';
import { loadKindOf } from '../formulations/registry.ts';
import { errorText, parseProblem } from '../solve/problem.ts';
import { errorRecord } from './input.ts';
import type { BatchPeer, BatchRecord, BatchTask } from './types.ts';

function prefixed(problemPath: string, path: string): string {
  return problemPath === '$' ? path : `${problemPath}${path.slice(1)}`;
}

function solveOptions(task: BatchTask): SolveOptions {
  const o = task.options;
  return {
    ...(o.backend !== undefined ? { backend: o.backend } : {}),
    ...(o.timeLimitSeconds !== undefined ? { timeLimitSeconds: o.timeLimitSeconds } : {}),
    ...(o.mipGap !== undefined ? { mipGap: o.mipGap } : {}),
    ...(o.nodeLimit !== undefined ? { nodeLimit: o.nodeLimit } : {}),
  };
}

export async function runTask(task: BatchTask): Promise<BatchRecord> {
  const { id, line } = task;
  const inputError = (error: InputError | UsageError, where: 'problem' | 'options'): BatchRecord => {
    const located =
      error instanceof InputError
        ? { path: where === 'problem' ? prefixed(task.problemPath, error.path) : error.path, rule: error.rule }
        : { path: where === 'options' ? '$.options' : task.problemPath, rule: error.message };
    const file = task.file !== undefined && where === 'problem' ? { file: task.file } : {};
    return {
      ...errorRecord(id, line, { ...located, line, kind: 'input', ...file }, task.inputHash),
      params: task.params ?? null,
    };
  };
  const options = solveOptions(task);
  try {
    normalizeOptions(options);
  } catch (error) {
    if (error instanceof UsageError) return inputError(error, 'options');
    throw error;
  }
  try {
    let parsed;
    try {
      // A worker thread has its own registry: load this task's family first (issue 18: families load lazily).
      await loadKindOf(task.problem);
      parsed = parseProblem(task.problem);
    } catch (error) {
      if (error instanceof InputError || error instanceof UsageError) return inputError(error, 'problem');
      throw error;
    }
    const t0 = performance.now();
    let report;
    try {
      report = await solve(parsed, options);
    } catch (error) {
      // e.g. `backend: exact` on an instance the exact method does not apply to.
      if (error instanceof InputError || error instanceof UsageError) return inputError(error, 'problem');
      throw error;
    }
    const timeSeconds = (performance.now() - t0) / 1000;
    let peers: BatchPeer[] | null = null;
    let peerSeconds: number | null = null;
    if (task.withPeers) {
      const p0 = performance.now();
      // A session of its own: the peers' times are theirs, not mixed into the solve's.
      const session = new SolveSession(parsed, options);
      const optimum = report.termination === 'optimal' ? (report.solution?.objective ?? null) : null;
      peers = session.runPeers().map((p) => {
        const feasible = p.evaluation?.feasible ?? null;
        const objective = feasible === true ? (p.evaluation?.objective ?? null) : null;
        const ratio =
          optimum !== null && objective !== null ? optimumPeerRatio(parsed.sense, optimum, objective) : null;
        return {
          name: p.name,
          objective,
          feasible,
          ratio,
          timeSeconds: p.timeSeconds,
          ...(p.message !== undefined ? { message: p.message } : {}),
        };
      });
      peerSeconds = (performance.now() - p0) / 1000;
    }
    const solution = report.solution;
    return {
      id,
      line,
      params: task.params ?? null,
      kind: report.kind,
      sense: report.sense,
      objectiveLabel: report.objectiveLabel,
      method: report.method,
      termination: report.termination,
      primalStatus: report.primalStatus,
      objective: solution?.objective ?? null,
      bound: solution?.bound ?? null,
      gap: solution?.gap ?? null,
      decision: solution?.decision ?? null,
      evaluation:
        solution === null
          ? null
          : {
              feasible: solution.evaluation.feasible,
              objective: solution.evaluation.objective,
              violations: solution.evaluation.violations,
            },
      summary: report.summary ?? null,
      explanation: report.explanation ?? null,
      warnings: report.warnings,
      peers,
      timeSeconds,
      peerSeconds,
      error: null,
      inputHash: task.inputHash,
    };
  } catch (error) {
    return {
      ...errorRecord(id, line, { rule: `internal error: ${errorText(error)}`, line, kind: 'internal' }, task.inputHash),
      params: task.params ?? null,
    };
  }
}
