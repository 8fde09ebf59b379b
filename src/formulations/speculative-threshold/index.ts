/**
 * The `speculative-threshold` family: per channel state, the draft length γ and confidence
 * threshold τ of device-draft / edge-verify speculative decoding that minimise the expected time
 * (or energy, or a weighted sum) per generated token.
 */
import type { Evaluation, Formulation } from '../types.ts';
import { baselines, bestFixedChoice } from './baselines.ts';
import { leastBudgetUse, solveExact, solveUnconstrained } from './exact.ts';
import { evaluate } from './evaluate.ts';
import { compile } from './milp.ts';
import { decisionSchema, inputSchema, KIND, parse, type SpeculativeDecision, type SpeculativeProblem } from './schema.ts';

function explainInfeasible(p: SpeculativeProblem): string {
  const B = p.energyBudgetJoulesPerToken;
  if (B === null || leastBudgetUse(p).value <= 0) return 'a feasible policy exists';
  // The least energy per token any per-state policy reaches is itself a ratio: minimise it exactly.
  const energyOnly: SpeculativeProblem = { ...p, objective: { name: 'energy', secondsWeight: 0, joulesWeight: 1 }, energyBudgetJoulesPerToken: null };
  const least = solveUnconstrained(energyOnly);
  return (
    `the device energy budget is ${(B * 1e3).toFixed(3)} mJ per token, but the least any policy spends is ` +
    `${(least.ratio * 1e3).toFixed(3)} mJ per token (short by ${((least.ratio - B) * 1e3).toFixed(3)} mJ): ` +
    `each draft token costs the device energy, and even server-only decoding pays the radio for its requests`
  );
}

function ms(x: number): string {
  return `${(x * 1e3).toFixed(2)} ms`;
}

function describe(p: SpeculativeProblem, d: SpeculativeDecision, e: Evaluation): string {
  const b = e.breakdown as Record<string, unknown>;
  const lines: string[] = [];
  const perToken = b.secondsPerToken as number | undefined;
  const speedUp = b.speedUpOverServerOnly as number | undefined;
  if (d.mode === 'device-only') {
    lines.push(`device-only decoding: ${ms(perToken ?? NaN)} per token${b.deviceOnlyStreamsWeights ? ' (target weights streamed from storage)' : ''}`);
  } else if (d.mode === 'huggingface-schedule') {
    lines.push(`Hugging Face schedule from γ = ${d.initialDraftTokens}: ${ms(perToken ?? NaN)} ± ${ms((b.secondsPerTokenStandardError as number) ?? NaN)} per token (simulated)`);
  } else {
    const states = (b.states ?? []) as { state: string; probability: number; draftTokens: number; threshold: number | null; tokensPerRound: number; roundSeconds: number }[];
    for (const s of states) {
      const tau = s.threshold === null ? '' : `, τ = ${s.threshold}`;
      lines.push(`state ${s.state} (π = ${s.probability.toFixed(3)}): γ = ${s.draftTokens}${tau}, ${s.tokensPerRound.toFixed(2)} tokens per ${ms(s.roundSeconds)} round`);
    }
    lines.push(`expected ${ms(perToken ?? NaN)} per token, ${((b.joulesPerToken as number) * 1e3).toFixed(2)} mJ per token on the device`);
  }
  if (speedUp !== undefined) lines.push(`speed-up over server-only decoding (one round trip per token): ${speedUp.toFixed(2)}×`);
  if (p.energyBudgetJoulesPerToken !== null) lines.push(`device energy budget: ${(p.energyBudgetJoulesPerToken * 1e3).toFixed(2)} mJ per token`);
  for (const v of e.violations) lines.push(`violated: ${v.message}`);
  return lines.join('\n');
}

export const speculativeThresholdFormulation: Formulation<SpeculativeProblem, SpeculativeDecision> = {
  objectiveLabel: (p) =>
    p.objective.name === 'time' ? 'expected time per generated token (s)' : p.objective.name === 'energy' ? 'expected device energy per generated token (J)' : 'weighted cost per generated token (s·w + J·w)',
  kind: KIND,
  title: 'Channel-adaptive draft length and threshold for device-draft / edge-verify speculative decoding',
  sense: 'min',
  inputSchema,
  parse,
  decisionSchema,
  compile: (p) => {
    const warm = bestFixedChoice(p);
    return compile(p, warm === null ? undefined : p.states.map(() => warm));
  },
  exact: {
    notApplicable: () => null,
    solve: solveExact,
  },
  evaluate,
  baselines,
  explainInfeasible,
  describe,
};
