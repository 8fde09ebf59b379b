/**
 * Input schema of the `split-finetune` kind: K clients fine-tune one model with LoRA by split
 * federated learning against one edge server (SplitLoRA / SFL setting, seed §V-A). The planner
 * decides, per client, the cut layer, the frozen prefix and the number of uplink subchannels.
 */
import { z } from 'zod';
import { documentFields, loraSchema, nonNegativeInt, positiveInt } from '../zod-primitives.ts';
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
import { deviceUnderRuntime } from '../../cost/runtime-time.ts';
import type { DeviceSpec } from '../../cost/device.ts';
import type { LinkSpec } from '../../cost/link.ts';
import { totalParams, type ModelSpec } from '../../cost/model.ts';
import {
  TRAINING_ACCOUNTINGS,
  loraParamsOfLayer,
  loraParamsPerLayer,
  type LoraConfig,
  type Recomputation,
  type TrainingAccounting,
  type TrainingAccountingName,
} from '../../cost/training.ts';
import { InputError, inputErrorFromZod, jsonPath } from '../../errors.ts';
import {
  cellSchema,
  checkFixedShares,
  fullCellRates,
  parseCell,
  parseRadio,
  radioSchema,
  type CellSpec,
  type RadioSpec,
} from '../../cost/radio.ts';

const positive = z.number().positive('must be positive');
const ratio = z.number().min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]');

/**
 * Upper limits on the counts that size the solve. Every client gets one option per (cut, frozen
 * prefix, subchannel count), and the exact method's DPs hold arrays over subchannels, so absurd
 * counts must be an InputError rather than an exhausted heap. 4096 subchannels is far more than
 * any OFDMA cell schedules to a handful of clients (a 100 MHz 5G NR carrier has 273 resource
 * blocks); the option limit keeps the table to a few hundred MB (4096 subchannels × 3 GPT-2
 * medium clients ≈ 7e6 options solve in about 20 s).
 */
export const SPLIT_FINETUNE_MAXIMA = {
  subchannels: 4096,
  clients: 1024,
  /** clients × (cut, frozen prefix) pairs × subchannel counts a client can take. */
  options: 10_000_000,
} as const;

export const OBJECTIVES = ['round-time', 'total-time', 'device-energy', 'weighted'] as const;
export type ObjectiveKind = (typeof OBJECTIVES)[number];

export const CUT_POLICIES = ['per-client', 'shared'] as const;
export type CutPolicy = (typeof CUT_POLICIES)[number];

const clientSchema = z.strictObject({
  name: z.string().min(1).optional().describe('label used in messages; default "client i"'),
  device: deviceRefSchema.describe('catalog device id or inline device'),
  runtime: runtimeRefSchema.optional().describe('runtime this client trains with (overrides $.runtime)'),
  link: linkRefSchema
    .optional()
    .describe('catalog link id or inline link; its uplink rate is the rate over the whole cell band'),
  radio: radioSchema
    .optional()
    .describe(
      'instead of `link`: the client is in `$.cell`, with this link quality (its subchannels are cell resource blocks)',
    ),
  energyBudgetJoulesPerRound: positive
    .optional()
    .describe('cap on this client’s amortised device energy per round (overrides the top-level budget)'),
  receivePowerWatts: z
    .number()
    .min(0, 'must not be negative')
    .optional()
    .describe('radio power while receiving (gradients, averaged adapters); default 0: downlink energy not counted'),
  minDeviceLayers: nonNegativeInt
    .optional()
    .describe('privacy floor: layers 1..this never leave the device (cut ≥ this); default 0'),
  maxCompressionCost: z
    .number()
    .min(0, 'must not be negative')
    .optional()
    .describe(
      "cap on the accuracy-proxy cost of this client's compression level (overrides accuracy.maxCompressionCost)",
    ),
});

/** A lossy smashed-data compression level (seed §V-A3): its uplink bytes factor and accuracy-proxy cost. */
const compressionLevelSchema = z.strictObject({
  name: z.string().min(1, 'must not be empty').describe('level name used in decisions ("none" is reserved)'),
  bytesFactor: z
    .number()
    .gt(0, 'must be in (0, 1]')
    .max(1, 'must be in (0, 1]')
    .describe('compressed / raw smashed-data bytes on the uplink'),
  accuracyCost: z
    .number()
    .min(0, 'must not be negative')
    .finite('must be finite')
    .describe('accuracy-proxy cost (the unit is the user’s, e.g. points of accuracy lost); capped per client'),
});

