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
import {
  measurementsFromVllmBench,
  VLLM_KEYS_REASON,
  vllmBenchKind,
  type VllmBenchKind,
  type VllmRunSettings,
} from './vllm-bench.ts';

/**
 * `model` is a whole forward pass (embedding, every decoder layer, head), as llama-bench measures: it becomes L + 2
 * equal calls of the pass's average FLOPs and bytes (see `measurementPoint`).
 */
export const MEASURED_LAYER_KINDS = ['decoder', 'embedding', 'head', 'model'] as const;
export type MeasuredLayerKind = (typeof MEASURED_LAYER_KINDS)[number];

/**
 * One timing: one call of one layer of `kind` on `device` at (batch, tokens, context). `run` (from vLLM's benchmark
 * outputs, src/cost/vllm-bench.ts) is whole requests: `requests` requests of `tokens` prompt tokens and
 * `outputTokens` generated tokens, served in waves of `batch`; `seconds` is the whole run.
 */
export interface Measurement {
  readonly layer: MeasuredLayerKind | 'run';
  readonly device?: string;
  readonly model?: string;
  readonly dtype?: DType;
  readonly batch: number;
  readonly tokens: number;
  /** Tokens in the KV cache after the call (defaults to `tokens`: a prefill from empty). */
  readonly context: number;
  readonly seconds: number;
  /** `run` only: tokens generated per request (the first comes from the prefill). */
  readonly outputTokens?: number;
  /** `run` only: requests in the run (default `batch`). */
  readonly requests?: number;
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
  return measurementsFromJson(validJson(parseJson(text)));
}

/** A text's JSON value, or the error JSON.parse threw: parsed once for every format check (llama-bench, vLLM, JSON). */
export type ParsedJson = { readonly value: unknown } | { readonly error: unknown };

function parseJson(text: string): ParsedJson {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error };
  }
}

/** The JSON value; a syntax error is the one-line `$: not valid JSON: …`. */
function validJson(json: ParsedJson): unknown {
  if ('error' in json) throw new InputError('$', `not valid JSON: ${(json.error as Error).message}`);
  return json.value;
}

function measurementsFromJson(doc: unknown): Measurement[] {
  const wrapped = doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'measurements' in doc;
  const rows: unknown = wrapped ? (doc as { measurements: unknown }).measurements : doc;
  const base = wrapped ? '$.measurements' : '$';
  if (!wrapped && doc !== null && typeof doc === 'object' && !Array.isArray(doc))
    throw new InputError(
      '$',
      'an object that is neither {"measurements": [...]} nor a vLLM benchmark output: ' +
        `${VLLM_KEYS_REASON}; it has: ${Object.keys(doc).slice(0, 12).join(', ') || 'no keys'}`,
    );
  if (!Array.isArray(rows)) throw new InputError(base, 'must be an array of measurements');
  return rows.map((r, i) => validateRow(r, `${base}[${i}]`));
}

/**
 * A measurement file recognised (src/cli/commands/calibrate.ts reads each file once and parses its JSON once):
 * llama-bench output, a vLLM benchmark output, edgeplan's JSON rows (already parsed) or edgeplan's CSV.
 */
export type MeasurementFile =
  | { readonly format: 'llama-bench'; readonly rows: readonly BenchRow[] }
  | { readonly format: 'vllm'; readonly kind: VllmBenchKind; readonly doc: Readonly<Record<string, unknown>> }
  | { readonly format: 'json'; readonly json: ParsedJson }
  | { readonly format: 'csv'; readonly text: string };

/**
 * Which format `text` is: llama-bench output (`-o json`, `-o jsonl` or `-o csv`) by its columns (n_prompt, n_gen,
 * avg_ts), vLLM's benchmark_latency and benchmark_throughput outputs by their keys (src/cost/vllm-bench.ts), else
 * JSON by the file name's extension (`.json`) and CSV for anything else. The text is parsed as JSON at most once.
 */
export function readMeasurementFile(text: string, fileName: string): MeasurementFile {
  const json = parseJson(text);
  const llamaBench = benchRows(text, json);
  if (llamaBench !== null) return { format: 'llama-bench', rows: llamaBench };
  // Not JSON: not a vLLM output either; the JSON or CSV reader below reports the syntax.
  if ('value' in json) {
    const kind = vllmBenchKind(json.value);
    if (kind !== null) return { format: 'vllm', kind, doc: json.value as Readonly<Record<string, unknown>> };
  }
  return /\.json$/i.test(fileName) ? { format: 'json', json } : { format: 'csv', text };
}

