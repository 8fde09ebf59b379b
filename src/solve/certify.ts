/**
 * Certification: the one place where a method's answer becomes our verdict. For every answer
 * from every method (exact or backend), in this order:
 *
 * 1. evaluate re-checks the decision; a decision it rejects is that method's error, never an answer;
 * 2. the method's objective is compared with evaluate's: a better evaluate value is accepted (a
 *    time-limited incumbent whose model over-estimated its cost), only a worse one is a mismatch;
 * 3. the bound must lie on the correct side of evaluate's objective, else it is dropped and the
 *    discrepancy is reported (never shown as a bound);
 * 4. "optimal" stands only when our own gap, from evaluate's objective and the surviving bound, is
 *    within mipGap (plus the objective tolerance OBJECTIVE_RTOL with which two values of one
 *    decision count as equal); otherwise the claim is downgraded to `numerical_error` with the
 *    reason, and the feasible decision is still held; an exact method's "optimal" needs a bound like
 *    any other (one forwarded from a sub-solver that gave none is not proven);
 * 5. certificates a decision carries beside its values (an LP's duals) are kept only beside a
 *    certified optimum and only when the family's own check passes them (Formulation.vetCertificates);
 *    otherwise they are removed and the reason noted.
 */
import type { AnyFormulation, Evaluation } from '../formulations/types.ts';
import { OBJECTIVE_RTOL, sameObjective } from '../formulations/tolerance.ts';
import type { Sense } from '../milp/model.ts';
import { relativeGap, type Termination } from '../milp/result.ts';
import type { Method } from './options.ts';
import { errorText } from './problem.ts';
import type { Attempt, Claim, PrimalStatus, SolutionReport } from './report.ts';

/** What a method returned, before certification. */
export interface RawOutcome {
  readonly method: Method;
  readonly claim: Claim;
  readonly decision: unknown;
  readonly timeSeconds: number;
  readonly message?: string;
  readonly details?: unknown;
  /** The model had no integer columns: an LP solver's optimal value is its own dual bound (strong duality). */
  readonly continuous?: boolean;
  /** Set by the chain for infeasibility claims (see Attempt.verified). */
  readonly verified?: boolean;
  /** Notes the chain adds before certification (a held warm start, a confirmation …). */
  readonly notes?: readonly string[];
}

export interface Certified {
  readonly attempt: Attempt;
  readonly solution: SolutionReport | null;
  /** evaluate's verdict on a returned decision, also when it was rejected (compare shows it). */
  readonly evaluation?: Evaluation;
  /** The proven bound that survived certification; ±∞ when none. */
  readonly dual: number;
  readonly details?: unknown;
}

/** Terminations after which a method holds no decision by definition. */
const NO_POINT: readonly Termination[] = [
  'infeasible',
  'unbounded',
  'infeasible_or_unbounded',
  'invalid_model',
  'error',
];

export interface CertifyContext {
  readonly formulation: AnyFormulation;
  readonly problem: unknown;
  readonly sense: Sense;
  readonly mipGap: number;
}

/** `a` is strictly better than `b` for the sense, beyond the objective tolerance. */
export function strictlyBetter(sense: Sense, a: number, b: number): boolean {
  if (sameObjective(a, b)) return false;
  return sense === 'min' ? a < b : a > b;
}

/** Whether a proven bound may be shown beside `objective`: on its side, or equal within the tolerance. */
export function boundOnCorrectSide(sense: Sense, objective: number, bound: number): boolean {
  return !strictlyBetter(sense, objective, bound);
}