export const splitFinetuneInputSchema = z.strictObject({
  ...documentFields,
  kind: z.literal('split-finetune'),
  model: modelRefSchema.describe('catalog model id or inline model'),
  lora: loraSchema.describe('LoRA adapters carried by every trainable (unfrozen) decoder layer'),
  trainingAccounting: z
    .enum(Object.keys(TRAINING_ACCOUNTINGS) as [TrainingAccountingName, ...TrainingAccountingName[]])
    .optional()
    .describe('bytes per trainable (adapter) parameter; default mixed-16'),
  recomputation: z.enum(['none', 'selective', 'full']).optional().describe('activation recomputation; default none'),
  batchSize: positiveInt.describe('samples per client per round (one local iteration)'),
  sequenceLength: positiveInt.describe('tokens per sample'),
  samplesPerClient: positiveInt.describe('local data set size of each client'),
  epochs: positiveInt.describe('passes over the local data'),
  aggregationIntervalRounds: positiveInt
    .optional()
    .describe('client-side adapters are averaged every this many rounds; default once per epoch'),
  server: z.strictObject({
    device: deviceRefSchema,
    runtime: runtimeRefSchema.optional().describe('runtime the server trains with (overrides $.runtime)'),
  }),
  runtime: runtimeRefSchema
    .optional()
    .describe(
      'runtime of the server and every client that names none (datasets/runtimes.json id, e.g. ' +
        'pytorch-training, or an object overriding one): its memory share and fixed overhead off each device, its ' +
        'host time per layer call; absent: none',
    ),
  clients: z
    .array(clientSchema)
    .min(1, 'needs at least one client')
    .max(SPLIT_FINETUNE_MAXIMA.clients, `at most ${SPLIT_FINETUNE_MAXIMA.clients} clients (absurd size)`),
  subchannels: positiveInt
    .max(SPLIT_FINETUNE_MAXIMA.subchannels, `must be at most ${SPLIT_FINETUNE_MAXIMA.subchannels} (absurd size)`)
    .optional()
    .describe('uplink subchannels N shared by the clients (Σ n_k ≤ N, n_k ≥ 1); with a `cell`, its resourceBlocks'),
  cell: cellSchema.optional(),
  subchannelRateFraction: z
    .number()
    .gt(0, 'must be in (0, 1]')
    .max(1, 'must be in (0, 1]')
    .optional()
    .describe('fraction of a client’s link uplink rate carried by one subchannel; default 1/subchannels'),
  cutPolicy: z
    .enum(CUT_POLICIES)
    .optional()
    .describe('per-client cuts and frozen prefixes, or one (cut, prefix) for all; default per-client'),
  cutRange: z
    .strictObject({ min: nonNegativeInt.optional(), max: nonNegativeInt.optional() })
    .optional()
    .describe('allowed cut layers c (layers 1..c on the client); default 1..L'),
  objective: z.enum(OBJECTIVES).optional().describe('default round-time'),
  weights: z
    .strictObject({
      perSecond: z.number().min(0, 'must not be negative'),
      perJoule: z.number().min(0, 'must not be negative'),
    })
    .optional()
    .describe('weighted objective: perSecond × total time + perJoule × total device energy'),
  accuracy: z
    .strictObject({
      maxFreezingRatio: ratio.optional().describe('F/L ≤ this for every client'),
      minTrainableFraction: ratio.optional().describe('LoRA parameters / model parameters ≥ this for every client'),
      freezingRatio: ratio.optional().describe('fixes F = round(ratio × L) for every client'),
      maxCompressionCost: z
        .number()
        .min(0, 'must not be negative')
        .optional()
        .describe("cap on every client's compression level's accuracy-proxy cost (default: no cap)"),
    })
    .optional()
    .describe('accuracy proxy on the frozen prefix and the smashed-data compression'),
  compression: z
    .strictObject({ levels: z.array(compressionLevelSchema).min(1, 'give at least one level') })
    .optional()
    .describe('smashed-data compression levels a client may use besides "none" (bytes factor 1, cost 0)'),
  energyBudgetJoulesPerRound: positive.optional().describe('cap on each client’s amortised device energy per round'),
});

