/**
 * The round model of device-draft / edge-verify speculative decoding, built on src/cost.
 *
 * One round in channel state s with draft length γ and threshold option o:
 *   1. the device drafts; a draft token whose confidence is below τ is discarded and ends the
 *      round's drafting (its forward pass is still paid), so with G ~ Geometric(q) confident
 *      tokens in a row the device sends D = min(γ, G) tokens after min(γ, G + 1) draft passes;
 *   2. uplink: header + D · bytes per drafted token, plus the one-way latency;
 *   3. the server verifies the D drafts and the previous token in one pass of D + 1 tokens;
 *   4. downlink: header + the accepted count and the server's own next token, plus the latency.
 * Tokens gained = the accepted prefix + the server's token (a correction, or the bonus token
 * when every draft is accepted): 1 + Σ_{k ≤ D} Π_{i ≤ k} α_i in expectation given D.
 * γ = 0 is server-only decoding in the same protocol: one request/response round trip per token.
 *
 * The simulator and the analytic expectation both use `roundOutcome`, so they cannot disagree
 * on what a round costs; they differ only in sampling versus summing over D and acceptances.
 */
import { rooflineTime, type DeviceSpec, type Work } from '../../cost/device.ts';
import { transferSeconds } from '../../cost/link.ts';
import { computeEnergyJoules, transmitEnergyJoules } from '../../cost/energy.ts';
import {
  activeLayerParams,
  embeddingParams,
  headForwardFlopsPerToken,
  headParams,
  kvBytesPerToken,
  layerForwardFlopsPerToken,
  totalParams,
  weightBytes,
  type ModelSpec,
} from '../../cost/model.ts';
import { runtimeStepSeconds } from '../../cost/runtime.ts';
import { FEASIBILITY_RTOL, withinLimit } from '../tolerance.ts';
import type { ChannelState, SpeculativeProblem, ThresholdOption } from './schema.ts';

/**
 * One decoding pass of `tokens` new tokens at batch 1 over `contextTokens` cached positions:
 * every active weight is read once (decode is memory-bound at small token counts), the KV cache
 * is read once and the new tokens' KV written.
 */
export function decodePassWork(model: ModelSpec, tokens: number, contextTokens: number): Work {
  let flopsPerToken = headForwardFlopsPerToken(model);
  let activeParams = headParams(model) + (model.tiedEmbeddings ? embeddingParams(model) : 0);
  for (let l = 1; l <= model.layers; l++) {
    flopsPerToken += layerForwardFlopsPerToken(model, l, contextTokens);
    activeParams += activeLayerParams(model, l);
  }
  return {
    flops: tokens * flopsPerToken,
    memoryTrafficBytes: (contextTokens + tokens) * kvBytesPerToken(model),
    weightBytes: weightBytes(activeParams, model.dtype),
    calls: model.layers + 1,
  };
}

function residentBytes(model: ModelSpec): number {
  return weightBytes(totalParams(model), model.dtype);
}

/** Seconds for one pass of `tokens` tokens of `model` on `device` (streaming weights if they do not fit). */
export function passSeconds(model: ModelSpec, device: DeviceSpec, tokens: number, contextTokens: number): number {
  return rooflineTime(device, decodePassWork(model, tokens, contextTokens), residentBytes(model)).seconds;
}

export function draftSecondsPerToken(p: SpeculativeProblem): number {
  // Each pass also pays the runtime's per-step time (scheduler, sampling); p.device is already the
  // device under the runtime (memory share, overhead, per-layer host time: schema.ts).
  return (
    p.draftSecondsPerTokenOverride ??
    passSeconds(p.draftModel, p.device, 1, p.contextTokens) + runtimeStepSeconds(p.draftRuntime ?? null)
  );
}

export function draftJoulesPerToken(p: SpeculativeProblem): number {
  return p.draftJoulesPerTokenOverride ?? computeEnergyJoules(p.device, draftSecondsPerToken(p));
}

/** t_v(n): the target's verification pass over n tokens on the server. */
export function verifySeconds(p: SpeculativeProblem, tokens: number): number {
  if (p.verifyOverride) return p.verifyOverride.fixedSeconds + p.verifyOverride.perTokenSeconds * tokens;
  return passSeconds(p.targetModel, p.server, tokens, p.contextTokens) + runtimeStepSeconds(p.targetRuntime ?? null);
}