export function certify(context: CertifyContext, raw: RawOutcome): Certified {
  const { formulation, problem, sense, mipGap } = context;
  const notes: string[] = [...(raw.notes ?? [])];
  const unknownDual = sense === 'min' ? -Infinity : Infinity;
  const base = {
    method: raw.method,
    claim: raw.claim,
    timeSeconds: raw.timeSeconds,
    ...(raw.message !== undefined ? { message: raw.message } : {}),
    ...(raw.verified !== undefined ? { verified: raw.verified } : {}),
  };
  const details = raw.details !== undefined ? { details: raw.details } : {};
  const verdict = (termination: Termination, primalStatus: PrimalStatus, message?: string): Attempt => ({
    ...base,
    termination,
    primalStatus,
    ...(message !== undefined ? { message: base.message !== undefined ? `${message}; ${base.message}` : message } : {}),
    notes,
  });
  const claimed = raw.claim.termination;
  // A decision that fails our checks: an error of the method, never an answer.
  const rejected = (message: string, evaluation?: Evaluation): Certified => ({
    attempt: verdict('error', 'rejected', message),
    solution: null,
    ...(evaluation !== undefined ? { evaluation } : {}),
    dual: unknownDual,
    ...details,
  });

  if (raw.decision === null || raw.decision === undefined) {
    if (claimed === 'optimal')
      return {
        attempt: verdict('error', 'none', 'claimed optimal without a decision'),
        solution: null,
        dual: unknownDual,
        ...details,
      };
    // Without a point there is nothing to test a bound against; it is kept as the method's word.
    const dual = raw.claim.bound !== undefined && Number.isFinite(raw.claim.bound) ? raw.claim.bound : unknownDual;
    return { attempt: verdict(claimed, 'none'), solution: null, dual, ...details };
  }
  if (NO_POINT.includes(claimed)) {
    return {
      attempt: verdict('error', 'none', `claimed ${claimed} together with a decision`),
      solution: null,
      dual: unknownDual,
      ...details,
    };
  }

  let evaluation: Evaluation;
  try {
    evaluation = formulation.evaluate(problem, raw.decision);
  } catch (error) {
    return rejected(`evaluate failed on its decision: ${errorText(error)}`);
  }
  if (!evaluation.feasible) {
    const shown = evaluation.violations.slice(0, 3).map((v) => v.message);
    const more = evaluation.violations.length > 3 ? `; and ${evaluation.violations.length - 3} more` : '';
    const message = `returned a decision that fails evaluate: ${shown.join('; ')}${more}`;
    return rejected(message, evaluation);
  }
  const objective = evaluation.objective;
  if (!Number.isFinite(objective)) {
    // A feasible verdict with a NaN or infinite value proves nothing: the cost model broke on this input.
    const message = `evaluate accepted the decision but computed the objective ${objective}`;
    return rejected(message, evaluation);
  }
  const solverObjective = raw.claim.objective;
  if (solverObjective !== undefined && !sameObjective(solverObjective, objective)) {
    if (strictlyBetter(sense, solverObjective, objective)) {
      const message = `objective mismatch: the solver reports ${solverObjective}, evaluate computes a worse ${objective}`;
      return rejected(message, evaluation);
    }
    notes.push(
      `evaluate's objective ${objective} is better than the solver's ${solverObjective}: accepted (the model over-estimated this decision)`,
    );
  }

  let bound = raw.claim.bound !== undefined && Number.isFinite(raw.claim.bound) ? raw.claim.bound : undefined;
  if (bound === undefined && claimed === 'optimal') {
    if (raw.continuous === true && solverObjective !== undefined) {
      bound = solverObjective;
      notes.push("linear program: the solver's optimal value is its dual bound (strong duality)");
    } else if (raw.method === 'exact') {
      // An exact method proves optimality with a bound (equal to its objective when it enumerated everything);
      // one that forwards a sub-solver's "optimal" without a bound has no proof of its own and is downgraded below.
      notes.push('the exact method claimed optimal without a bound');
    }
  }
  if (bound !== undefined) {
    if (!boundOnCorrectSide(sense, objective, bound)) {
      notes.push(
        `bound ${bound} lies on the wrong side of the objective ${objective} (${sense === 'min' ? 'above' : 'below'} it): dropped`,
      );
      bound = undefined;
    } else if (sense === 'min' ? bound > objective : bound < objective) {
      bound = objective; // equal within the tolerance: floating-point noise, not a better bound
    }
  }
  const gap = bound !== undefined ? relativeGap(objective, bound) : undefined;
  let termination: Termination = claimed;
  if (claimed === 'optimal' && !(gap !== undefined && gap <= mipGap + OBJECTIVE_RTOL)) {
    termination = 'numerical_error';
    const why =
      gap === undefined
        ? 'no valid bound survived'
        : `our gap from evaluate's objective and the bound is ${gap.toPrecision(3)}`;
    notes.push(`claimed optimal, but ${why} (mipGap ${mipGap}): not proven optimal; the feasible decision is held`);
  }
  // Certificates beside the values (LP duals) stand only beside a certified optimum and after the family's check.
  let decision: unknown = raw.decision;
  if (formulation.vetCertificates !== undefined) {
    const vetted = formulation.vetCertificates(problem, decision, { optimal: termination === 'optimal', termination });
    decision = vetted.decision;
    if (vetted.dropped !== undefined) notes.push(vetted.dropped);
  }
  const solution: SolutionReport = {
    decision,
    objective,
    ...(bound !== undefined ? { bound, gap } : {}),
    evaluation,
  };
  return { attempt: verdict(termination, 'feasible'), solution, evaluation, dual: bound ?? unknownDual, ...details };
}
