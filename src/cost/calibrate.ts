/**
 * Calibration: fit a device's roofline from the user's own layer timings, the way Neurosurgeon
 * and EdgeShard turn profiling runs into planner inputs. The model fitted is the one every
 * family uses,
 *
 *     t = overhead + max(flops / F, bytes / W),
 *
 * with F the effective FLOP/s and W the effective bytes/s (computeEfficiency = F / peak,
 * bandwidthEfficiency = W / bandwidth). The max() is piecewise linear: which branch a
 * measurement sits on depends only on its arithmetic intensity flops/bytes against the ridge
 * W/F. So the measurements, sorted by intensity, split into a memory-bound prefix and a
 * compute-bound suffix; for every split, 1/F, 1/W and the overhead come from one linear least
 * squares (ml-matrix), and the split whose fit is best under the true max() model wins; an
 * alternation (re-classify under the fitted rates, refit) then runs to a fixed point.
 * Residuals are relative (each row divided by its measured time), so 0.08 ms embeddings and
 * 800 ms prefills weigh alike. Measurements are assumed to run from memory (no streaming from
 * storage); a rate the data cannot identify (no compute-bound row, say) keeps the device's prior
 * value, tightened just enough to stay consistent with the data, and says so in `warnings`.
 */
import { Matrix, solve } from 'ml-matrix';
import { z } from 'zod';
import { InputError, jsonPath } from '../errors.ts';
import type { DeviceSpec } from './device.ts';
import { rowWork } from './layers.ts';
import type { ModelSpec } from './model.ts';
import { DTYPES, type DType } from './units.ts';

/**
 * `model` is a whole forward pass (embedding, every decoder layer, head), as llama-bench measures: it becomes L + 2
 * equal calls of the pass's average FLOPs and bytes (see `measurementPoint`).
 */
export const MEASURED_LAYER_KINDS = ['decoder', 'embedding', 'head', 'model'] as const;
export type MeasuredLayerKind = (typeof MEASURED_LAYER_KINDS)[number];

/** One timing: one call of one layer of `kind` on `device` at (batch, tokens, context). */
export interface Measurement {
  readonly layer: MeasuredLayerKind;
  readonly device?: string;
  readonly model?: string;
  readonly dtype?: DType;
  readonly batch: number;
  readonly tokens: number;
  /** Tokens in the KV cache after the call (defaults to `tokens`: a prefill from empty). */
  readonly context: number;
  readonly seconds: number;
}

const positiveInt = z.number().int('must be a whole number').positive('must be positive');
const measurementSchema = z.strictObject({
  layer: z.enum(MEASURED_LAYER_KINDS),
  device: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  dtype: z.enum(DTYPES).optional(),
  batch: positiveInt,
  tokens: positiveInt,
  context: positiveInt.optional(),
  seconds: z.number().positive('must be positive').finite('must be finite'),
});

const NUMERIC_COLUMNS = new Set(['batch', 'tokens', 'context', 'seconds']);

function validateRow(raw: unknown, path: string): Measurement {
  const parsed = measurementSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(path + jsonPath(issue.path).slice(1), issue.message);
  }
  const r = parsed.data;
  const context = r.context ?? r.tokens;
  if (context < r.tokens)
    throw new InputError(`${path}.context`, `context (${context}) must be at least tokens (${r.tokens})`);
  return { ...r, context };
}

/** Splits one CSV line, honouring double quotes (a doubled quote inside quotes is a quote). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/**
 * Measurements from CSV text: a header row naming the columns (layer, device, batch, tokens,
 * context, seconds; optionally model, dtype), then one row per timing. Blank lines and lines
 * starting with `#` are skipped. Errors name the row as `$[i].column` plus its line number.
 */