/** Device-only decoding: the target itself on the device, one token per pass. */
export function deviceOnlySecondsPerToken(p: SpeculativeProblem): number {
  return passSeconds(p.targetModel, p.device, 1, p.contextTokens) + runtimeStepSeconds(p.draftRuntime ?? null);
}

export function deviceOnlyJoulesPerToken(p: SpeculativeProblem): number {
  return computeEnergyJoules(p.device, deviceOnlySecondsPerToken(p));
}

/** Whether device-only decoding must stream the target's weights from storage. */
export function deviceOnlyStreams(p: SpeculativeProblem): boolean {
  return residentBytes(p.targetModel) > p.device.memoryBytes;
}

/** Bytes sent per drafted token: its id, plus k (id, probability) pairs when top-k is sent. */
export function bytesPerDraftToken(p: SpeculativeProblem): number {
  const { tokenIdBytes, topK, probabilityBytes } = p.payload;
  return tokenIdBytes + topK * (tokenIdBytes + probabilityBytes);
}

/** Downlink payload per round: header, the accepted count and the server's next token (one id each). */
export function downlinkBytesPerRound(p: SpeculativeProblem): number {
  return p.payload.headerBytes + 2 * p.payload.tokenIdBytes;
}

/** Server-side streaming without any per-token round trip (reported for context, not a decision). */
export function serverStreamingSecondsPerToken(p: SpeculativeProblem): number {
  return verifySeconds(p, 1);
}

export interface RoundOutcome {
  readonly draftSeconds: number;
  readonly uplinkSeconds: number;
  readonly verifySeconds: number;
  readonly downlinkSeconds: number;
  readonly seconds: number;
  readonly draftJoules: number;
  readonly transmitJoules: number;
  readonly joules: number;
}

/** Per-problem constants of the round model, computed once (the roofline loops over layers). */
export interface RoundConstants {
  readonly draftSecondsPerToken: number;
  readonly draftJoulesPerToken: number;
  /** verifySeconds[n] = t_v(n) for n = 1..maxDraftTokens + 1 (index 0 unused). */
  readonly verifySeconds: readonly number[];
  readonly bytesPerDraftToken: number;
  readonly downlinkBytes: number;
}

const constantsCache = new WeakMap<SpeculativeProblem, RoundConstants>();

export function roundConstants(p: SpeculativeProblem): RoundConstants {
  const cached = constantsCache.get(p);
  if (cached) return cached;
  const vs = [Number.NaN];
  for (let n = 1; n <= p.maxDraftTokens + 1; n++) vs.push(verifySeconds(p, n));
  const c = {
    draftSecondsPerToken: draftSecondsPerToken(p),
    draftJoulesPerToken: draftJoulesPerToken(p),
    verifySeconds: vs,
    bytesPerDraftToken: bytesPerDraftToken(p),
    downlinkBytes: downlinkBytesPerRound(p),
  };
  constantsCache.set(p, c);
  return c;
}

/** Cost of one round in `state` that drafted `drafted` tokens using `passes` draft forward passes. */
export function roundOutcome(
  p: SpeculativeProblem,
  state: ChannelState,
  drafted: number,
  passes: number,
): RoundOutcome {
  const c = roundConstants(p);
  const upBytes = p.payload.headerBytes + drafted * c.bytesPerDraftToken;
  const upAirSeconds = transferSeconds(upBytes, state.link.uplinkBitsPerSecond, 0);
  // The latency is paid even by an empty request (γ = 0, or a draft stopped at its first token).
  const uplinkSeconds = state.link.latencySeconds + upAirSeconds;
  const downlinkSeconds =
    state.link.latencySeconds + transferSeconds(c.downlinkBytes, state.link.downlinkBitsPerSecond, 0);
  const v = c.verifySeconds[drafted + 1];
  const draftSeconds = passes * c.draftSecondsPerToken;
  const draftJoules = passes * c.draftJoulesPerToken;
  const transmitJoules = transmitEnergyJoules(p.device, upAirSeconds);
  return {
    draftSeconds,
    uplinkSeconds,
    verifySeconds: v,
    downlinkSeconds,
    seconds: draftSeconds + uplinkSeconds + v + downlinkSeconds,
    draftJoules,
    transmitJoules,
    joules: draftJoules + transmitJoules,
  };
}

