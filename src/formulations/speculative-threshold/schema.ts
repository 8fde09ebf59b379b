/**
 * Input and decision schemas of the `speculative-threshold` family, and `parse`, which validates a
 * problem, resolves its catalog references and turns a Markov channel into its stationary
 * distribution. Units are in the field names; everything inside is SI.
 */
import { z } from 'zod';
import { documentFields, nonNegativeInt } from '../zod-primitives.ts';
import type { DeviceSpec } from '../../cost/device.ts';
import type { LinkSpec } from '../../cost/link.ts';
import type { ModelSpec } from '../../cost/model.ts';
import {
  deviceRefSchema,
  linkRefSchema,
  modelRefSchema,
  resolveDevice,
  resolveLink,
  resolveModel,
  resolveRuntime,
  runtimeRefSchema,
} from '../../catalog/index.ts';
import type { RuntimeSpec } from '../../cost/runtime.ts';
import { deviceUnderRuntime as underRuntime } from '../../cost/runtime-time.ts';
import { InputError, inputErrorFromZod } from '../../errors.ts';
import { roundConstants, roundTable } from './cost.ts';
import { stationaryDistribution } from './markov.ts';

export const KIND = 'speculative-threshold';

/** Draft lengths beyond this are never useful (acceptance^γ vanishes) and would only bloat the option table. */
export const MAX_DRAFT_TOKENS_LIMIT = 256;

/**
 * Upper limits on user-written magnitudes. Real figures are bytes to kilobytes per token,
 * milliseconds to seconds, millijoules to joules; these limits are far above them and only keep
 * products (bytes × 8 / rate, seconds × watts, γ × bytes) inside double precision, so an absurd
 * value is an InputError naming its field instead of Infinity/NaN coefficients in every method.
 */
export const SPECULATIVE_MAXIMA = {
  bytes: 1e9,
  seconds: 86_400,
  joules: 1e9,
  weight: 1e12,
} as const;
const tooBig = (max: number): string => `must be at most ${max} (absurd size)`;

const probability = z.number().min(0, 'must be a probability in [0, 1]').max(1, 'must be a probability in [0, 1]');
const nonNegative = z.number().nonnegative('must not be negative');
const positive = z.number().positive('must be positive');
const bytes = positive.lte(SPECULATIVE_MAXIMA.bytes, tooBig(SPECULATIVE_MAXIMA.bytes));
const nonNegativeBytes = nonNegative.lte(SPECULATIVE_MAXIMA.bytes, tooBig(SPECULATIVE_MAXIMA.bytes));
const seconds = positive.lte(SPECULATIVE_MAXIMA.seconds, tooBig(SPECULATIVE_MAXIMA.seconds));
const nonNegativeSeconds = nonNegative.lte(SPECULATIVE_MAXIMA.seconds, tooBig(SPECULATIVE_MAXIMA.seconds));
const joules = positive.lte(SPECULATIVE_MAXIMA.joules, tooBig(SPECULATIVE_MAXIMA.joules));
const nonNegativeJoules = nonNegative.lte(SPECULATIVE_MAXIMA.joules, tooBig(SPECULATIVE_MAXIMA.joules));
const weight = nonNegative.lte(SPECULATIVE_MAXIMA.weight, tooBig(SPECULATIVE_MAXIMA.weight));

const thresholdEntrySchema = z
  .strictObject({
    threshold: probability.describe(
      'draft confidence threshold τ: drafting stops at the first token whose confidence is below τ',
    ),
    alpha: probability
      .optional()
      .describe('acceptance probability of a drafted token under this threshold (i.i.d. over positions)'),
    perPosition: z
      .array(probability)
      .min(1)
      .optional()
      .describe('conditional acceptance α_1, α_2, … per draft position under this threshold; the last value repeats'),
    expectedStopLength: nonNegative
      .optional()
      .describe(
        'expected number of consecutive confident draft tokens before the first one below τ (geometric; ∞ is written as continueProbability 1)',
      ),
    continueProbability: probability
      .optional()
      .describe('probability that a draft token clears τ (alternative to expectedStopLength)'),
  })
  .superRefine((t, ctx) => {
    if ((t.alpha === undefined) === (t.perPosition === undefined))
      ctx.addIssue({ code: 'custom', path: ['alpha'], message: 'give exactly one of alpha and perPosition' });
    if ((t.expectedStopLength === undefined) === (t.continueProbability === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['expectedStopLength'],
        message: 'give exactly one of expectedStopLength and continueProbability',
      });
  });

