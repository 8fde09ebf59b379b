/**
 * The family's words: why no policy exists (`explainInfeasible`) and what a decision does
 * (`describe`), in one place.
 */
import type { Evaluation } from '../types.ts';
import { leastBudgetUse } from './cost.ts';
import type { SpeculativeBreakdown } from './evaluate.ts';
import { solveUnconstrained } from './exact.ts';
import type { SpeculativeDecision, SpeculativeProblem } from './schema.ts';
import { formatJoules, formatJoulesPair, formatMilliseconds as ms } from './units.ts';

/** The least device energy per token any per-state policy reaches (itself a ratio, minimised exactly). */
export function leastEnergyPerToken(p: SpeculativeProblem): number {
  const energyOnly: SpeculativeProblem = {
    ...p,
    objective: { name: 'energy', secondsWeight: 0, joulesWeight: 1 },
    energyBudgetJoulesPerToken: null,
  };
  return solveUnconstrained(energyOnly).ratio;
}

export function explainInfeasible(p: SpeculativeProblem): string {
  const B = p.energyBudgetJoulesPerToken;
  // The same test as the exact method's and the MILP's (tolerance policy included).
  if (B === null || leastBudgetUse(p).feasible) return 'a feasible policy exists';
  const least = leastEnergyPerToken(p);
  const [budget, spent] = formatJoulesPair(B, least);
  return (
    `the device energy budget is ${budget} per token, but the least any policy spends is ${spent} per token ` +
    `(short by ${formatJoules(least - B, 3)}): each draft token costs the device energy, and even ` +
    `server-only decoding pays the radio for its requests`
  );
}

/** Narrows evaluate's breakdown (the Formulation interface hands it over untyped). */
function isSpeculativeBreakdown(b: unknown): b is SpeculativeBreakdown {
  return typeof b === 'object' && b !== null && 'mode' in b && 'serverOnlySecondsPerToken' in b;
}

export function describe(p: SpeculativeProblem, d: SpeculativeDecision, e: Evaluation): string {
  const lines: string[] = [];
  const b = e.breakdown;
  if (!isSpeculativeBreakdown(b)) return '';
  const perToken = b.secondsPerToken ?? Number.NaN;
  if (d.mode === 'device-only') {
    const streamed = b.deviceOnlyStreamsWeights ? ' (target weights streamed from storage)' : '';
    lines.push(`device-only decoding: ${ms(perToken)} per token${streamed}`);
  } else if (d.mode === 'huggingface-schedule') {
    const se = ms(b.secondsPerTokenStandardError ?? Number.NaN);
    const from = `Hugging Face schedule from γ = ${d.initialDraftTokens}`;
    lines.push(`${from}: ${ms(perToken)} ± ${se} per token (simulated)`);
  } else {
    for (const s of b.states ?? []) {
      const tau = s.threshold === null ? '' : `, τ = ${s.threshold}`;
      lines.push(
        `state ${s.state} (π = ${s.probability.toFixed(3)}): γ = ${s.draftTokens}${tau}, ` +
          `${s.tokensPerRound.toFixed(2)} tokens per ${ms(s.roundSeconds)} round`,
      );
    }
    const joules = formatJoules(b.joulesPerToken ?? Number.NaN);
    lines.push(`expected ${ms(perToken)} per token, ${joules} per token on the device`);
  }
  if (b.speedUpOverServerOnly !== undefined) {
    const speedUp = b.speedUpOverServerOnly.toFixed(2);
    lines.push(`speed-up over server-only decoding (one round trip per token): ${speedUp}×`);
  }
  if (p.energyBudgetJoulesPerToken !== null) {
    lines.push(`device energy budget: ${formatJoules(p.energyBudgetJoulesPerToken)} per token`);
  }
  for (const v of e.violations) lines.push(`violated: ${v.message}`);
  return lines.join('\n');
}
