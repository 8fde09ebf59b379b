/**
 * `compare`: every backend, the exact method (where it applies) and every peer, through the one
 * chain, side by side — and every contradiction between them flagged, not only among rows that
 * claim optimal: an infeasibility claim against a checked point, unbounded against infeasible,
 * optimal values that differ beyond the stated tolerance, a bound beaten by another row's point.
 */
import { BACKEND_NAMES, type BackendName } from '../backends/types.ts';
import { OBJECTIVE_RTOL, sameObjective } from '../formulations/tolerance.ts';
import type { Sense } from '../milp/model.ts';
import type { Termination } from '../milp/result.ts';
import { strictlyBetter, type Certified } from './certify.ts';
import { SolveSession, secondsSince } from './chain.ts';
import type { SolveOptions } from './options.ts';
import { toParsed } from './problem.ts';
import type { Claim, PrimalStatus } from './report.ts';
import type { InputWarning } from '../formulations/types.ts';

export interface CompareOptions extends Omit<SolveOptions, 'backend'> {
  /** Which backends to run; default all. */
  readonly only?: readonly BackendName[];
}

export interface CompareRow {
  /** Backend name, `exact`, or the peer's name. */
  readonly method: string;
  readonly kind: 'backend' | 'exact' | 'baseline';
  /** Our verdict; null for a peer (it has no termination, only a decision or none). */
  readonly termination: Termination | null;
  readonly primalStatus: PrimalStatus;
  /** The method's own claim; null for a peer. */
  readonly claim: Claim | null;
  /** For infeasible/unbounded claims of untrusted backends: whether a trusted one confirmed it. */
  readonly verified?: boolean;
  /** evaluate's objective of the returned decision, null when there is none. */
  readonly objective: number | null;
  readonly bound: number | null;
  readonly gap: number | null;
  readonly timeSeconds: number;
  /** evaluate's verdict; null when there is no decision. */
  readonly feasible: boolean | null;
  readonly message?: string;
  readonly notes: readonly string[];
  /** The row's decision (also one evaluate rejected), so that pictures can show every method's plan. */
  readonly decision?: unknown;
}

export interface CompareReport {
  readonly kind: string;
  readonly sense: Sense;
  readonly objectiveLabel: string;
  readonly rows: readonly CompareRow[];
  /** The best feasible row. */
  readonly best: { readonly method: string; readonly objective: number } | null;
  /**
   * `methods`: rows whose optimality is certified; `agree`: no contradiction at all between rows;
   * `spread`: largest relative difference between certified optima.
   */
  readonly agreement: { readonly methods: readonly string[]; readonly agree: boolean; readonly spread: number };
  /** Every contradiction between methods, in words. */
  readonly contradictions: readonly string[];
  /** Methods left out and why (e.g. an exact method that does not apply). */
  readonly notes: readonly string[];
  readonly warnings: readonly InputWarning[];
  readonly options: { readonly mipGap: number; readonly timeLimitSeconds?: number; readonly nodeLimit?: number };
  readonly timeSeconds: number;
}

function rowFromCertified(outcome: Certified, kind: 'backend' | 'exact'): CompareRow {
  const { attempt, solution, evaluation } = outcome;
  return {
    method: attempt.method,
    kind,
    termination: attempt.termination,
    primalStatus: attempt.primalStatus,
    claim: attempt.claim,
    ...(attempt.verified !== undefined ? { verified: attempt.verified } : {}),
    objective: solution?.objective ?? evaluation?.objective ?? null,
    bound: solution?.bound ?? null,
    gap: solution?.gap ?? null,
    timeSeconds: attempt.timeSeconds,
    feasible: evaluation?.feasible ?? null,
    ...(attempt.message !== undefined ? { message: attempt.message } : {}),
    notes: attempt.notes,
    ...(solution !== null ? { decision: solution.decision } : {}),
  };
}

const relativeDifference = (a: number, b: number): number =>
  Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);