const acceptanceSchema = z
  .strictObject({
    alpha: probability.optional().describe('acceptance probability of each drafted token (Leviathan et al.: i.i.d.)'),
    perPosition: z
      .array(probability)
      .min(1)
      .optional()
      .describe('conditional acceptance per draft position; the last value repeats beyond the list'),
    thresholds: z
      .array(thresholdEntrySchema)
      .min(1)
      .optional()
      .describe('table τ → acceptance and expected draft stop length'),
  })
  .superRefine((a, ctx) => {
    const given = [a.alpha, a.perPosition, a.thresholds].filter((x) => x !== undefined).length;
    if (given !== 1)
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of alpha, perPosition and thresholds' });
    if (a.thresholds) {
      const seen = new Map<number, number>();
      a.thresholds.forEach((t, i) => {
        const first = seen.get(t.threshold);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['thresholds', i, 'threshold'],
            message: `threshold ${t.threshold} appears twice (first at thresholds[${first}])`,
          });
        else seen.set(t.threshold, i);
      });
    }
  });

const channelStateSchema = z.strictObject({
  name: z.string().min(1),
  link: linkRefSchema.describe(
    'uplink/downlink rate and one-way latency in this state: a catalog link id or an inline link',
  ),
});

const channelSchema = z.strictObject({
  states: z.array(channelStateSchema).min(1, 'needs at least one channel state'),
  probabilities: z.array(probability).optional().describe('i.i.d. state probabilities per round'),
  transitionMatrix: z
    .array(z.array(z.number()))
    .optional()
    .describe('row-stochastic matrix P[i][j] = Pr(next round in j | this round in i)'),
});

const weightedSchema = z.strictObject({
  secondsWeight: weight.describe('weight of one second per token'),
  joulesWeight: weight.describe('weight of one device joule per token'),
});

export const inputSchema = z.strictObject({
  ...documentFields,
  kind: z.literal(KIND),
  draft: z.strictObject({
    model: modelRefSchema.describe('the small draft model running on the device'),
    device: deviceRefSchema.describe('the user device that drafts'),
    runtime: runtimeRefSchema.optional().describe('runtime the device drafts with (overrides $.runtime)'),
    secondsPerToken: seconds.optional().describe('measured draft time per token; default: roofline time at batch 1'),
    joulesPerToken: nonNegativeJoules
      .optional()
      .describe('measured device energy per draft token; default: active power × draft time'),
  }),
  target: z.strictObject({
    model: modelRefSchema.describe('the large target model that verifies'),
    server: deviceRefSchema.describe('the edge server that verifies'),
    runtime: runtimeRefSchema.optional().describe('runtime the server verifies with (overrides $.runtime)'),
    verifySeconds: z
      .strictObject({ fixedSeconds: nonNegativeSeconds, perTokenSeconds: nonNegativeSeconds })
      .optional()
      .describe(
        'measured verification time t_v(n) = fixedSeconds + perTokenSeconds·n for n tokens in one pass; default: roofline',
      ),
  }),
  runtime: runtimeRefSchema
    .optional()
    .describe(
      'runtime of the device and the server unless they name their own (datasets/runtimes.json id or an ' +
        'object overriding one): memory share and overhead off the device memory, per-layer and per-step host ' +
        'time; absent: none',
    ),
  contextTokens: nonNegativeInt.default(512).describe('tokens already in the KV cache (attention FLOPs and KV reads)'),
  acceptance: acceptanceSchema,
  payload: z
    .strictObject({
      tokenIdBytes: bytes.default(4),
      topK: nonNegativeInt.default(0).describe('top-k draft probabilities sent per drafted token (0: ids only)'),
      probabilityBytes: bytes.default(2),
      headerBytes: nonNegativeBytes.default(40).describe('per-message protocol overhead, uplink and downlink'),
    })
    .prefault({}),
  channel: channelSchema,
  draftTokens: z
    .strictObject({
      min: nonNegativeInt.default(0),
      max: nonNegativeInt.max(MAX_DRAFT_TOKENS_LIMIT, `must be at most ${MAX_DRAFT_TOKENS_LIMIT}`),
    })
    .describe('range of the draft length γ (γ = 0: server-only decoding)'),
  energyBudgetJoulesPerToken: joules.optional().describe('device energy per generated token must not exceed this'),
  objective: z.union([z.enum(['time', 'energy']), z.strictObject({ weighted: weightedSchema })]).default('time'),
});
export type SpeculativeInput = z.infer<typeof inputSchema>;