export function parseMeasurementsCsv(text: string): Measurement[] {
  const lines = text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), n: i + 1 }));
  const content = lines.filter((x) => x.l !== '' && !x.l.startsWith('#'));
  const header = content[0];
  if (!header) throw new InputError('$', 'the CSV file has no header row');
  const columns = splitCsvLine(header.l).map((c) => c.toLowerCase());
  for (const required of ['layer', 'batch', 'tokens', 'seconds'])
    if (!columns.includes(required))
      throw new InputError(
        '$',
        `the CSV header (line ${header.n}) lacks the column "${required}"; it has: ${columns.join(', ')}`,
      );
  return content.slice(1).map(({ l, n }, i) => {
    const cells = splitCsvLine(l);
    if (cells.length !== columns.length)
      throw new InputError(`$[${i}]`, `line ${n} has ${cells.length} fields, the header has ${columns.length}`);
    const raw: Record<string, unknown> = {};
    columns.forEach((c, j) => {
      const cell = cells[j];
      if (cell === '') return;
      if (NUMERIC_COLUMNS.has(c)) {
        const v = Number(cell);
        if (Number.isNaN(v)) throw new InputError(`$[${i}].${c}`, `line ${n}: "${cell}" is not a number`);
        raw[c] = v;
      } else raw[c] = cell;
    });
    try {
      return validateRow(raw, `$[${i}]`);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(e.path, `line ${n}: ${e.rule}`);
      throw e;
    }
  });
}

/** Measurements from JSON: an array of rows, or `{ "measurements": [...] }`. */
export function parseMeasurementsJson(text: string): Measurement[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError('$', `not valid JSON: ${(e as Error).message}`);
  }
  const wrapped = doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'measurements' in doc;
  const rows: unknown = wrapped ? (doc as { measurements: unknown }).measurements : doc;
  const base = wrapped ? '$.measurements' : '$';
  if (!Array.isArray(rows)) throw new InputError(base, 'must be an array of measurements');
  return rows.map((r, i) => validateRow(r, `${base}[${i}]`));
}

/**
 * CSV or JSON, chosen by the file name's extension (`.json` → JSON, anything else → CSV); llama-bench output
 * (`-o json`, `-o jsonl` or `-o csv`) is recognised by its columns (n_prompt, n_gen, avg_ts).
 */
export function parseMeasurements(text: string, fileName: string): Measurement[] {
  const llamaBench = llamaBenchRows(text);
  if (llamaBench !== null) return measurementsFromLlamaBench(llamaBench);
  return /\.json$/i.test(fileName) ? parseMeasurementsJson(text) : parseMeasurementsCsv(text);
}

/** A measurement reduced to what the roofline sees. */
export interface CalibrationPoint {
  readonly flops: number;
  /** Weight bytes plus other memory traffic. */
  readonly bytes: number;
  readonly seconds: number;
}

/** FLOPs and bytes of a measured call, from the same `rowWork` the planner uses. */
export function measurementPoint(model: ModelSpec, m: Measurement): CalibrationPoint {
  const spec: ModelSpec = m.dtype && m.dtype !== model.dtype ? { ...model, dtype: m.dtype } : model;
  if (m.layer === 'model') {
    // A whole pass is L + 2 calls (embedding, decoders, head), each t = overhead + max(flops/F, bytes/W). As one
    // point of the pass's average call it is exact when every call sits on the same side of the ridge — decode (all
    // memory-bound) and prefills of a few hundred tokens on a GPU (all compute-bound, the embedding lookup aside) —
    // and `fitRoofline`'s residuals show where it is not.
    const workload = { batch: m.batch, tokens: m.tokens, contextTokens: m.context };
    let flops = 0;
    let bytes = 0;
    const add = (kind: 'decoder' | 'embedding' | 'head', layer: number): void => {
      const work = rowWork(spec, kind, layer, workload);
      flops += work.flops;
      bytes += work.weightBytes + work.memoryTrafficBytes;
    };
    add('embedding', 0);
    for (let layer = 1; layer <= spec.layers; layer++) add('decoder', layer);
    add('head', spec.layers + 1);
    const calls = spec.layers + 2;
    return { flops: flops / calls, bytes: bytes / calls, seconds: m.seconds / calls };
  }
  const layer = m.layer === 'decoder' ? 1 : m.layer === 'embedding' ? 0 : spec.layers + 1;
  const work = rowWork(spec, m.layer, layer, { batch: m.batch, tokens: m.tokens, contextTokens: m.context });
  return { flops: work.flops, bytes: work.weightBytes + work.memoryTrafficBytes, seconds: m.seconds };
}

/** Seconds per FLOP, seconds per byte, and the per-call overhead. */
interface Rates {
  readonly a: number;
  readonly b: number;
  readonly o: number;
}

function predict(r: Rates, p: CalibrationPoint): number {
  return r.o + Math.max(r.a * p.flops, r.b * p.bytes);
}