export type SplitFinetuneInput = z.infer<typeof splitFinetuneInputSchema>;

export interface ClientSpec {
  readonly name: string;
  readonly device: DeviceSpec;
  /** A client in the cell: the rates it would have holding the whole cell, and the cell's latency. */
  readonly link: LinkSpec;
  /** In the cell, or null (the classic subchannel model over a dedicated link). */
  readonly radio: RadioSpec | null;
  /** Resource blocks fixed by the input (radio.resourceBlocks), or null when they are a decision. */
  readonly fixedSubchannels: number | null;
  readonly energyBudgetJoulesPerRound?: number;
  /** Radio power while receiving; 0 unless the user gives it. */
  readonly receivePowerWatts: number;
  /** Privacy floor: the cut is at least this (layers 1..minDeviceLayers stay on the device). */
  readonly minDeviceLayers: number;
  /** Cap on the accuracy-proxy cost of its compression level (Infinity: none). */
  readonly maxCompressionCost: number;
  /** Indices into `compressionLevels` this client's accuracy cap allows (always 0, "none"). */
  readonly compressionLevels: readonly number[];
}

export interface CompressionLevel {
  readonly name: string;
  readonly bytesFactor: number;
  readonly accuracyCost: number;
}

/** The level every client may use: smashed data sent as computed. */
export const NO_COMPRESSION: CompressionLevel = { name: 'none', bytesFactor: 1, accuracyCost: 0 };

/** The parsed problem: catalog references resolved, defaults applied, SI units. */
export interface SplitFinetuneProblem {
  readonly kind: 'split-finetune';
  readonly model: ModelSpec;
  readonly lora: LoraConfig;
  readonly accountingName: TrainingAccountingName;
  readonly accounting: TrainingAccounting;
  readonly recomputation: Recomputation;
  readonly batchSize: number;
  readonly sequenceLength: number;
  readonly samplesPerClient: number;
  readonly epochs: number;
  /** R = ceil(samplesPerClient / batchSize). */
  readonly roundsPerEpoch: number;
  readonly aggregationIntervalRounds: number;
  readonly server: DeviceSpec;
  readonly clients: readonly ClientSpec[];
  /**
   * The shared cell (its resource blocks are the subchannels, and a client's downlink also runs
   * on its n / N of the downlink carrier), or null: subchannels over dedicated links.
   */
  readonly cell: CellSpec | null;
  readonly subchannels: number;
  readonly subchannelRateFraction: number;
  readonly cutPolicy: CutPolicy;
  readonly cutMin: number;
  readonly cutMax: number;
  readonly objective: ObjectiveKind;
  readonly weights: { readonly perSecond: number; readonly perJoule: number };
  /** Allowed frozen prefixes F ∈ [minFrozenLayers, maxFrozenLayers] (from the accuracy proxy). */
  readonly minFrozenLayers: number;
  readonly maxFrozenLayers: number;
  readonly accuracy: {
    readonly maxFreezingRatio?: number;
    readonly minTrainableFraction?: number;
    readonly freezingRatio?: number;
  };
  /** Adapter parameters with every decoder layer trainable, and all model parameters (for minTrainableFraction). */
  readonly loraParamsAllLayers: number;
  readonly modelParams: number;
  /** Smashed-data compression levels; index 0 is "none" (factor 1, cost 0). */
  readonly compressionLevels: readonly CompressionLevel[];
}

/** Relative slack when turning a ratio into a layer count, so 0.5 × 24 stays 12 in floating point. */
const RATIO_EPS = 1e-9;

/**
 * The frozen-prefix interval the accuracy proxy allows; empty (min > max) when none is allowed.
 * minTrainableFraction needs the adapters of layers F+1..L to hold that share of all parameters;
 * when even every layer's adapters fall short, max is −1 (and `explainInfeasible` says so).
 */