/** One selectable threshold option; a problem without a table has a single option with τ = null. */
export interface ThresholdOption {
  readonly threshold: number | null;
  /** Conditional acceptance per draft position 1..maxDraftTokens (index 0 is position 1). */
  readonly acceptance: readonly number[];
  /** Probability that a draft token clears the threshold (1 when there is no threshold). */
  readonly continueProbability: number;
}

export interface ChannelState {
  readonly name: string;
  readonly link: LinkSpec;
}

export interface ObjectiveWeights {
  readonly name: 'time' | 'energy' | 'weighted';
  readonly secondsWeight: number;
  readonly joulesWeight: number;
}

export interface SpeculativeProblem {
  readonly kind: typeof KIND;
  readonly description?: string;
  readonly draftModel: ModelSpec;
  readonly device: DeviceSpec;
  readonly draftSecondsPerTokenOverride?: number;
  readonly draftJoulesPerTokenOverride?: number;
  readonly targetModel: ModelSpec;
  readonly server: DeviceSpec;
  /** Runtimes the device drafts (and decodes alone) with and the server verifies with; absent or null: none. */
  readonly draftRuntime?: RuntimeSpec | null;
  readonly targetRuntime?: RuntimeSpec | null;
  readonly verifyOverride?: { readonly fixedSeconds: number; readonly perTokenSeconds: number };
  readonly contextTokens: number;
  readonly options: readonly ThresholdOption[];
  readonly payload: {
    readonly tokenIdBytes: number;
    readonly topK: number;
    readonly probabilityBytes: number;
    readonly headerBytes: number;
  };
  readonly states: readonly ChannelState[];
  /** Null when the states are i.i.d. with the given probabilities. */
  readonly transitionMatrix: readonly (readonly number[])[] | null;
  /** Per-round stationary distribution of the channel state. */
  readonly stationary: readonly number[];
  readonly minDraftTokens: number;
  readonly maxDraftTokens: number;
  readonly energyBudgetJoulesPerToken: number | null;
  readonly objective: ObjectiveWeights;
}

function extendAcceptance(values: readonly number[], length: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(values[Math.min(i, values.length - 1)]);
  return out;
}

const STOCHASTIC_TOLERANCE = 1e-9;