function relativeSse(r: Rates, points: readonly CalibrationPoint[]): number {
  let s = 0;
  for (const p of points) s += ((predict(r, p) - p.seconds) / p.seconds) ** 2;
  return s;
}

/**
 * Weighted linear least squares for one classification. Columns are scaled to unit maximum so
 * that FLOPs (≈1e12), bytes (≈1e9) and the intercept are comparable; the SVD solve gives the
 * minimum-norm answer when a column is degenerate.
 */
function solveLinear(
  points: readonly CalibrationPoint[],
  compute: readonly boolean[],
  withIntercept: boolean,
  prior: Rates,
): Rates | null {
  const hasCompute = compute.some((c) => c);
  const hasMemory = compute.some((c) => !c);
  type Col = 'o' | 'a' | 'b';
  const cols: Col[] = [];
  if (withIntercept) cols.push('o');
  if (hasCompute) cols.push('a');
  if (hasMemory) cols.push('b');
  if (cols.length === 0) return null;
  const raw = points.map((p, i) =>
    cols.map((c) => (c === 'o' ? 1 : c === 'a' ? (compute[i] ? p.flops : 0) : compute[i] ? 0 : p.bytes) / p.seconds),
  );
  const scale = cols.map((_, j) => Math.max(...raw.map((row) => Math.abs(row[j]))) || 1);
  const A = new Matrix(raw.map((row) => row.map((v, j) => v / scale[j])));
  const y = Matrix.columnVector(points.map(() => 1));
  const x = solve(A, y, true)
    .to1DArray()
    .map((v, j) => v / scale[j]);
  const val = (c: Col): number | undefined => {
    const j = cols.indexOf(c);
    return j < 0 ? undefined : x[j];
  };
  const a = val('a') ?? prior.a;
  const b = val('b') ?? prior.b;
  const o = val('o') ?? 0;
  if (!(a > 0) || !(b > 0) || !Number.isFinite(a) || !Number.isFinite(b)) return null;
  if (o < 0) return withIntercept ? solveLinear(points, compute, false, prior) : null;
  return { a, b, o };
}

/** Keeps a rate the data did not identify consistent with the data (see the file comment). */
function tighten(r: Rates, points: readonly CalibrationPoint[], compute: readonly boolean[]): Rates {
  let { a, b } = r;
  if (!compute.some((c) => c)) for (const p of points) if (p.flops > 0) a = Math.min(a, (b * p.bytes) / p.flops);
  if (!compute.some((c) => !c)) for (const p of points) if (p.bytes > 0) b = Math.min(b, (a * p.flops) / p.bytes);
  return { a, b, o: r.o };
}

function classify(r: Rates, points: readonly CalibrationPoint[]): boolean[] {
  return points.map((p) => r.a * p.flops >= r.b * p.bytes);
}

export interface CalibrationFit {
  readonly effectiveFlopsPerSecond: number;
  readonly effectiveBytesPerSecond: number;
  readonly perCallOverheadSeconds: number;
  readonly computeEfficiency: number;
  readonly bandwidthEfficiency: number;
  readonly points: number;
  readonly computeBoundPoints: number;
  readonly memoryBoundPoints: number;
  /** Root mean square of predicted − measured seconds. */
  readonly rmseSeconds: number;
  /** Root mean square of (predicted − measured) / measured. */
  readonly relativeRmse: number;
  readonly maxRelativeError: number;
  readonly warnings: readonly string[];
}

