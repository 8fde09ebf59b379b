/**
 * The shapes of `edgeplan batch`: what a worker is handed (a task) and what it hands back (one
 * output line). Both cross a worker-thread boundary, so they are plain JSON-like data.
 */
import type { BackendChoice, Method } from '../solve/options.ts';
import type { InputWarning, Violation } from '../formulations/types.ts';
import type { Sense } from '../milp/model.ts';
import type { Termination } from '../milp/result.ts';
import type { PrimalStatus } from '../solve/report.ts';

/** Solve options one input line may set (they override the command line's). */
export interface TaskOptions {
  readonly backend?: BackendChoice;
  readonly timeLimitSeconds?: number;
  readonly mipGap?: number;
  readonly nodeLimit?: number;
}

/** Where an input error was found, the rule it breaks, and on which line. */
export interface BatchError {
  /** JSON path within the input line (`$.problem.users[2].device`), or within `file` when set. */
  readonly path?: string;
  readonly rule: string;
  readonly line: number;
  /** The problem file named by the line, when the error is inside it. */
  readonly file?: string;
  /** `input`: the line itself is wrong (exit 2 for `solve`); `internal`: the solve crashed (exit 3). */
  readonly kind: 'input' | 'internal';
}

/** One instance handed to a worker. */
export interface BatchTask {
  readonly id: string;
  readonly line: number;
  readonly problem: unknown;
  /** JSON path of the problem inside the line (`$` for a bare problem, `$.problem` in a wrapper). */
  readonly problemPath: string;
  readonly file?: string;
  readonly options: TaskOptions;
  readonly withPeers: boolean;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly inputHash: string;
}

export interface BatchPeer {
  readonly name: string;
  /** evaluate's objective when the peer's decision is feasible, else null. */
  readonly objective: number | null;
  /** evaluate's verdict; null when the peer found no decision. */
  readonly feasible: boolean | null;
  /**
   * optimum/peer (min) or peer/optimum (max), as in `edgeplan bench`: ≤ 1 when the certified
   * optimum is at least as good. Null unless the instance is certified optimal and the peer feasible.
   */
  readonly ratio: number | null;
  readonly timeSeconds: number;
  readonly message?: string;
}

/** One output line. Every field is always present (null when it does not apply), for tabular readers. */
export interface BatchRecord {
  readonly id: string;
  /** 1-based line of the input file the instance came from. */
  readonly line: number;
  /** The grid parameters of the line (copied from the input's `params`), or null. */
  readonly params: Readonly<Record<string, unknown>> | null;
  readonly kind: string | null;
  readonly sense: Sense | null;
  readonly objectiveLabel: string | null;
  /** The method whose outcome is reported. */
  readonly method: Method | null;
  /** The chain's certified verdict; null on an error line. */
  readonly termination: Termination | null;
  readonly primalStatus: PrimalStatus | null;
  /** evaluate's objective of the reported decision. */
  readonly objective: number | null;
  readonly bound: number | null;
  readonly gap: number | null;
  readonly decision: unknown;
  /** evaluate's verdict on the decision (its breakdown left out: `edgeplan check` recomputes it). */
  readonly evaluation: {
    readonly feasible: boolean;
    readonly objective: number;
    readonly violations: readonly Violation[];
  } | null;
  /** The family's one-paragraph description of the decision. */
  readonly summary: string | null;
  /** Why there is no solution, in the family's words. */
  readonly explanation: string | null;
  readonly warnings: readonly InputWarning[];
  /** Every peer's outcome (with `--with-peers`), else null. */
  readonly peers: readonly BatchPeer[] | null;
  /** Wall-clock seconds of the solve (warm start, compile, methods, certification), without peers. */
  readonly timeSeconds: number;
  /** Wall-clock seconds of running every peer (with `--with-peers`), else null. */
  readonly peerSeconds: number | null;
  readonly error: BatchError | null;
  /** SHA-256 of the problem and its options: a resumed run refuses an OUT written from other inputs. */
  readonly inputHash: string;
}