function parseChannel(input: SpeculativeInput['channel']): {
  states: ChannelState[];
  transitionMatrix: number[][] | null;
  stationary: number[];
} {
  const states = input.states.map((s, i) => ({
    name: s.name,
    link: resolveLink(s.link, `$.channel.states[${i}].link`),
  }));
  const names = new Map<string, number>();
  input.states.forEach((s, i) => {
    const first = names.get(s.name);
    if (first !== undefined)
      throw new InputError(
        `$.channel.states[${i}].name`,
        `state name "${s.name}" is used twice (first at $.channel.states[${first}])`,
      );
    names.set(s.name, i);
  });
  const n = states.length;
  if (input.probabilities && input.transitionMatrix)
    throw new InputError(
      '$.channel',
      'give either probabilities (i.i.d. states) or transitionMatrix (Markov states), not both',
    );
  if (input.probabilities) {
    const p = input.probabilities;
    if (p.length !== n)
      throw new InputError('$.channel.probabilities', `has ${p.length} entries but there are ${n} channel states`);
    const sum = p.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > STOCHASTIC_TOLERANCE)
      throw new InputError('$.channel.probabilities', `must sum to 1, they sum to ${sum}`);
    return { states, transitionMatrix: null, stationary: p.map((x) => x / sum) };
  }
  if (input.transitionMatrix) {
    const m = input.transitionMatrix;
    if (m.length !== n)
      throw new InputError('$.channel.transitionMatrix', `has ${m.length} rows but there are ${n} channel states`);
    m.forEach((row, i) => {
      if (row.length !== n)
        throw new InputError(
          `$.channel.transitionMatrix[${i}]`,
          `has ${row.length} entries but there are ${n} channel states`,
        );
      row.forEach((v, j) => {
        if (!(v >= 0 && v <= 1))
          throw new InputError(
            `$.channel.transitionMatrix[${i}][${j}]`,
            `a transition probability must lie in [0, 1], got ${v}`,
          );
      });
      const sum = row.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > STOCHASTIC_TOLERANCE)
        throw new InputError(
          `$.channel.transitionMatrix[${i}]`,
          `row must sum to 1 (a stochastic matrix), it sums to ${sum}`,
        );
    });
    const rows = m.map((row) => {
      const sum = row.reduce((a, b) => a + b, 0);
      return row.map((v) => v / sum);
    });
    const result = stationaryDistribution(rows);
    if (!result.ok) {
      const classes = result.closedClasses.map((c) => `{${c.map((i) => states[i].name).join(', ')}}`).join(' and ');
      throw new InputError(
        '$.channel.transitionMatrix',
        `the chain has ${result.closedClasses.length} closed communicating classes (${classes}), so it has no unique stationary distribution; make the classes reachable from each other`,
      );
    }
    return { states, transitionMatrix: rows, stationary: result.distribution };
  }
  if (n !== 1) throw new InputError('$.channel', `with ${n} states give probabilities or transitionMatrix`);
  return { states, transitionMatrix: null, stationary: [1] };
}

function parseOptions(acc: SpeculativeInput['acceptance'], maxDraftTokens: number): ThresholdOption[] {
  const len = Math.max(1, maxDraftTokens);
  if (acc.alpha !== undefined)
    return [{ threshold: null, acceptance: extendAcceptance([acc.alpha], len), continueProbability: 1 }];
  if (acc.perPosition !== undefined)
    return [{ threshold: null, acceptance: extendAcceptance(acc.perPosition, len), continueProbability: 1 }];
  const table = acc.thresholds ?? [];
  // Sorted by τ so that option order (and which of tied optima is reported) does not depend on the file's order.
  return table
    .map((t) => {
      const alphas = t.alpha !== undefined ? [t.alpha] : (t.perPosition as number[]);
      const q =
        t.continueProbability !== undefined
          ? t.continueProbability
          : (t.expectedStopLength as number) / (1 + (t.expectedStopLength as number));
      return { threshold: t.threshold, acceptance: extendAcceptance(alphas, len), continueProbability: q };
    })
    .sort((a, b) => (a.threshold as number) - (b.threshold as number));
}

function objectiveWeights(o: SpeculativeInput['objective']): ObjectiveWeights {
  if (o === 'time') return { name: 'time', secondsWeight: 1, joulesWeight: 0 };
  if (o === 'energy') return { name: 'energy', secondsWeight: 0, joulesWeight: 1 };
  return { name: 'weighted', secondsWeight: o.weighted.secondsWeight, joulesWeight: o.weighted.joulesWeight };
}