/** Fits the rates to points; `prior` is the device as specified (used where data are silent). */
export function fitRoofline(
  points: readonly CalibrationPoint[],
  prior: DeviceSpec,
): Omit<CalibrationFit, 'computeEfficiency' | 'bandwidthEfficiency'> & Rates {
  if (points.length < 2)
    throw new InputError('$', `calibration needs at least 2 measurements for the device, got ${points.length}`);
  const priorRates: Rates = {
    a: 1 / (prior.peakFlopsPerSecond * prior.computeEfficiency),
    b: 1 / (prior.memoryBandwidthBytesPerSecond * prior.bandwidthEfficiency),
    o: prior.perCallOverheadSeconds,
  };
  const order = points
    .map((_, i) => i)
    .sort((i, j) => points[i].flops / points[i].bytes - points[j].flops / points[j].bytes);
  // Three unknowns need three measurements at three intensities. With fewer (llama-bench's default pp512 + tg128 gives
  // two), the per-call overhead is held at the device's value and only the two rates are fitted.
  const intensities = new Set(points.map((p) => p.flops / p.bytes)).size;
  const underDetermined = points.length < 3 || intensities < 3;
  const fixedOverhead = underDetermined && points.every((p) => p.seconds > priorRates.o);
  const shifted = fixedOverhead ? points.map((p) => ({ ...p, seconds: p.seconds - priorRates.o })) : points;
  const solveFor = (compute: readonly boolean[]): Rates | null => {
    if (!fixedOverhead) return solveLinear(points, compute, true, priorRates);
    const solved = solveLinear(shifted, compute, false, priorRates);
    return solved === null ? null : { ...solved, o: priorRates.o };
  };
  let best: { rates: Rates; sse: number; compute: boolean[] } | null = null;
  const consider = (compute: boolean[]): void => {
    const solved = solveFor(compute);
    if (!solved) return;
    const rates = tighten(solved, points, compute);
    const sse = relativeSse(rates, points);
    if (!best || sse < best.sse - 1e-15) best = { rates, sse, compute };
  };
  // Splits by intensity: the first k points memory-bound, the rest compute-bound.
  for (let k = 0; k <= points.length; k++) {
    if (k > 0 && k < points.length) {
      const lo = points[order[k - 1]];
      const hi = points[order[k]];
      if (lo.flops / lo.bytes === hi.flops / hi.bytes) continue; // same intensity: not a real split
    }
    const compute = new Array<boolean>(points.length).fill(false);
    for (let r = k; r < points.length; r++) compute[order[r]] = true;
    consider(compute);
  }
  consider(classify(priorRates, points));
  const found = best as { rates: Rates; sse: number; compute: boolean[] } | null;
  if (!found)
    throw new InputError(
      '$',
      'the measurements admit no fit with positive rates (check units: seconds, not milliseconds)',
    );
  // Alternate: classify under the fitted rates, refit; stop at a fixed point.
  let current = found;
  for (let iter = 0; iter < 50; iter++) {
    const compute = classify(current.rates, points);
    if (compute.every((c, i) => c === current.compute[i])) break;
    const solved = solveFor(compute);
    if (!solved) break;
    const rates = tighten(solved, points, compute);
    const sse = relativeSse(rates, points);
    if (sse >= current.sse) break;
    current = { rates, sse, compute };
  }
  const { rates } = current;
  const compute = classify(rates, points);
  const warnings: string[] = [];
  if (underDetermined) {
    warnings.push(
      `under-determined: ${points.length} measurement(s) at ${intensities} distinct arithmetic intensit(ies) for 3 ` +
        'unknowns (FLOP/s, bandwidth, per-call overhead); ' +
        (fixedOverhead
          ? `the per-call overhead is held at the device's ${priorRates.o} s and only the two rates are fitted`
          : 'the fit is one of many that match') +
        '; measure more prompt lengths or batch sizes (llama-bench -p 64,256,512 -n 128)',
    );
  }
  if (!compute.some((c) => c))
    warnings.push(
      'no measurement is compute-bound: the effective FLOP/s is only bounded below by the data; the device prior is kept where consistent',
    );
  if (!compute.some((c) => !c))
    warnings.push(
      'no measurement is memory-bound: the effective bandwidth is only bounded below by the data; the device prior is kept where consistent',
    );
  let sq = 0;
  let rel = 0;
  let maxRel = 0;
  for (const p of points) {
    const e = predict(rates, p) - p.seconds;
    sq += e * e;
    rel += (e / p.seconds) ** 2;
    maxRel = Math.max(maxRel, Math.abs(e) / p.seconds);
  }
  const n = points.length;
  return {
    ...rates,
    effectiveFlopsPerSecond: 1 / rates.a,
    effectiveBytesPerSecond: 1 / rates.b,
    perCallOverheadSeconds: rates.o,
    points: n,
    computeBoundPoints: compute.filter((c) => c).length,
    memoryBoundPoints: compute.filter((c) => !c).length,
    rmseSeconds: Math.sqrt(sq / n),
    relativeRmse: Math.sqrt(rel / n),
    maxRelativeError: maxRel,
    warnings,
  };
}

