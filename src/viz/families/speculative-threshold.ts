/**
 * speculative-threshold: per channel state the draft length γ and threshold τ, expected tokens per
 * round, and time per token split into draft, uplink, verify, downlink; energy per token beside.
 */
import type { SpeculativeBreakdown } from '../../formulations/speculative-threshold/evaluate.ts';
import { stackedBars } from '../chart.ts';
import type { DrawInput, Figure } from '../types.ts';
import { isRecord, ms, numText, pct, secondsText } from '../units.ts';

export async function drawSpeculative(input: DrawInput): Promise<Figure[]> {
  const raw = input.evaluation.breakdown;
  if (!isRecord(raw)) return [];
  const b = raw as unknown as SpeculativeBreakdown;
  const figures: Figure[] = [];
  const states = b.states ?? [];
  if (states.length > 0) {
    const label = (s: (typeof states)[number]): string =>
      `${s.state} (p ${pct(s.probability)}, γ ${s.draftTokens}, τ ${s.threshold ?? '–'})`;
    const parts = ['draft', 'uplink', 'verify', 'downlink'];
    figures.push(
      await stackedBars({
        title: 'Time per generated token in each channel state (ms), by phase; γ draft length, τ threshold',
        data: states.flatMap((s) => {
          const per = (seconds: number): number => ms(seconds / Math.max(s.tokensPerRound, 1e-12));
          return [
            { category: label(s), part: 'draft', value: per(s.draftSeconds) },
            { category: label(s), part: 'uplink', value: per(s.uplinkSeconds) },
            { category: label(s), part: 'verify', value: per(s.verifySeconds) },
            { category: label(s), part: 'downlink', value: per(s.downlinkSeconds) },
          ].filter((d) => d.value > 0);
        }),
        categoryTitle: 'channel state',
        valueTitle: 'ms per token',
        partTitle: 'phase',
        parts,
        caption:
          (b.secondsPerToken !== undefined ? `expected ${secondsText(b.secondsPerToken)} per token` : '') +
          (b.joulesPerToken !== undefined ? `, ${numText(b.joulesPerToken)} J per token` : '') +
          (b.speedUpOverServerOnly !== undefined
            ? `, ${numText(b.speedUpOverServerOnly)}× faster than server-only`
            : ''),
      }),
    );
    figures.push(
      await stackedBars({
        title: 'Expected tokens per round in each state',
        data: states.map((s) => ({ category: label(s), part: 'accepted + bonus token', value: s.tokensPerRound })),
        categoryTitle: 'channel state',
        valueTitle: 'tokens per round',
        partTitle: '',
      }),
    );
    figures.push({
      kind: 'table',
      title: 'Per state',
      header: ['state', 'probability', 'γ', 'τ', 'tokens/round', 'round', 'time/token', 'energy/token (J)'],
      rows: states.map((s) => [
        s.state,
        pct(s.probability),
        String(s.draftTokens),
        s.threshold === null ? '-' : numText(s.threshold),
        numText(s.tokensPerRound),
        secondsText(s.roundSeconds),
        secondsText(s.secondsPerToken),
        numText(s.joulesPerRound / Math.max(s.tokensPerRound, 1e-12)),
      ]),
    });
  }
  const refs: string[][] = [];
  const add = (name: string, value: unknown, unit: string): void => {
    if (typeof value === 'number') refs.push([name, unit === 's' ? secondsText(value) : `${numText(value)} ${unit}`]);
  };
  add('this plan, time per token', b.secondsPerToken, 's');
  add('this plan, energy per token', b.joulesPerToken, 'J');
  add('energy budget per token', b.energyBudgetJoulesPerToken, 'J');
  add('server only, time per token', b.serverOnlySecondsPerToken, 's');
  add('device only, time per token', b.deviceOnlySecondsPerToken, 's');
  add('mean draft length (simulated)', b.meanDraftTokens, 'tokens');
  if (refs.length > 0) figures.push({ kind: 'table', title: 'Against the references', header: ['', ''], rows: refs });
  return figures;
}