/** The measurements of a recognised file; vLLM outputs need the run's `vllm` settings. */
export function measurementsOf(file: MeasurementFile, vllm: VllmRunSettings = {}): Measurement[] {
  switch (file.format) {
    case 'llama-bench':
      return measurementsFromLlamaBench(file.rows);
    case 'vllm':
      return measurementsFromVllmBench(file.doc, file.kind, vllm);
    case 'json':
      return measurementsFromJson(validJson(file.json));
    case 'csv':
      return parseMeasurementsCsv(file.text);
  }
}

/** CSV or JSON, llama-bench or vLLM output: `readMeasurementFile` then `measurementsOf`. */
export function parseMeasurements(text: string, fileName: string, vllm: VllmRunSettings = {}): Measurement[] {
  return measurementsOf(readMeasurementFile(text, fileName), vllm);
}

/** A measurement reduced to what the roofline sees. */
export interface CalibrationPoint {
  readonly flops: number;
  /** Weight bytes plus other memory traffic. */
  readonly bytes: number;
  readonly seconds: number;
  /**
   * A run of many calls of different kinds (a vLLM request: prefill passes and decode steps): `seconds` is the sum of
   * `calls × (overhead + max(flops/F, bytes/W))` over the parts, each part on its own side of the ridge. `flops` and
   * `bytes` are then the run's totals. Absent: the point is one call.
   */
  readonly parts?: readonly CallGroup[];
}

/** `calls` equal calls of `flops` and `bytes` each. */
export interface CallGroup {
  readonly flops: number;
  readonly bytes: number;
  readonly calls: number;
}

function partsOf(p: CalibrationPoint): readonly CallGroup[] {
  return p.parts ?? [{ flops: p.flops, bytes: p.bytes, calls: 1 }];
}

/** Average call of one forward pass (embedding, every decoder layer, head) and its L + 2 calls. */
function passCall(spec: ModelSpec, batch: number, tokens: number, context: number): CallGroup {
  const workload = { batch, tokens, contextTokens: context };
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
  return { flops: flops / calls, bytes: bytes / calls, calls };
}

/**
 * The passes of a `run`: per wave of b requests, one prefill of `tokens` at batch b, then outputTokens − 1 decode
 * steps at batch b at the mean context tokens + ⌈outputTokens / 2⌉. `requests` = q·batch + r gives q waves of
 * `batch` and one of r.
 */
function runParts(spec: ModelSpec, m: Measurement): CallGroup[] {
  const output = m.outputTokens ?? 1;
  const requests = m.requests ?? m.batch;
  const full = Math.floor(requests / m.batch);
  const rest = requests - full * m.batch;
  const waves: [number, number][] = [];
  if (full > 0) waves.push([m.batch, full]);
  if (rest > 0) waves.push([rest, 1]);
  const parts: CallGroup[] = [];
  for (const [batch, count] of waves) {
    const prefill = passCall(spec, batch, m.tokens, m.tokens);
    parts.push({ ...prefill, calls: prefill.calls * count });
    if (output > 1) {
      const decode = passCall(spec, batch, 1, m.tokens + Math.ceil(output / 2));
      parts.push({ ...decode, calls: decode.calls * count * (output - 1) });
    }
  }
  return parts;
}