export interface CalibrationResult {
  readonly fit: CalibrationFit;
  /** A device entry with the fitted fields, ready for datasets/devices.json or inline use. */
  readonly device: DeviceSpec;
}

export interface CalibrationOptions {
  /** Id of the fitted entry (default `<device>-calibrated`). */
  readonly id?: string;
  /** Where the measurements came from, quoted in the entry's `source`. */
  readonly measurementSource?: string;
}

/**
 * Fits `base` to the measurements taken on it. `modelOf` gives the model each measurement ran
 * (resolved by the caller, which owns the catalog). Fitted rates above the spec's peak (the
 * datasheet understates, or the measurements used a faster format) raise the peak to the rate
 * and set the efficiency to 1, with a warning, so the entry stays valid.
 */
export function calibrateDevice(
  base: DeviceSpec,
  measurements: readonly Measurement[],
  modelOf: (m: Measurement, index: number) => ModelSpec,
  options: CalibrationOptions = {},
): CalibrationResult {
  const points = measurements.map((m, i) => measurementPoint(modelOf(m, i), m));
  const raw = fitRoofline(points, base);
  const warnings = [...raw.warnings];
  let peakFlopsPerSecond = base.peakFlopsPerSecond;
  let memoryBandwidthBytesPerSecond = base.memoryBandwidthBytesPerSecond;
  let computeEfficiency = raw.effectiveFlopsPerSecond / peakFlopsPerSecond;
  let bandwidthEfficiency = raw.effectiveBytesPerSecond / memoryBandwidthBytesPerSecond;
  if (computeEfficiency > 1) {
    warnings.push(
      `fitted ${fmt(raw.effectiveFlopsPerSecond)} FLOP/s exceeds the spec peak ${fmt(peakFlopsPerSecond)}: peak raised to the fitted rate`,
    );
    peakFlopsPerSecond = raw.effectiveFlopsPerSecond;
    computeEfficiency = 1;
  }
  if (bandwidthEfficiency > 1) {
    warnings.push(
      `fitted ${fmt(raw.effectiveBytesPerSecond)} B/s exceeds the spec bandwidth ${fmt(memoryBandwidthBytesPerSecond)}: bandwidth raised to the fitted rate`,
    );
    memoryBandwidthBytesPerSecond = raw.effectiveBytesPerSecond;
    bandwidthEfficiency = 1;
  }
  const fit: CalibrationFit = {
    effectiveFlopsPerSecond: raw.effectiveFlopsPerSecond,
    effectiveBytesPerSecond: raw.effectiveBytesPerSecond,
    perCallOverheadSeconds: raw.perCallOverheadSeconds,
    computeEfficiency,
    bandwidthEfficiency,
    points: raw.points,
    computeBoundPoints: raw.computeBoundPoints,
    memoryBoundPoints: raw.memoryBoundPoints,
    rmseSeconds: raw.rmseSeconds,
    relativeRmse: raw.relativeRmse,
    maxRelativeError: raw.maxRelativeError,
    warnings,
  };
  const what = options.measurementSource ?? 'user measurements';
  const device: DeviceSpec = {
    ...base,
    id: options.id ?? `${base.id}-calibrated`,
    name: `${base.name} (calibrated)`,
    peakFlopsPerSecond,
    memoryBandwidthBytesPerSecond,
    computeEfficiency,
    bandwidthEfficiency,
    perCallOverheadSeconds: raw.perCallOverheadSeconds,
    source:
      `fitted by edgeplan calibrate from ${what} (${raw.points} measurements; relative RMSE ${(raw.relativeRmse * 100).toFixed(2)}%, ` +
      `max relative error ${(raw.maxRelativeError * 100).toFixed(2)}%); base spec: ${base.source}`,
  };
  return { fit, device };
}

function fmt(v: number): string {
  return v.toPrecision(4);
}

/** llama-bench's number-format names in `model_type` ("llama 7B Q4_0", "llama 8B Q4_K - Medium", "… F16"). */
const LLAMA_BENCH_TYPES: readonly [RegExp, DType][] = [
  [/\bQ4_K(\s*-\s*Medium|_M)\b/i, 'q4_k_m'],
  [/\bQ4_0\b/i, 'q4_0'],
  [/\bQ8_0\b/i, 'q8_0'],
  [/\bBF16\b/i, 'bf16'],
  [/\bF16\b/i, 'fp16'],
  [/\bF32\b/i, 'fp32'],
];

