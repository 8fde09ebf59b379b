/**
 * kv-split-inference: per-user split points for multi-user split inference of one LLM under KV-cache
 * memory limits, with the server's weights shared by all users (seed §VI-A1, §VI-A2).
 */
import type { DeviceSpec } from '../../cost/device.ts';
import { collectWarnings, plausibility } from '../plausibility.ts';
import type { Formulation, InputWarning } from '../types.ts';
import { kvBaselines } from './baselines.ts';
import { kvTables } from './cost.ts';
import { evaluateKv } from './evaluate.ts';
import { exactNotApplicable, solveKvExact } from './exact.ts';
import { describeKv, explainKvInfeasible } from './explain.ts';
import { compileKv } from './milp.ts';
import { kvDecisionSchema, kvSplitInputSchema, parseKvProblem, type KvDecision, type KvProblem } from './schema.ts';

export type { KvDecision, KvProblem } from './schema.ts';
export type { KvBreakdown } from './evaluate.ts';
export { explainKvInfeasible } from './explain.ts';

function deviceWarnings(path: string, d: DeviceSpec): (InputWarning | null)[] {
  return [
    plausibility(`${path}.memoryBytes`, d.memoryBytes, 'memoryBytes'),
    plausibility(`${path}.peakFlopsPerSecond`, d.peakFlopsPerSecond, 'flopsPerSecond'),
    plausibility(`${path}.memoryBandwidthBytesPerSecond`, d.memoryBandwidthBytesPerSecond, 'bytesPerSecond'),
    plausibility(`${path}.storageReadBytesPerSecond`, d.storageReadBytesPerSecond, 'bytesPerSecond'),
    plausibility(`${path}.perCallOverheadSeconds`, d.perCallOverheadSeconds, 'seconds'),
  ];
}

/** Every physical quantity of the input (catalog values included: they are plausible by construction). */
export function kvWarnings(problem: KvProblem): InputWarning[] {
  return collectWarnings([
    ...deviceWarnings('$.server.device', problem.server),
    ...problem.users.flatMap((user, i) => [
      ...deviceWarnings(`$.users[${i}].device`, user.device),
      plausibility(`$.users[${i}].link.uplinkBitsPerSecond`, user.link.uplinkBitsPerSecond, 'bitsPerSecond'),
      plausibility(`$.users[${i}].link.downlinkBitsPerSecond`, user.link.downlinkBitsPerSecond, 'bitsPerSecond'),
      plausibility(`$.users[${i}].link.latencySeconds`, user.link.latencySeconds, 'seconds'),
      user.latencySloSeconds !== null
        ? plausibility(`$.users[${i}].latencySloSeconds`, user.latencySloSeconds, 'seconds')
        : null,
      user.ttftSloSeconds !== null
        ? plausibility(`$.users[${i}].ttftSloSeconds`, user.ttftSloSeconds, 'seconds')
        : null,
    ]),
  ]);
}

/** What the objective measures; under admission it names the per-user penalty it includes. */
export function kvObjectiveLabel(problem: KvProblem): string {
  const latency =
    problem.objective === 'max'
      ? 'worst served user’s per-token decode latency (s)'
      : 'sum over served users of per-token decode latency (s)';
  if (!problem.admission) return latency;
  return `${latency} + ${kvTables(problem).unservedPenaltySeconds} s penalty per unserved user (admission)`;
}

export const kvSplitInferenceFormulation: Formulation<KvProblem, KvDecision> = {
  objectiveLabel: kvObjectiveLabel,
  kind: 'kv-split-inference',
  title: 'multi-user split inference under KV-cache memory limits with shared server weights',
  sense: 'min',
  inputSchema: kvSplitInputSchema,
  parse: parseKvProblem,
  decisionSchema: kvDecisionSchema,
  compile: compileKv,
  warnings: kvWarnings,
  exact: {
    notApplicable: exactNotApplicable,
    solve: solveKvExact,
  },
  evaluate: evaluateKv,
  baselines: kvBaselines,
  explainInfeasible: explainKvInfeasible,
  // The interface hands describe an untyped Evaluation; the typed breakdown comes from evaluating
  // the same decision again (cheap, and no cast).
  describe: (problem, decision) => describeKv(problem, decision, evaluateKv(problem, decision)),
};
