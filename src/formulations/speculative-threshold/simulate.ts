/**
 * Seeded Monte Carlo simulation of the round process: the channel moves one step per round
 * (Markov) or is redrawn (i.i.d.), the policy picks (γ, threshold option) from the state it sees at
 * the round's start, drafting stops at γ or at the first draft token below the threshold, the
 * verifier accepts a prefix position by position, and the round costs what `roundOutcome` says.
 * It estimates cost per token as Σ cost / Σ tokens with a batch-means standard error, which stays
 * valid when rounds are correlated through a Markov channel or an adaptive policy.
 */
import { draftPasses, roundOutcome, type Choice } from './cost.ts';
import type { SpeculativeProblem } from './schema.ts';

/** A small fast generator (sfc32 seeded through splitmix32): reproducible across platforms. */
export function createRng(seed: number): () => number {
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** What a policy learns at the end of a round (adaptive schedules react to it). */
export interface RoundReport {
  readonly state: number;
  readonly gamma: number;
  readonly drafted: number;
  readonly accepted: number;
}

export interface SimulationPolicy {
  /** Fresh policy state for a run (the simulator calls it once per run). */
  reset(): void;
  choose(state: number): Choice;
  observe(report: RoundReport): void;
}

/** A stationary policy: the same (γ, option) whenever the channel is in a given state. */
export function perStatePolicy(picks: readonly Choice[]): SimulationPolicy {
  return { reset: () => {}, choose: (s) => picks[s], observe: () => {} };
}

/**
 * The Hugging Face transformers "heuristic" schedule for assisted generation: start at
 * `initial` drafts, add 2 after a round whose drafts were all accepted, else drop 1 (never below 1).
 * `min`/`max` clamp it to the problem's draft range.
 */
export function huggingFacePolicy(initial: number, option: number, min: number, max: number): SimulationPolicy {
  let gamma = initial;
  const clamp = (g: number): number => Math.min(max, Math.max(Math.max(1, min), g));
  return {
    reset: () => {
      gamma = clamp(initial);
    },
    choose: () => ({ gamma, option }),
    observe: (r) => {
      gamma = clamp(r.accepted === r.gamma ? gamma + 2 : gamma - 1);
    },
  };
}

export interface SimulationOptions {
  readonly rounds: number;
  readonly seed: number;
  /** Contiguous batches for the batch-means standard error (default 50). */
  readonly batches?: number;
}

export interface Estimate {
  readonly mean: number;
  readonly standardError: number;
}

export interface SimulationResult {
  readonly rounds: number;
  readonly tokens: number;
  /** The problem's objective per token (weighted seconds and joules). */
  readonly costPerToken: Estimate;
  readonly secondsPerToken: Estimate;
  readonly joulesPerToken: Estimate;
  readonly tokensPerRound: number;
  /** Fraction of rounds spent in each channel state. */
  readonly stateFrequency: number[];
  readonly meanDraftTokens: number;
}

function sampleIndex(weights: readonly number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i];
    if (u < acc) return i;
  }
  // Round-off can leave Σ weights a hair below 1: fall back to the last state with weight.
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return weights.length - 1;
}

/** Ratio estimate Σx / Σy with the batch-means (delta-method) standard error. */
function ratioEstimate(xs: Float64Array, ys: Float64Array): Estimate {
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < xs.length; i++) {
    sx += xs[i];
    sy += ys[i];
  }
  const r = sx / sy;
  const b = xs.length;
  if (b < 2) return { mean: r, standardError: Number.NaN };
  let ss = 0;
  for (let i = 0; i < b; i++) ss += (xs[i] - r * ys[i]) ** 2;
  const meanY = sy / b;
  return { mean: r, standardError: Math.sqrt(ss / (b * (b - 1))) / meanY };
}

export function simulate(
  p: SpeculativeProblem,
  policy: SimulationPolicy,
  options: SimulationOptions,
): SimulationResult {
  const rng = createRng(options.seed);
  const requested = Math.max(2, Math.min(options.batches ?? 50, options.rounds));
  const perBatch = Math.ceil(options.rounds / requested);
  // Every batch holds rounds: 101 rounds in 50 requested batches become 34 batches of ≤ 3.
  const batches = Math.ceil(options.rounds / perBatch);
  const cost = new Float64Array(batches);
  const seconds = new Float64Array(batches);
  const joules = new Float64Array(batches);
  const tokensB = new Float64Array(batches);
  const visits = new Array<number>(p.states.length).fill(0);
  const { secondsWeight, joulesWeight } = p.objective;
  policy.reset();
  // Starting from the stationary law makes every round stationary: no burn-in bias.
  let state = sampleIndex(p.stationary, rng());
  let totalTokens = 0;
  let totalDrafted = 0;
  for (let r = 0; r < options.rounds; r++) {
    const batch = Math.min(batches - 1, Math.floor(r / perBatch));
    visits[state]++;
    const { gamma, option } = policy.choose(state);
    const opt = p.options[option];
    let drafted = 0;
    for (let k = 0; k < gamma; k++) {
      if (opt.continueProbability < 1 && rng() >= opt.continueProbability) break;
      drafted++;
    }
    let accepted = 0;
    while (accepted < drafted && rng() < opt.acceptance[accepted]) accepted++;
    const out = roundOutcome(p, p.states[state], drafted, draftPasses(drafted, gamma));
    const tokens = accepted + 1;
    seconds[batch] += out.seconds;
    joules[batch] += out.joules;
    cost[batch] += secondsWeight * out.seconds + joulesWeight * out.joules;
    tokensB[batch] += tokens;
    totalTokens += tokens;
    totalDrafted += drafted;
    policy.observe({ state, gamma, drafted, accepted });
    state = p.transitionMatrix ? sampleIndex(p.transitionMatrix[state], rng()) : sampleIndex(p.stationary, rng());
  }
  return {
    rounds: options.rounds,
    tokens: totalTokens,
    costPerToken: ratioEstimate(cost, tokensB),
    secondsPerToken: ratioEstimate(seconds, tokensB),
    joulesPerToken: ratioEstimate(joules, tokensB),
    tokensPerRound: totalTokens / options.rounds,
    stateFrequency: visits.map((v) => v / options.rounds),
    meanDraftTokens: totalDrafted / options.rounds,
  };
}
