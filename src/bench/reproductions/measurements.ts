/**
 * `edgeplan reproduce measurements`: every published row in datasets/measurements/ predicted by the
 * cost model (weights and formats from model.ts, runtime overhead / workspace / KV allocation from
 * the runtime profile, roofline time with the runtime's host overheads) and compared with what was
 * measured. Nothing here is fitted to a row: the predictions use only the catalog, the runtime
 * profiles and the row's conditions, so a held-out row is predicted the same way.
 */
import { join } from 'node:path';
import { DATASETS_DIR, loadCatalog, resolveDevice, resolveModel, type Catalog } from '../../catalog/index.ts';
import { loadMeasurements, type MeasurementRow } from '../../catalog/measurements.ts';
import type { DeviceSpec } from '../../cost/device.ts';
import { inferenceMemoryBreakdown } from '../../cost/memory.ts';
import { modelWeightBytes, type ModelSpec } from '../../cost/model.ts';
import type { RuntimeSpec } from '../../cost/runtime.ts';
import { aggregateDevice, generationSeconds } from '../../cost/runtime-time.ts';
import type { ReproRow, Reproduction } from '../reproduce.ts';

export type MeasuredQuantity = 'memory' | 'decode' | 'prefill' | 'end-to-end';

export interface MeasurementComparison {
  readonly id: string;
  readonly quantity: MeasuredQuantity;
  /** The measured value in SI: bytes, tokens/s or seconds. */
  readonly measured: number;
  readonly predicted: number;
  readonly unit: 'B' | 'tokens/s' | 's';
  /** (predicted − measured) / measured. */
  readonly relativeError: number;
  readonly runtime: string;
  readonly suspect: string | null;
}

/** Memory rows must come within this (the worst-case target); time rows are summarised by their median. */
export const MEMORY_ROW_TOLERANCE = 0.15;
export const MEMORY_MEDIAN_TARGET = 0.1;
export const TIME_MEDIAN_TARGET = 0.25;
/** A single time row beyond this points to a wrong condition or transcription, not to the model's spread. */
export const TIME_ROW_TOLERANCE = 0.6;

/** The runtime profile a row ran under: its id, with the attention kernel its options chose. */
export function rowRuntime(row: MeasurementRow, catalog: Catalog): RuntimeSpec {
  const opts = row.runtimeOptions;
  let id: string = row.runtime;
  if (row.runtime === 'transformers' && opts.attn_implementation === 'eager') id = 'transformers-eager';
  const base = catalog.runtimes.get(id);
  if (base === undefined) throw new Error(`datasets/runtimes.json has no runtime "${id}" (row ${row.id})`);
  let runtime = base;
  if (row.runtime === 'llama.cpp' && (opts.flash_attn === true || opts.flash_attn === 1))
    runtime = { ...runtime, attention: 'fused' };
  if (typeof opts.gpu_memory_utilization === 'number')
    runtime = { ...runtime, memoryUtilization: opts.gpu_memory_utilization };
  return runtime;
}

function rowModel(row: MeasurementRow, catalog: Catalog): ModelSpec {
  const m = resolveModel(row.model, `$.${row.id}.model`, catalog);
  return { ...m, dtype: row.weightDtype, kvDtype: row.kvDtype };
}

/**
 * The device the row's work runs on: tensor parallelism pools the devices; a layer split runs them
 * one after another, so it has their memory but one device's rates.
 */
function rowDevice(row: MeasurementRow, catalog: Catalog): DeviceSpec {
  const d = resolveDevice(row.device, `$.${row.id}.device`, catalog);
  if (row.parallelism === 'tensor') return aggregateDevice(d, row.deviceCount);
  return { ...d, memoryBytes: d.memoryBytes * row.deviceCount };
}

function compare(
  row: MeasurementRow,
  quantity: MeasuredQuantity,
  measured: number,
  predicted: number,
  unit: MeasurementComparison['unit'],
): MeasurementComparison {
  return {
    id: row.id,
    quantity,
    measured,
    predicted,
    unit,
    relativeError: (predicted - measured) / measured,
    runtime: row.runtime,
    suspect: row.suspect ?? null,
  };
}

/**
 * The peak while the checkpoint loads: the resident weights plus any tensor the checkpoint stores
 * that the loaded model drops. A tied head stored on its own (`checkpointStoresTiedHead`) is read in
 * 16 bits and released when transformers ties it to the embedding; `torch.cuda.max_memory_allocated`
 * is not reset after loading in the published benchmarks, so short prompts report this peak.
 */
export function loadPeakBytes(row: MeasurementRow, model: ModelSpec): number {
  const head = row.checkpointStoresTiedHead === true && model.tiedEmbeddings ? model.vocabSize * model.hiddenSize * 2 : 0;
  return modelWeightBytes(model) + head;
}

