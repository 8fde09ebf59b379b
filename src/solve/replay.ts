/** Online replay of a model-caching problem (the seed's online view of parameter-sharing caching). */
import { InputError } from '../errors.ts';
import { generateTrace, replay, type ReplayResult } from '../formulations/model-caching/replay.ts';
import type { CachingEvaluation } from '../formulations/model-caching/evaluate.ts';
import type { Decision as CachingDecision, Problem as CachingProblem } from '../formulations/model-caching/schema.ts';
import { parseTrace } from '../formulations/model-caching/trace.ts';
import type { Termination } from '../milp/result.ts';
import { solve } from './chain.ts';
import type { SolveOptions } from './options.ts';
import { ParsedProblem, parseProblem } from './problem.ts';

export type ReplayPolicyName = 'lru' | 'laoc' | 'belady' | 'optimal';
/** `belady` is the offline farthest-next-use reference (it reads the future trace); `optimal` the static optimum. */
export const REPLAY_POLICIES: readonly ReplayPolicyName[] = ['lru', 'laoc', 'belady', 'optimal'];

export interface ReplayOptions {
  /** A trace as JSON (`[{ user, model }]`); when absent one is drawn from the problem with `seed`. */
  readonly trace?: unknown;
  readonly requests?: number;
  readonly seed?: number;
  readonly policies?: readonly ReplayPolicyName[];
  /** δ of least-age-of-context (per request). */
  readonly decay?: number;
  readonly windowSize?: number;
  /** How the offline optimum (the static cache) is solved. */
  readonly solve?: SolveOptions;
}

export interface ReplayReport {
  readonly kind: 'model-caching';
  readonly requests: number;
  readonly seed: number | null;
  /** What the problem optimises: `value` in each result measures it (hit ratio, or mean latency in s). */
  readonly objective: CachingProblem['objective'];
  /** The static optimum's objective under the problem's request model (expected hit ratio or latency). */
  readonly optimumObjective: number | null;
  /** The static optimum's expected hit ratio (reported beside a latency objective too). */
  readonly optimumExpectedHitRatio: number | null;
  readonly optimumTermination: Termination | null;
  readonly results: readonly ReplayResult[];
}

/** Replays a request trace against online policies and the offline optimum held as a static cache. */
export async function replayCaching(problem: unknown, options: ReplayOptions = {}): Promise<ReplayReport> {
  const parsed = problem instanceof ParsedProblem ? problem : parseProblem(problem);
  if (parsed.kind !== 'model-caching')
    throw new InputError('$.kind', `replay applies to model-caching problems, not ${parsed.kind}`);
  const p = parsed.problem as CachingProblem;
  const seed = options.trace === undefined ? (options.seed ?? 1) : null;
  const trace =
    options.trace !== undefined
      ? parseTrace(p, options.trace)
      : generateTrace(p, options.requests ?? 10_000, seed ?? 1);
  const windowSize = options.windowSize ?? Math.max(1, Math.round(trace.length / 20));
  const results: ReplayResult[] = [];
  let optimumExpectedHitRatio: number | null = null;
  let optimumObjective: number | null = null;
  let optimumTermination: Termination | null = null;
  for (const policy of options.policies ?? REPLAY_POLICIES) {
    if (policy === 'lru') results.push(replay(p, trace, { kind: 'lru' }, windowSize));
    else if (policy === 'laoc')
      results.push(replay(p, trace, { kind: 'laoc', decay: options.decay ?? 0.99 }, windowSize));
    else if (policy === 'belady') results.push(replay(p, trace, { kind: 'belady' }, windowSize));
    else {
      const report = await solve(parsed, options.solve ?? {});
      optimumTermination = report.termination;
      if (report.solution) {
        const decision = report.solution.decision as CachingDecision;
        optimumExpectedHitRatio = (report.solution.evaluation as CachingEvaluation).breakdown.hitRatio;
        optimumObjective = report.solution.objective;
        results.push(
          replay(p, trace, { kind: 'static', name: `static ${report.method} optimum`, decision }, windowSize),
        );
      }
    }
  }
  return {
    kind: 'model-caching',
    requests: trace.length,
    seed,
    objective: p.objective,
    optimumObjective,
    optimumExpectedHitRatio,
    optimumTermination,
    results,
  };
}