/** Every contradiction between rows (exported for the bench, which checks the same things). */
export function findContradictions(rows: readonly CompareRow[], sense: Sense, mipGap: number): string[] {
  const out: string[] = [];
  const points = rows.filter(
    (r): r is CompareRow & { objective: number } =>
      r.feasible === true && r.objective !== null && r.primalStatus === 'feasible',
  );
  const witness = points[0];
  const tolerance = Math.max(OBJECTIVE_RTOL, mipGap);
  for (const r of rows) {
    const claimed = r.termination;
    if (claimed === 'infeasible' && witness !== undefined) {
      out.push(
        `${r.method} reports infeasible, but ${witness.method} holds a decision evaluate accepts (objective ${witness.objective})`,
      );
    }
    if (claimed === 'unbounded' && rows.some((o) => o.termination === 'infeasible')) {
      out.push(
        `${r.method} reports unbounded, ${rows
          .filter((o) => o.termination === 'infeasible')
          .map((o) => o.method)
          .join(', ')} infeasible`,
      );
    }
    if (
      (claimed === 'unbounded' || claimed === 'infeasible_or_unbounded') &&
      rows.some((o) => o.termination === 'optimal')
    ) {
      out.push(
        `${r.method} reports ${claimed}, but ${rows
          .filter((o) => o.termination === 'optimal')
          .map((o) => o.method)
          .join(', ')} proved a finite optimum`,
      );
    }
  }
  const optimal = points.filter((r) => r.termination === 'optimal');
  for (let i = 0; i < optimal.length; i++) {
    for (let j = i + 1; j < optimal.length; j++) {
      const a = optimal[i];
      const b = optimal[j];
      if (relativeDifference(a.objective, b.objective) > tolerance) {
        out.push(
          `${a.method} and ${b.method} both claim optimal with ${a.objective} and ${b.objective} (relative difference ${relativeDifference(a.objective, b.objective).toPrecision(3)} > ${tolerance})`,
        );
      }
    }
  }
  for (const o of optimal) {
    for (const p of points) {
      if (
        p !== o &&
        strictlyBetter(sense, p.objective, o.objective) &&
        relativeDifference(p.objective, o.objective) > tolerance
      ) {
        out.push(
          `${o.method} claims optimal with ${o.objective}, but ${p.method} holds a better decision (${p.objective})`,
        );
      }
    }
  }
  for (const r of rows) {
    if (r.bound === null) continue;
    for (const p of points) {
      if (strictlyBetter(sense, p.objective, r.bound) && !sameObjective(p.objective, r.bound)) {
        out.push(
          `${r.method}'s bound ${r.bound} is beaten by ${p.method}'s decision (${p.objective}): that bound is invalid`,
        );
      }
    }
  }
  return [...new Set(out)];
}

/** Every backend, the exact method (where it applies) and every peer, run one after another. */
export async function compare(problem: unknown, options: CompareOptions = {}): Promise<CompareReport> {
  const parsed = toParsed(problem);
  const session = new SolveSession(parsed, { ...options, backend: 'auto' });
  const normalized = session.options;
  const rows: CompareRow[] = [];
  const notes: string[] = [];
  // Peers first: they are the warm start, and compare shows them anyway (each runs once).
  const peers = session.runPeers();
  session.warmStart();
  const exactReason = session.exactApplicability();
  if (exactReason === null) {
    session.restartClock();
    rows.push(rowFromCertified(await session.run('exact'), 'exact'));
  } else if (parsed.formulation.exact !== undefined) notes.push(`exact: not applicable: ${exactReason}`);
  if (parsed.formulation.compile !== undefined) {
    for (const name of BACKEND_NAMES) {
      if (options.only !== undefined && !options.only.includes(name)) continue;
      session.restartClock();
      rows.push(rowFromCertified(await session.run(name), 'backend'));
    }
  } else notes.push(`backends: kind ${parsed.kind} has no MILP compilation`);
  for (const peer of peers) {
    const feasible = peer.evaluation?.feasible ?? null;
    rows.push({
      method: peer.name,
      kind: 'baseline',
      termination: peer.failed === true ? 'error' : null,
      primalStatus: peer.evaluation === null ? 'none' : feasible ? 'feasible' : 'rejected',
      claim: null,
      objective: peer.evaluation?.objective ?? null,
      bound: null,
      gap: null,
      timeSeconds: peer.timeSeconds,
      feasible,
      ...(peer.message !== undefined ? { message: peer.message } : {}),
      notes: [],
      ...(peer.decision !== null ? { decision: peer.decision } : {}),
    });
  }
  const sense = parsed.sense;
  const feasible = rows.filter(
    (r): r is CompareRow & { objective: number } =>
      r.feasible === true && r.objective !== null && r.primalStatus === 'feasible',
  );
  const best = feasible.reduce<(CompareRow & { objective: number }) | null>(
    (b, r) => (b === null || strictlyBetter(sense, r.objective, b.objective) ? r : b),
    null,
  );
  const optimal = feasible.filter((r) => r.termination === 'optimal');
  const objectives = optimal.map((r) => r.objective);
  const spread = objectives.length > 1 ? relativeDifference(Math.max(...objectives), Math.min(...objectives)) : 0;
  const contradictions = findContradictions(rows, sense, normalized.mipGap);
  return {
    kind: parsed.kind,
    sense,
    objectiveLabel: parsed.objectiveLabel,
    rows,
    best: best === null ? null : { method: best.method, objective: best.objective },
    agreement: { methods: optimal.map((r) => r.method), agree: contradictions.length === 0, spread },
    contradictions,
    notes,
    warnings: parsed.warnings,
    options: {
      mipGap: normalized.mipGap,
      ...(normalized.timeLimitSeconds !== undefined ? { timeLimitSeconds: normalized.timeLimitSeconds } : {}),
      ...(normalized.nodeLimit !== undefined ? { nodeLimit: normalized.nodeLimit } : {}),
    },
    timeSeconds: secondsSince(session.startMs),
  };
}