/** Predicted vs measured for every value a row reports. */
export function predictRow(row: MeasurementRow, catalog: Catalog = loadCatalog()): MeasurementComparison[] {
  const model = rowModel(row, catalog);
  const runtime = rowRuntime(row, catalog);
  const base = resolveDevice(row.device, `$.${row.id}.device`, catalog);
  const device = rowDevice(row, catalog);
  const out: MeasurementComparison[] = [];
  const m = row.measured;
  if (m.memoryBytes !== undefined && row.memoryScope !== undefined) {
    const b = inferenceMemoryBreakdown({
      model,
      runtime,
      unifiedMemory: base.unifiedMemory === true,
      batch: row.batch,
      promptTokens: row.promptTokens,
      outputTokens: row.outputTokens,
    });
    // Every device of a split holds its own runtime overhead; the tensors are divided among them.
    const predicted =
      row.memoryScope === 'weights'
        ? modelWeightBytes(model)
        : row.memoryScope === 'framework-peak-allocated'
          ? Math.max(b.allocatedBytes, loadPeakBytes(row, model))
          : b.allocatedBytes + row.deviceCount * b.runtimeOverheadBytes;
    out.push(compare(row, 'memory', m.memoryBytes, predicted, 'B'));
  }
  const needsTime =
    m.decodeTokensPerSecond ?? m.prefillTokensPerSecond ?? m.outputTokensPerSecondEndToEnd ?? m.endToEndSeconds;
  if (needsTime === undefined) return out;
  const tp = row.parallelism === 'tensor' ? row.deviceCount : 1;
  const g = generationSeconds(model, device, runtime, row.batch, row.promptTokens, row.outputTokens, tp);
  if (m.decodeTokensPerSecond !== undefined) {
    // llama-bench's tg rows time generation alone, from an empty context.
    const step = generationSeconds(model, device, runtime, row.batch, 0, Math.max(row.outputTokens, 1), tp);
    out.push(compare(row, 'decode', m.decodeTokensPerSecond, row.batch / step.decodeStepSeconds, 'tokens/s'));
  }
  if (m.prefillTokensPerSecond !== undefined)
    out.push(compare(row, 'prefill', m.prefillTokensPerSecond, (row.batch * row.promptTokens) / g.prefillSeconds, 'tokens/s'));
  if (m.outputTokensPerSecondEndToEnd !== undefined)
    out.push(compare(row, 'end-to-end', m.outputTokensPerSecondEndToEnd, (row.batch * row.outputTokens) / g.totalSeconds, 'tokens/s'));
  if (m.endToEndSeconds !== undefined) out.push(compare(row, 'end-to-end', m.endToEndSeconds, g.totalSeconds, 's'));
  return out;
}

export interface ErrorSummary {
  readonly rows: number;
  readonly medianAbsError: number;
  readonly worstAbsError: number;
  readonly worstId: string;
}

export function summarize(list: readonly MeasurementComparison[]): ErrorSummary {
  const used = list.filter((c) => c.suspect === null);
  if (used.length === 0) return { rows: 0, medianAbsError: NaN, worstAbsError: NaN, worstId: '' };
  const abs = used.map((c) => Math.abs(c.relativeError)).sort((a, b) => a - b);
  const mid = Math.floor(abs.length / 2);
  const median = abs.length % 2 === 1 ? abs[mid] : (abs[mid - 1] + abs[mid]) / 2;
  const worst = used.reduce((w, c) => (Math.abs(c.relativeError) > Math.abs(w.relativeError) ? c : w));
  return { rows: used.length, medianAbsError: median, worstAbsError: Math.abs(worst.relativeError), worstId: worst.id };
}

export interface MeasurementReport {
  readonly comparisons: readonly MeasurementComparison[];
  /** Memory rows that include runtime and workspace (device-used and peak-allocated scopes). */
  readonly memory: ErrorSummary;
  /** Weight-file sizes (llama-bench's printed model size). */
  readonly weights: ErrorSummary;
  /** Decode-dominated time: decode speed and whole-request rows. */
  readonly decodeTime: ErrorSummary;
  readonly prefillTime: ErrorSummary;
}

export function measurementReport(
  dir = join(DATASETS_DIR, 'measurements'),
  catalog: Catalog = loadCatalog(),
): MeasurementReport {
  const comparisons = loadMeasurements(dir).flatMap((row) => predictRow(row, catalog));
  const scopeOf = new Map(loadMeasurements(dir).map((r) => [r.id, r.memoryScope]));
  const memory = comparisons.filter((c) => c.quantity === 'memory' && scopeOf.get(c.id) !== 'weights');
  const weights = comparisons.filter((c) => c.quantity === 'memory' && scopeOf.get(c.id) === 'weights');
  return {
    comparisons,
    memory: summarize(memory),
    weights: summarize(weights),
    decodeTime: summarize(comparisons.filter((c) => c.quantity === 'decode' || c.quantity === 'end-to-end')),
    prefillTime: summarize(comparisons.filter((c) => c.quantity === 'prefill')),
  };
}