export function frozenPrefixBounds(
  model: ModelSpec,
  lora: LoraConfig,
  accuracy: SplitFinetuneProblem['accuracy'],
): { min: number; max: number } {
  const L = model.layers;
  // At least one decoder layer must carry adapters, otherwise nothing is fine-tuned.
  let max = L - 1;
  let min = 0;
  if (accuracy.maxFreezingRatio !== undefined)
    max = Math.min(max, Math.floor(accuracy.maxFreezingRatio * L + RATIO_EPS));
  if (accuracy.minTrainableFraction !== undefined) {
    const need = accuracy.minTrainableFraction * totalParams(model) * (1 - RATIO_EPS);
    // Adapters of the top L − F layers (per layer: MoE layers carry one adapter per expert).
    let trainable = 0;
    let largestF = -1;
    for (let F = L - 1; F >= 0; F--) {
      trainable += loraParamsOfLayer(model, lora, F + 1);
      if (trainable >= need) {
        largestF = F;
        break;
      }
    }
    max = Math.min(max, largestF);
  }
  if (accuracy.freezingRatio !== undefined) {
    const fixed = Math.round(accuracy.freezingRatio * L);
    min = Math.max(min, fixed);
    max = Math.min(max, fixed);
  }
  return { min, max };
}

function fail(path: readonly PropertyKey[], rule: string): never {
  throw new InputError(jsonPath(path), rule);
}

/** A client's link: dedicated, or (in the cell) the whole-cell rates, with its radio and fixed blocks. */
function clientRadio(
  c: SplitFinetuneInput['clients'][number],
  i: number,
  cell: CellSpec | null,
): { link: LinkSpec; radio: RadioSpec | null; fixedSubchannels: number | null } {
  if (c.link !== undefined && c.radio !== undefined)
    fail(['clients', i, 'radio'], 'a client has either a dedicated `link` or `radio` in the cell, not both');
  if (cell === null) {
    if (c.radio !== undefined) fail(['clients', i, 'radio'], '`radio` needs a `$.cell` for the client to be in');
    if (c.link === undefined) fail(['clients', i, 'link'], 'required: a link (or `radio` in a `$.cell`)');
    return { link: resolveLink(c.link, `$.clients[${i}].link`), radio: null, fixedSubchannels: null };
  }
  // The clients share the subchannels, so with a cell every client is in it.
  if (c.radio === undefined)
    fail(
      ['clients', i, 'radio'],
      'with a $.cell every client shares its resource blocks: give `radio` instead of `link`',
    );
  const radio = parseRadio(c.radio, cell, `$.clients[${i}].radio`);
  const rates = fullCellRates(cell, radio);
  return {
    link: {
      id: 'cell',
      name: 'shared cell (whole-cell rates)',
      uplinkBitsPerSecond: rates.uplink,
      downlinkBitsPerSecond: rates.downlink,
      latencySeconds: cell.latencySeconds,
      source: 'Shannon rate with the cell bandwidth',
    },
    radio,
    fixedSubchannels: c.radio.resourceBlocks ?? null,
  };
}

/** Compression levels: "none" first, then the input's, names unique. */
function compressionLevels(p: SplitFinetuneInput): CompressionLevel[] {
  const levels: CompressionLevel[] = [NO_COMPRESSION];
  (p.compression?.levels ?? []).forEach((l, j) => {
    if (levels.some((x) => x.name === l.name))
      fail(
        ['compression', 'levels', j, 'name'],
        l.name === NO_COMPRESSION.name ? '"none" is reserved (no compression)' : `level "${l.name}" is given twice`,
      );
    levels.push({ name: l.name, bytesFactor: l.bytesFactor, accuracyCost: l.accuracyCost });
  });
  return levels;
}

/** A client's privacy floor and the compression levels its accuracy cap allows. */
function clientPrivacyAndCompression(
  p: SplitFinetuneInput,
  c: SplitFinetuneInput['clients'][number],
  i: number,
  layers: number,
): { minDeviceLayers: number; maxCompressionCost: number; compressionLevels: number[] } {
  const floor = c.minDeviceLayers ?? 0;
  if (floor > layers) fail(['clients', i, 'minDeviceLayers'], `must be at most the model's ${layers} layers`);
  const cap = c.maxCompressionCost ?? p.accuracy?.maxCompressionCost ?? Infinity;
  const allowed = compressionLevels(p).flatMap((l, q) => (l.accuracyCost <= cap ? [q] : []));
  return { minDeviceLayers: floor, maxCompressionCost: cap, compressionLevels: allowed };
}

