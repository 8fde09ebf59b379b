/**
 * The latency-versus-freezing front (the seed's Fig. 3 trade-off): the exact optimum for each
 * maximum freezing ratio. Raising the cap only relaxes the accuracy constraint, so the optimal
 * training time is non-increasing along the front.
 */
import { evaluateSplitFinetune } from './evaluate.ts';
import { solveExact } from './exact.ts';
import { parseSplitFinetune, type SplitFinetuneDecision } from './schema.ts';

export interface FrontPoint {
  readonly maxFreezingRatio: number;
  readonly feasible: boolean;
  readonly objective: number | null;
  readonly roundSeconds: number | null;
  readonly totalSeconds: number | null;
  readonly totalDeviceEnergyJoules: number | null;
  /** Largest frozen prefix actually used over the clients, as a ratio of L. */
  readonly usedFreezingRatio: number | null;
  readonly decision: SplitFinetuneDecision | null;
}

/** Evenly spaced ratios from..to (inclusive) with `step`, rounded to avoid 0.30000000000000004. */
export function ratioGrid(from: number, step: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; from + i * step <= to + 1e-12; i++) out.push(Number((from + i * step).toFixed(10)));
  return out;
}

/**
 * Solves `raw` (a split-finetune problem JSON) once per ratio with `accuracy.maxFreezingRatio` set
 * to it (any fixed `freezingRatio` is dropped) and returns the optimal point of each.
 */
export function freezingFront(raw: unknown, ratios: readonly number[] = ratioGrid(0, 0.1, 1)): FrontPoint[] {
  const base = raw as Record<string, unknown>;
  return ratios.map((r) => {
    const accuracy: Record<string, unknown> = {
      ...((base.accuracy as Record<string, unknown> | undefined) ?? {}),
      maxFreezingRatio: r,
    };
    delete accuracy.freezingRatio;
    const problem = parseSplitFinetune({ ...base, accuracy });
    const { decision } = solveExact(problem);
    if (decision === null)
      return {
        maxFreezingRatio: r,
        feasible: false,
        objective: null,
        roundSeconds: null,
        totalSeconds: null,
        totalDeviceEnergyJoules: null,
        usedFreezingRatio: null,
        decision: null,
      };
    const e = evaluateSplitFinetune(problem, decision);
    const b = e.breakdown;
    if (b === null) throw new Error('the exact optimum has no breakdown (a decision of the wrong shape)');
    return {
      maxFreezingRatio: r,
      feasible: e.feasible,
      objective: e.objective,
      roundSeconds: b.roundSeconds,
      totalSeconds: b.totalSeconds,
      totalDeviceEnergyJoules: b.totalDeviceEnergyJoules,
      usedFreezingRatio: Math.max(...decision.clients.map((c) => c.frozenLayers)) / problem.model.layers,
      decision,
    };
  });
}
