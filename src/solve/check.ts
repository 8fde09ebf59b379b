/** `evaluate` and `check`: the family's independent re-check of one decision, alone or against a claimed report. */
import { InputError, inputErrorFromZod } from '../errors.ts';
import type { Evaluation } from '../formulations/types.ts';
import { sameObjective } from '../formulations/tolerance.ts';
import { isRecord, toParsed, errorText } from './problem.ts';

/** Reads a decision through the family's decision schema; InputError (path under `prefix`) when malformed. */
export function parseDecision(problem: unknown, raw: unknown, prefix = '$'): unknown {
  const parsed = toParsed(problem);
  const result = parsed.formulation.decisionSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw inputErrorFromZod(result.error, prefix);
  return result.data;
}

/** The family's independent re-check of one decision (validated against its decision schema first). */
export function evaluate(problem: unknown, decision: unknown): Evaluation {
  const parsed = toParsed(problem);
  return parsed.formulation.evaluate(parsed.problem, parseDecision(parsed, decision));
}

export interface CheckReport {
  readonly kind: string;
  readonly feasible: boolean;
  /** evaluate's objective. */
  readonly objective: number;
  readonly evaluation: Evaluation;
  /** What the solution file claimed, when it was a full `solve --json` report. */
  readonly claimed?: { readonly method: string; readonly termination: string; readonly objective: number };
  /** Whether the claimed objective equals evaluate's (relative OBJECTIVE_RTOL); absent for a bare decision. */
  readonly objectiveMatches?: boolean;
  /** True when the decision is feasible and any claimed objective matches. */
  readonly ok: boolean;
  readonly summary?: string;
}

/**
 * Re-checks a solution file against its problem. `solution` is either what `solve --json` wrote
 * (the full report; its `solution.decision` is checked) or a bare decision.
 */
export function check(problem: unknown, solution: unknown): CheckReport {
  const parsed = toParsed(problem);
  let decisionRaw: unknown = solution;
  let prefix = '$';
  let claimed: CheckReport['claimed'];
  if (isRecord(solution) && 'termination' in solution && 'solution' in solution) {
    if (typeof solution.kind === 'string' && solution.kind !== parsed.kind) {
      throw new InputError(
        '$.kind',
        `the solution is for kind "${solution.kind}" but the problem is kind "${parsed.kind}"`,
      );
    }
    const held = solution.solution;
    if (held === null)
      throw new InputError('$.solution', `the report holds no solution (termination: ${String(solution.termination)})`);
    if (!isRecord(held) || !('decision' in held))
      throw new InputError('$.solution.decision', 'required field is missing');
    decisionRaw = held.decision;
    prefix = '$.solution.decision';
    if (typeof held.objective === 'number') {
      claimed = {
        method: String(solution.method),
        termination: String(solution.termination),
        objective: held.objective,
      };
    }
  }
  const decision = parseDecision(parsed, decisionRaw, prefix);
  const evaluation = parsed.formulation.evaluate(parsed.problem, decision);
  const objectiveMatches = claimed === undefined ? undefined : sameObjective(claimed.objective, evaluation.objective);
  let summary: string | undefined;
  try {
    summary = parsed.formulation.describe?.call(parsed.formulation, parsed.problem, decision, evaluation);
  } catch (error) {
    summary = `(describe failed: ${errorText(error)})`;
  }
  return {
    kind: parsed.kind,
    feasible: evaluation.feasible,
    objective: evaluation.objective,
    evaluation,
    ...(claimed !== undefined ? { claimed, objectiveMatches } : {}),
    ok: evaluation.feasible && objectiveMatches !== false,
    ...(summary !== undefined ? { summary } : {}),
  };
}