/** Draft forward passes of a round that sent `drafted` of at most `gamma` tokens. */
export function draftPasses(drafted: number, gamma: number): number {
  return drafted < gamma ? drafted + 1 : gamma;
}

/** Expected tokens gained given `drafted` tokens were sent: 1 + Σ_{k ≤ drafted} Π_{i ≤ k} α_i. */
export function expectedTokensGivenDrafted(acceptance: readonly number[], drafted: number): number {
  let tokens = 1;
  let prefix = 1;
  for (let k = 0; k < drafted; k++) {
    prefix *= acceptance[k];
    tokens += prefix;
  }
  return tokens;
}

/** Distribution of D = min(γ, G), G ~ Geometric(q) counting confident tokens: P(D = d) for d = 0..γ. */
export function draftedDistribution(gamma: number, continueProbability: number): number[] {
  const q = continueProbability;
  const out: number[] = [];
  let reach = 1; // P(G ≥ d)
  for (let d = 0; d < gamma; d++) {
    out.push(reach * (1 - q));
    reach *= q;
  }
  out.push(reach);
  return out;
}

/** Expected number of drafted (sent) tokens Σ_{k=1..γ} q^k — the same expectation the simulator samples. */
export function expectedDrafted(gamma: number, continueProbability: number): number {
  return draftedDistribution(gamma, continueProbability).reduce((s, pd, d) => s + pd * d, 0);
}

export interface RoundExpectation {
  readonly gamma: number;
  readonly option: number;
  readonly expectedDrafted: number;
  readonly expectedDraftPasses: number;
  readonly expectedTokens: number;
  readonly draftSeconds: number;
  readonly uplinkSeconds: number;
  readonly verifySeconds: number;
  readonly downlinkSeconds: number;
  readonly seconds: number;
  readonly joules: number;
}

/**
 * Expectations over D (tokens drafted and sent) that do not depend on the channel: E[D],
 * E[draft passes], E[tokens gained] (1 + Σ_{k ≤ D} Π_{i ≤ k} α_i), and E[verify seconds] for a
 * verify time per number of tokens checked (`verifySeconds[d + 1]`).
 */
export function draftMoments(
  gamma: number,
  option: ThresholdOption,
  verifySeconds?: readonly number[],
): { drafted: number; passes: number; tokens: number; verify: number } {
  const dist = draftedDistribution(gamma, option.continueProbability);
  let drafted = 0;
  let passes = 0;
  let tokens = 0;
  let verify = 0;
  let acceptedPrefix = 1;
  let tokensGivenD = 1;
  for (let d = 0; d <= gamma; d++) {
    if (d > 0) {
      acceptedPrefix *= option.acceptance[d - 1];
      tokensGivenD += acceptedPrefix;
    }
    drafted += dist[d] * d;
    passes += dist[d] * draftPasses(d, gamma);
    tokens += dist[d] * tokensGivenD;
    if (verifySeconds) verify += dist[d] * verifySeconds[d + 1];
  }
  return { drafted, passes, tokens, verify };
}

/** E[round] in `state` for (γ, option), summing `roundOutcome` over the distribution of D. */
export function roundExpectation(
  p: SpeculativeProblem,
  state: ChannelState,
  gamma: number,
  option: ThresholdOption,
  optionIndex: number,
): RoundExpectation {
  const dist = draftedDistribution(gamma, option.continueProbability);
  const { drafted, passes, tokens } = draftMoments(gamma, option);
  let draftS = 0;
  let upS = 0;
  let verS = 0;
  let downS = 0;
  let joules = 0;
  for (let d = 0; d <= gamma; d++) {
    const pd = dist[d];
    if (pd === 0) continue;
    const out = roundOutcome(p, state, d, draftPasses(d, gamma));
    draftS += pd * out.draftSeconds;
    upS += pd * out.uplinkSeconds;
    verS += pd * out.verifySeconds;
    downS += pd * out.downlinkSeconds;
    joules += pd * out.joules;
  }
  return {
    gamma,
    option: optionIndex,
    expectedDrafted: drafted,
    expectedDraftPasses: passes,
    expectedTokens: tokens,
    draftSeconds: draftS,
    uplinkSeconds: upS,
    verifySeconds: verS,
    downlinkSeconds: downS,
    seconds: draftS + upS + verS + downS,
    joules,
  };
}