/** FLOPs and bytes of a measured call, from the same `rowWork` the planner uses. */
export function measurementPoint(model: ModelSpec, m: Measurement): CalibrationPoint {
  const spec: ModelSpec = m.dtype && m.dtype !== model.dtype ? { ...model, dtype: m.dtype } : model;
  if (m.layer === 'run') {
    const parts = runParts(spec, m);
    const flops = parts.reduce((s, g) => s + g.flops * g.calls, 0);
    const bytes = parts.reduce((s, g) => s + g.bytes * g.calls, 0);
    return { flops, bytes, seconds: m.seconds, parts };
  }
  if (m.layer === 'model') {
    // A whole pass is L + 2 calls (embedding, decoders, head), each t = overhead + max(flops/F, bytes/W). As one
    // point of the pass's average call it is exact when every call sits on the same side of the ridge — decode (all
    // memory-bound) and prefills of a few hundred tokens on a GPU (all compute-bound, the embedding lookup aside) —
    // and `fitRoofline`'s residuals show where it is not.
    const pass = passCall(spec, m.batch, m.tokens, m.context);
    return { flops: pass.flops, bytes: pass.bytes, seconds: m.seconds / pass.calls };
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
  let t = 0;
  for (const g of partsOf(p)) t += g.calls * (r.o + Math.max(r.a * g.flops, r.b * g.bytes));
  return t;
}

function relativeSse(r: Rates, points: readonly CalibrationPoint[]): number {
  let s = 0;
  for (const p of points) s += ((predict(r, p) - p.seconds) / p.seconds) ** 2;
  return s;
}

/** Which side of the ridge each part of each point is on (true: compute-bound). */
type Classes = readonly (readonly boolean[])[];

function intensity(g: CallGroup): number {
  return g.bytes > 0 ? g.flops / g.bytes : Infinity;
}

/** Parts at or above `ridge` FLOP/B are compute-bound: every classification the fit considers is one ridge. */
function byRidge(points: readonly CalibrationPoint[], ridge: number): boolean[][] {
  return points.map((p) => partsOf(p).map((g) => intensity(g) >= ridge));
}

/**
 * Weighted linear least squares for one classification. Columns are scaled to unit maximum so
 * that FLOPs (≈1e12), bytes (≈1e9) and the intercept are comparable; the SVD solve gives the
 * minimum-norm answer when a column is degenerate.
 */
function solveLinear(
  points: readonly CalibrationPoint[],
  compute: Classes,
  withIntercept: boolean,
  prior: Rates,
): Rates | null {
  const hasCompute = compute.some((c) => c.some((x) => x));
  const hasMemory = compute.some((c) => c.some((x) => !x));
  type Col = 'o' | 'a' | 'b';
  const cols: Col[] = [];
  if (withIntercept) cols.push('o');
  if (hasCompute) cols.push('a');
  if (hasMemory) cols.push('b');
  if (cols.length === 0) return null;
  const raw = points.map((p, i) => {
    const parts = partsOf(p);
    const sum = (f: (g: CallGroup, j: number) => number): number => parts.reduce((s, g, j) => s + f(g, j), 0);
    const coef = (c: Col): number =>
      c === 'o'
        ? sum((g) => g.calls)
        : c === 'a'
          ? sum((g, j) => (compute[i][j] ? g.calls * g.flops : 0))
          : sum((g, j) => (compute[i][j] ? 0 : g.calls * g.bytes));
    return cols.map((c) => coef(c) / p.seconds);
  });
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
function tighten(r: Rates, points: readonly CalibrationPoint[], compute: Classes): Rates {
  let { a, b } = r;
  const groups = points.flatMap(partsOf);
  if (!compute.some((c) => c.some((x) => x)))
    for (const g of groups) if (g.flops > 0) a = Math.min(a, (b * g.bytes) / g.flops);
  if (!compute.some((c) => c.some((x) => !x)))
    for (const g of groups) if (g.bytes > 0) b = Math.min(b, (a * g.flops) / g.bytes);
  return { a, b, o: r.o };
}

function classify(r: Rates, points: readonly CalibrationPoint[]): boolean[][] {
  return points.map((p) => partsOf(p).map((g) => r.a * g.flops >= r.b * g.bytes));
}

function sameClasses(x: Classes, y: Classes): boolean {
  return x.every((c, i) => c.every((v, j) => v === y[i][j]));
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
  // Three unknowns need three measurements at three intensities. With fewer (llama-bench's default pp512 + tg128 gives
  // two), the per-call overhead is held at the device's value and only the two rates are fitted.
  const intensities = new Set(points.map((p) => p.flops / p.bytes)).size;
  const underDetermined = points.length < 3 || intensities < 3;
  const callsIn = (p: CalibrationPoint): number => partsOf(p).reduce((s, g) => s + g.calls, 0);
  const fixedOverhead = underDetermined && points.every((p) => p.seconds > priorRates.o * callsIn(p));
  // With the overhead held, each point loses its calls' overhead; the parts lose theirs too (o = 0 in the solve).
  const shifted = fixedOverhead
    ? points.map((p) => ({ ...p, seconds: p.seconds - priorRates.o * callsIn(p) }))
    : points;
  const solveFor = (compute: Classes): Rates | null => {
    if (!fixedOverhead) return solveLinear(points, compute, true, priorRates);
    const solved = solveLinear(shifted, compute, false, priorRates);
    return solved === null ? null : { ...solved, o: priorRates.o };
  };
  let best: { rates: Rates; sse: number; compute: Classes } | null = null;
  const candidates: { rates: Rates; sse: number; compute: Classes }[] = [];
  const consider = (compute: Classes): void => {
    const solved = solveFor(compute);
    if (!solved) return;
    const rates = tighten(solved, points, compute);
    const sse = relativeSse(rates, points);
    candidates.push({ rates, sse, compute });
    if (!best || sse < best.sse - 1e-15) best = { rates, sse, compute };
  };
  // Splits by intensity: every ridge at a call's intensity (those at or above it compute-bound), and none.
  const ridges = [...new Set(points.flatMap((p) => partsOf(p).map(intensity)))].sort((x, y) => x - y);
  for (const ridge of [...ridges, Infinity]) consider(byRidge(points, ridge));
  consider(classify(priorRates, points));
  const found = best as { rates: Rates; sse: number; compute: Classes } | null;
  if (!found)
    throw new InputError(
      '$',
      'the measurements admit no fit with positive rates (check units: seconds, not milliseconds)',
    );
  // Alternate: classify under the fitted rates, refit; stop at a fixed point.
  let current = found;
  for (let iter = 0; iter < 50; iter++) {
    const compute = classify(current.rates, points);
    if (sameClasses(compute, current.compute)) break;
    const solved = solveFor(compute);
    if (!solved) break;
    const rates = tighten(solved, points, compute);
    const sse = relativeSse(rates, points);
    if (sse >= current.sse) break;
    current = { rates, sse, compute };
  }
  // Runs mix compute- and memory-bound passes, so as many runs as unknowns can fit exactly under more than one ridge:
  // another self-consistent fit as good as this one with other rates means the data do not pin the rates down. Of
  // two such fits, one within the device's spec peaks is preferred over one beyond them.
  const beyondSpec = (r: Rates): boolean =>
    1 / r.a > prior.peakFlopsPerSecond * (1 + 1e-9) || 1 / r.b > prior.memoryBandwidthBytesPerSecond * (1 + 1e-9);
  const rivals = (of: Rates) =>
    candidates.filter(
      (c) =>
        c.sse <= Math.max(2 * current.sse, 1e-12 * points.length) &&
        sameClasses(classify(c.rates, points), c.compute) &&
        (Math.abs(c.rates.a / of.a - 1) > 0.01 || Math.abs(c.rates.b / of.b - 1) > 0.01),
    );
  if (beyondSpec(current.rates)) {
    const within = rivals(current.rates).find((c) => !beyondSpec(c.rates));
    if (within !== undefined) current = within;
  }
  const { rates } = current;
  const rival = rivals(rates)[0];
  const compute = classify(rates, points);
  const anyCompute = compute.some((c) => c.some((x) => x));
  const anyMemory = compute.some((c) => c.some((x) => !x));
  // A run of several parts counts on the side where most of its predicted time is spent.
  const computeBound = points.map((p, i) => {
    let tc = 0;
    let tm = 0;
    partsOf(p).forEach((g, j) => {
      if (compute[i][j]) tc += g.calls * rates.a * g.flops;
      else tm += g.calls * rates.b * g.bytes;
    });
    return tc >= tm;
  });
  const warnings: string[] = [];
  if (rival !== undefined)
    warnings.push(
      `ambiguous: another fit matches the data as well (${fmt(1 / rival.rates.a)} FLOP/s, ${fmt(1 / rival.rates.b)} ` +
        `B/s, overhead ${fmt(rival.rates.o)} s against ${fmt(1 / rates.a)}, ${fmt(1 / rates.b)}, ${fmt(rates.o)}); ` +
        'add measurements at other batch sizes or prompt lengths',
    );
  if (underDetermined) {
    warnings.push(
      `under-determined: ${points.length} measurement(s) at ${intensities} distinct arithmetic intensit(ies) for 3 ` +
        'unknowns (FLOP/s, bandwidth, per-call overhead); ' +
        (fixedOverhead
          ? `the per-call overhead is held at the device's ${priorRates.o} s and only the two rates are fitted`
          : 'the fit is one of many that match') +
        '; measure more prompt lengths or batch sizes (llama-bench -p 64,256,512 -n 128; vLLM: ' +
        'benchmark_latency at several --batch-size values)',
    );
  }
  if (!anyCompute)
    warnings.push(
      'no measurement is compute-bound: the effective FLOP/s is only bounded below by the data; the device prior is kept where consistent',
    );
  if (!anyMemory)
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
    computeBoundPoints: computeBound.filter((c) => c).length,
    memoryBoundPoints: computeBound.filter((c) => !c).length,
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
  return benchRows(text, parseJson(text));
}

/** llamaBenchRows with the text's JSON value already parsed (once for every format check). */
function benchRows(text: string, json: ParsedJson): BenchRow[] | null {
  const trimmed = text.trim();
  const isBench = (row: unknown): row is BenchRow =>
    typeof row === 'object' &&
    row !== null &&
    'n_prompt' in row &&
    'n_gen' in row &&
    ('avg_ts' in row || 'avg_ns' in row);
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let rows: unknown;
    if ('value' in json) rows = json.value;
    else {
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