type BenchRow = Readonly<Record<string, unknown>>;

/** The rows of a llama-bench result (JSON array, JSON lines or CSV), or null when the text is not one. */
export function llamaBenchRows(text: string): BenchRow[] | null {
  const trimmed = text.trim();
  const isBench = (row: unknown): row is BenchRow =>
    typeof row === 'object' &&
    row !== null &&
    'n_prompt' in row &&
    'n_gen' in row &&
    ('avg_ts' in row || 'avg_ns' in row);
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let rows: unknown;
    try {
      rows = JSON.parse(trimmed);
    } catch {
      // `-o jsonl`: one object per line.
      try {
        rows = trimmed
          .split(/\r?\n/)
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as unknown);
      } catch {
        return null;
      }
    }
    if (!Array.isArray(rows)) rows = [rows];
    const list = rows as unknown[];
    return list.length > 0 && list.every(isBench) ? list : null;
  }
  const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return null;
  const header = splitCsvLine(lines[0]).map((c) => c.replace(/^"|"$/g, ''));
  if (!['n_prompt', 'n_gen', 'avg_ts'].every((c) => header.includes(c))) return null;
  return lines.slice(1).map((line) => {
    const cells = splitCsvLine(line);
    const row: Record<string, unknown> = {};
    header.forEach((c, j) => {
      const cell = cells[j] ?? '';
      const n = Number(cell);
      row[c] = cell !== '' && Number.isFinite(n) ? n : cell;
    });
    return row;
  });
}

/**
 * llama-bench rows as whole-model measurements. A `pp` row (n_prompt > 0, n_gen = 0) is one prefill of n_prompt
 * tokens from an empty cache: n_prompt / avg_ts seconds. A `tg` row (n_gen > 0, n_prompt = 0) generates n_gen tokens
 * one at a time: 1 / avg_ts seconds per token at the mean context ⌈n_gen / 2⌉. `pg` rows (both) mix the two and are
 * refused. Without a tg row there is no decode (memory-bound) measurement, so the bandwidth cannot be fitted: refused.
 * The model is the caller's (--model); the number format comes from `model_type` when llama-bench names it.
 */
export function measurementsFromLlamaBench(rows: readonly BenchRow[]): Measurement[] {
  const num = (row: BenchRow, key: string, i: number): number => {
    const v = row[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new InputError(
        `$[${i}].${key}`,
        `llama-bench field must be a non-negative number, got ${JSON.stringify(v)}`,
      );
    }
    return v;
  };
  const out = rows.map((row, i): Measurement => {
    const nPrompt = num(row, 'n_prompt', i);
    const nGen = num(row, 'n_gen', i);
    const tokensPerSecond = 'avg_ts' in row ? num(row, 'avg_ts', i) : 1e9 / (num(row, 'avg_ns', i) / (nPrompt + nGen));
    if (!(tokensPerSecond > 0)) throw new InputError(`$[${i}].avg_ts`, 'must be positive');
    if (nPrompt > 0 && nGen > 0) {
      throw new InputError(
        `$[${i}]`,
        `a pg row (n_prompt ${nPrompt} and n_gen ${nGen}) mixes prefill and decode; use pp and tg rows`,
      );
    }
    const type =
      typeof row.model_type === 'string'
        ? LLAMA_BENCH_TYPES.find(([re]) => re.test(row.model_type as string))
        : undefined;
    const dtype = type?.[1];
    const batch = 1;
    if (nGen > 0) {
      return {
        layer: 'model',
        batch,
        tokens: 1,
        context: Math.ceil(nGen / 2),
        seconds: 1 / tokensPerSecond,
        ...(dtype ? { dtype } : {}),
      };
    }
    if (nPrompt === 0) throw new InputError(`$[${i}]`, 'n_prompt and n_gen are both 0');
    return {
      layer: 'model',
      batch,
      tokens: nPrompt,
      context: nPrompt,
      seconds: nPrompt / tokensPerSecond,
      ...(dtype ? { dtype } : {}),
    };
  });
  if (!rows.some((row) => typeof row.n_gen === 'number' && row.n_gen > 0)) {
    throw new InputError(
      '$',
      'the llama-bench file has no tg rows (n_gen > 0): decode timings are needed to fit the bandwidth; ' +
        'run llama-bench with -n',
    );
  }
  return out;
}