/** A selectable (γ, option) pair; γ = 0 appears once (the threshold is irrelevant without drafts). */
export interface Choice {
  readonly gamma: number;
  readonly option: number;
}

export function choices(p: SpeculativeProblem): Choice[] {
  const out: Choice[] = [];
  for (let g = p.minDraftTokens; g <= p.maxDraftTokens; g++) {
    if (g === 0) out.push({ gamma: 0, option: 0 });
    else for (let o = 0; o < p.options.length; o++) out.push({ gamma: g, option: o });
  }
  return out;
}

/** Per state × choice: expected seconds, joules, weighted cost and tokens per round. */
export interface RoundTable {
  readonly choices: readonly Choice[];
  /** [state][choice] */
  readonly seconds: readonly Float64Array[];
  readonly joules: readonly Float64Array[];
  readonly cost: readonly Float64Array[];
  readonly tokens: readonly Float64Array[];
}

const tables = new WeakMap<SpeculativeProblem, RoundTable>();

/**
 * The whole option table. The expectation over D is state-independent except through the link,
 * which is affine in D, so each (γ, option) is summed once and combined per state in O(1).
 */
export function roundTable(p: SpeculativeProblem): RoundTable {
  const cached = tables.get(p);
  if (cached) return cached;
  const cs = choices(p);
  const k = roundConstants(p);
  const td = k.draftSecondsPerToken;
  const ed = k.draftJoulesPerToken;
  const vs = k.verifySeconds;
  const stats = cs.map((c) => draftMoments(c.gamma, p.options[c.option], vs));
  const b = k.bytesPerDraftToken;
  const downBytes = k.downlinkBytes;
  const { secondsWeight, joulesWeight } = p.objective;
  const seconds: Float64Array[] = [];
  const joules: Float64Array[] = [];
  const cost: Float64Array[] = [];
  const tokens: Float64Array[] = [];
  for (const st of p.states) {
    const up = st.link.uplinkBitsPerSecond;
    const lat = st.link.latencySeconds;
    const down = lat + transferSeconds(downBytes, st.link.downlinkBitsPerSecond, 0);
    const sec = new Float64Array(cs.length);
    const jou = new Float64Array(cs.length);
    const cst = new Float64Array(cs.length);
    const tok = new Float64Array(cs.length);
    stats.forEach((s, j) => {
      const upAir = transferSeconds(p.payload.headerBytes + s.drafted * b, up, 0);
      sec[j] = s.passes * td + lat + upAir + s.verify + down;
      jou[j] = s.passes * ed + transmitEnergyJoules(p.device, upAir);
      cst[j] = secondsWeight * sec[j] + joulesWeight * jou[j];
      tok[j] = s.tokens;
    });
    seconds.push(sec);
    joules.push(jou);
    cost.push(cst);
    tokens.push(tok);
  }
  const table = { choices: cs, seconds, joules, cost, tokens };
  tables.set(p, table);
  return table;
}

/** Index of (γ, option) in the choice list, or -1. γ = 0 maps to its single entry whatever the option. */
export function choiceIndex(p: SpeculativeProblem, gamma: number, option: number): number {
  if (gamma < p.minDraftTokens || gamma > p.maxDraftTokens) return -1;
  if (option < 0 || option >= p.options.length) return -1;
  const zero = p.minDraftTokens === 0 ? 1 : 0;
  if (gamma === 0) return 0;
  return zero + (gamma - Math.max(1, p.minDraftTokens)) * p.options.length + option;
}

/** Ratio objective of a stationary per-state policy: Σπ·cost / Σπ·tokens, with its parts. */
export function policyRatio(
  p: SpeculativeProblem,
  picks: readonly number[],
): { cost: number; tokens: number; seconds: number; joules: number; ratio: number } {
  const t = roundTable(p);
  let cost = 0;
  let tokens = 0;
  let seconds = 0;
  let joules = 0;
  p.stationary.forEach((pi, s) => {
    cost += pi * t.cost[s][picks[s]];
    tokens += pi * t.tokens[s][picks[s]];
    seconds += pi * t.seconds[s][picks[s]];
    joules += pi * t.joules[s][picks[s]];
  });
  return { cost, tokens, seconds, joules, ratio: cost / tokens };
}

