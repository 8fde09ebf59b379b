/**
 * Peer policies, each re-implemented from its published description and scored by our evaluate
 * (never by the peers themselves: they value options with the cost functions only, and never call
 * the exact method). Where a peer has no notion of a threshold table it uses the most permissive
 * option (lowest τ).
 */
import type { Baseline } from '../types.ts';
import { choiceIndex, picksMeetBudget, policyRatio, roundTable } from './cost.ts';
import { decisionFromPicks } from './decision.ts';
import type { SpeculativeDecision, SpeculativeProblem } from './schema.ts';

/** Simulation settings of adaptive baselines: enough rounds for a standard error well under 1%. */
export const BASELINE_SIMULATION = { rounds: 200_000, seed: 20230518 } as const;

/** Hugging Face transformers' default `num_assistant_tokens` for assisted generation. */
export const HF_INITIAL_DRAFT_TOKENS = 5;

/** SpecDec++'s stop rule threshold used as the peer setting. */
export const SPECDEC_PP_THRESHOLD = 0.3;

function clampGamma(p: SpeculativeProblem, g: number): number {
  return Math.min(p.maxDraftTokens, Math.max(p.minDraftTokens, g));
}

function uniform(p: SpeculativeProblem, gamma: number, option: number): SpeculativeDecision {
  const j = choiceIndex(p, gamma, option);
  return decisionFromPicks(
    p,
    p.states.map(() => j),
  );
}

/**
 * SpecDec++ (Huang, Guo & Wang 2024): keep drafting until the predicted probability that at least
 * one drafted token is rejected, 1 − Π_{i≤k} α_i, exceeds the threshold; the token that crosses it
 * is still sent. With per-position acceptance as the predictor this fixes γ before any channel
 * information enters.
 */
export function specDecPlusPlusGamma(acceptance: readonly number[], threshold: number, maxDraftTokens: number): number {
  let keep = 1;
  for (let k = 1; k <= maxDraftTokens; k++) {
    keep *= acceptance[k - 1];
    if (1 - keep > threshold) return k;
  }
  return maxDraftTokens;
}

/** The best single (γ, τ) applied in every state, by the analytic ratio (and within the budget). */
export function bestFixedChoice(p: SpeculativeProblem): number | null {
  const t = roundTable(p);
  let best: number | null = null;
  let bestRatio = Infinity;
  for (let j = 0; j < t.choices.length; j++) {
    const picks = p.states.map(() => j);
    if (!picksMeetBudget(p, picks)) continue;
    const r = policyRatio(p, picks).ratio;
    if (r < bestRatio) {
      best = j;
      bestRatio = r;
    }
  }
  return best;
}

export const baselines: readonly Baseline<SpeculativeProblem, SpeculativeDecision>[] = [
  {
    name: 'fixed-gamma-4',
    description: 'γ = 4 drafts in every channel state (clamped to the allowed range), lowest threshold in the table',
    run: (p) => uniform(p, clampGamma(p, 4), 0),
  },
  {
    name: 'best-fixed-gamma',
    description:
      'the single (γ, τ) that minimises the expected objective when used in every state — the best policy that ignores the current channel state',
    run: (p) => {
      const j = bestFixedChoice(p);
      return j === null
        ? null
        : decisionFromPicks(
            p,
            p.states.map(() => j),
          );
    },
  },
  {
    name: 'huggingface-schedule',
    description: `Hugging Face assisted generation's heuristic schedule: start at ${HF_INITIAL_DRAFT_TOKENS} drafts, +2 after a fully accepted round, else max(1, γ − 1); scored by the seeded simulator`,
    run: (p) =>
      p.maxDraftTokens < 1
        ? null
        : {
            mode: 'huggingface-schedule',
            initialDraftTokens: Math.min(p.maxDraftTokens, Math.max(1, p.minDraftTokens, HF_INITIAL_DRAFT_TOKENS)),
            threshold: p.options[0].threshold,
            simulation: { ...BASELINE_SIMULATION },
          },
  },
  {
    name: 'specdec-pp-0.3',
    description: `SpecDec++-style stop rule: draft until the predicted probability that some draft is rejected, 1 − Π α_i, exceeds ${SPECDEC_PP_THRESHOLD}`,
    run: (p) =>
      p.maxDraftTokens < 1
        ? null
        : uniform(
            p,
            clampGamma(p, specDecPlusPlusGamma(p.options[0].acceptance, SPECDEC_PP_THRESHOLD, p.maxDraftTokens)),
            0,
          ),
  },
  {
    name: 'server-only',
    description: 'no speculation: the server generates every token, one request/response round per token (γ = 0)',
    run: (p) => (p.minDraftTokens > 0 ? null : uniform(p, 0, 0)),
  },
  {
    name: 'device-only',
    description:
      'the target model runs on the device alone (its weights streamed from storage when they do not fit in memory)',
    run: () => ({ mode: 'device-only' }),
  },
];
