/**
 * Reading and writing per-state decisions: the choice index of each state's (γ, τ) in the option
 * table, and back. Shared by every method and by evaluate because it is the decision format, not
 * a cost: evaluate recomputes every cost itself (through `roundExpectation`, not the table).
 */
import type { Violation } from '../types.ts';
import { choiceIndex, roundTable, type Choice } from './cost.ts';
import type { PerStateDecision, SpeculativeProblem } from './schema.ts';

/** The per-state decision for chosen choice indices. */
export function decisionFromPicks(p: SpeculativeProblem, picks: readonly number[]): PerStateDecision {
  const t = roundTable(p);
  return {
    mode: 'per-state',
    states: picks.map((j, s) => {
      const c: Choice = t.choices[j];
      const threshold = c.gamma === 0 ? null : p.options[c.option].threshold;
      return { state: p.states[s].name, draftTokens: c.gamma, threshold };
    }),
  };
}

/** The threshold option index for τ, or a reason it is not selectable. */
export function optionIndex(p: SpeculativeProblem, threshold: number | null, gamma: number): number | string {
  const listed = (): string => p.options.map((o) => o.threshold).join(', ');
  if (gamma === 0) {
    if (threshold === null) return 0;
    const i = p.options.findIndex((o) => o.threshold !== null && o.threshold === threshold);
    return i >= 0 ? i : `threshold ${threshold} is not in the problem's threshold table`;
  }
  if (p.options.length === 1 && p.options[0].threshold === null) {
    return threshold === null ? 0 : `the problem has no threshold table, so threshold must be null (got ${threshold})`;
  }
  if (threshold === null) return `the problem has a threshold table; choose one of ${listed()}`;
  const i = p.options.findIndex((o) => o.threshold !== null && o.threshold === threshold);
  return i >= 0 ? i : `threshold ${threshold} is not in the table (${listed()})`;
}

/** Choice indices of a per-state decision, or the violations that prevent reading it. */
export function picksOf(
  p: SpeculativeProblem,
  d: PerStateDecision,
): { picks: number[] | null; violations: Violation[] } {
  const violations: Violation[] = [];
  if (d.states.length !== p.states.length) {
    const message = `the policy has ${d.states.length} entries but the channel has ${p.states.length} states`;
    violations.push({ constraint: 'states', message });
    return { picks: null, violations };
  }
  const picks: number[] = [];
  d.states.forEach((c, s) => {
    const name = p.states[s].name;
    if (c.state !== undefined && c.state !== name) {
      const message = `entry ${s} names state "${c.state}" but channel state ${s} is "${name}"`;
      violations.push({ constraint: `states[${s}].state`, message });
    }
    if (c.draftTokens < p.minDraftTokens || c.draftTokens > p.maxDraftTokens) {
      const above = c.draftTokens > p.maxDraftTokens;
      violations.push({
        constraint: `states[${s}].draftTokens`,
        message:
          `state "${name}": draft length ${c.draftTokens} is outside the allowed range ` +
          `${p.minDraftTokens}..${p.maxDraftTokens}`,
        excess: above ? c.draftTokens - p.maxDraftTokens : p.minDraftTokens - c.draftTokens,
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