/**
 * Whether device energy per token respects the budget under the one tolerance policy
 * (src/formulations/tolerance.ts). evaluate, the exact method, the peers and the explanation all
 * decide feasibility through this test (evaluate on its own recomputed figure), so solve and check
 * agree at exactly the least reachable energy.
 */
export function meetsBudget(p: SpeculativeProblem, joulesPerToken: number): boolean {
  return p.energyBudgetJoulesPerToken === null || withinLimit(joulesPerToken, p.energyBudgetJoulesPerToken);
}

/**
 * The budget B(1 + FEASIBILITY_RTOL) that searches and model rows use: a policy at or below it is
 * one `meetsBudget` accepts (withinLimit allows used ≤ B + rtol·max(B, used) ≥ B(1 + rtol)).
 */
export function searchBudget(p: SpeculativeProblem): number | null {
  const B = p.energyBudgetJoulesPerToken;
  return B === null ? null : B * (1 + FEASIBILITY_RTOL);
}

/** Whether a per-state policy (choice indices) meets the budget, by the option table. */
export function picksMeetBudget(p: SpeculativeProblem, picks: readonly number[]): boolean {
  const r = policyRatio(p, picks);
  return meetsBudget(p, r.joules / r.tokens);
}

/**
 * The per-state picks minimising Σπ(e − L·N) at L = `searchBudget`: if any policy spends at most L
 * per token, these do. `feasible` says whether they meet the budget (so whether any policy does).
 */
export function leastBudgetUse(p: SpeculativeProblem): { picks: number[]; value: number; feasible: boolean } {
  const t = roundTable(p);
  const L = searchBudget(p) ?? 0;
  let value = 0;
  const picks = p.states.map((_, s) => {
    let best = 0;
    for (let j = 1; j < t.choices.length; j++) {
      if (t.joules[s][j] - L * t.tokens[s][j] < t.joules[s][best] - L * t.tokens[s][best]) best = j;
    }
    value += p.stationary[s] * (t.joules[s][best] - L * t.tokens[s][best]);
    return best;
  });
  return { picks, value, feasible: picksMeetBudget(p, picks) };
}

/** Σ_s π_s min_j N_sj and Σ_s π_s max_j N_sj: the range of expected tokens per round over all policies. */
export function tokensPerRoundRange(p: SpeculativeProblem): { min: number; max: number } {
  const t = roundTable(p);
  let min = 0;
  let max = 0;
  p.stationary.forEach((pi, s) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const n of t.tokens[s]) {
      lo = Math.min(lo, n);
      hi = Math.max(hi, n);
    }
    min += pi * lo;
    max += pi * hi;
  });
  return { min, max };
}

// ---- Leviathan, Kalman & Matias (ICML 2023), for golden tests and the reproduction script ----

/** Expected tokens per round with i.i.d. acceptance α and γ drafts: (1 − α^(γ+1)) / (1 − α). */
export function leviathanExpectedTokens(alpha: number, gamma: number): number {
  if (alpha === 1) return gamma + 1;
  return (1 - alpha ** (gamma + 1)) / (1 - alpha);
}

/** Expected walltime improvement factor over plain decoding with cost ratio c: E[tokens] / (γc + 1). */
export function leviathanSpeedup(alpha: number, gamma: number, costRatio: number): number {
  return leviathanExpectedTokens(alpha, gamma) / (gamma * costRatio + 1);
}

/** Table 1 of Leviathan et al. (c = 0), with the published values and ours. */
export const LEVIATHAN_TABLE_1 = [
  { alpha: 0.6, gamma: 2, published: 1.96 },
  { alpha: 0.7, gamma: 3, published: 2.53 },
  { alpha: 0.8, gamma: 2, published: 2.44 },
  { alpha: 0.8, gamma: 5, published: 3.69 },
  { alpha: 0.9, gamma: 2, published: 2.71 },
  { alpha: 0.9, gamma: 10, published: 6.86 },
] as const;

export function leviathanTable1(): { alpha: number; gamma: number; published: number; computed: number }[] {
  return LEVIATHAN_TABLE_1.map((r) => ({ ...r, computed: leviathanSpeedup(r.alpha, r.gamma, 0) }));
}