export function parse(raw: unknown): SpeculativeProblem {
  const result = inputSchema.safeParse(raw);
  if (!result.success) throw inputErrorFromZod(result.error);
  const input = result.data;
  if (input.draftTokens.min > input.draftTokens.max)
    throw new InputError('$.draftTokens.min', `min (${input.draftTokens.min}) exceeds max (${input.draftTokens.max})`);
  if (
    typeof input.objective === 'object' &&
    input.objective.weighted.secondsWeight + input.objective.weighted.joulesWeight === 0
  )
    throw new InputError('$.objective.weighted', 'at least one weight must be positive');
  const draftModel = resolveModel(input.draft.model, '$.draft.model');
  const defaultRuntime = input.runtime === undefined ? null : resolveRuntime(input.runtime, '$.runtime');
  const draftRuntime =
    input.draft.runtime === undefined ? defaultRuntime : resolveRuntime(input.draft.runtime, '$.draft.runtime');
  const targetRuntime =
    input.target.runtime === undefined ? defaultRuntime : resolveRuntime(input.target.runtime, '$.target.runtime');
  const device = underRuntime(resolveDevice(input.draft.device, '$.draft.device'), draftRuntime);
  const targetModel = resolveModel(input.target.model, '$.target.model');
  const server = underRuntime(resolveDevice(input.target.server, '$.target.server'), targetRuntime);
  const channel = parseChannel(input.channel);
  const problem: SpeculativeProblem = {
    kind: KIND,
    description: input.description,
    draftModel,
    device,
    draftSecondsPerTokenOverride: input.draft.secondsPerToken,
    draftJoulesPerTokenOverride: input.draft.joulesPerToken,
    targetModel,
    server,
    draftRuntime,
    targetRuntime,
    verifyOverride: input.target.verifySeconds,
    contextTokens: input.contextTokens,
    options: parseOptions(input.acceptance, input.draftTokens.max),
    payload: input.payload,
    states: channel.states,
    transitionMatrix: channel.transitionMatrix,
    stationary: channel.stationary,
    minDraftTokens: input.draftTokens.min,
    maxDraftTokens: input.draftTokens.max,
    energyBudgetJoulesPerToken: input.energyBudgetJoulesPerToken ?? null,
    objective: objectiveWeights(input.objective),
  };
  checkFiniteCosts(problem);
  return problem;
}

/**
 * Every method reads the same option table; one overflowing entry (a link of 1e-300 bit/s, a
 * 1e6 W radio sending for 1e303 s) gives Infinity/NaN coefficients, so refuse it here, naming the
 * part of the input that overflowed.
 */
function checkFiniteCosts(p: SpeculativeProblem): void {
  const k = roundConstants(p);
  const overflow = 'makes the per-round cost overflow double precision (absurd size)';
  if (!Number.isFinite(k.draftSecondsPerToken) || !Number.isFinite(k.draftJoulesPerToken))
    throw new InputError(
      '$.draft',
      `the draft model on this device ${overflow}: ${k.draftSecondsPerToken} s, ${k.draftJoulesPerToken} J per token`,
    );
  if (!k.verifySeconds.slice(1).every(Number.isFinite))
    throw new InputError(
      '$.target',
      `the target model on this server ${overflow}: verification takes ${k.verifySeconds[k.verifySeconds.length - 1]} s`,
    );
  const t = roundTable(p);
  p.states.forEach((_, s) => {
    const bad = [t.seconds[s], t.joules[s], t.cost[s], t.tokens[s]].some((row) => !row.every(Number.isFinite));
    if (bad) throw new InputError(`$.channel.states[${s}].link`, `this link ${overflow}`);
  });
}

/** A per-state choice: draft length γ and threshold τ (null when the problem has no threshold table). */
export const stateChoiceSchema = z.strictObject({
  state: z.string().optional().describe('channel state name (checked against the problem when given)'),
  draftTokens: nonNegativeInt,
  threshold: probability.nullable(),
});

export const decisionSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('per-state'), states: z.array(stateChoiceSchema).min(1) }),
  z.strictObject({
    mode: z.literal('huggingface-schedule'),
    initialDraftTokens: z.number().int().positive(),
    threshold: probability.nullable(),
    simulation: z.strictObject({
      rounds: z.number().int().positive().max(10_000_000, 'at most 10 000 000 simulated rounds'),
      seed: z.number().int(),
    }),
  }),
  z.strictObject({ mode: z.literal('device-only') }),
]);
export type StateChoice = z.infer<typeof stateChoiceSchema>;
export type SpeculativeDecision = z.infer<typeof decisionSchema>;
export type PerStateDecision = Extract<SpeculativeDecision, { mode: 'per-state' }>;
