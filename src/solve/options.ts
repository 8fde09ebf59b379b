/**
 * Solve options, their validation, and the order in which methods are tried — the one place
 * where fallback is decided, from the backends' declared capabilities (CVXPY's can_solve idea)
 * rather than from hard-coded lists.
 */
import { getBackend } from '../backends/registry.ts';
import { BACKEND_NAMES, type Backend, type BackendName } from '../backends/types.ts';
import { UsageError } from '../errors.ts';
import { hasIntegers, type Model } from '../milp/model.ts';
import { DEFAULT_MIP_GAP } from '../milp/result.ts';

/** A solving method: the family's exact algorithm or one MILP backend. */
export type Method = 'exact' | BackendName;
/** `auto`: the exact method when it applies, else the MILP backends in capability order, falling back on failure. */
export type BackendChoice = 'auto' | Method;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'exact', ...BACKEND_NAMES];

export interface SolveOptions {
  /** Default `auto`. A forced method that fails is reported as an error, with no fallback. */
  readonly backend?: BackendChoice;
  /**
   * For the whole run: warm start, compile, every method tried and certification share it.
   * Absent: no limit (and no hidden default anywhere).
   */
  readonly timeLimitSeconds?: number;
  /** Relative MIP gap at which a search may stop and call the result optimal; default 1e-6. */
  readonly mipGap?: number;
  readonly nodeLimit?: number;
  /** Replaces registered backends by name (tests, custom solver builds). */
  readonly backends?: Partial<Record<BackendName, Backend>>;
  /** Observes the chain's steps (the bench times through it). */
  readonly hooks?: ChainHooks;
}

export type ChainStep = 'warmStart' | 'compile' | 'solve' | 'certify';

export interface ChainHooks {
  /** Called after each step with its wall-clock duration; `method` for solve and certify. */
  onStep?(step: ChainStep, seconds: number, method?: Method): void;
  /** Called before each step starts (progress displays say what is running). */
  onStepStart?(step: ChainStep, method?: Method): void;
  /**
   * Progress from inside a running method, called synchronously from the solver's own thread:
   * a backend's incumbent/bound/gap/nodes (HiGHS's callbacks) and an exact method's phases.
   */
  onProgress?(event: ProgressEvent): void;
}

/** One progress report from inside a method; each method fills in what it knows. */
export interface ProgressEvent {
  readonly method: Method;
  /** An exact method's own words, e.g. `layer 12 of 58`; `MILP` while it runs a MILP backend. */
  readonly phase?: string;
  readonly incumbent?: number;
  readonly bound?: number;
  readonly gap?: number;
  readonly nodes?: number;
  readonly iterations?: number;
}

export interface NormalizedOptions {
  readonly backend: BackendChoice;
  readonly mipGap: number;
  readonly timeLimitSeconds?: number;
  readonly nodeLimit?: number;
  readonly backends: Partial<Record<BackendName, Backend>>;
  readonly hooks: ChainHooks;
}

export function normalizeOptions(options: SolveOptions): NormalizedOptions {
  const backend = options.backend ?? 'auto';
  if (!BACKEND_CHOICES.includes(backend)) {
    throw new UsageError(`backend must be one of ${BACKEND_CHOICES.join(', ')}, got "${String(backend)}"`);
  }
  const { timeLimitSeconds, nodeLimit } = options;
  const mipGap = options.mipGap ?? DEFAULT_MIP_GAP;
  if (timeLimitSeconds !== undefined && !(Number.isFinite(timeLimitSeconds) && timeLimitSeconds > 0)) {
    throw new UsageError(`timeLimitSeconds must be a positive number of seconds, got ${timeLimitSeconds}`);
  }
  if (!(Number.isFinite(mipGap) && mipGap >= 0))
    throw new UsageError(`mipGap must be a finite number ≥ 0, got ${mipGap}`);
  if (nodeLimit !== undefined && !(Number.isInteger(nodeLimit) && nodeLimit >= 1)) {
    throw new UsageError(`nodeLimit must be a positive integer, got ${nodeLimit}`);
  }
  return {
    backend,
    mipGap,
    ...(timeLimitSeconds !== undefined ? { timeLimitSeconds } : {}),
    ...(nodeLimit !== undefined ? { nodeLimit } : {}),
    backends: options.backends ?? {},
    hooks: options.hooks ?? {},
  };
}

export function backendFor(name: BackendName, options: NormalizedOptions): Backend {
  return options.backends[name] ?? getBackend(name);
}

/** Whether a backend may be handed this model at all (CVXPY's can_solve). */
export function canSolve(backend: Backend, model: Model): boolean {
  if (hasIntegers(model) && !backend.capabilities.integers) return false;
  if (!backend.capabilities.freeVariables && model.variables.some((v) => v.lower === -Infinity)) return false;
  return true;
}

/** Whether a backend's "infeasible"/"unbounded" may be reported as fact without a second method. */
export function trustsInfeasibility(backend: Backend): boolean {
  return backend.capabilities.trustedInfeasibility;
}

/**
 * MILP backends in the order `auto` tries them: those whose infeasibility claims are trusted
 * first, then those that report a bound, then those that take a warm start; ties keep
 * BACKEND_NAMES order (HiGHS first). Derived, so a new backend slots in by what it declares.
 */
export function backendOrder(options: NormalizedOptions): BackendName[] {
  const score = (name: BackendName): number => {
    const c = backendFor(name, options).capabilities;
    return (c.trustedInfeasibility ? 4 : 0) + (c.reportsBound ? 2 : 0) + (c.warmStart ? 1 : 0);
  };
  return [...BACKEND_NAMES].sort((a, b) => score(b) - score(a));
}
