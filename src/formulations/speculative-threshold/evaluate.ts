/**
 * The independent re-check of a decision: validity of every choice (γ in range, τ from the
 * table, one choice per channel state), the device energy budget, and the objective, recomputed
 * through cost.ts. Stationary per-state policies are scored analytically (renewal–reward over
 * rounds); the Hugging Face schedule, which depends on history, is scored by the seeded simulator.
 */
import type { Evaluation, Violation } from '../types.ts';
import {
  choiceIndex,
  deviceOnlyJoulesPerToken,
  deviceOnlySecondsPerToken,
  deviceOnlyStreams,
  draftJoulesPerToken,
  draftSecondsPerToken,
  roundExpectation,
  roundOutcome,
  serverStreamingSecondsPerToken,
  verifySeconds,
} from './cost.ts';
import type { PerStateDecision, SpeculativeDecision, SpeculativeProblem } from './schema.ts';
import { huggingFacePolicy, simulate } from './simulate.ts';

const BUDGET_TOLERANCE = 1e-9;

/** The threshold option index for τ, or a reason it is not selectable. */
export function optionIndex(p: SpeculativeProblem, threshold: number | null, gamma: number): number | string {
  if (gamma === 0) {
    if (threshold === null) return 0;
    const i = p.options.findIndex((o) => o.threshold !== null && o.threshold === threshold);
    return i >= 0 ? i : `threshold ${threshold} is not in the problem's threshold table`;
  }
  if (p.options.length === 1 && p.options[0].threshold === null) {
    return threshold === null ? 0 : `the problem has no threshold table, so threshold must be null (got ${threshold})`;
  }
  if (threshold === null) return `the problem has a threshold table; choose one of ${p.options.map((o) => o.threshold).join(', ')}`;
  const i = p.options.findIndex((o) => o.threshold !== null && o.threshold === threshold);
  return i >= 0 ? i : `threshold ${threshold} is not in the table (${p.options.map((o) => o.threshold).join(', ')})`;
}

/** Choice indices of a per-state decision, or the violations that prevent reading it. */
export function picksOf(p: SpeculativeProblem, d: PerStateDecision): { picks: number[] | null; violations: Violation[] } {
  const violations: Violation[] = [];
  if (d.states.length !== p.states.length) {
    violations.push({ constraint: 'states', message: `the policy has ${d.states.length} entries but the channel has ${p.states.length} states` });
    return { picks: null, violations };
  }
  const picks: number[] = [];
  d.states.forEach((c, s) => {
    const name = p.states[s].name;
    if (c.state !== undefined && c.state !== name)
      violations.push({ constraint: `states[${s}].state`, message: `entry ${s} names state "${c.state}" but channel state ${s} is "${name}"` });
    if (c.draftTokens < p.minDraftTokens || c.draftTokens > p.maxDraftTokens) {
      const excess = c.draftTokens > p.maxDraftTokens ? c.draftTokens - p.maxDraftTokens : p.minDraftTokens - c.draftTokens;
      violations.push({
        constraint: `states[${s}].draftTokens`,
        message: `state "${name}": draft length ${c.draftTokens} is outside the allowed range ${p.minDraftTokens}..${p.maxDraftTokens}`,
        excess,
      });
      return;
    }
    const o = optionIndex(p, c.threshold, c.draftTokens);
    if (typeof o === 'string') {
      violations.push({ constraint: `states[${s}].threshold`, message: `state "${name}": ${o}` });
      return;
    }
    picks.push(choiceIndex(p, c.draftTokens, o));
  });
  return { picks: violations.length === 0 ? picks : null, violations };
}

function budgetViolation(p: SpeculativeProblem, joulesPerToken: number): Violation[] {
  const B = p.energyBudgetJoulesPerToken;
  if (B === null || joulesPerToken <= B * (1 + BUDGET_TOLERANCE)) return [];
  return [
    {
      constraint: 'energy-budget',
      message: `the device spends ${(joulesPerToken * 1e3).toFixed(3)} mJ per token, the budget is ${(B * 1e3).toFixed(3)} mJ per token`,
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

function references(p: SpeculativeProblem): Record<string, number | boolean> {
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

export function evaluate(p: SpeculativeProblem, d: SpeculativeDecision): Evaluation {
  const refs = references(p);
  const serverOnly = refs.serverOnlySecondsPerToken as number;
  if (d.mode === 'device-only') {
    const seconds = deviceOnlySecondsPerToken(p);
    const joules = deviceOnlyJoulesPerToken(p);
    const violations = budgetViolation(p, joules);
    return {
      feasible: violations.length === 0,
      objective: objectiveOf(p, seconds, joules),
      violations,
      breakdown: { mode: d.mode, objective: p.objective.name, secondsPerToken: seconds, joulesPerToken: joules, speedUpOverServerOnly: serverOnly / seconds, ...refs },
    };
  }
  if (d.mode === 'huggingface-schedule') {
    const violations: Violation[] = [];
    const lo = Math.max(1, p.minDraftTokens);
    if (p.maxDraftTokens < 1) violations.push({ constraint: 'draftTokens', message: 'the draft range allows no speculation (max is 0)' });
    else if (d.initialDraftTokens < lo || d.initialDraftTokens > p.maxDraftTokens)
      violations.push({ constraint: 'initialDraftTokens', message: `initial draft length ${d.initialDraftTokens} is outside ${lo}..${p.maxDraftTokens}` });
    const o = optionIndex(p, d.threshold, 1);
    if (typeof o === 'string') violations.push({ constraint: 'threshold', message: o });
    if (violations.length > 0) return { feasible: false, objective: Number.POSITIVE_INFINITY, violations, breakdown: { mode: d.mode, ...refs } };
    const sim = simulate(p, huggingFacePolicy(d.initialDraftTokens, o as number, p.minDraftTokens, p.maxDraftTokens), d.simulation);
    violations.push(...budgetViolation(p, sim.joulesPerToken.mean));
    return {
      feasible: violations.length === 0,
      objective: sim.costPerToken.mean,
      violations,
      breakdown: {
        mode: d.mode,
        objective: p.objective.name,
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
  if (!picks) return { feasible: false, objective: Number.POSITIVE_INFINITY, violations, breakdown: { mode: d.mode, ...refs } };
  // Recomputed through roundOutcome (not the solver's precomputed table), state by state.
  let seconds = 0;
  let joules = 0;
  let tokens = 0;
  const states = p.states.map((st, s) => {
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
      objective: p.objective.name,
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
