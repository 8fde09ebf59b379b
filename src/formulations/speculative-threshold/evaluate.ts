/**
 * The independent re-check of a decision: validity of every choice (γ in range, τ from the
 * table, one choice per channel state), the device energy budget, and the objective, recomputed
 * through cost.ts's per-round outcome (`roundExpectation`, summing `roundOutcome` over the law of
 * the drafted count) — not the option table the exact method, the MILP and the peers read.
 * Stationary per-state policies are scored analytically (renewal–reward over rounds); the Hugging
 * Face schedule, which depends on history, is scored by the seeded simulator.
 */
import type { Evaluation, Violation } from '../types.ts';
import {
  deviceOnlyJoulesPerToken,
  deviceOnlySecondsPerToken,
  deviceOnlyStreams,
  draftJoulesPerToken,
  draftSecondsPerToken,
  meetsBudget,
  roundExpectation,
  roundOutcome,
  serverStreamingSecondsPerToken,
  verifySeconds,
} from './cost.ts';
import { optionIndex, picksOf } from './decision.ts';
import { formatJoulesPair } from './units.ts';
import type { ObjectiveWeights, SpeculativeDecision, SpeculativeProblem } from './schema.ts';
import { huggingFacePolicy, simulate } from './simulate.ts';

/** Reference figures every breakdown carries (what the decision is compared with). */
export interface SpeculativeReferences {
  readonly serverOnlySecondsPerToken: number;
  readonly serverStreamingSecondsPerToken: number;
  readonly deviceOnlySecondsPerToken: number;
  readonly deviceOnlyStreamsWeights: boolean;
  readonly draftSecondsPerToken: number;
  readonly draftJoulesPerToken: number;
  readonly verifySecondsOneToken: number;
}

/** One channel state's share of a per-state policy. */
export interface StateBreakdown {
  readonly state: string;
  readonly probability: number;
  readonly draftTokens: number;
  readonly threshold: number | null;
  readonly expectedDrafted: number;
  readonly expectedDraftPasses: number;
  readonly tokensPerRound: number;
  readonly roundSeconds: number;
  readonly draftSeconds: number;
  readonly uplinkSeconds: number;
  readonly verifySeconds: number;
  readonly downlinkSeconds: number;
  readonly joulesPerRound: number;
  readonly secondsPerToken: number;
}

/** evaluate's breakdown; the per-mode figures are absent when the decision could not be read. */
export interface SpeculativeBreakdown extends SpeculativeReferences {
  readonly mode: SpeculativeDecision['mode'];
  readonly objective?: ObjectiveWeights['name'];
  readonly scoredBy?: 'analytic' | 'simulation';
  readonly secondsPerToken?: number;
  readonly joulesPerToken?: number;
  readonly speedUpOverServerOnly?: number;
  readonly energyBudgetJoulesPerToken?: number | null;
  /** per-state mode */
  readonly tokensPerRound?: number;
  readonly roundSeconds?: number;
  readonly states?: readonly StateBreakdown[];
  /** huggingface-schedule mode (simulated) */
  readonly objectiveStandardError?: number;
  readonly secondsPerTokenStandardError?: number;
  readonly joulesPerTokenStandardError?: number;
  readonly meanDraftTokens?: number;
  readonly rounds?: number;
  readonly seed?: number;
}

export type SpeculativeEvaluation = Evaluation<SpeculativeBreakdown>;

function budgetViolation(p: SpeculativeProblem, joulesPerToken: number): Violation[] {
  const B = p.energyBudgetJoulesPerToken;
  if (B === null || meetsBudget(p, joulesPerToken)) return [];
  const [spent, budget] = formatJoulesPair(joulesPerToken, B);
  return [
    {
      constraint: 'energy-budget',
      message: `the device spends ${spent} per token, the budget is ${budget} per token`,
      excess: joulesPerToken - B,
    },
  ];
}

/** Expected seconds per token of server-only decoding in this protocol (γ = 0 in every state). */
export function serverOnlySecondsPerToken(p: SpeculativeProblem): number {
  let s = 0;
  p.states.forEach((st, i) => (s += p.stationary[i] * roundOutcome(p, st, 0, 0).seconds));
  return s;
}

function references(p: SpeculativeProblem): SpeculativeReferences {
  return {
    serverOnlySecondsPerToken: serverOnlySecondsPerToken(p),
    serverStreamingSecondsPerToken: serverStreamingSecondsPerToken(p),
    deviceOnlySecondsPerToken: deviceOnlySecondsPerToken(p),
    deviceOnlyStreamsWeights: deviceOnlyStreams(p),
    draftSecondsPerToken: draftSecondsPerToken(p),
    draftJoulesPerToken: draftJoulesPerToken(p),
    verifySecondsOneToken: verifySeconds(p, 1),
  };
}

function objectiveOf(p: SpeculativeProblem, seconds: number, joules: number): number {
  return p.objective.secondsWeight * seconds + p.objective.joulesWeight * joules;
}