export function parseSplitFinetune(raw: unknown): SplitFinetuneProblem {
  const parsed = splitFinetuneInputSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const p = parsed.data;
  const model = resolveModel(p.model, '$.model');
  // A runtime leaves each device less memory (share − fixed overhead) and its own host time per
  // layer call (src/cost/runtime-time.ts); every check and time below reads the device so changed.
  const defaultRuntime = p.runtime === undefined ? null : resolveRuntime(p.runtime, '$.runtime');
  const serverRuntime =
    p.server.runtime === undefined ? defaultRuntime : resolveRuntime(p.server.runtime, '$.server.runtime');
  const server = deviceUnderRuntime(resolveDevice(p.server.device, '$.server.device'), serverRuntime);
  const cell = p.cell !== undefined ? parseCell(p.cell, '$.cell') : null;
  if (cell !== null) {
    if (cell.allocation !== 'resource-blocks' || cell.resourceBlocks === null)
      fail(
        ['cell', 'resourceBlocks'],
        'split-finetune allocates whole subchannels (its exact method is a knapsack over them): give the cell resourceBlocks',
      );
    if (p.subchannels !== undefined && p.subchannels !== cell.resourceBlocks)
      fail(
        ['subchannels'],
        `with a cell the subchannels are its ${cell.resourceBlocks} resource blocks; drop subchannels`,
      );
    if (p.subchannelRateFraction !== undefined)
      fail(
        ['subchannelRateFraction'],
        'with a cell each resource block carries 1/N of the cell; drop subchannelRateFraction',
      );
    if (cell.resourceBlocks > SPLIT_FINETUNE_MAXIMA.subchannels)
      fail(['cell', 'resourceBlocks'], `must be at most ${SPLIT_FINETUNE_MAXIMA.subchannels} (absurd size)`);
  } else if (p.subchannels === undefined) fail(['subchannels'], 'required: the uplink subchannels (or give a $.cell)');
  const clients: ClientSpec[] = p.clients.map((c, i) => ({
    name: c.name ?? `client ${i}`,
    device: deviceUnderRuntime(
      resolveDevice(c.device, `$.clients[${i}].device`),
      c.runtime === undefined ? defaultRuntime : resolveRuntime(c.runtime, `$.clients[${i}].runtime`),
    ),
    ...clientRadio(c, i, cell),
    ...(c.energyBudgetJoulesPerRound !== undefined || p.energyBudgetJoulesPerRound !== undefined
      ? { energyBudgetJoulesPerRound: c.energyBudgetJoulesPerRound ?? p.energyBudgetJoulesPerRound }
      : {}),
    receivePowerWatts: c.receivePowerWatts ?? 0,
    ...clientPrivacyAndCompression(p, c, i, model.layers),
  }));
  if (cell !== null)
    checkFixedShares(
      cell,
      clients.map((c) => c.radio),
      clients.map((_, i) => `$.clients[${i}].radio`),
    );
  const N = cell?.resourceBlocks ?? (p.subchannels as number);
  const L = model.layers;
  if (p.sequenceLength > model.maxContext)
    fail(['sequenceLength'], `${p.sequenceLength} tokens exceed the model's context of ${model.maxContext}`);
  const cutMin = p.cutRange?.min ?? 1;
  const cutMax = p.cutRange?.max ?? L;
  if (cutMin > L) fail(['cutRange', 'min'], `must be at most the model's ${L} layers`);
  if (cutMax > L) fail(['cutRange', 'max'], `must be at most the model's ${L} layers`);
  if (cutMin > cutMax) fail(['cutRange', 'max'], `must not be below cutRange.min (${cutMin})`);
  clients.forEach((c, i) => {
    if (c.minDeviceLayers > cutMax)
      fail(['clients', i, 'minDeviceLayers'], `${c.minDeviceLayers} is above the largest allowed cut ${cutMax}`);
  });
  const levels = compressionLevels(p);
  const objective = p.objective ?? 'round-time';
  if (objective === 'weighted' && p.weights === undefined)
    fail(['weights'], 'the weighted objective needs weights { perSecond, perJoule }');
  if (objective === 'weighted' && p.weights !== undefined && p.weights.perSecond === 0 && p.weights.perJoule === 0)
    fail(['weights'], 'at least one weight must be positive');
  if (objective !== 'weighted' && p.weights !== undefined)
    fail(['weights'], 'weights apply only to objective "weighted"');
  const lora: LoraConfig = { rank: p.lora.rank, targets: [...new Set(p.lora.targets)] };
  if (loraParamsPerLayer(model, lora) === 0)
    fail(['lora', 'targets'], `none of the targets exists in ${model.name} (gate needs a gated FFN)`);
  const accuracy = { ...(p.accuracy ?? {}) };
  if (
    accuracy.freezingRatio !== undefined &&
    accuracy.maxFreezingRatio !== undefined &&
    accuracy.freezingRatio > accuracy.maxFreezingRatio
  )
    fail(
      ['accuracy', 'freezingRatio'],
      `fixed freezing ratio ${accuracy.freezingRatio} exceeds maxFreezingRatio ${accuracy.maxFreezingRatio}`,
    );
  const bounds = frozenPrefixBounds(model, lora, accuracy);
  // The option table: one entry per client, (cut, frozen prefix) and subchannel count n ≤ N − K + 1.
  const optionCount =
    clients.length *
    (cutMax - cutMin + 1) *
    Math.max(0, bounds.max - bounds.min + 1) *
    Math.max(0, N - clients.length + 1) *
    levels.length;
  if (optionCount > SPLIT_FINETUNE_MAXIMA.options)
    fail(
      ['subchannels'],
      `${clients.length} clients × ${cutMax - cutMin + 1} cuts × ${bounds.max - bounds.min + 1} frozen prefixes × ` +
        `${N - clients.length + 1} subchannel counts × ${levels.length} compression levels = ` +
        `${optionCount} options; ` +
        `at most ${SPLIT_FINETUNE_MAXIMA.options} (absurd size: fewer subchannels, clients or a narrower cutRange)`,
    );
  const roundsPerEpoch = Math.ceil(p.samplesPerClient / p.batchSize);
  const accountingName = p.trainingAccounting ?? 'mixed-16';
  return {
    kind: 'split-finetune',
    model,
    lora,
    accountingName,
    accounting: TRAINING_ACCOUNTINGS[accountingName],
    recomputation: p.recomputation ?? 'none',
    batchSize: p.batchSize,
    sequenceLength: p.sequenceLength,
    samplesPerClient: p.samplesPerClient,
    epochs: p.epochs,
    roundsPerEpoch,
    aggregationIntervalRounds: p.aggregationIntervalRounds ?? roundsPerEpoch,
    server,
    clients,
    cell,
    subchannels: N,
    subchannelRateFraction: p.subchannelRateFraction ?? 1 / N,
    cutPolicy: p.cutPolicy ?? 'per-client',
    cutMin,
    cutMax,
    objective,
    weights: p.weights ?? {
      perSecond: objective === 'device-energy' ? 0 : 1,
      perJoule: objective === 'device-energy' ? 1 : 0,
    },
    minFrozenLayers: bounds.min,
    maxFrozenLayers: bounds.max,
    accuracy,
    loraParamsAllLayers: Array.from({ length: L }, (_, i) => loraParamsOfLayer(model, lora, i + 1)).reduce(
      (a, b) => a + b,
      0,
    ),
    modelParams: totalParams(model),
    compressionLevels: levels,
  };
}

/** One client's decision: layers 1..cut on the client, 1..frozenLayers frozen, `subchannels` uplink subchannels. */
export const clientDecisionSchema = z.strictObject({
  cut: nonNegativeInt,
  frozenLayers: nonNegativeInt,
  subchannels: positiveInt,
  /** Smashed-data compression level by name; absent: "none". */
  compression: z.string().min(1).optional(),
});

export const splitFinetuneDecisionSchema = z.strictObject({
  clients: z.array(clientDecisionSchema).min(1),
});

export type ClientDecision = z.infer<typeof clientDecisionSchema>;
export type SplitFinetuneDecision = z.infer<typeof splitFinetuneDecisionSchema>;