function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function show(c: MeasurementComparison, value: number): string {
  if (c.unit === 'B') return `${(value / 1e9).toFixed(3)} GB`;
  if (c.unit === 's') return `${value.toPrecision(4)} s`;
  return `${value.toPrecision(4)} tokens/s`;
}

/** Reproduction rows: the targets first, then every compared value. */
export function measurementRows(report: MeasurementReport): ReproRow[] {
  const seed = report.comparisons.find((c) => c.id === 'ft-gpt-6.7b-b64-in512-out32' && c.quantity === 'memory');
  const rows: ReproRow[] = [
    {
      item: 'memory: median |error|',
      expected: `≤ ${pct(MEMORY_MEDIAN_TARGET)}`,
      obtained: `${pct(report.memory.medianAbsError)} over ${report.memory.rows} rows`,
      tolerance: 'target',
      pass: report.memory.medianAbsError <= MEMORY_MEDIAN_TARGET,
    },
    {
      item: 'memory: worst |error|',
      expected: `≤ ${pct(MEMORY_ROW_TOLERANCE)}`,
      obtained: `${pct(report.memory.worstAbsError)} (${report.memory.worstId})`,
      tolerance: 'target',
      pass: report.memory.worstAbsError <= MEMORY_ROW_TOLERANCE,
    },
    {
      item: 'weight-file sizes: worst |error|',
      expected: `≤ ${pct(MEMORY_ROW_TOLERANCE)}`,
      obtained: `${pct(report.weights.worstAbsError)} over ${report.weights.rows} rows (${report.weights.worstId})`,
      tolerance: 'target',
      pass: report.weights.worstAbsError <= MEMORY_ROW_TOLERANCE,
    },
    {
      item: 'decode time: median |error|',
      expected: `≤ ${pct(TIME_MEDIAN_TARGET)}`,
      obtained: `${pct(report.decodeTime.medianAbsError)} over ${report.decodeTime.rows} rows (worst ${pct(report.decodeTime.worstAbsError)}, ${report.decodeTime.worstId})`,
      tolerance: 'target',
      pass: report.decodeTime.medianAbsError <= TIME_MEDIAN_TARGET,
    },
    {
      item: 'prefill time: median |error|',
      expected: `≤ ${pct(TIME_MEDIAN_TARGET)}`,
      obtained: `${pct(report.prefillTime.medianAbsError)} over ${report.prefillTime.rows} rows`,
      tolerance: 'target',
      pass: report.prefillTime.medianAbsError <= TIME_MEDIAN_TARGET,
    },
  ];
  if (seed)
    rows.push({
      item: "seed's FasterTransformer point (GPT-6.7B, batch 64, 512 + 32)",
      expected: show(seed, seed.measured),
      obtained: `${show(seed, seed.predicted)} (${pct(seed.relativeError)})`,
      tolerance: `± ${pct(MEMORY_ROW_TOLERANCE)}`,
      pass: Math.abs(seed.relativeError) <= MEMORY_ROW_TOLERANCE,
    });
  const timeRows = report.comparisons.filter((c) => c.quantity !== 'memory' && c.suspect === null);
  const outside = timeRows.filter((c) => Math.abs(c.relativeError) > TIME_ROW_TOLERANCE);
  rows.push({
    item: `time rows outside ± ${pct(TIME_ROW_TOLERANCE)}`,
    expected: 'listed (the targets are the medians)',
    obtained: `${outside.length} of ${timeRows.length}`,
    tolerance: 'info',
    pass: true,
    note: 'each is shown below with the result "outlier"; docs/cost-model.md says which and why',
  });
  for (const c of report.comparisons) {
    const limit = c.quantity === 'memory' ? MEMORY_ROW_TOLERANCE : TIME_ROW_TOLERANCE;
    const within = Math.abs(c.relativeError) <= limit;
    rows.push({
      item: `${c.id} ${c.quantity}`,
      expected: show(c, c.measured),
      obtained: `${show(c, c.predicted)} (${c.relativeError >= 0 ? '+' : ''}${pct(c.relativeError)})`,
      tolerance: `± ${pct(limit)}`,
      // A suspect row is shown but judged by nobody: its source is believed misprinted.
      pass: c.suspect !== null || within,
      // Memory rows are held to the worst-case target; a time row beyond the spread is an outlier
      // to look at, not a verdict (the time targets are medians).
      ...(c.quantity !== 'memory' && !within ? { outlier: true } : {}),
      ...(c.suspect !== null ? { note: `suspect: ${c.suspect}` } : {}),
    });
  }
  return rows;
}

export const measurementsReproduction: Reproduction = {
  name: 'measurements',
  title: 'Published memory and speed measurements (datasets/measurements) against the cost model',
  source: 'datasets/measurements/*.json (FasterTransformer, Qwen2.5 speed benchmark, llama.cpp); docs/cost-model.md',
  async run() {
    const report = measurementReport();
    return { rows: measurementRows(report), plot: null, data: report };
  },
};