function invalid(
  mode: SpeculativeDecision['mode'],
  violations: Violation[],
  refs: SpeculativeReferences,
): SpeculativeEvaluation {
  return { feasible: false, objective: Number.POSITIVE_INFINITY, violations, breakdown: { mode, ...refs } };
}

export function evaluate(p: SpeculativeProblem, d: SpeculativeDecision): SpeculativeEvaluation {
  const refs = references(p);
  const serverOnly = refs.serverOnlySecondsPerToken;
  const objective = p.objective.name;
  if (d.mode === 'device-only') {
    const seconds = deviceOnlySecondsPerToken(p);
    const joules = deviceOnlyJoulesPerToken(p);
    const violations = budgetViolation(p, joules);
    return {
      feasible: violations.length === 0,
      objective: objectiveOf(p, seconds, joules),
      violations,
      breakdown: {
        mode: d.mode,
        objective,
        secondsPerToken: seconds,
        joulesPerToken: joules,
        speedUpOverServerOnly: serverOnly / seconds,
        ...refs,
      },
    };
  }
  if (d.mode === 'huggingface-schedule') {
    const violations: Violation[] = [];
    const lo = Math.max(1, p.minDraftTokens);
    if (p.maxDraftTokens < 1) {
      violations.push({ constraint: 'draftTokens', message: 'the draft range allows no speculation (max is 0)' });
    } else if (d.initialDraftTokens < lo || d.initialDraftTokens > p.maxDraftTokens) {
      const message = `initial draft length ${d.initialDraftTokens} is outside ${lo}..${p.maxDraftTokens}`;
      violations.push({ constraint: 'initialDraftTokens', message });
    }
    const o = optionIndex(p, d.threshold, 1);
    if (typeof o === 'string') violations.push({ constraint: 'threshold', message: o });
    if (violations.length > 0 || typeof o === 'string') return invalid(d.mode, violations, refs);
    const policy = huggingFacePolicy(d.initialDraftTokens, o, p.minDraftTokens, p.maxDraftTokens);
    const sim = simulate(p, policy, d.simulation);
    violations.push(...budgetViolation(p, sim.joulesPerToken.mean));
    return {
      feasible: violations.length === 0,
      objective: sim.costPerToken.mean,
      violations,
      breakdown: {
        mode: d.mode,
        objective,
        scoredBy: 'simulation',
        objectiveStandardError: sim.costPerToken.standardError,
        secondsPerToken: sim.secondsPerToken.mean,
        secondsPerTokenStandardError: sim.secondsPerToken.standardError,
        joulesPerToken: sim.joulesPerToken.mean,
        joulesPerTokenStandardError: sim.joulesPerToken.standardError,
        tokensPerRound: sim.tokensPerRound,
        meanDraftTokens: sim.meanDraftTokens,
        rounds: sim.rounds,
        seed: d.simulation.seed,
        speedUpOverServerOnly: serverOnly / sim.secondsPerToken.mean,
        ...refs,
      },
    };
  }
  const { picks, violations } = picksOf(p, d);
  if (!picks) return invalid(d.mode, violations, refs);
  // Recomputed through roundOutcome (not the solvers' precomputed table), state by state.
  let seconds = 0;
  let joules = 0;
  let tokens = 0;
  const states = p.states.map((st, s): StateBreakdown => {
    const c = d.states[s];
    const o = optionIndex(p, c.threshold, c.draftTokens) as number;
    const e = roundExpectation(p, st, c.draftTokens, p.options[o], o);
    seconds += p.stationary[s] * e.seconds;
    joules += p.stationary[s] * e.joules;
    tokens += p.stationary[s] * e.expectedTokens;
    return {
      state: st.name,
      probability: p.stationary[s],
      draftTokens: c.draftTokens,
      threshold: c.draftTokens === 0 ? null : c.threshold,
      expectedDrafted: e.expectedDrafted,
      expectedDraftPasses: e.expectedDraftPasses,
      tokensPerRound: e.expectedTokens,
      roundSeconds: e.seconds,
      draftSeconds: e.draftSeconds,
      uplinkSeconds: e.uplinkSeconds,
      verifySeconds: e.verifySeconds,
      downlinkSeconds: e.downlinkSeconds,
      joulesPerRound: e.joules,
      secondsPerToken: e.seconds / e.expectedTokens,
    };
  });
  const secondsPerToken = seconds / tokens;
  const joulesPerToken = joules / tokens;
  const budget = budgetViolation(p, joulesPerToken);
  return {
    feasible: budget.length === 0,
    objective: objectiveOf(p, seconds, joules) / tokens,
    violations: budget,
    breakdown: {
      mode: d.mode,
      objective,
      scoredBy: 'analytic',
      secondsPerToken,
      joulesPerToken,
      tokensPerRound: tokens,
      roundSeconds: seconds,
      speedUpOverServerOnly: serverOnly / secondsPerToken,
      energyBudgetJoulesPerToken: p.energyBudgetJoulesPerToken,
      states,
      ...refs,
    },
  };
}
